"""``GET /v1/soft-id?token=...``: who an e-mail link's ``eclub`` token names (Voyado's soft identification).

The token is decoded with the tenant's shared key (``Tenant.soft_id_key``; ``api.soft_id``) and refused
when older than the tenant's ``soft_id_max_age_s``: 410. Every other bad token (malformed, wrong key,
tampered, not Voyado's fields, dated in the future) gets one and the same 400, so the answer is no
padding oracle. ``?overview=1`` adds the contact's overview through the read path (its ``X-Cache`` and
``Age`` headers then describe it). The key, the token and the e-mail inside it are never logged or
answered; the access log leaves the query string out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from api.deps import CallerTenant, Services
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.read import answers
from api.routes.contacts import overview as read_overview
from api.soft_id import MAX_TOKEN_CHARS, SharedKeyInvalid, SoftIdError, TokenExpired, decode_token

router = APIRouter(prefix="/v1", tags=["soft identification"], responses=ERROR_RESPONSES)

_BAD_TOKEN = ApiError(400, "invalid_token", "the token does not identify a contact of this tenant")


class SoftIdentification(BaseModel):
    contact_id: str
    linked_at: datetime
    overview: answers.Overview | None = None


@router.get(
    "/soft-id",
    response_model=SoftIdentification,
    summary="Decode an eclub token into its contactId (and, if asked, the overview)",
    responses={
        400: {"model": ErrorBody, "description": "not a valid token for this tenant (one answer for all)"},
        410: {"model": ErrorBody, "description": "the link is older than the tenant allows"},
    },
)
def soft_identify(
    svc: Services,
    tenant: CallerTenant,
    response: Response,
    token: Annotated[str, Query(min_length=1, max_length=MAX_TOKEN_CHARS, description="The eclub value")],
    overview: Annotated[bool, Query(description="Add the contact's overview")] = False,
) -> SoftIdentification:
    if tenant.soft_id_key is None:
        raise ApiError(404, "not_found", "soft identification is not set up for this tenant")
    try:
        identity = decode_token(
            token, tenant.soft_id_key.get_secret_value(), max_age_s=tenant.soft_id_max_age_s, now=svc.clock()
        )
    except TokenExpired:
        raise ApiError(410, "token_expired", "the link is older than this tenant accepts") from None
    except SoftIdError:
        raise _BAD_TOKEN from None
    except SharedKeyInvalid:
        raise ApiError(500, "misconfigured", "the tenant's soft-identification key is not valid") from None
    answer = SoftIdentification(contact_id=identity.contact_id, linked_at=identity.linked_at)
    if overview:
        answer.overview = read_overview(svc, tenant, response, identity.contact_id)
    return answer
