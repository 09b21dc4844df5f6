"""Reading contacts import files: `<contacts><new source=...><member>...</member></new></contacts>`.

The structure is the one `fallback/xsd/contacts.xsd` describes (evidenced: the root, its namespace,
`<new source>` around `<member>`, attributes as elements of their own names, `<contactId>`; inferred:
the rest, see the XSD's header). Each `<member>` is one record, numbered across the file:
- `source`, `storeExternalId`, `createAsUnapproved` come from its `<new>` (a `source` on the
  `<member>` itself, as Voyado's export writes it, wins), `contactType` from the `<member>`;
- Voyado's per-field rule: an invalid field is dropped with a warning and the contact kept; any
  element not known here is a tenant attribute, read as text by its element name;
- a record with no valid field, an element other than `<member>` in a `<new>`, or an element other
  than `<new>` under the root (the old `<contacts><contact>` format included) is an error record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from lxml import etree

from simulator.xml_reading import (
    Conv,
    Group,
    ImportFileError,
    Leaf,
    ParsedRecord,
    Reader,
    Repeated,
    boolean,
    check_encoding,
    datetime_with_offset,
    iso_date,
    pattern,
    text,
)

CONTACTS_NAMESPACE: Final = "http://eClub.Schemas.ImportContact"
CONTACTS_ROOT: Final = "contacts"
GROUP_TAG: Final = "new"
MEMBER_TAG: Final = "member"
GROUP_ATTRIBUTES: Final = ("source", "storeExternalId", "createAsUnapproved")
HEADER_KEYS: Final = frozenset({"contactType", *GROUP_ATTRIBUTES})

KNOWN_CONTACT_ATTRIBUTES: Final[Mapping[str, Conv]] = {
    "email": pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address"),
    "countryCode": pattern("[A-Z]{2}", "an ISO 3166 alpha-2 code"),
    "birthDay": iso_date,
}
PREFERENCES: Final = Group(
    {"acceptsEmail": Leaf(boolean), "acceptsSms": Leaf(boolean), "acceptsPostal": Leaf(boolean)}
)
CONSENTS: Final = Repeated(
    "consent",
    Group(
        {
            "id": Leaf(text, True),
            "value": Leaf(boolean, True),
            "date": Leaf(datetime_with_offset),
            "source": Leaf(text),
            "comment": Leaf(text),
        }
    ),
)
_GUID: Final = Leaf(pattern(r"[0-9A-Fa-f-]{36}", "a GUID"))


def _header(group: Mapping[str, str], member: etree._Element) -> dict[str, Any]:
    data: dict[str, Any] = {}
    given = {name: group.get(name) for name in GROUP_ATTRIBUTES}
    given.update(
        {name: member.get(name) for name in ("contactType", "source") if member.get(name) is not None}
    )
    for name, raw in given.items():
        value = (raw or "").strip()
        if not value:
            continue
        data[name] = value == "true" if name == "createAsUnapproved" else value
    return data


def _contact_field(fields: Reader, child: etree._Element, local: str) -> Any:
    if local == "preferences":
        return fields.group(child, PREFERENCES, "preferences") or None
    if local == "consents":
        return fields.field(child, CONSENTS, "consents") or None
    if local == "contactId":
        return fields.field(child, _GUID, local)
    return fields.field(child, Leaf(KNOWN_CONTACT_ATTRIBUTES.get(local, text)), local)


def _member(reader: Reader, group: Mapping[str, str], element: etree._Element) -> dict[str, Any]:
    """Grave problems go to ``reader.errors``; per-field ones to its warnings."""
    data = _header(group, element)
    fields = Reader(reader.namespace)  # collects per-field problems, reported as warnings
    for child in element:
        local = fields.local(child, MEMBER_TAG)
        if local is None:
            continue
        value = _contact_field(fields, child, local)
        if value is None:
            continue
        if local in data:
            fields.errors.append(f"{local}: appears more than once; the first value is kept")
            continue
        data[local] = value
    reader.warnings.extend(fields.errors)
    if not data.keys() - HEADER_KEYS:
        reader.errors.append("contact has neither contactId nor any valid attribute")
    return data


def _record(index: int, element: etree._Element, group: Mapping[str, str] | None) -> ParsedRecord:
    reader = Reader(CONTACTS_NAMESPACE)
    name = reader.local(element, f"record {index}")
    data: dict[str, Any] | None = None
    if name is not None and group is None:
        reader.errors.append(f"unexpected element {name}; expected {GROUP_TAG}")
    elif name is not None and name != MEMBER_TAG:
        reader.errors.append(f"unexpected element {name} in {GROUP_TAG}; expected {MEMBER_TAG}")
    elif name is not None and group is not None:
        data = _member(reader, group, element)
    if reader.errors or data is None:
        return ParsedRecord(index, None, reader.errors or ["record could not be read"], reader.warnings)
    return ParsedRecord(index, data, [], reader.warnings)


def parse_contacts_file(path: Path) -> Iterator[ParsedRecord]:
    """Generator: the checks run on the first ``next()``, members stream one by one."""
    check_encoding(Path(path))
    root_tag = f"{{{CONTACTS_NAMESPACE}}}{CONTACTS_ROOT}"
    group_tag = f"{{{CONTACTS_NAMESPACE}}}{GROUP_TAG}"
    depth = 0
    index = 0
    group: dict[str, str] | None = None
    try:
        events = etree.iterparse(
            str(path), events=("start", "end"), resolve_entities=False, no_network=True, remove_comments=True
        )
        for event, element in events:
            if event == "start":
                if depth == 0 and element.tag != root_tag:
                    raise ImportFileError(
                        f'root element must be <{CONTACTS_ROOT} xmlns="{CONTACTS_NAMESPACE}">'
                    )
                if depth == 1:
                    group = dict(element.attrib) if element.tag == group_tag else None
                depth += 1
                continue
            depth -= 1
            if depth == 2 and group is not None:
                yield _record(index, element, group)
                index += 1
                _forget(element)
            elif depth == 1:
                if group is None:  # not a <new>: one error record for the whole element
                    yield _record(index, element, None)
                    index += 1
                _forget(element)
    except etree.XMLSyntaxError as exc:
        raise ImportFileError(f"not well-formed XML: {exc.msg}") from exc


def _forget(element: etree._Element) -> None:
    """Free a read element and the siblings before it (memory stays flat)."""
    parent = element.getparent()
    element.clear()
    while parent is not None and element.getprevious() is not None:
        del parent[0]
