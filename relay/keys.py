"""Every Redis key and stream name the relay itself owns, in one place.

The other packages own theirs: the events stream (`schemas.publish.EVENTS_STREAM`), dead letters and the
rejected store (`fallback.deadletters.DLQ_PREFIX`, `fallback.rejected.REJECTED_STREAM`), the sweep lock
(`fallback.sweep_lock`), the import-file numbers (`fallback.file_sequence`), the rate limiter and the
contact-id store (`engage.ratelimit`, `engage.contact_store`). Nothing defines another package's names again.
"""

from __future__ import annotations

EVENTS_GROUP = "engage-relay"  # the consumer group of ingest on the events stream
OUTCOMES_STREAM = "engage:outcomes"
APPLIED_PREFIX = "engage:applied"
CLAIM_PREFIX = "engage:claim"
FIELD_CLOCK_PREFIX = "engage:fields"
CONTACT_LOCK_PREFIX = "engage:lock:contact"
ASSIGNMENT_PREFIX = "engage:assignment"
BREAKER_PREFIX = "engage:breaker"
TENANT_KEY_PREFIX = "engage:tenant"  # one hash per stored tenant; the set of names is f"{prefix}s"
SWEEP_KICK_PREFIX = "engage:fallback:kick"
FENCE_PREFIX = "engage:fence"  # relay/spill/fence.py: contacts whose record travels by file
SPILL_PREFIX = "engage:spill"  # events a long outage handed to the file fallback (a dead-letter store)
PAUSED_PREFIX = "engage:paused"  # relay/control.py: tenants an operator paused
TRAIL_PREFIX = "engage:trail"  # relay/trail.py: each event's steps, for the event lookup
SCHEDULE_PREFIX = "engage:sched"  # relay/schedule.py: admitted, unsettled events and when each runs next
READ_CACHE_PREFIX = "engage:readcache"  # relay/readcache.py: the API read path's answers and generations


def applied_key(tenant: str, event_id: str) -> str:
    return f"{APPLIED_PREFIX}:{tenant}:{event_id}"


def claim_key(tenant: str, event_id: str) -> str:
    return f"{CLAIM_PREFIX}:{tenant}:{event_id}"


def field_clock_key(tenant: str, contact_ref: str) -> str:
    return f"{FIELD_CLOCK_PREFIX}:{tenant}:{contact_ref}"


def contact_lock_key(tenant: str, contact_ref: str) -> str:
    return f"{CONTACT_LOCK_PREFIX}:{tenant}:{contact_ref}"


def assignment_key(tenant: str, contact_id: str, promotion_id: str) -> str:
    return f"{ASSIGNMENT_PREFIX}:{tenant}:{contact_id}:{promotion_id}"
