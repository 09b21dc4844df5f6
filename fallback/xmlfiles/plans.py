"""Record plans: a format spec compiled once into functions that check a record and write its markup.

:func:`compile_record` turns a :class:`~fallback.xmlfiles.records.Group` (``RECEIPT``...) into one
function ``record -> str``: the same checks, error fields and messages as the generic walk
:func:`~fallback.xmlfiles.records.render_fields`, and the markup lxml would serialise for the tree
that walk returns (a test holds the two to each other). The walk decides at every field what kind of
spec it holds and builds a tuple tree that is then walked again; a plan decides once, when it is
compiled, and appends finished strings (tags are precomputed), so a field costs a dictionary look-up,
its conversion and an append.

A plan raises :class:`~fallback.xmlfiles.values.RecordError` before returning anything, so a bad
record never reaches a file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeAlias

from fallback.xmlfiles import values as v
from fallback.xmlfiles.markup import escape_attribute, escape_text
from fallback.xmlfiles.records import ExtraData, Group, Leaf, Repeated, Spec, as_mapping
from fallback.xmlfiles.values import Converter, RecordError


class RecordPlan(Protocol):
    """A record -> the markup of its element; raises RecordError."""

    def __call__(self, record: Mapping[str, Any]) -> str: ...


_GroupWriter: TypeAlias = Callable[[Mapping[str, Any], list[str]], None]
_FieldWriter: TypeAlias = Callable[[Any, list[str]], bool]
"""A value (not None) -> its element appended to the list, True; or False and nothing appended when
the value is blank (a blank string, an empty list or object: "no value", as None). Errors name the
field relative to the enclosing group."""

MARKUP_SAFE_CONVERTERS: Final[frozenset[Converter]] = frozenset(
    {v.decimal, v.boolean, v.datetime_with_offset, v.iso_date}
)
"""Converters whose text never holds a character markup must escape (digits, signs, letters, ':')."""
_CONTAINERS: Final = (list, tuple, dict)
_EXTRA_ITEM_KEYS: Final = frozenset({"name", "value"})


def compile_record(tag: str, spec: Group) -> RecordPlan:
    """The plan of the ``<tag>`` element whose children ``spec`` describes."""
    write_fields = _compile_group(spec)
    start, end = f"<{tag}>", f"</{tag}>"

    def record_xml(record: Mapping[str, Any]) -> str:
        out = [start]
        write_fields(as_mapping(record, ""), out)
        out.append(end)
        return "".join(out)

    return record_xml


def _compile_group(spec: Group) -> _GroupWriter:
    steps = tuple(
        (name, field_spec.required, _compile_field(name, field_spec)) for name, field_spec in spec.fields
    )
    names = spec.names

    def write_fields(record: Mapping[str, Any], out: list[str]) -> None:
        if not record.keys() <= names:
            _refuse_unknown(record, names)
        for name, required, write_field in steps:
            value = record.get(name)
            if (value is None or not write_field(value, out)) and required:
                raise RecordError(name, "is required")

    return write_fields


def _is_blank(value: Any) -> bool:
    kind = type(value)
    return (kind is str and not value.strip()) or (kind in _CONTAINERS and not value)


def _refuse_unknown(record: Mapping[str, Any], names: frozenset[str]) -> None:
    """Keys the format has no place for: an error unless their value is absent."""
    unknown = sorted(key for key in record.keys() - names if not v.is_absent(record[key]))
    if unknown:
        raise RecordError("", f"unknown field(s) {unknown}")


def _within(prefix: str, field: str) -> str:
    return f"{prefix}.{field}" if field else prefix


def _compile_field(name: str, spec: Spec) -> _FieldWriter:
    if isinstance(spec, Leaf):
        return _leaf_writer(name, spec.convert)
    if isinstance(spec, Group):
        return _group_writer(name, spec)
    if isinstance(spec, Repeated):
        return _repeated_writer(name, spec)
    return _extra_data_writer(name, spec)


def _leaf_writer(name: str, convert: Converter) -> _FieldWriter:
    start, end = f"<{name}>", f"</{name}>"
    if convert is v.text:
        return _text_writer(start, end, name)
    if isinstance(convert, v.OneOf) and all(escape_text(word) == word for word in convert.allowed):
        return _one_of_writer(start, end, name, convert)
    if convert in MARKUP_SAFE_CONVERTERS:

        def write_safe(value: Any, out: list[str]) -> bool:
            kind = type(value)
            if (kind is str and not value.strip()) or (kind in _CONTAINERS and not value):
                return False
            out.append(start + convert(value, name) + end)
            return True

        return write_safe

    def write_leaf(value: Any, out: list[str]) -> bool:
        kind = type(value)
        if (kind is str and not value.strip()) or (kind in _CONTAINERS and not value):
            return False
        out.append(start + escape_text(convert(value, name)) + end)
        return True

    return write_leaf


def _text_writer(start: str, end: str, name: str) -> _FieldWriter:
    """``v.text`` leaves: a printable string with nothing to escape is its own text (printable text
    holds no character XML 1.0 forbids, and no carriage return); anything else takes the full path."""

    def write_text(value: Any, out: list[str]) -> bool:
        if type(value) is str:
            text = value.strip()
            if not text:
                return False
            if text.isprintable() and "&" not in text and "<" not in text and ">" not in text:
                out.append(start + text + end)
                return True
        elif type(value) in _CONTAINERS and not value:
            return False
        out.append(start + escape_text(v.text(value, name)) + end)
        return True

    return write_text


def _one_of_writer(start: str, end: str, name: str, convert: v.OneOf) -> _FieldWriter:
    """Enumerations whose words need no escaping: a word of the set, stripped, is its own text."""
    allowed = convert.allowed

    def write_one_of(value: Any, out: list[str]) -> bool:
        if type(value) is str:
            text = value.strip()
            if text in allowed:
                out.append(start + text + end)
                return True
            if not text:
                return False
        elif type(value) in _CONTAINERS and not value:
            return False
        out.append(start + convert(value, name) + end)  # raises: not a word of the set
        return True

    return write_one_of


def _group_writer(name: str, spec: Group) -> _FieldWriter:
    start, end = f"<{name}>", f"</{name}>"
    write_fields = _compile_group(spec)

    def write_group(value: Any, out: list[str]) -> bool:
        if _is_blank(value):
            return False
        group = as_mapping(value, name)
        out.append(start)
        try:
            write_fields(group, out)
        except RecordError as exc:
            raise RecordError(_within(name, exc.field), exc.problem) from None
        out.append(end)
        return True

    return write_group


def _repeated_writer(name: str, spec: Repeated) -> _FieldWriter:
    start, end = f"<{name}>", f"</{name}>"
    item_start, item_end = f"<{spec.child_tag}>", f"</{spec.child_tag}>"
    write_fields = _compile_group(spec.item)

    def write_repeated(value: Any, out: list[str]) -> bool:
        if _is_blank(value):
            return False
        items = as_list(value, name)
        out.append(start)
        for i, item in enumerate(items):
            out.append(item_start)
            try:
                write_fields(as_mapping(item, ""), out)
            except RecordError as exc:
                raise RecordError(_within(f"{name}[{i}]", exc.field), exc.problem) from None
            out.append(item_end)
        out.append(end)
        return True

    return write_repeated


def _extra_data_writer(name: str, spec: ExtraData) -> _FieldWriter:
    del spec  # its only setting, required, is applied by the enclosing group
    start, end = f"<{name}>", f"</{name}>"

    def write_extra_data(value: Any, out: list[str]) -> bool:
        if _is_blank(value):
            return False
        parts: list[str] = []
        for i, raw in enumerate(as_list(value, name)):
            try:
                parts.append(extra_item_xml(raw))
            except RecordError as exc:
                raise RecordError(_within(f"{name}[{i}]", exc.field), exc.problem) from None
        markup = "".join(parts)
        if not markup:  # no item has a value
            return False
        out.append(start + markup + end)
        return True

    return write_extra_data


def extra_item_xml(raw: Any) -> str:
    """``<item name="...">value</item>``, or "" for an item without a value (it carries nothing)."""
    item = as_mapping(raw, "")
    if not item.keys() <= _EXTRA_ITEM_KEYS:
        raise RecordError("", f"unknown field(s) {sorted(set(item) - _EXTRA_ITEM_KEYS)}")
    value = item.get("value")
    if v.is_absent(value):
        return ""
    name = escape_attribute(v.text(item.get("name"), "name"))
    text = escape_text(v.text(value, "value")) if isinstance(value, str) else v.decimal(value, "value")
    return f'<item name="{name}">{text}</item>'


def as_list(value: Any, field: str) -> Sequence[Any]:
    if type(value) is list:
        return value
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise RecordError(field, f"must be a list, not {type(value).__name__}")
    return value
