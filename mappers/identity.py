"""Which keys find an event's customer in Engage, in what order, and how receipts and orders name them.

Lookup order (`lookup_keys`):

1. `contactId` when the event carries the Engage GUID: it needs no lookup at all, and it is the only
   key that still finds the contact when the event changes a key attribute (a `customer.updated`
   with a new e-mail would otherwise look up the new address, miss, and create a duplicate);
2. the tenant's configured key (`TenantPolicy.contact_key`, e-mail by default);
3. the other identifiers in `FALLBACK_ORDER`.

Kinds use Engage's lookup parameter names: `member_number` and `external_id` both become
`customKey` (Engage searches memberNumber, then externalId). E-mail is trimmed and lower-cased.
"""

from __future__ import annotations

from typing import Final, Literal, NamedTuple

from engage.models import OrderContact, ReceiptContact
from mappers.policy import ContactKey, TenantPolicy
from schemas.identity import CustomerIdentity, TrackingIdentity

LookupKind = Literal["email", "mobilePhone", "socialSecurityNumber", "customKey", "contactId"]
Identity = CustomerIdentity | TrackingIdentity

LOOKUP_KIND: Final[dict[ContactKey, LookupKind]] = {
    "email": "email",
    "mobile_phone": "mobilePhone",
    "social_security_number": "socialSecurityNumber",
    "member_number": "customKey",
    "external_id": "customKey",
}
"""Our identifier field -> the `GET /contacts/id` parameter that finds it."""

MATCH_KEY_TYPE: Final[dict[ContactKey, str]] = {
    "email": "email",
    "mobile_phone": "mobilePhone",
    "social_security_number": "socialSecurityNumber",
    "member_number": "memberNumber",
    "external_id": "externalId",
}
"""Our identifier field -> the receipt/order `matchKeyType` that names it (ref §2.8)."""

FALLBACK_ORDER: Final[tuple[ContactKey, ...]] = (
    "email",
    "mobile_phone",
    "member_number",
    "social_security_number",
    "external_id",
)
CONTACT_ID_MATCH_KEY_TYPE: Final = "contactId"


class LookupKey(NamedTuple):
    """One way to find a contact: `kind` is the Engage lookup parameter, `value` is normalised."""

    kind: LookupKind
    value: str


def normalize(field: ContactKey, value: str) -> str:
    """The form a key is looked up and cached under: e-mail trimmed and lower-cased, others trimmed."""
    value = value.strip()
    return value.lower() if field == "email" else value


def _given(identity: Identity, policy: TenantPolicy) -> list[tuple[ContactKey, str]]:
    order = (policy.contact_key, *(f for f in FALLBACK_ORDER if f != policy.contact_key))
    found: list[tuple[ContactKey, str]] = []
    for field in order:
        value = getattr(identity, field)
        if isinstance(value, str) and value.strip():
            found.append((field, normalize(field, value)))
    return found


def lookup_keys(identity: Identity, policy: TenantPolicy) -> list[LookupKey]:
    """Every key the event gives, best first: contactId, the tenant's key, then the rest (no repeats)."""
    keys: list[LookupKey] = []
    if identity.contact_id:
        keys.append(LookupKey("contactId", identity.contact_id))
    for field, value in _given(identity, policy):
        key = LookupKey(LOOKUP_KIND[field], value)
        if key not in keys:
            keys.append(key)
    return keys


def identity_ref(identity: Identity, policy: TenantPolicy) -> LookupKey:
    """The stable name under which work on this customer is serialized.

    The tenant's key when given (events about one customer carry it consistently), else the
    contactId, else the first other identifier.
    """
    given = _given(identity, policy)
    if given and given[0][0] == policy.contact_key:
        return LookupKey(LOOKUP_KIND[policy.contact_key], given[0][1])
    if identity.contact_id:
        return LookupKey("contactId", identity.contact_id)
    field, value = given[0]  # schemas guarantee at least one identifier
    return LookupKey(LOOKUP_KIND[field], value)


def receipt_contact(contact_id: str) -> ReceiptContact:
    """The receipt's buyer, by the resolved contactId (no contactType needed then)."""
    return ReceiptContact(match_key=contact_id, match_key_type=CONTACT_ID_MATCH_KEY_TYPE)


def receipt_contact_by_key(identity: CustomerIdentity, policy: TenantPolicy) -> ReceiptContact:
    """The receipt's buyer when no contactId is known (the XML file path): the best key given."""
    if identity.contact_id:
        return receipt_contact(identity.contact_id)
    field, value = _given(identity, policy)[0]
    return ReceiptContact(
        match_key=value, match_key_type=MATCH_KEY_TYPE[field], contact_type=policy.contact_type
    )


def order_contact(contact_id: str) -> OrderContact:
    """An order's customer, by the resolved contactId."""
    return OrderContact(match_key=contact_id, match_key_type=CONTACT_ID_MATCH_KEY_TYPE)
