"""Reading the XML import files dropped in the simulator's import folder (pure parsing).

Public API (called by the import watcher):

- ``kind_of(path) -> "contacts" | "transactions" | "promotion-redemptions" | None``
  from a name ``{YYYYMMDDHHmmss}_{seq}_{kind}.xml``;
- ``is_complete_name(name) -> bool``: False for dotfiles and upload temp names;
- ``parse_contacts_file(path)``, ``parse_transactions_file(path)``,
  ``parse_redemptions_file(path)`` and ``parse_import_file(path)`` (by name):
  ``Iterator[ParsedRecord]``;
- ``ParsedRecord``: ``index`` (0-based position under the root), ``data`` (API-shaped
  camelCase dict: the JSON body of the matching API call; decimals as ``Decimal``,
  booleans as ``bool``, datetimes as their ISO text; None when ``errors``), ``errors``
  (the record must be skipped) and ``warnings`` (a contact field Voyado would skip);
- ``ImportFileError``: a "major error" that skips the whole file (not UTF-8, not
  well-formed XML, wrong root or namespace). It can be raised after records were
  yielded, so collect the records (``list(...)``, at most 20,000) before applying any.

This mirrors the XSDs in ``fallback/xsd`` on purpose without importing them (the
simulator imports nothing of ours but ``engage.models``, whose ``MATCH_KEY_TYPES`` it
shares with the XSDs and the writer); the unit tests check that both sides agree.
Contacts follow Voyado's per-field rule: an invalid field is dropped with a warning,
and any unknown simple element is read as a tenant attribute by its element name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

from lxml import etree

from engage.models import MATCH_KEY_TYPES

ImportKind = Literal["contacts", "transactions", "promotion-redemptions"]
NAMESPACES: Final[Mapping[ImportKind, str]] = {
    "contacts": "http://eClub.Schemas.ImportContact",
    "transactions": "http://voyado.Schemas.ImportReceipts",
    "promotion-redemptions": "urn:engage-relay:promotion-redemptions:v1",
}
ROOTS: Final[Mapping[ImportKind, str]] = {
    "contacts": "contacts",
    "transactions": "transactions",
    "promotion-redemptions": "redemptions",
}
_NAME_RE: Final = re.compile(
    r"[0-9]{14}_[A-Za-z0-9-]{1,64}_(contacts|transactions|promotion-redemptions)\.xml"
)
TEMP_NAME_SUFFIXES: Final = (".part", ".tmp", ".partial", ".filepart", ".crdownload", ".swp", "~")
_HEAD_BYTES: Final = 200
_DECLARED_ENCODING: Final = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class ImportFileError(Exception):
    """The whole file is rejected (Voyado: "a major error skips the whole file")."""


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    index: int
    data: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def kind_of(path: Path | str) -> ImportKind | None:
    match = _NAME_RE.fullmatch(Path(path).name)
    return None if match is None else match.group(1)  # type: ignore[return-value]  # regex admits only kinds


def is_complete_name(name: str) -> bool:
    """False for hidden files and names uploaders use while a transfer is in progress."""
    base = Path(name).name
    return bool(base) and not base.startswith(".") and not base.lower().endswith(TEMP_NAME_SUFFIXES)


# ----- leaf converters: text -> value, ValueError(reason) when invalid -----
_DECIMAL_RE: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATETIME_RE: Final = re.compile(
    r"-?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
Conv = Callable[[str], Any]


def _text(value: str) -> str:
    return value


def _decimal(value: str) -> Decimal:
    if _DECIMAL_RE.fullmatch(value) is None:
        raise ValueError("is not a decimal with '.' separator")
    return Decimal(value)


def _boolean(value: str) -> bool:
    if value not in {"true", "false"}:
        raise ValueError("is not true or false")
    return value == "true"


def _datetime(value: str) -> str:
    if _DATETIME_RE.fullmatch(value) is None:
        raise ValueError("is not an ISO 8601 datetime with offset")
    datetime.fromisoformat(value)
    return value


def _date(value: str) -> str:
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) is None:
        raise ValueError("is not a YYYY-MM-DD date")
    date.fromisoformat(value)
    return value


def _pattern(regex: str, what: str) -> Conv:
    compiled = re.compile(regex)

    def convert(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"is not {what}")
        return value

    return convert


# ----- structure specs -----
@dataclass(frozen=True, slots=True)
class Leaf:
    conv: Conv
    required: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    fields: Mapping[str, Leaf | Group | Repeated | ExtraData]
    required: bool = False


@dataclass(frozen=True, slots=True)
class Repeated:
    child_tag: str
    item: Group
    required: bool = False


@dataclass(frozen=True, slots=True)
class ExtraData:
    required: bool = False


_T, _RT, _D, _RD = Leaf(_text), Leaf(_text, True), Leaf(_decimal), Leaf(_decimal, True)
_MATCH_KEY_TYPE: Final = _pattern("(?i)" + "|".join(MATCH_KEY_TYPES), "a known matchKeyType")
CONTACT_MATCH: Final = Group(
    {"matchKey": _RT, "matchKeyType": Leaf(_MATCH_KEY_TYPE, True), "contactType": _T}, required=True
)
RECEIPT: Final = Group(
    {
        "contact": CONTACT_MATCH,
        "uniqueReceiptId": _RT,
        "receiptNumber": _T,
        "createdDate": Leaf(_datetime, True),
        "storeExternalId": _RT,
        "currency": Leaf(_pattern("[A-Z]{3}", "an ISO 4217 code"), True),
        "exchangeRateToGroupCurrency": _D,
        "totalGrossPrice": _RD,
        "taxDetails": Repeated(
            "taxDetail",
            Group(
                {
                    "description": _T,
                    "value": _D,
                    "percent": _D,
                    "totalIncludingTax": _D,
                    "totalExcludingTax": _D,
                }
            ),
        ),
        "paymentMethods": Repeated(
            "paymentMethod",
            Group({"type": _RT, "value": _RD, "description": _T, "extraData": ExtraData()}),
            required=True,
        ),
        "items": Repeated(
            "item",
            Group(
                {
                    "type": Leaf(
                        _pattern("PURCHASE|RETURN|ADJUSTMENT", "PURCHASE, RETURN or ADJUSTMENT"), True
                    ),
                    "sku": _RT,
                    "quantity": _RD,
                    "grossPaidPrice": _RD,
                    "taxAmount": _RD,
                    "taxPercent": _RD,
                    "articleNumber": _RT,
                    "articleName": _RT,
                    "packQuantity": _D,
                    "articleGroup": _T,
                    "marginPercent": _D,
                    "awardsBonus": Leaf(_boolean),
                    "discounts": Repeated("discount", Group({"value": _RD, "type": _T, "description": _T})),
                    "extraData": ExtraData(),
                }
            ),
            required=True,
        ),
        "usedBonusChecks": Repeated("usedBonusCheck", Group({"checkNumber": _RT})),
        "usedPromotions": Repeated("usedPromotion", Group({"promotionId": _RT, "couponId": _T})),
        "extraData": ExtraData(),
    }
)
_CHANNEL: Final = Leaf(_pattern("ECOM|POS|OTHER", "ECOM, POS or OTHER"), True)
PROMOTION_REDEMPTION: Final = Group(
    {
        "assignmentId": _T,
        "contact": Group(CONTACT_MATCH.fields),
        "promotionId": _T,
        "redemptionChannel": _CHANNEL,
        "redeemedAt": Leaf(_datetime, True),
    }
)
VOUCHER_REDEMPTION: Final = Group({"voucherId": _T, "voucherNumber": _T, "redeemedAt": Leaf(_datetime, True)})
KNOWN_CONTACT_ATTRIBUTES: Final[Mapping[str, Conv]] = {
    "email": _pattern(r"[^@\s]+@[^@\s]+\.[^@\s]+", "an email address"),
    "countryCode": _pattern("[A-Z]{2}", "an ISO 3166 alpha-2 code"),
    "birthDay": _date,
}
PREFERENCES: Final = Group(
    {"acceptsEmail": Leaf(_boolean), "acceptsSms": Leaf(_boolean), "acceptsPostal": Leaf(_boolean)}
)
CONSENTS: Final = Repeated(
    "consent",
    Group({"id": _RT, "value": Leaf(_boolean, True), "date": Leaf(_datetime), "source": _T, "comment": _T}),
)


# ----- element -> dict -----
class _Reader:
    """Reads elements of one namespace, collecting problems in ``errors``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.prefix = f"{{{namespace}}}"
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def local(self, element: etree._Element, path: str) -> str | None:
        tag = element.tag
        if not isinstance(tag, str):  # comment or processing instruction
            return None
        if not tag.startswith(self.prefix):
            self.errors.append(f"{path}: element {etree.QName(tag).localname} is in another namespace")
            return None
        return tag[len(self.prefix) :]

    def leaf_text(self, element: etree._Element, path: str) -> str | None:
        if any(isinstance(child.tag, str) for child in element):
            self.errors.append(f"{path}: must hold text, not elements")
            return None
        value = (element.text or "").strip()
        if not value:
            self.errors.append(f"{path}: must not be empty")
            return None
        return value

    def group(self, element: etree._Element, spec: Group, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in element:
            name = self.local(child, path)
            if name is None:
                continue
            child_path = f"{path}.{name}" if path else name
            child_spec = spec.fields.get(name)
            if child_spec is None:
                self.errors.append(f"{child_path}: unknown element")
            elif name in out:
                self.errors.append(f"{child_path}: appears more than once")
            else:
                value = self.field(child, child_spec, child_path)
                if value is not None:
                    out[name] = value
        for name, child_spec in spec.fields.items():
            if child_spec.required and name not in out and not self._reported(path, name):
                self.errors.append(f"{path}.{name}: is required" if path else f"{name}: is required")
        return out

    def _reported(self, path: str, name: str) -> bool:
        prefix = f"{path}.{name}" if path else name
        return any(error.startswith(prefix) for error in self.errors)

    def field(self, element: etree._Element, spec: Leaf | Group | Repeated | ExtraData, path: str) -> Any:
        if isinstance(spec, Leaf):
            text = self.leaf_text(element, path)
            if text is None:
                return None
            try:
                return spec.conv(text)
            except ValueError as exc:
                self.errors.append(f"{path}: {exc}")
                return None
        if isinstance(spec, Group):
            return self.group(element, spec, path)
        items: list[Any] = []
        for child in element:
            name = self.local(child, path)
            if name is None:
                continue
            item_path = f"{path}[{len(items)}]"
            if isinstance(spec, Repeated) and name == spec.child_tag:
                items.append(self.group(child, spec.item, item_path))
            elif isinstance(spec, ExtraData) and name == "item":
                item_name = child.get("name", "").strip()
                text = self.leaf_text(child, item_path)
                if not item_name:
                    self.errors.append(f"{item_path}: needs a name attribute")
                elif text is not None:
                    items.append({"name": item_name, "value": text})
            else:
                self.errors.append(f"{path}: unexpected element {name}")
        if not items:
            self.errors.append(f"{path}: must not be empty")
        return items


def _receipt(reader: _Reader, element: etree._Element, name: str) -> dict[str, Any] | None:
    if name != "receipt":
        reader.errors.append(f"unexpected element {name}; expected receipt")
        return None
    return reader.group(element, RECEIPT, "")


def _redemption(reader: _Reader, element: etree._Element, name: str) -> dict[str, Any] | None:
    if name == "promotionRedemption":
        data = reader.group(element, PROMOTION_REDEMPTION, "")
        if ("assignmentId" in data) == ("contact" in data or "promotionId" in data):
            reader.errors.append("needs assignmentId, or contact and promotionId, not both")
        elif "assignmentId" not in data and not ("contact" in data and "promotionId" in data):
            reader.errors.append("needs both contact and promotionId")
        return {"kind": "promotion", **data}
    if name == "rewardVoucherRedemption":
        data = reader.group(element, VOUCHER_REDEMPTION, "")
        if ("voucherId" in data) == ("voucherNumber" in data):
            reader.errors.append("needs exactly one of voucherId and voucherNumber")
        return {"kind": "rewardVoucher", **data}
    reader.errors.append(
        f"unexpected element {name}; expected promotionRedemption or rewardVoucherRedemption"
    )
    return None


def _contact(reader: _Reader, element: etree._Element, name: str) -> dict[str, Any] | None:
    """Grave problems go to ``reader.errors``; per-field ones to the returned warnings."""
    if name != "contact":
        reader.errors.append(f"unexpected element {name}; expected contact")
        return None
    data: dict[str, Any] = {}
    for attribute in ("contactType", "source", "storeExternalId"):
        value = (element.get(attribute) or "").strip()
        if value:
            data[attribute] = value
    unapproved = element.get("createAsUnapproved")
    if unapproved is not None:
        data["createAsUnapproved"] = unapproved.strip() == "true"
    fields = _Reader(reader.namespace)  # collects per-field problems, reported as warnings
    for child in element:
        local = fields.local(child, "contact")
        if local is None:
            continue
        key, value = _contact_field(fields, child, local)
        if key is None or value is None:
            continue
        if key in data:
            fields.errors.append(f"{key}: appears more than once; the first value is kept")
            continue
        data[key] = value
    reader.warnings.extend(fields.errors)
    if not (data.keys() - {"contactType", "source", "storeExternalId", "createAsUnapproved"}):
        reader.errors.append("contact has neither contactId nor any valid attribute")
    return data


def _contact_field(fields: _Reader, child: etree._Element, local: str) -> tuple[str | None, Any]:
    if local == "preferences":
        value = fields.group(child, PREFERENCES, "preferences")
        return local, value or None
    if local == "consents":
        return local, fields.field(child, CONSENTS, "consents") or None
    if local == "attribute":
        return _tenant_attribute(fields, child)
    if local == "contactId":
        return local, fields.field(child, Leaf(_pattern(r"[0-9A-Fa-f-]{36}", "a GUID")), local)
    return local, fields.field(child, Leaf(KNOWN_CONTACT_ATTRIBUTES.get(local, _text)), local)


def _tenant_attribute(fields: _Reader, child: etree._Element) -> tuple[str | None, Any]:
    """``<attribute name="..." type="string|boolean|number">``."""
    name = (child.get("name") or "").strip()
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", name) is None:
        fields.errors.append("attribute: needs a valid name")
        return None, None
    kind = child.get("type", "string")
    conv: Conv | None = {"string": _text, "boolean": _boolean, "number": _decimal}.get(kind)
    if conv is None:
        fields.errors.append(f"{name}: unknown attribute type")
        return None, None
    return name, fields.field(child, Leaf(conv), name)


# ----- files -----
_RecordReader = Callable[[_Reader, etree._Element, str], "dict[str, Any] | None"]


def parse_contacts_file(path: Path) -> Iterator[ParsedRecord]:
    return _stream(path, "contacts", _contact)


def parse_transactions_file(path: Path) -> Iterator[ParsedRecord]:
    return _stream(path, "transactions", _receipt)


def parse_redemptions_file(path: Path) -> Iterator[ParsedRecord]:
    return _stream(path, "promotion-redemptions", _redemption)


def parse_import_file(path: Path) -> Iterator[ParsedRecord]:
    """Dispatch on :func:`kind_of`; ImportFileError for a name of no known kind."""
    kind = kind_of(path)
    if kind is None:
        raise ImportFileError("file name is not {YYYYMMDDHHmmss}_{seq}_{kind}.xml")
    return {"contacts": parse_contacts_file, "transactions": parse_transactions_file}.get(
        kind, parse_redemptions_file
    )(path)


def _stream(path: Path, kind: ImportKind, read_record: _RecordReader) -> Iterator[ParsedRecord]:
    """Generator: the checks run on the first ``next()``, records stream one by one."""
    _check_encoding(Path(path))
    namespace = NAMESPACES[kind]
    root_tag = f"{{{namespace}}}{ROOTS[kind]}"
    depth = 0
    index = 0
    try:
        events = etree.iterparse(
            str(path), events=("start", "end"), resolve_entities=False, no_network=True, remove_comments=True
        )
        for event, element in events:
            if event == "start":
                if depth == 0 and element.tag != root_tag:
                    raise ImportFileError(f'root element must be <{ROOTS[kind]} xmlns="{namespace}">')
                depth += 1
                continue
            depth -= 1
            if depth != 1:
                continue
            yield _record(index, element, namespace, read_record)
            index += 1
            parent = element.getparent()
            element.clear()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise ImportFileError(f"not well-formed XML: {exc.msg}") from exc


def _record(index: int, element: etree._Element, namespace: str, read_record: _RecordReader) -> ParsedRecord:
    reader = _Reader(namespace)
    name = reader.local(element, f"record {index}")
    data = read_record(reader, element, name) if name is not None else None
    if reader.errors or data is None:
        return ParsedRecord(index, None, reader.errors or ["record could not be read"], reader.warnings)
    return ParsedRecord(index, data, [], reader.warnings)


def _check_encoding(path: Path) -> None:
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("file is UTF-16; import files must be UTF-8")
    declared = _DECLARED_ENCODING.match(head.removeprefix(b"\xef\xbb\xbf"))
    if declared is not None and declared.group(1).lower().replace(b"_", b"-") not in {b"utf-8", b"utf8"}:
        raise ImportFileError("XML declaration names an encoding other than UTF-8")
