"""Record plans: a format spec compiled once into functions that check a record and write its markup.

:func:`compile_record` turns a :class:`~fallback.xmlfiles.records.Group` (``RECEIPT``...) into one
function ``record -> str``: the same checks, error fields and messages as the generic walk
:func:`~fallback.xmlfiles.records.render_fields`, and the markup lxml writes for the tree that walk
returns (``tests/unit/fallback/test_xml_plans.py`` holds the two to each other, on mutated records).

Why: the walk decides at every field what kind of spec it holds and builds a tuple tree that is then
walked again. A plan decides once, when it is compiled:

- each field has a writer (a closure) that does everything the walk does for it: the blank check,
  the conversion, escaping, error fields relative to its group;
- each group is one generated function that visits its fields in order with the tags as constants
  and writes the common case inline (a printable string with nothing to escape, a word of an
  enumeration, a number), calling the field's writer for anything else, so a field costs a
  dictionary look-up, a type test and an append.

A plan raises :class:`~fallback.xmlfiles.values.RecordError` before returning anything, so a bad
record never reaches a file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, Final, Protocol, TypeAlias

from fallback.xmlfiles import values as v
from fallback.xmlfiles.markup import escape_attribute, escape_text, xml_name
from fallback.xmlfiles.records import Group, Leaf, Repeated, Spec, as_mapping
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
    write_fields = _compile_group(spec, tag)
    start, end = f"<{tag}>", f"</{tag}>"

    def record_xml(record: Mapping[str, Any]) -> str:
        out = [start]
        write_fields(as_mapping(record, ""), out)
        out.append(end)
        return "".join(out)

    return record_xml


@cache  # a group appears both as a field's writer and inline in its parent: compiled once
def _compile_group(spec: Group, label: str) -> _GroupWriter:
    """One function for the group's fields, generated from the spec (as ``dataclasses`` generates
    ``__init__``): for each field in order, a fast path inline for the common case (a clean string,
    a word of an enumeration, a number), else the field's writer, which does all the checks. Only
    tag names, checked to be XML names, are written into the source; the rest is passed in."""
    namespace: dict[str, Any] = {
        "Decimal": Decimal,
        "RecordError": RecordError,
        "decimal": v.decimal,
        "names": spec.names,
        "refuse_unknown": _refuse_unknown,
    }
    lines = [
        "def write_fields(record, out):",
        "    if not record.keys() <= names:",
        "        refuse_unknown(record, names)",
        "    get = record.get",
        "    append = out.append",
    ]
    for i, (name, field_spec) in enumerate(spec.fields):
        namespace[f"write_{i}"] = _compile_field(name, field_spec)
        lines.append(f"    value = get({xml_name(name)!r})")
        fast = _fast_path(i, name, field_spec, namespace)
        if fast:
            lines += fast
            branch = "elif"
        else:
            branch = "if"
        if field_spec.required:
            lines.append(f"    {branch} value is None or not write_{i}(value, out):")
            lines.append(f"        raise RecordError({name!r}, 'is required')")
        else:
            lines.append(f"    {branch} value is not None:")
            lines.append(f"        write_{i}(value, out)")
    code = compile("\n".join(lines), f"<plan {xml_name(label)}>", "exec")
    exec(code, namespace)  # noqa: S102  # the source holds only checked tag names from a spec
    write_fields: _GroupWriter = namespace["write_fields"]
    return write_fields


def _fast_path(i: int, name: str, spec: Spec, namespace: dict[str, Any]) -> list[str]:
    """Source lines that write the field when its value is common and clean, or [] for none."""
    if isinstance(spec, Group | Repeated):
        return _nested_fast_path(i, name, spec, namespace)
    if not isinstance(spec, Leaf):
        return []
    element = f"f'<{name}>{{text}}</{name}>'"
    if spec.convert is v.text:  # printable text holds no character XML 1.0 forbids, nor a \r
        return [
            "    if type(value) is str and (text := value.strip()) and text.isprintable() "
            "and '&' not in text and '<' not in text and '>' not in text:",
            f"        append({element})",
        ]
    if isinstance(spec.convert, v.OneOf) and _is_markup_safe(spec.convert):
        namespace[f"words_{i}"] = spec.convert.allowed
        return [
            f"    if type(value) is str and (text := value.strip()) in words_{i}:",
            f"        append({element})",
        ]
    if spec.convert is v.decimal:  # as v.decimal: a Decimal's str() is plain unless E, NaN or Infinity
        return [
            "    if (kind := type(value)) is Decimal and 'E' not in (text := str(value)) "
            "and 'n' not in text and 'N' not in text:",
            f"        append({element})",
            "    elif kind is int:",
            f"        append(f'<{name}>{{value}}</{name}>')",
            "    elif kind is float:",
            f'        append(f"<{name}>{{decimal(value, {name!r})}}</{name}>")',
        ]
    return []


def _nested_fast_path(i: int, name: str, spec: Group | Repeated, namespace: dict[str, Any]) -> list[str]:
    """A non-empty dict (group) or list (repeated) written here, its fields by their own function;
    errors inside are re-raised with this field's path in front, as the field's writer does."""
    namespace["within"] = _within
    namespace["as_mapping"] = as_mapping
    if isinstance(spec, Group):
        namespace[f"fields_{i}"] = _compile_group(spec, name)
        return [
            "    if type(value) is dict and value:",
            f"        append('<{name}>')",
            "        try:",
            f"            fields_{i}(value, out)",
            "        except RecordError as exc:",
            f"            raise RecordError(within({name!r}, exc.field), exc.problem) from None",
            f"        append('</{name}>')",
        ]
    child = xml_name(spec.child_tag)
    namespace[f"fields_{i}"] = _compile_group(spec.item, child)
    return [
        "    if type(value) is list and value:",
        f"        append('<{name}>')",
        "        for index, item in enumerate(value):",
        f"            append('<{child}>')",
        "            try:",
        f"                fields_{i}(item if type(item) is dict else as_mapping(item, ''), out)",
        "            except RecordError as exc:",
        f"                raise RecordError(within(f'{name}[{{index}}]', exc.field), exc.problem) from None",
        f"            append('</{child}>')",
        f"        append('</{name}>')",
    ]


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
    return _extra_data_writer(name)  # its only setting, required, is applied by the enclosing group


def _leaf_writer(name: str, convert: Converter) -> _FieldWriter:
    start, end = f"<{name}>", f"</{name}>"
    escape = _as_is if _is_markup_safe(convert) else escape_text

    def write_leaf(value: Any, out: list[str]) -> bool:
        kind = type(value)
        if (kind is str and not value.strip()) or (kind in _CONTAINERS and not value):
            return False
        out.append(start + escape(convert(value, name)) + end)
        return True

    return write_leaf


def _as_is(text: str) -> str:
    return text


def _is_markup_safe(convert: Converter) -> bool:
    if isinstance(convert, v.OneOf):
        return all(map(_is_plain_word, convert.allowed))
    return convert in MARKUP_SAFE_CONVERTERS


def _is_plain_word(word: str) -> bool:
    """``text`` returns it unchanged and it needs no escaping."""
    return bool(word) and word.strip() == word and word.isprintable() and escape_text(word) == word


def _group_writer(name: str, spec: Group) -> _FieldWriter:
    start, end = f"<{name}>", f"</{name}>"
    write_fields = _compile_group(spec, name)

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
    write_fields = _compile_group(spec.item, spec.child_tag)

    def write_repeated(value: Any, out: list[str]) -> bool:
        if _is_blank(value):
            return False
        items = _as_list(value, name)
        out.append(start)
        for i, item in enumerate(items):
            out.append(item_start)
            try:
                write_fields(item if type(item) is dict else as_mapping(item, ""), out)
            except RecordError as exc:
                raise RecordError(_within(f"{name}[{i}]", exc.field), exc.problem) from None
            out.append(item_end)
        out.append(end)
        return True

    return write_repeated


def _extra_data_writer(name: str) -> _FieldWriter:
    start, end = f"<{name}>", f"</{name}>"

    def write_extra_data(value: Any, out: list[str]) -> bool:
        if _is_blank(value):
            return False
        parts: list[str] = []
        for i, raw in enumerate(_as_list(value, name)):
            try:
                parts.append(_extra_item_xml(raw))
            except RecordError as exc:
                raise RecordError(_within(f"{name}[{i}]", exc.field), exc.problem) from None
        markup = "".join(parts)
        if not markup:  # no item has a value
            return False
        out.append(start + markup + end)
        return True

    return write_extra_data


def _extra_item_xml(raw: Any) -> str:
    """``<item name="...">value</item>``, or "" for an item without a value (it carries nothing)."""
    item = as_mapping(raw, "")
    if not item.keys() <= _EXTRA_ITEM_KEYS:
        raise RecordError("", f"unknown field(s) {sorted(set(item) - _EXTRA_ITEM_KEYS)}")
    value, name = item.get("value"), item.get("name")
    if type(value) is str and type(name) is str:  # printable: no \n, \t or \r for the attribute either
        text, key = value.strip(), name.strip()
        if text and key and _is_plain(text) and _is_plain(key) and '"' not in key:
            return f'<item name="{key}">{text}</item>'
    if v.is_absent(value):
        return ""
    name = escape_attribute(v.text(name, "name"))
    text = escape_text(v.text(value, "value")) if isinstance(value, str) else v.decimal(value, "value")
    return f'<item name="{name}">{text}</item>'


def _is_plain(text: str) -> bool:
    """Text ``v.text`` returns unchanged (once stripped) and markup takes as it is."""
    return text.isprintable() and "&" not in text and "<" not in text and ">" not in text


def _as_list(value: Any, field: str) -> Sequence[Any]:
    if type(value) is list:
        return value
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise RecordError(field, f"must be a list, not {type(value).__name__}")
    return value
