"""A tenant's business rules for mapping events to Engage requests (plain data, no secrets)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ContactKey = Literal["email", "mobile_phone", "member_number", "social_security_number", "external_id"]
RedemptionChannel = Literal["ECOM", "POS", "OTHER"]

DEFAULT_GROUP_CURRENCY = "SEK"
DEFAULT_CONTACT_TYPE = "Member"
DEFAULT_SOURCE = "ECOM"


class TenantPolicy(BaseModel):
    """How one tenant wants its events turned into Engage calls.

    `store_map` translates a shop's store code (the envelope's `store`) to Engage's storeExternalId;
    codes not in the map pass through unchanged.
    `exchange_rates` gives the rate to the group currency per ISO currency, used when an event has none.
    `include_freight` adds freight to receipts as its own line (Voyado: leave it out when the client
    awards no points on shipping).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = DEFAULT_SOURCE
    default_store: str = "online"
    store_map: dict[str, str] = Field(default_factory=dict)
    contact_key: ContactKey = "email"
    contact_type: str = DEFAULT_CONTACT_TYPE
    group_currency: str = DEFAULT_GROUP_CURRENCY
    exchange_rates: dict[str, Decimal] = Field(default_factory=dict)
    include_freight: bool = False
    freight_sku: str = "FREIGHT"
    freight_article_name: str = "Freight"
    language: str | None = None

    def store_for(self, store: str | None) -> str:
        """The storeExternalId for an envelope's store code, or the tenant's default store."""
        code = store or self.default_store
        return self.store_map.get(code, code)
