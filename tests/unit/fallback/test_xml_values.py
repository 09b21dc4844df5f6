"""The converters' fast paths return exactly what their general paths return; escaping is lxml's."""

from __future__ import annotations

import re
import sys
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from fallback.xmlfiles import values as v
from fallback.xmlfiles.markup import escape_attribute, escape_text
from fallback.xmlfiles.records import ITEM_TYPES, MATCH_KEY_SPELLINGS, MATCH_KEY_TYPE_RE
from fallback.xmlfiles.validate import _xsd_document

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
XS = {"xs": "http://www.w3.org/2001/XMLSchema"}
INVALID = v._XML_INVALID_CHARS


def test_printable_text_never_holds_a_character_xml_cannot_carry() -> None:
    # text() skips the invalid-character search for printable text: check every code point
    assert not [c for c in map(chr, range(sys.maxunicode + 1)) if c.isprintable() and INVALID.match(c)]
    assert not any(c.isprintable() for c in "\r\n\t")  # so printable text needs no &#13; either


def _general_decimal(value: Any) -> tuple[str, str]:
    try:
        return ("ok", v._decimal(value, "f"))
    except v.RecordError as exc:
        return ("error", exc.problem)


def _fast_decimal(value: Any) -> tuple[str, str]:
    try:
        return ("ok", v.decimal(value, "f"))
    except v.RecordError as exc:
        return ("error", exc.problem)


@PROPERTY
@given(
    value=st.one_of(
        st.integers(),
        st.floats(),
        st.decimals(),
        st.decimals().map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.from_regex(r"\s*[-+]?[0-9]{1,8}(\.[0-9]{0,6})?([eE][-+]?[0-9]{1,2})?\s*", fullmatch=True),
        st.text(alphabet="0123456789.-+eE_ "),
        st.booleans(),
    )
)
def test_decimal_fast_paths_equal_the_general_path(value: Any) -> None:
    assert _fast_decimal(value) == _general_decimal(value)


def test_decimal_fast_paths_on_the_edges() -> None:
    for value in [Decimal("1E+2"), Decimal("0E-7"), Decimal("-0"), Decimal("sNaN"), 1e16, 1e-7, -0.0, "00.5"]:
        assert _fast_decimal(value) == _general_decimal(value), value


@PROPERTY
@given(text=st.text())
def test_escaping_is_what_lxml_writes(text: str) -> None:
    # Given text XML can carry (the converters refuse the rest)
    text = "x" + "".join(c for c in text if not INVALID.match(c))
    element = etree.Element("e", a=text)
    element.text = text
    assert (
        etree.tostring(element, encoding="unicode")
        == f'<e a="{escape_attribute(text)}">{escape_text(text)}</e>'
    )


def _xsd_words(type_name: str) -> set[str]:
    """The words an XSD string type allows: its enumeration, or a pattern of ``[aA]bc|...`` words."""
    schema = _xsd_document("transactions").getroot()
    [restriction] = schema.findall(f"xs:simpleType[@name='{type_name}']/xs:restriction", XS)
    words = {e.get("value", "") for e in restriction.findall("xs:enumeration", XS)}
    for pattern in restriction.findall("xs:pattern", XS):
        for word in pattern.get("value", "").split("|"):
            first, rest = re.fullmatch(r"\[(..)\](.*)", word).groups()  # type: ignore[union-attr]
            words |= {first[0] + rest, first[1] + rest}
    return words


def test_the_enumerations_are_the_xsds() -> None:
    assert _xsd_words("MatchKeyType") == MATCH_KEY_SPELLINGS
    assert all(MATCH_KEY_TYPE_RE.fullmatch(word) for word in MATCH_KEY_SPELLINGS)  # the shared pattern
    assert _xsd_words("ItemType") == ITEM_TYPES


def _converted(convert: v.Converter, value: Any) -> tuple[str, str]:
    try:
        return ("ok", convert(value, "type"))
    except v.RecordError as exc:
        return ("error", f"{exc.field}: {exc.problem}")


@PROPERTY
@given(
    value=st.one_of(st.text(), st.sampled_from(sorted(ITEM_TYPES)).map(lambda w: f" {w}\t"), st.integers())
)
def test_one_of_is_pattern_text_over_the_alternation_of_its_words(value: Any) -> None:
    alternation = v.pattern_text(re.compile("|".join(map(re.escape, ITEM_TYPES))), "an item type")
    assert _converted(v.one_of(ITEM_TYPES, "an item type"), value) == _converted(alternation, value)
