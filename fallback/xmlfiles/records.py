"""API-shaped records -> element trees for the three import formats (pure, no I/O).

Each format is described once, as data (``RECEIPT``, ``CONTACT_MATCH``...), in the element
order of the shipped XSDs. :func:`render` walks a spec over a record and returns a
:data:`Node` tree, or raises :class:`~fallback.xmlfiles.values.RecordError` before anything
is written. Unknown keys are errors, never dropped silently: a field we cannot place in
the file would otherwise be lost without a trace. The writers compile the same specs into
plans (:mod:`~fallback.xmlfiles.plans`), which check a record and write its markup in one
pass; this walk is their reference, and what ``XmlBatchWriter.render`` returns.

Record shapes (``Mapping[str, Any]``, e.g. a pydantic model's
``model_dump(by_alias=True, mode="json")``):

- receipt: the JSON body of ``POST /api/v3/receipts``.
- contact: the body of ``POST /api/v3/contacts`` plus optional ``contactId``, ``source``,
  ``storeExternalId``, ``createAsUnapproved``; see :mod:`fallback.xmlfiles.contacts`.
- redemption: ``{"kind": "promotion", "assignmentId" | ("contact" + "promotionId"),
  "redemptionChannel", "redeemedAt"}`` or
  ``{"kind": "rewardVoucher", "voucherId" | "voucherNumber", "redeemedAt"}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from engage.models import MATCH_KEY_TYPES, match_key_type_pattern
from fallback.xmlfiles import values as v
from fallback.xmlfiles.values import Converter, RecordError

# (local tag, text or children, XML attributes or None)
Node: TypeAlias = tuple[str, "str | list[Node]", "dict[str, str] | None"]


@dataclass(frozen=True, slots=True)
class Leaf:
    convert: Converter
    required: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    fields: tuple[tuple[str, Spec], ...]
    required: bool = False
    names: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(name for name, _ in self.fields))


@dataclass(frozen=True, slots=True)
class Repeated:
    """A JSON list written as ``<plural><singular>...</singular></plural>``."""

    child_tag: str
    item: Group
    required: bool = False


@dataclass(frozen=True, slots=True)
class ExtraData:
    """``[{"name", "value"}]`` written as ``<extraData><item name="...">value</item></extraData>``."""

    required: bool = False


Spec: TypeAlias = Leaf | Group | Repeated | ExtraData

MATCH_KEY_TYPE_RE: Final = re.compile(match_key_type_pattern())  # the one list, engage.models
MATCH_KEY_SPELLINGS: Final = frozenset(
    spelling for name in MATCH_KEY_TYPES for spelling in (name, name[0].upper() + name[1:])
)
"""The words ``MATCH_KEY_TYPE_RE`` admits, as a set: the writer checks membership."""
ITEM_TYPES: Final = frozenset({"PURCHASE", "RETURN", "ADJUSTMENT"})
_TEXT: Final = Leaf(v.text)
_REQ_TEXT: Final = Leaf(v.text, required=True)
_DEC: Final = Leaf(v.decimal)
_REQ_DEC: Final = Leaf(v.decimal, required=True)

CONTACT_MATCH: Final = Group(
    (
        ("matchKey", _REQ_TEXT),
        ("matchKeyType", Leaf(v.one_of(MATCH_KEY_SPELLINGS, "a known matchKeyType"), required=True)),
        ("contactType", _TEXT),
    ),
    required=True,
)
TAX_DETAIL: Final = Group(
    (
        ("description", _TEXT),
        ("value", _DEC),
        ("percent", _DEC),
        ("totalIncludingTax", _DEC),
        ("totalExcludingTax", _DEC),
    )
)
PAYMENT_METHOD: Final = Group(
    (("type", _REQ_TEXT), ("value", _REQ_DEC), ("description", _TEXT), ("extraData", ExtraData()))
)
DISCOUNT: Final = Group((("value", _REQ_DEC), ("type", _TEXT), ("description", _TEXT)))
RECEIPT_ITEM: Final = Group(
    (
        ("type", Leaf(v.one_of(ITEM_TYPES, "an item type"), required=True)),
        ("sku", _REQ_TEXT),
        ("quantity", _REQ_DEC),
        ("grossPaidPrice", _REQ_DEC),
        ("taxAmount", _REQ_DEC),
        ("taxPercent", _REQ_DEC),
        ("articleNumber", _REQ_TEXT),
        ("articleName", _REQ_TEXT),
        ("packQuantity", _DEC),
        ("articleGroup", _TEXT),
        ("marginPercent", _DEC),
        ("awardsBonus", Leaf(v.boolean)),
        ("discounts", Repeated("discount", DISCOUNT)),
        ("extraData", ExtraData()),
    )
)
RECEIPT: Final = Group(
    (
        ("contact", CONTACT_MATCH),
        ("uniqueReceiptId", _REQ_TEXT),
        ("receiptNumber", _TEXT),
        ("createdDate", Leaf(v.datetime_with_offset, required=True)),
        ("storeExternalId", _REQ_TEXT),
        ("currency", Leaf(v.pattern_text(re.compile("[A-Z]{3}"), "an ISO 4217 code"), required=True)),
        ("exchangeRateToGroupCurrency", _DEC),
        ("totalGrossPrice", _REQ_DEC),
        ("taxDetails", Repeated("taxDetail", TAX_DETAIL)),
        ("paymentMethods", Repeated("paymentMethod", PAYMENT_METHOD, required=True)),
        ("items", Repeated("item", RECEIPT_ITEM, required=True)),
        ("usedBonusChecks", Repeated("usedBonusCheck", Group((("checkNumber", _REQ_TEXT),)))),
        (
            "usedPromotions",
            Repeated("usedPromotion", Group((("promotionId", _REQ_TEXT), ("couponId", _TEXT)))),
        ),
        ("extraData", ExtraData()),
    )
)


def as_mapping(value: Any, field: str) -> Mapping[str, Any]:
    if type(value) is dict:  # the common case, without the ABC check
        return value
    if not isinstance(value, Mapping):
        raise RecordError(field, f"must be an object, not {type(value).__name__}")
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def render_fields(spec: Group, record: Mapping[str, Any], path: str) -> list[Node]:
    """Children of one group element, in schema order; unknown keys raise.

    Hot path (millions of records): field paths are only built when there is an error.
    """
    extra_keys = record.keys() - spec.names
    if extra_keys and any(not v.is_absent(record[key]) for key in extra_keys):
        unknown = sorted(key for key in extra_keys if not v.is_absent(record[key]))
        raise RecordError(path, f"unknown field(s) {unknown}")
    children: list[Node] = []
    for name, field_spec in spec.fields:
        value = record.get(name)
        if value is None or (type(value) in _BLANKABLE and not _has_content(value)):
            if field_spec.required:
                raise RecordError(_join(path, name), "is required")
            continue
        try:
            node = render_field(name, field_spec, value, name)
        except RecordError as exc:
            if not path:
                raise
            raise RecordError(_join(path, exc.field), exc.problem) from None
        if node is not None:
            children.append(node)
    return children


_BLANKABLE: Final = (str, list, tuple, dict)


def _has_content(value: str | list[Any] | tuple[Any, ...] | dict[str, Any]) -> bool:
    return bool(value.strip()) if isinstance(value, str) else bool(value)


def render_field(name: str, spec: Spec, value: Any, field: str) -> Node | None:
    """One element, or None for an extraData list whose items all lack a value."""
    if isinstance(spec, Leaf):
        return (name, spec.convert(value, field), None)
    if isinstance(spec, Group):
        return (name, render_fields(spec, as_mapping(value, field), field), None)
    items = _as_list(value, field)
    if isinstance(spec, Repeated):
        return (
            name,
            [
                (
                    spec.child_tag,
                    render_fields(spec.item, as_mapping(item, f"{field}[{i}]"), f"{field}[{i}]"),
                    None,
                )
                for i, item in enumerate(items)
            ],
            None,
        )
    extra = render_extra_data(items, field)
    if not extra:
        if spec.required:
            raise RecordError(field, "is required")
        return None
    return (name, extra, None)


def render_extra_data(items: Sequence[Any], field: str) -> list[Node]:
    nodes: list[Node] = []
    for i, raw in enumerate(items):
        item = as_mapping(raw, f"{field}[{i}]")
        unknown = set(item) - {"name", "value"}
        if unknown:
            raise RecordError(f"{field}[{i}]", f"unknown field(s) {sorted(unknown)}")
        value = item.get("value")
        if v.is_absent(value):
            continue  # an extra field without a value carries nothing
        name = v.text(item.get("name"), f"{field}[{i}].name")
        value_field = f"{field}[{i}].value"
        text = v.text(value, value_field) if isinstance(value, str) else v.decimal(value, value_field)
        nodes.append(("item", text, {"name": name}))
    return nodes


def _as_list(value: Any, field: str) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise RecordError(field, f"must be a list, not {type(value).__name__}")
    return value


def render_receipt(record: Mapping[str, Any]) -> Node:
    """``<receipt>`` for the JSON body of ``POST /api/v3/receipts``."""
    return ("receipt", render_fields(RECEIPT, as_mapping(record, ""), ""), None)
