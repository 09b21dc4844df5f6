"""Contact records -> ``<new><member>`` elements of the contacts import format.

The structure follows the only evidence there is (ref engage-api.md §4.2/§4.3; ``fallback/xsd/contacts.xsd``
says which parts are evidenced and which inferred): a third-party test of Voyado's import builds
``<contacts xmlns="http://eClub.Schemas.ImportContact"><new source="ECOM"><member>...``, and Voyado's
own export writes ``<contacts><new><member source=...><firstName>...``.

The record is the body of ``POST /api/v3/contacts`` (flat attributes, optional ``contactType``,
``preferences``, ``consents``) plus the optional import-only keys ``contactId`` (Engage GUID),
``source``, ``storeExternalId`` and ``createAsUnapproved`` (the create call's query parameters).

- Each record is one ``<new>`` holding one ``<member>``, so a record is written whole or not at all
  and the writer keeps streaming; ``source``, ``storeExternalId`` and ``createAsUnapproved`` are XML
  attributes of ``<new>``, ``contactType`` an XML attribute of ``<member>``.
- ``contactId`` is the member's first child, then every attribute as an element of its own name
  (the well-known ones of :data:`KNOWN_ATTRIBUTES` checked for format, a tenant's own attributes as
  text: booleans ``true``/``false``, numbers in decimal), then ``<preferences>`` and ``<consents>``.
  Nested objects and lists other than preferences/consents are errors.
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
GROUP_TAG: Final = "new"
MEMBER_TAG: Final = "member"

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
GROUP_ATTRIBUTES: Final[Mapping[str, Converter]] = {
    "source": v.text,
    "storeExternalId": v.text,
    "createAsUnapproved": v.boolean,
}
"""XML attributes of ``<new>``: the create call's query parameters."""
MEMBER_ATTRIBUTES: Final[Mapping[str, Converter]] = {"contactType": v.text}
"""XML attributes of ``<member>``."""
STRUCTURED: Final = frozenset({"contactId", "preferences", "consents"})
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
    """``<new><member>`` for one contact record; raises RecordError before anything is written."""
    contact = as_mapping(record, "")
    group: dict[str, str] = {}
    member: dict[str, str] = {}
    children: list[Node] = []
    tail: list[Node] = []
    contact_id = contact.get("contactId")
    if not v.is_absent(contact_id):
        children.append(("contactId", v.pattern_text(GUID_RE, "a GUID")(contact_id, "contactId"), None))
    for name, value in contact.items():
        if name in STRUCTURED or v.is_absent(value):
            continue
        if name in GROUP_ATTRIBUTES:
            group[name] = GROUP_ATTRIBUTES[name](value, name)
        elif name in MEMBER_ATTRIBUTES:
            member[name] = MEMBER_ATTRIBUTES[name](value, name)
        elif name in KNOWN_ATTRIBUTES:
            children.append((name, KNOWN_ATTRIBUTES[name](value, name), None))
        else:
            children.append(_tenant_attribute(name, value))
    for name, spec in (("preferences", PREFERENCES), ("consents", CONSENTS)):
        value = contact.get(name)
        if value:
            node = render_field(name, spec, value, name)
            if node is not None and node[1]:
                tail.append(node)
    if not children and not tail:
        raise RecordError("", "contact has neither contactId nor any attribute")
    return (GROUP_TAG, [(MEMBER_TAG, children + tail, member or None)], group or None)


def _tenant_attribute(name: str, value: Any) -> Node:
    """A tenant's own attribute, as an element named after it (Voyado's elements follow the tenant)."""
    if ATTRIBUTE_NAME_RE.fullmatch(name) is None:
        raise RecordError("", "attribute name must match [A-Za-z_][A-Za-z0-9_]{0,99}")
    if isinstance(value, bool):
        return (name, v.boolean(value, name), None)
    if isinstance(value, str):
        return (name, v.text(value, name), None)
    if isinstance(value, Mapping | list | tuple):
        raise RecordError(name, "tenant attributes must be strings, numbers or booleans")
    return (name, v.decimal(value, name), None)
