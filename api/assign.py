"""The synchronous promotion assignment (the POS welcome offer): assign now, answer the assignment id.

Engage's ``POST /promotion-assignments`` is not idempotent (a second call is a second assignment), so the
caller names each attempt with a ``request_id`` and the ledger remembers the assignment id under it:
the same ``request_id`` again answers the same assignment (``created`` false) and calls nothing. Under the
contact's lock (the one the relay's handlers take), so a ``promotion.assigned`` event for the same contact
cannot race it. The id is also remembered under the promotion, as the relay's own assignments are, so a
``promotion.redeemed`` event that names only the promotion finds it without a lookup.

All of it runs within ``assign_deadline_s`` (``api.read.deadline``); past it the answer is 504 and says
the assignment may have been made: an attempt that timed out is marked, and its retry (same
``request_id``) first looks for the assignment in the contact's list (Voyado: check with a GET before
re-sending a POST) and only then assigns. An attempt given up by the deadline that still gets its answer
later remembers it, so the retry finds it too.
"""

from __future__ import annotations

import time
from typing import Final

import structlog
from pydantic import BaseModel, ConfigDict, Field

from api.errors import ApiError, not_found
from api.read.deadline import DeadlinePassed, call_within
from api.services import ApiServices
from engage.errors import (
    ContactNotFound,
    DeferredError,
    EngageTimeout,
    EngageUnreachable,
    PermanentError,
    RetryableError,
    SystemicError,
)
from relay.errors import ContactBusy
from relay.tenants import Tenant

log = structlog.get_logger(__name__)

REQUEST_SLOT_PREFIX: Final = "request:"
"""The ledger's assignment slot of a caller's request: ``request:<request_id>`` beside promotion ids."""
MAYBE_MADE: Final = "?"
"""The slot's value while an attempt timed out after sending: the next one looks before it assigns."""
RETRY_AFTER_S: Final = 2


class AssignmentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    promotion_id: str = Field(min_length=1, max_length=64, description="The promotion (template) to assign")
    request_id: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The caller's id for this attempt: the same id again answers the same assignment",
    )


class Assignment(BaseModel):
    assignment_id: str = Field(description="Redeem with it (promotion.redeemed's assignment_id)")
    promotion_id: str
    contact_id: str
    created: bool = Field(description="false: this request_id (or this promotion) was assigned before")


def assign_now(svc: ApiServices, tenant: Tenant, contact_id: str, request: AssignmentRequest) -> Assignment:
    deadline_s = svc.settings.assign_deadline_s
    deadline_at = time.monotonic() + deadline_s
    if svc.breaker.state(tenant.name) != "closed":
        raise _unavailable("Engage is held for this tenant (its breaker is open)")
    try:
        return call_within(lambda: _assign(svc, tenant, contact_id, request, deadline_at), deadline_s)
    except DeadlinePassed:
        raise _maybe_made() from None
    except ContactBusy:
        raise _unavailable("the contact is being updated; try again with the same request_id") from None
    except ContactNotFound:
        raise not_found("no such contact in this tenant") from None
    except (EngageTimeout, EngageUnreachable) as exc:
        if exc.maybe_delivered:
            raise _maybe_made() from None
        raise _unavailable("Engage cannot be reached") from None
    except (RetryableError, DeferredError, SystemicError):
        raise _unavailable("Engage cannot assign now") from None
    except PermanentError as exc:
        raise ApiError(
            422, "engage_refused", f"Engage refused the assignment ({exc.error_code or exc.status})"
        ) from None


def _assign(
    svc: ApiServices, tenant: Tenant, contact_id: str, request: AssignmentRequest, deadline_at: float
) -> Assignment:
    ledger, name = svc.ledger, tenant.name
    slot = f"{REQUEST_SLOT_PREFIX}{request.request_id}"
    with ledger.contact_lock(name, f"contactId:{contact_id}"):
        earlier = ledger.assignment_for(name, contact_id, slot)
        if earlier is not None and earlier != MAYBE_MADE:
            return Assignment(
                assignment_id=earlier, promotion_id=request.promotion_id, contact_id=contact_id, created=False
            )
        client = svc.engage_client(tenant, lane="live", deadline_s=svc.settings.assign_deadline_s)
        if earlier == MAYBE_MADE:
            found = [
                a
                for a in client.list_promotion_assignments(contact_id)
                if a.promotion_id == request.promotion_id and not a.redeemed
            ]
            if found:
                _remember(svc, name, contact_id, slot, request.promotion_id, found[0].id)
                return Assignment(
                    assignment_id=found[0].id,
                    promotion_id=request.promotion_id,
                    contact_id=contact_id,
                    created=False,
                )
        if time.monotonic() >= deadline_at:
            raise DeadlinePassed("the deadline passed before Engage was asked")  # never assign unseen
        try:
            made = client.assign_promotion(contact_id, request.promotion_id)
        except (EngageTimeout, EngageUnreachable) as exc:
            if exc.maybe_delivered:
                ledger.remember_assignment(name, contact_id, slot, MAYBE_MADE)
            raise
        _remember(svc, name, contact_id, slot, request.promotion_id, made.id)
        log.info("api.assignment.made", tenant=name, promotion_id=request.promotion_id)
        return Assignment(
            assignment_id=made.id, promotion_id=request.promotion_id, contact_id=contact_id, created=True
        )


def _remember(
    svc: ApiServices, tenant: str, contact_id: str, slot: str, promotion_id: str, assignment_id: str
) -> None:
    svc.ledger.remember_assignment(tenant, contact_id, slot, assignment_id)
    svc.ledger.remember_assignment(tenant, contact_id, promotion_id, assignment_id)
    svc.read_cache.invalidate(tenant, contact_id, ("promotions", "overview"))


def _unavailable(detail: str) -> ApiError:
    return ApiError(503, "engage_unavailable", detail, {"Retry-After": str(RETRY_AFTER_S)})


def _maybe_made() -> ApiError:
    return ApiError(
        504,
        "assignment_unknown",
        "Engage did not answer in time; the assignment may have been made: retry with the same request_id",
        {"Retry-After": str(RETRY_AFTER_S)},
    )
