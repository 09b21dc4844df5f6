"""The compiled receipt plan against the reference: the generic walk, serialised by lxml's writer.

``records.render_receipt`` (walk) + lxml's ``xmlfile`` (one ``xf.element`` per node, as the writers
did before plans) is the oracle: for every record, the plan writes the same bytes or refuses it with
the same field and problem.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from bench.xml_write import receipt as bench_receipt
from fallback.xmlfiles import ContactsFileWriter, RecordError, RedemptionsFileWriter, TransactionsFileWriter
from fallback.xmlfiles import values as v
from fallback.xmlfiles.contacts import render_contact
from fallback.xmlfiles.markup import node_xml
from fallback.xmlfiles.plans import compile_record
from fallback.xmlfiles.records import Group, Leaf, Node, render_receipt
from fallback.xmlfiles.redemptions import render_redemption
from tests.support import xml_records as rec

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def lxml_markup(node: Node) -> str:
    buffer = io.BytesIO()
    with etree.xmlfile(buffer, encoding="utf-8") as xf:
        _emit(xf, node)
    return buffer.getvalue().decode("utf-8")


def _emit(xf: Any, node: Node) -> None:
    tag, body, attributes = node
    with xf.element(tag, attributes or {}):
        if isinstance(body, str):
            xf.write(body)
        else:
            for child in body:
                _emit(xf, child)


def outcome(render: Any, record: Any) -> tuple[str, str]:
    """("ok", markup) or ("error", "field: problem"), for comparing two renderings."""
    try:
        result = render(record)
    except RecordError as exc:
        return ("error", f"{exc.field}: {exc.problem}")
    return ("ok", result if isinstance(result, str) else lxml_markup(result))


def special_receipt() -> dict[str, Any]:
    receipt = rec.purchase("r-&<>\"'")
    receipt["items"][0]["articleName"] = "A & B <c> \"d\" 'e' ]]> x\ry\tz\nw é \U0001f600"
    receipt["extraData"] = [
        {"name": "n&<>\"'\n\r\tq", "value": "v&<>"},
        {"name": "num", "value": 1.5},
        {"name": "none", "value": None},
        {"name": "blank", "value": "  "},
    ]
    receipt["taxDetails"] = [{"description": None}]
    receipt["receiptNumber"] = 12345
    receipt["totalGrossPrice"] = "  01.50 "
    receipt["exchangeRateToGroupCurrency"] = "1e-7"
    receipt["items"][1]["quantity"] = "-0"
    receipt["items"][1]["articleGroup"] = "only > escaped"
    receipt["items"][2]["articleGroup"] = "a\rb"
    receipt["items"][1]["extraData"] = [{"name": "x", "value": None}]
    receipt["items"][2]["type"] = " RETURN "
    receipt["contact"]["matchKeyType"] = "MemberNumber"
    receipt["unknownButEmpty"] = "  "
    return receipt


REPRESENTATIVE = [
    rec.purchase(),
    rec.foreign_currency_purchase(),
    rec.return_receipt(),
    special_receipt(),
    bench_receipt(7),
]


@pytest.mark.parametrize("record", REPRESENTATIVE)
def test_the_plan_writes_what_lxml_writes_for_the_walked_tree(record: dict[str, Any]) -> None:
    assert TransactionsFileWriter.to_xml(record) == lxml_markup(render_receipt(record))


@pytest.mark.parametrize(
    ("render", "reference", "records"),
    [
        (ContactsFileWriter.to_xml, render_contact, [rec.contact_full(), rec.contact_by_id()]),
        (RedemptionsFileWriter.to_xml, render_redemption, rec.redemptions()),
    ],
)
def test_contacts_and_redemptions_markup_is_what_lxml_writes(
    render: Any, reference: Any, records: list[dict[str, Any]]
) -> None:
    for record in records:
        assert render(record) == lxml_markup(reference(record))


def test_contact_attribute_values_are_escaped_as_lxml_does() -> None:
    contact = rec.contact_full()
    contact["source"] = 'a"b<c>&d\te\nf\rg'
    contact["memberLevel"] = "Gold & <Silver>\r"
    assert ContactsFileWriter.to_xml(contact) == lxml_markup(render_contact(contact))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a record a value can be replaced at (dict keys and list positions)."""
    found: list[tuple[Any, ...]] = [prefix] if prefix else []
    if isinstance(value, Mapping):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += _paths(child, (*prefix, i))
    return found


def _replace(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.decimals(),
    st.text(),
    st.text(alphabet="&<>\"'\r\n\t \x00\x0b\ud800\ufffe\x7fé\u2028"),
    st.sampled_from(
        [
            "",
            "  ",
            "PURCHASE",
            "purchase",
            "email",
            "Email",
            "SEK",
            "2026-11-24T10:15:00+01:00",
            "2026-02-30T10:15:00+01:00",
            "1e5",
            "01.50",
            "-0",
            " 12.5 ",
            "1_000",
            "NaN",
            "a&b<c>",
            "x\ry",
        ]
    ),
    st.just([]),
    st.just({}),
    st.just([{}]),
    st.just([{"name": "k", "value": "v"}]),
    st.just({"matchKey": "x", "matchKeyType": "email"}),
).map(copy.deepcopy)  # a drawn list or object is mutated by later replacements: never share one


@PROPERTY
@given(data=st.data())
def test_mutated_receipts_get_the_same_markup_or_the_same_error(data: st.DataObject) -> None:
    # Given a representative receipt with one to three values replaced by anything JSON-ish
    record = copy.deepcopy(data.draw(st.sampled_from(REPRESENTATIVE)))
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(record)
        if not paths:
            break
        _replace(record, data.draw(st.sampled_from(paths)), data.draw(VALUES))
    if data.draw(st.booleans()):
        record[data.draw(st.sampled_from(["colour", "items", "extraData"]))] = data.draw(VALUES)
    # Then the plan and the walk agree: same markup, or the same field and problem
    assert outcome(TransactionsFileWriter.to_xml, record) == outcome(render_receipt, record)


@PROPERTY
@given(value=VALUES)
def test_a_record_that_is_not_an_object_is_refused_alike(value: Any) -> None:
    assert outcome(TransactionsFileWriter.to_xml, value) == outcome(render_receipt, value)


def test_decimal_objects_and_wire_numbers_write_alike() -> None:
    # The wire shape (to_wire: JSON numbers) and the Python shape (Decimal) of one amount
    wire, python = rec.purchase(), rec.purchase()
    wire["totalGrossPrice"], python["totalGrossPrice"] = 540.5, Decimal("540.5")
    assert TransactionsFileWriter.to_xml(wire) == TransactionsFileWriter.to_xml(python)


@pytest.mark.parametrize("name", ["bad name", "x')\nimport os", "1st", ""])
def test_a_spec_whose_names_are_not_xml_names_does_not_compile(name: str) -> None:
    with pytest.raises(ValueError, match="not an XML element or attribute name"):
        compile_record("receipt", Group(((name, Leaf(v.text)),)))


def test_markup_refuses_a_name_that_is_not_an_xml_name() -> None:
    # A contact attribute name is checked by contacts.ATTRIBUTE_NAME_RE; markup checks again, as lxml did
    with pytest.raises(ValueError, match="not an XML element or attribute name"):
        node_xml(("member", [("a b", "x", None)], None))
    with pytest.raises(ValueError, match="not an XML element or attribute name"):
        node_xml(("member", "x", {'a"': "x"}))
