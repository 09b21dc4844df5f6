"""A tenant's business rules for mapping events to Engage requests (plain data, no secrets)."""

from __future__ import annotations

from decimal import Decimal
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.envelope import StoreExternalId
from schemas.fields import CountryCode, Identifier

ContactKey = Literal["email", "mobile_phone", "member_number", "social_security_number", "external_id"]
RedemptionChannel = Literal["ECOM", "POS", "OTHER"]
VoucherTreatment = Literal["discount", "tender"]

DEFAULT_GROUP_CURRENCY: Final = "SEK"
DEFAULT_CONTACT_TYPE: Final = "Member"
DEFAULT_SOURCE: Final = "ECOM"
DEFAULT_VOUCHERS_AS: Final[VoucherTreatment] = "discount"
DEFAULT_VOUCHER_PAYMENT_TYPES: Final = ("voucher", "bonuscheck")


class TenantPolicy(BaseModel):
    """How one tenant wants its events turned into Engage calls.

    `store_map` translates a shop's store code (the envelope's `store`) to Engage's storeExternalId;
    codes not in the map pass through unchanged.
    `exchange_rates` gives the rate to the group currency per ISO currency, used when an event has none.
    `include_freight` adds freight to receipts as its own line (Voyado: leave it out when the client
    awards no points on shipping); left out, the tenders are reduced by it too.
    `vouchers_as`: a reward voucher paid with (a payment whose type is in `voucher_payment_types`,
    compared case-insensitively) is sent as a `discount` spread over the lines, Voyado's preferred way
    (the guides: spread discounts, vouchers included, over the item lines, so `grossPaidPrice` is what was
    actually paid), or as a `tender` among the paymentMethods. Either way it is listed in usedBonusChecks.
    `store_countries` gives the country (ISO 3166-1 alpha-2) of an Engage store (by storeExternalId);
    `default_country` is the tenant's country. A contact the relay creates gets the customer's own
    country, else its store's, else the default (Voyado: "from address, site geo-location, or store
    settings"); with none of them, Engage's own default applies. `default_country` defaults to none
    rather than a guess: a wrong country silently mis-targets a contact, a missing one shows in Engage.
    `move_orders`: an e-com delivery, and a return naming its order, also move the order Engage stores
    (Orders v3) alongside the receipt (`mappers.order_journey`); off for a tenant that does not use
    Engage's orders (a beta feature), whose deliveries and returns then send the receipt only.
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
    vouchers_as: VoucherTreatment = DEFAULT_VOUCHERS_AS
    voucher_payment_types: tuple[Identifier, ...] = DEFAULT_VOUCHER_PAYMENT_TYPES
    store_countries: dict[StoreExternalId, CountryCode] = Field(default_factory=dict)
    default_country: CountryCode | None = None
    move_orders: bool = True

    def store_for(self, store: str | None) -> str:
        """The storeExternalId for an envelope's store code, or the tenant's default store."""
        code = store or self.default_store
        return self.store_map.get(code, code)

    def country_for(self, store_external_id: str) -> str | None:
        """The country of an Engage store, else the tenant's default country (None when neither is set)."""
        return self.store_countries.get(store_external_id, self.default_country)

    def is_voucher_payment(self, payment_type: str) -> bool:
        """Whether a tender of this type is a reward voucher (case-insensitive)."""
        wanted = payment_type.casefold()
        return any(wanted == known.casefold() for known in self.voucher_payment_types)
