"""Stores as Engage lists them (the v2 Swagger's ``ApiStore``; the v3 path is [inferred], ref §2.16)."""

from __future__ import annotations

from engage.models.base import ResponseModel


class Store(ResponseModel):
    """One store; ``external_id`` is the ``storeExternalId`` receipts, contacts and orders name."""

    external_id: str
    name: str | None = None
    type: str | None = None
    country_code: str | None = None
    city: str | None = None
    time_zone: str | None = None
    active: bool | None = None
