"""customer.created / customer.updated -> the Engage contact attributes, create plan and PATCH body.

Voyado: "Never include fields with empty values in your update payload" (Engage overwrites with
whatever it is sent). So every empty value (None, "", whitespace-only text, empty lists and dicts) is
dropped everywhere here, including `null`s in the pass-through `attributes`.
A contact-type change is not mapped here: the caller sends the event's `contact_type` through
`updateContactType` when its per-field clock says it is newer.

Creates (`plan_create` for a customer event, `plan_implicit_create` / `plan_create_from_identity` for a
buyer Engage does not know yet, named by a purchase, offer or order) carry, as Voyado asks for every new
contact: the source and store (the event's, else the tenant's), the language (the event's, else the
tenant's), the contact type (the event's, else the tenant's; in the body only when it is not Engage's
default "Member") and the country: the event's (the address), else the store's
(`TenantPolicy.store_countries`, by storeExternalId), else the tenant's `default_country`, else none
(Engage's own default).

Shapes:
- `contact_attributes` is Engage's flat attribute dict (`firstName`, `email`, ..., tenant attributes by
  their Engage names), with `preferences` as `{acceptsEmail, acceptsSms, acceptsPostal}` and `consents` as
  a list of `{id, value, date, source, comment}`; values are JSON-ready (dates as ISO strings).
- `flatten_attributes` turns it into one key per independently changing value
  (`preferences.acceptsEmail`, `consents.<id>`) for the caller's per-field clock and diff;
  `plan_update` rebuilds the PATCH body from such flat keys (nested keys are taken too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from mappers.identity import FALLBACK_ORDER, MATCH_KEY_TYPE, normalize
from mappers.policy import DEFAULT_CONTACT_TYPE, TenantPolicy
from schemas.customer import (
    ENGAGE_ATTRIBUTE_NAMES,
    Consent,
    CustomerCreated,
    CustomerCreatedEvent,
    CustomerUpdated,
    CustomerUpdatedEvent,
    Preferences,
)
from schemas.identity import CustomerIdentity
from schemas.loyalty import (
    PromotionAssigned,
    PromotionAssignedEvent,
    PromotionRedeemed,
    PromotionRedeemedEvent,
    VoucherRedeemed,
    VoucherRedeemedEvent,
)
from schemas.orders import OrderCancelledEvent, OrderPlacedEvent, OrderShippedEvent
from schemas.sales import OrderDeliveredEvent, ReceiptCompletedEvent, ReturnCreatedEvent

CustomerEvent = CustomerCreatedEvent | CustomerUpdatedEvent
BuyerEvent = (
    OrderDeliveredEvent
    | ReceiptCompletedEvent
    | ReturnCreatedEvent
    | OrderPlacedEvent
    | OrderShippedEvent
    | OrderCancelledEvent
    | PromotionAssignedEvent
    | PromotionRedeemedEvent
    | VoucherRedeemedEvent
)
"""Every event naming a buyer (`data.customer`) whom the relay creates when Engage does not know them."""

ENGAGE_DEFAULT_CONTACT_TYPE: Final = DEFAULT_CONTACT_TYPE  # what Engage assumes when the body has none
CONTACT_TYPE_KEY: Final = "contactType"
COUNTRY_CODE_KEY: Final = "countryCode"
LANGUAGE_KEY: Final = "language"
PREFERENCES_KEY: Final = "preferences"
CONSENTS_KEY: Final = "consents"
NEVER_PATCHED: Final = frozenset({"contactType", "id", "contactId"})
_FLAT_SEPARATOR: Final = "."
_PREFERENCE_NAMES: Final = {
    "accepts_email": "acceptsEmail",
    "accepts_sms": "acceptsSms",
    "accepts_postal": "acceptsPostal",
}


@dataclass(frozen=True)
class CreateContactPlan:
    """`POST /api/v3/contacts?source=&storeExternalId=&createAsUnapproved=` with `body`."""

    body: dict[str, Any]
    source: str
    store_external_id: str
    create_as_unapproved: bool
    contact_type: str


def is_empty(value: Any) -> bool:
    """None, blank text, or an empty collection: never sent to Engage."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict | set | frozenset):
        return len(value) == 0
    return False


def _clean(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _preferences(preferences: Preferences | None) -> dict[str, bool]:
    if preferences is None:
        return {}
    return {
        engage: flag
        for field, engage in _PREFERENCE_NAMES.items()
        if (flag := getattr(preferences, field)) is not None
    }


def _consent(consent: Consent) -> dict[str, Any]:
    raw = {
        "id": consent.id,
        "value": consent.value,
        "date": consent.date.isoformat(),
        "source": consent.source,
        "comment": consent.comment,
    }
    return {name: _clean(value) for name, value in raw.items() if not is_empty(value)}


def _data(event: CustomerEvent) -> CustomerCreated | CustomerUpdated:
    return event.data


def contact_attributes(event: CustomerEvent, policy: TenantPolicy) -> dict[str, Any]:
    """The event's contact data by Engage name, every empty value dropped.

    `policy` is accepted for tenant-specific attribute rules; none apply to attributes yet (the tenant's
    language is a create-time default only, see `plan_create`).
    """
    del policy
    data = _data(event)
    attributes: dict[str, Any] = {}
    for field, engage in ENGAGE_ATTRIBUTE_NAMES.items():
        value = getattr(data, field)
        if value is None:
            continue
        if field == "email":
            value = normalize("email", value)
        elif field == "birth_day":
            value = value.isoformat()
        attributes[engage] = _clean(value)
    for name, value in (data.attributes or {}).items():
        attributes[name] = _clean(value)
    attributes[PREFERENCES_KEY] = _preferences(data.preferences)
    attributes[CONSENTS_KEY] = [_consent(c) for c in data.consents or []]
    return {name: value for name, value in attributes.items() if not is_empty(value)}


def _create_defaults(
    body: dict[str, Any], policy: TenantPolicy, store_external_id: str, contact_type: str
) -> dict[str, Any]:
    """`body` with the tenant's language, the store's (else the tenant's) country and a non-default type,
    each only where the body has none."""
    filled = dict(body)
    if LANGUAGE_KEY not in filled and policy.language:
        filled[LANGUAGE_KEY] = policy.language
    country = policy.country_for(store_external_id)
    if COUNTRY_CODE_KEY not in filled and country:
        filled[COUNTRY_CODE_KEY] = country
    if contact_type != ENGAGE_DEFAULT_CONTACT_TYPE:
        filled[CONTACT_TYPE_KEY] = contact_type
    return filled


def plan_create(event: CustomerEvent, policy: TenantPolicy) -> CreateContactPlan:
    """The create call for a customer Engage does not know yet.

    Source and store come from the envelope, else the tenant; `language` from the event, else the tenant's;
    `countryCode` from the event (its address), else the store's, else the tenant's. `contactType` is in
    the body only when it is not Engage's default ("Member").
    """
    data = _data(event)
    store_external_id = policy.store_for(event.store)
    contact_type = data.contact_type or policy.contact_type
    body = _create_defaults(contact_attributes(event, policy), policy, store_external_id, contact_type)
    unapproved = data.create_as_unapproved if isinstance(data, CustomerCreated) else None
    return CreateContactPlan(
        body=body,
        source=event.source or policy.source,
        store_external_id=store_external_id,
        create_as_unapproved=bool(unapproved),
        contact_type=contact_type,
    )


def plan_create_of_fields(
    event: CustomerEvent, policy: TenantPolicy, fields: Mapping[str, Any]
) -> CreateContactPlan:
    """`plan_create` with only `fields` (flat attributes, `flatten_attributes`) in the body: a create that
    travels by file after a newer update of some of its fields was already sent must not overwrite them."""
    full = plan_create(event, policy)
    body = _create_defaults(plan_update(fields), policy, full.store_external_id, full.contact_type)
    return CreateContactPlan(
        body=body,
        source=full.source,
        store_external_id=full.store_external_id,
        create_as_unapproved=full.create_as_unapproved,
        contact_type=full.contact_type,
    )


def plan_create_from_identity(
    identity: CustomerIdentity, policy: TenantPolicy, source: str | None, store: str | None
) -> CreateContactPlan:
    """A contact made from an event's identifiers alone: a purchase, offer or order by a customer Engage
    does not know yet (the API path creates it; the file path sends it ahead of the receipt).

    `store` is the store code the contact was met at (the sale's, else the envelope's; None for the
    tenant's default). The body holds the identifiers by Engage name, the customer's `countryCode` (else
    the store's, else the tenant's), the tenant's language and, when not "Member", its contact type.
    """
    body: dict[str, Any] = {}
    for field in FALLBACK_ORDER:
        value = getattr(identity, field)
        if isinstance(value, str) and value.strip():
            body[MATCH_KEY_TYPE[field]] = normalize(field, value)
    if identity.country_code:
        body[COUNTRY_CODE_KEY] = identity.country_code
    store_external_id = policy.store_for(store)
    return CreateContactPlan(
        body=_create_defaults(body, policy, store_external_id, policy.contact_type),
        source=source or policy.source,
        store_external_id=store_external_id,
        create_as_unapproved=False,
        contact_type=policy.contact_type,
    )


def buyer_store(event: BuyerEvent) -> str | None:
    """The store code a buyer was met at: the sale's or order's own `store`, else the envelope's."""
    data = event.data
    if isinstance(data, PromotionAssigned | PromotionRedeemed | VoucherRedeemed):
        return event.store
    return data.store or event.store


def plan_implicit_create(event: BuyerEvent, policy: TenantPolicy) -> CreateContactPlan:
    """The contact to create for the buyer of a purchase, return, order or offer Engage does not know:
    `plan_create_from_identity` with the event's customer, source and store (`buyer_store`)."""
    return plan_create_from_identity(event.data.customer, policy, event.source, buyer_store(event))


def flatten_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """One entry per independently changing value: `preferences.acceptsEmail`, `consents.<id>`, ..."""
    flat: dict[str, Any] = {}
    for name, value in attributes.items():
        if name == PREFERENCES_KEY and isinstance(value, Mapping):
            for flag, setting in value.items():
                flat[f"{PREFERENCES_KEY}{_FLAT_SEPARATOR}{flag}"] = setting
        elif name == CONSENTS_KEY and isinstance(value, list):
            for consent in value:
                rest = {k: v for k, v in consent.items() if k != "id"}
                flat[f"{CONSENTS_KEY}{_FLAT_SEPARATOR}{consent['id']}"] = rest
        else:
            flat[name] = value
    return flat


def plan_update(attributes_to_send: Mapping[str, Any]) -> dict[str, Any]:
    """The PATCH body for the given changed fields (flat or nested keys); empties and contactType dropped."""
    body: dict[str, Any] = {}
    preferences: dict[str, Any] = {}
    consents: list[dict[str, Any]] = []
    for name, value in flatten_attributes(attributes_to_send).items():
        if name in NEVER_PATCHED or is_empty(value):
            continue
        group, _, member = name.partition(_FLAT_SEPARATOR)
        if group == PREFERENCES_KEY and member:
            preferences[member] = value
        elif group == CONSENTS_KEY and member and isinstance(value, Mapping):
            consent = {k: v for k, v in value.items() if not is_empty(v)}
            consents.append({"id": member, **consent})
        else:
            body[name] = _clean(value)
    if preferences:
        body[PREFERENCES_KEY] = preferences
    if consents:
        body[CONSENTS_KEY] = consents
    return body
