"""The checkout read path and the synchronous assignment, per tenant (the token's, or ``?tenant=``).

- ``GET /v1/contacts/lookup``: a contactId by the tenant's key (``?key=``) or another identifier
  (``?email=``, ``?mobile_phone=``, ``?social_security_number=``, ``?custom_key=``); the relay's
  contact-id store answers first (no Engage call), then the cache, then Engage's ``GET /contacts/id``;
- ``GET /v1/contacts/{contact_id}/overview``: profile, points, level (``GET /contactoverview``);
- ``GET /v1/contacts/{contact_id}/vouchers``: the reward vouchers (``GET /reward-vouchers[/available]``);
- ``GET /v1/contacts/{contact_id}/promotions?channel=POS|ECOM``: the active promotion assignments
  redeemable in that channel (``GET /promotion-assignments?redemptionChannelType=``);
- ``POST /v1/contacts/{contact_id}/promotion-assignments``: assign now (``POST /promotion-assignments``)
  and answer the assignment id, so the till redeems in the same sale; deduplicated on the caller's
  ``request_id`` through the ledger (``api.assign``).

Each read answers within the read deadline with ``X-Cache: HIT|MISS|STALE`` (and ``Age`` in seconds for
a cached answer); see ``api.read.reader``. A contact id of another tenant is simply not found in this
tenant's Engage: 404, as for any unknown id.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from api.assign import Assignment, AssignmentRequest, assign_now
from api.deps import CallerTenant, Services
from api.errors import ERROR_RESPONSES, ApiError, not_found
from api.read import answers
from api.read.reader import ReadResult, ReadTarget, ReadUnavailable, read_through
from api.services import ApiServices
from engage.client import EngageClient
from engage.contact_store import identifier_digest
from engage.errors import ContactNotFound, MultipleMatches, NotFound, PermanentError
from mappers.identity import LOOKUP_KIND
from relay.tenants import Tenant

router = APIRouter(prefix="/v1/contacts", tags=["contacts"], responses=ERROR_RESPONSES)

ContactId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Model = TypeVar("Model", bound=BaseModel)
VOUCHER_PAGE_SIZE = 100
LOOKUP_PARAMS: dict[str, str] = {
    "email": "email",
    "mobilePhone": "mobile_phone",
    "socialSecurityNumber": "social_security_number",
    "customKey": "custom_key",
}
"""The contact-id store's identifier kind -> the Engage client's keyword."""


def _read(
    svc: ApiServices,
    response: Response,
    target: ReadTarget,
    fetch: Callable[[], dict[str, Any]],
    model: type[Model],
) -> Model:
    deadline_at = time.monotonic() + svc.settings.read_deadline_s
    try:
        result = read_through(
            target, fetch, cache=svc.read_cache, breaker=svc.breaker, deadline_at=deadline_at
        )
    except ReadUnavailable as exc:
        raise ApiError(
            503,
            "engage_unavailable",
            "Engage did not answer within the deadline and nothing is cached; try again shortly",
            {"Retry-After": exc.retry_after_header},
        ) from None
    except (ContactNotFound, NotFound):
        raise not_found("no such contact in this tenant") from None
    except MultipleMatches:
        raise ApiError(409, "multiple_matches", "several contacts match this identifier") from None
    except PermanentError as exc:
        raise ApiError(
            400, "engage_refused", f"Engage refused the read ({exc.error_code or exc.status})"
        ) from None
    _headers(response, result)
    return model.model_validate(result.value)


def _headers(response: Response, result: ReadResult) -> None:
    response.headers["X-Cache"] = result.cache
    response.headers["Cache-Control"] = "no-store"  # personal data: never kept by a proxy
    if result.cache != "MISS":
        response.headers["Age"] = result.age_header


def _client(svc: ApiServices, tenant: Tenant) -> EngageClient:
    return svc.engage_client(tenant, lane="read", deadline_s=svc.settings.read_deadline_s)


def _identifier(tenant: Tenant, key: str | None, given: dict[str, str | None]) -> tuple[str, str]:
    """(store kind, value) of the one identifier given; 400 for none or several."""
    chosen = {kind: value for kind, value in given.items() if value}
    if key:
        chosen[LOOKUP_KIND[tenant.policy.contact_key]] = key
    if len(chosen) != 1:
        raise ApiError(
            400,
            "one_identifier",
            "give exactly one of key (the tenant's contact key), email, mobile_phone, "
            "social_security_number, custom_key",
        )
    return next(iter(chosen.items()))


@router.get("/lookup", response_model=answers.LookupAnswer, summary="A contactId by the key or an identifier")
def lookup(
    svc: Services,
    tenant: CallerTenant,
    response: Response,
    key: Annotated[str | None, Query(max_length=256, description="The tenant's contact key's value")] = None,
    email: Annotated[str | None, Query(max_length=256)] = None,
    mobile_phone: Annotated[str | None, Query(max_length=64)] = None,
    social_security_number: Annotated[str | None, Query(max_length=64)] = None,
    custom_key: Annotated[str | None, Query(max_length=256)] = None,
) -> answers.LookupAnswer:
    kind, value = _identifier(
        tenant,
        key,
        {
            "email": email,
            "mobilePhone": mobile_phone,
            "socialSecurityNumber": social_security_number,
            "customKey": custom_key,
        },
    )
    known = svc.contacts.get(tenant.name, kind, value)
    if known is not None and known.contact_id:
        response.headers["X-Cache"] = "HIT"
        response.headers["Cache-Control"] = "no-store"
        return answers.LookupAnswer(contact_id=known.contact_id, source="store")
    client = _client(svc, tenant)

    def fetch() -> dict[str, Any]:
        found = client.lookup_contact(**{LOOKUP_PARAMS[kind]: value})
        if found is None:
            raise ContactNotFound("no contact with this identifier", status=404)
        return answers.LookupAnswer(contact_id=found, source="engage").model_dump()

    target = ReadTarget(tenant.name, "lookup", identifier_digest(tenant.name, kind, value))
    return _read(svc, response, target, fetch, answers.LookupAnswer)


@router.get("/{contact_id}/overview", response_model=answers.Overview, summary="Profile, points and level")
def overview(
    svc: Services, tenant: CallerTenant, response: Response, contact_id: ContactId
) -> answers.Overview:
    client = _client(svc, tenant)

    def fetch() -> dict[str, Any]:
        return answers.overview(client.contact_overview_document(contact_id)).model_dump(mode="json")

    return _read(svc, response, ReadTarget(tenant.name, "overview", contact_id), fetch, answers.Overview)


@router.get(
    "/{contact_id}/vouchers", response_model=answers.Vouchers, summary="The contact's reward vouchers"
)
def vouchers(
    svc: Services,
    tenant: CallerTenant,
    response: Response,
    contact_id: ContactId,
    which: Annotated[
        Literal["available", "all"], Query(description="available: redeemable now")
    ] = "available",
) -> answers.Vouchers:
    client = _client(svc, tenant)

    def fetch() -> dict[str, Any]:
        page = client.list_reward_vouchers(contact_id, which=which, count=VOUCHER_PAGE_SIZE)
        items = [answers.voucher(v) for v in page.items]
        return answers.Vouchers(contact_id=contact_id, vouchers=items).model_dump(mode="json")

    target = ReadTarget(tenant.name, "vouchers", contact_id, which)
    return _read(svc, response, target, fetch, answers.Vouchers)


@router.get(
    "/{contact_id}/promotions",
    response_model=answers.Promotions,
    summary="The contact's active promotion assignments for a redemption channel",
)
def promotions(
    svc: Services,
    tenant: CallerTenant,
    response: Response,
    contact_id: ContactId,
    channel: Annotated[answers.Channel, Query(description="Where it is to be redeemed")],
) -> answers.Promotions:
    client = _client(svc, tenant)

    def fetch() -> dict[str, Any]:
        found = client.list_promotion_assignments(contact_id, redemption_channel_type=channel)
        items = [answers.promotion(p) for p in answers.active(found, datetime.now(UTC))]
        return answers.Promotions(contact_id=contact_id, channel=channel, promotions=items).model_dump(
            mode="json"
        )

    target = ReadTarget(tenant.name, "promotions", contact_id, channel)
    return _read(svc, response, target, fetch, answers.Promotions)


@router.post(
    "/{contact_id}/promotion-assignments",
    response_model=Assignment,
    summary="Assign a promotion now and answer the assignment id (the POS welcome offer)",
)
def assign(
    svc: Services, tenant: CallerTenant, response: Response, contact_id: ContactId, body: AssignmentRequest
) -> Assignment:
    result = assign_now(svc, tenant, contact_id, body)
    response.status_code = 201 if result.created else 200
    return result
