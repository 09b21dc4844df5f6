"""Every Redis key and stream name the relay owns (but the Engage layer's own prefixes), in one place."""

from __future__ import annotations

EVENTS_STREAM = "engage:events"
EVENTS_GROUP = "engage-relay"
OUTCOMES_STREAM = "engage:outcomes"
REJECTED_STREAM = "engage:rejected"
DEADLETTER_PREFIX = "engage:dlq"
APPLIED_PREFIX = "engage:applied"
CLAIM_PREFIX = "engage:claim"
FIELD_CLOCK_PREFIX = "engage:fields"
CONTACT_LOCK_PREFIX = "engage:lock:contact"
ASSIGNMENT_PREFIX = "engage:assignment"
BREAKER_PREFIX = "engage:breaker"
CONTACT_ID_PREFIX = "engage:cid"
RATE_LIMIT_PREFIX = "engage:rl"


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
