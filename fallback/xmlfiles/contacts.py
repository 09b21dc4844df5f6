"""Contact records -> ``<contact>`` elements of the contacts import format.

The record is the body of ``POST /api/v3/contacts`` (flat attributes, optional
``contactType``, ``preferences``, ``consents``) plus the optional import-only keys
``contactId`` (Engage GUID), ``source``, ``storeExternalId`` and ``createAsUnapproved``
(the create call's query parameters).

- ``contactType``, ``source``, ``storeExternalId``, ``createAsUnapproved`` become XML
  attributes of ``<contact>``; ``contactId`` is its first child.
- Well-known attributes (:data:`KNOWN_ATTRIBUTES`) become elements of the same name.
- Any other attribute becomes ``<attribute name="..." type="...">`` with type ``boolean``
  or ``number`` for JSON booleans and numbers (omitted for strings), so a reader gets the
  JSON type back. Nested objects and lists other than preferences/consents are errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from fallback.xmlfiles import values as v
from fallback.xmlfiles.records import Group, Leaf, Node, Repeated, as_mapping, render_field
from fallback.xmlfiles.values import Converter, RecordError

GUID_RE: Final = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
EMAIL_RE: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ATTRIBUTE_NAME_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")

KNOWN_ATTRIBUTES: Final[Mapping[str, Converter]] = {
    "firstName": v.text,
    "lastName": v.text,
    "email": v.pattern_text(EMAIL_RE, "an email address"),
    "mobilePhone": v.text,
    "socialSecurityNumber": v.text,
    "externalId": v.text,
    "memberNumber": v.text,
    "street": v.text,
    "careOf": v.text,
    "zipCode": v.text,
    "city": v.text,
    "countryCode": v.pattern_text(re.compile("[A-Z]{2}"), "an ISO 3166 alpha-2 code"),
    "language": v.text,
    "birthDay": v.iso_date,
    "gender": v.text,
}
HEADER_ATTRIBUTES: Final[Mapping[str, Converter]] = {
    "contactType": v.text,
    "source": v.text,
    "storeExternalId": v.text,
    "createAsUnapproved": v.boolean,
}
PREFERENCES: Final = Group(
    (("acceptsEmail", Leaf(v.boolean)), ("acceptsSms", Leaf(v.boolean)), ("acceptsPostal", Leaf(v.boolean)))
)
CONSENTS: Final = Repeated(
    "consent",
    Group(
        (
            ("id", Leaf(v.text, required=True)),
            ("value", Leaf(v.boolean, required=True)),
            ("date", Leaf(v.datetime_with_offset)),
            ("source", Leaf(v.text)),
            ("comment", Leaf(v.text)),
        )
    ),
)


def render_contact(record: Mapping[str, Any]) -> Node:
    """``<contact>`` for one contact record; raises RecordError before anything is written."""
    contact = as_mapping(record, "")
    xml_attributes: dict[str, str] = {}
    children: list[Node] = []
    tail: list[Node] = []
    contact_id = contact.get("contactId")
    if not v.is_absent(contact_id):
        children.append(("contactId", v.pattern_text(GUID_RE, "a GUID")(contact_id, "contactId"), None))
    for name, value in contact.items():
        if name == "contactId" or v.is_absent(value):
            continue
        if name in HEADER_ATTRIBUTES:
            xml_attributes[name] = HEADER_ATTRIBUTES[name](value, name)
        elif name in KNOWN_ATTRIBUTES:
            children.append((name, KNOWN_ATTRIBUTES[name](value, name), None))
        elif name not in {"preferences", "consents"}:
            children.append(_custom_attribute(name, value))
    for name, spec in (("preferences", PREFERENCES), ("consents", CONSENTS)):
        value = contact.get(name)
        if value:
            node = render_field(name, spec, value, name)
            if node is not None and node[1]:
                tail.append(node)
    if not children and not tail:
        raise RecordError("", "contact has neither contactId nor any attribute")
    return ("contact", children + tail, xml_attributes or None)


def _custom_attribute(name: str, value: Any) -> Node:
    if ATTRIBUTE_NAME_RE.fullmatch(name) is None:
        raise RecordError("", "attribute name must match [A-Za-z_][A-Za-z0-9_]{0,99}")
    if isinstance(value, bool):
        return ("attribute", v.boolean(value, name), {"name": name, "type": "boolean"})
    if isinstance(value, str):
        return ("attribute", v.text(value, name), {"name": name})
    if isinstance(value, Mapping | list | tuple):
        raise RecordError(name, "tenant attributes must be strings, numbers or booleans")
    return ("attribute", v.decimal(value, name), {"name": name, "type": "number"})
