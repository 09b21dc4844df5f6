"""Contacts: finding, creating, patching and retyping, shared by the API, bulk and file import.

Every function raises `ApiError` with the Engage error code on failure, so a caller that is not an
HTTP handler (bulk rows, import records) can turn the same error into a per-record message.
"""

from __future__ import annotations

from typing import Any

from engage.models import canonical_match_key_type
from simulator.errors import ApiError, field_error, validation_error
from simulator.state import INDEXED_ATTRIBUTES, Contact, ContactType, SimState, new_id, normalize, now_iso
from simulator.stores import STORE_MISSING, store_missing
from simulator.validation import attribute_errors, is_email, is_guid, is_phone, is_ssn

LOOKUP_PARAMS = ("email", "mobilePhone", "socialSecurityNumber", "customKey", "any")
ANY_ORDER = ("email", "socialSecurityNumber", "mobilePhone", "customKey")
INVALID_CODES = {
    "email": ("InvalidEmailAddress", is_email),
    "mobilePhone": ("InvalidPhoneNumber", is_phone),
    "socialSecurityNumber": ("InvalidSocialSecurityNumber", is_ssn),
}


def contact_type(state: SimState, name: str | None) -> ContactType:
    found = state.contact_types.get(name or "Member")
    if found is None:
        raise ApiError(400, "InvalidContactType", f"Unknown contact type {name!r}")
    return found


def find_by(state: SimState, attribute: str, value: str, type_name: str | None = None) -> list[Contact]:
    """Contacts whose `attribute` equals `value` (`customKey`: memberNumber, else externalId)."""
    if attribute == "contactId":
        found = state.contacts.get(value.lower()) or state.contacts.get(value)
        return [found] if found and (type_name is None or found.contact_type == type_name) else []
    if attribute == "customKey":
        return find_by(state, "memberNumber", value, type_name) or find_by(
            state, "externalId", value, type_name
        )
    if attribute in INDEXED_ATTRIBUTES:
        candidates = state.indexed(attribute, value)
    else:
        wanted = normalize(attribute, value)
        candidates = [
            c
            for c in state.contacts.values()
            if c.attributes.get(attribute) not in (None, "")
            and normalize(attribute, c.attributes[attribute]) == wanted
        ]
    return [c for c in candidates if type_name is None or c.contact_type == type_name]


MATCH_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "cardId": ("cardId",),
    "memberNumberWithCardNumberAsFallback": ("memberNumber", "cardId"),
}
"""The attributes a matchKeyType searches, in order, where it is not itself an attribute [inferred]."""


def find_by_match_key(
    state: SimState, match_key_type: str, match_key: str, type_name: str | None = None
) -> list[Contact]:
    """Contacts a receipt's or order's `contact{matchKey, matchKeyType}` names (type in any case)."""
    kind = canonical_match_key_type(match_key_type)
    if kind is None:
        raise ApiError(400, "InvalidMatchKeyType", "Unknown matchKeyType")
    for attribute in MATCH_ATTRIBUTES.get(kind, (kind,)):
        found = find_by(state, attribute, match_key, type_name)
        if found:
            return found
    return []


def any_kind(value: str) -> str:
    """The kind `any=` searches: the first of ANY_ORDER the value is valid for (ref §2.1 stop rule)."""
    for kind in ANY_ORDER[:-1]:
        if INVALID_CODES[kind][1](value):
            return kind
    return "customKey"


def lookup(state: SimState, query: dict[str, str]) -> str:
    """The contactId for a lookup query, or ApiError 400/404/409 as `GET /contacts/id` answers."""
    unknown = [k for k in query if k not in (*LOOKUP_PARAMS, "contactType")]
    given = [(k, query[k]) for k in LOOKUP_PARAMS if k in query]
    if unknown or not given:
        raise ApiError(400, "InvalidSearchQuery", "Give one of " + ", ".join(LOOKUP_PARAMS))
    type_name = query.get("contactType")
    if type_name is not None:
        contact_type(state, type_name)
    matches: set[str] | None = None
    for param, value in given:
        kind = any_kind(value) if param == "any" else param
        if kind in INVALID_CODES and not INVALID_CODES[kind][1](value):
            raise ApiError(400, INVALID_CODES[kind][0], f"Invalid {kind}")
        ids = {c.id for c in find_by(state, kind, value, type_name)}
        matches = ids if matches is None else matches & ids
    if not matches:
        raise ApiError(404, "ContactNotFound", "No contact matches the query")
    if len(matches) > 1:
        found = sorted(matches)
        raise ApiError(409, "MultipleMatches", "Several contacts match", {"multipleMatchesFound": found})
    return next(iter(matches))


def _merge_consents(current: list[dict[str, Any]], sent: Any) -> list[dict[str, Any]]:
    if not isinstance(sent, list):
        return current
    by_id = {c.get("id"): c for c in current}
    for consent in sent:
        if isinstance(consent, dict):
            by_id[consent.get("id")] = dict(consent)
    return list(by_id.values())


def _known_attributes(ctype: ContactType, body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k in ctype.attributes}


def _mandatory_errors(ctype: ContactType, attributes: dict[str, Any]) -> list[dict[str, str]]:
    return [field_error(f, "is mandatory") for f in ctype.mandatory if attributes.get(f) in (None, "")]


def create_contact(
    state: SimState,
    body: Any,
    *,
    source: str | None = None,
    store_external_id: str | None = None,
    unapproved: bool = False,
    type_name: str | None = None,
) -> Contact:
    """Create a contact from a flat attribute body, as `POST /api/v3/contacts` does."""
    if not isinstance(body, dict) or not body:
        raise ApiError(400, "NoData", "The request has no contact data")
    ctype = contact_type(state, type_name or body.get("contactType"))
    attributes = _known_attributes(ctype, body)
    errors = _mandatory_errors(ctype, attributes) + attribute_errors(attributes)
    if store_external_id is not None and store_missing(state, store_external_id):
        errors.append(field_error("storeExternalId", STORE_MISSING))
    if errors:
        raise validation_error(errors)
    key_value = attributes.get(ctype.key)
    if key_value not in (None, ""):
        existing = [c for c in find_by(state, ctype.key, str(key_value), ctype.name) if c.meta["approved"]]
        if existing:
            raise ApiError(
                409, "ApprovedContactWithKeyExists", f"A contact with this {ctype.key} already exists"
            )
    stamp = now_iso()
    contact = Contact(
        id=new_id(),
        contact_type=ctype.name,
        attributes=attributes,
        meta={
            "source": source,
            "storeExternalId": store_external_id,
            "createdOn": stamp,
            "modifiedOn": stamp,
            "approved": not unapproved,
        },
        preferences=dict(body["preferences"]) if isinstance(body.get("preferences"), dict) else {},
        consents=_merge_consents([], body.get("consents")),
    )
    state.put_contact(contact)
    return contact


def get_contact(state: SimState, contact_id: str) -> Contact:
    found = state.contacts.get(contact_id.lower())
    if found is None:
        if not is_guid(contact_id):
            raise ApiError(400, "InvalidContactId", "Not a valid contact id")
        raise ApiError(404, "ContactNotFound", "No contact with this id")
    return found


def patch_contact(state: SimState, contact: Contact, body: Any) -> Contact:
    """Overwrite every known attribute sent, empty and null included; ignore the unknown ones."""
    if not isinstance(body, dict):
        raise ApiError(400, "NoData", "The request has no contact data")
    ctype = state.contact_types[contact.contact_type]
    attributes = _known_attributes(ctype, body)
    errors = attribute_errors(attributes)
    if errors:
        raise validation_error(errors)
    state.update_attributes(contact, attributes)
    if isinstance(body.get("preferences"), dict):
        contact.preferences.update(body["preferences"])
    contact.consents = _merge_consents(contact.consents, body.get("consents"))
    contact.meta["modifiedOn"] = now_iso()
    return contact


def update_contact_type(state: SimState, contact: Contact, type_name: str | None) -> Contact:
    """Change the type when the target type's mandatory fields are all present (422 otherwise)."""
    if not type_name:
        raise ApiError(400, "InvalidContactType", "contactTypeId is required")
    ctype = contact_type(state, type_name)
    errors = _mandatory_errors(ctype, contact.attributes)
    if errors:
        raise validation_error(errors)
    contact.contact_type = ctype.name
    contact.meta["modifiedOn"] = now_iso()
    return contact
