"""Contacts as Engage returns them, bulk batch status, and the contact overview."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from engage.models.base import ResponseModel
from engage.models.loyalty import PromotionAssignment, RewardVoucher

MAX_BULK_CONTACTS = 4000
"""Engage takes at most this many contacts in one bulk request."""


class ContactMeta(ResponseModel):
    source: str | None = None
    store_external_id: str | None = None
    created_on: datetime | None = None
    modified_on: datetime | None = None
    approved: bool | None = None


class Contact(ResponseModel):
    """A contact (201 from create, 200 from get, PATCH and updateContactType)."""

    id: str
    contact_type: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    meta: ContactMeta | None = None
    preferences: dict[str, Any] = Field(default_factory=dict)
    consents: list[dict[str, Any]] = Field(default_factory=list)


class BulkRowError(ResponseModel):
    index: int | None = None
    key: str | None = None
    error_code: str | None = None
    message: str | None = None


class BulkStatus(ResponseModel):
    """Status of a bulk contacts batch (``GET /api/v3/contacts/bulk/status``)."""

    batch_id: str
    status: str
    total: int | None = None
    succeeded: int | None = None
    failed: int | None = None
    errors: list[BulkRowError] = Field(default_factory=list)
    created_contact_ids: dict[str, str] = Field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.status.casefold() in {"completed", "completedwitherrors", "failed"}


class ContactOverview(ResponseModel):
    """The enriched, possibly cached profile; never use it for lookups."""

    id: str
    contact_type: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    preferences: dict[str, Any] = Field(default_factory=dict)
    consents: list[dict[str, Any]] = Field(default_factory=list)
    promotions: list[PromotionAssignment] = Field(default_factory=list)
    reward_vouchers: list[RewardVoucher] = Field(default_factory=list)
