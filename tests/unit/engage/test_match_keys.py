"""One matchKeyType list: the models, the XSDs, the XML writer and the simulator's file reader agree."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from lxml import etree
from pydantic import ValidationError

from engage.models import (
    MATCH_KEY_TYPES,
    OrderContact,
    ReceiptContact,
    canonical_match_key_type,
    match_key_type_pattern,
)
from fallback.xmlfiles import write_batches
from fallback.xmlfiles.records import MATCH_KEY_TYPE_RE
from simulator.import_files import parse_transactions_file
from simulator.validation import receipt_errors
from tests.support import xml_records as rec

XS = "{http://www.w3.org/2001/XMLSchema}"
XSDS_WITH_MATCH_KEYS = ("transactions.xsd", "promotion_redemptions.xsd")


def test_the_list_is_voyados_documented_types_plus_the_swagger_enum() -> None:
    documented = {"contactId", "memberNumber", "socialSecurityNumber", "mobilePhone", "externalId", "email"}
    swagger_only = {"cardId", "memberNumberWithCardNumberAsFallback"}
    assert set(MATCH_KEY_TYPES) == documented | swagger_only


@pytest.mark.parametrize("xsd", XSDS_WITH_MATCH_KEYS)
def test_each_xsd_admits_exactly_the_shared_list(xsd: str) -> None:
    with resources.as_file(resources.files("fallback.xsd").joinpath(xsd)) as path:
        schema = etree.parse(str(path))
    [pattern] = schema.findall(f"{XS}simpleType[@name='MatchKeyType']/{XS}restriction/{XS}pattern")
    assert pattern.get("value") == match_key_type_pattern()


def test_the_writer_uses_the_shared_pattern() -> None:
    assert MATCH_KEY_TYPE_RE.pattern == match_key_type_pattern()


@pytest.mark.parametrize("name", MATCH_KEY_TYPES)
def test_every_type_is_accepted_in_camel_and_pascal_case_everywhere(name: str, tmp_path: Path) -> None:
    pascal = name[0].upper() + name[1:]
    for spelling in (name, pascal):
        # the models
        assert ReceiptContact(match_key="k", match_key_type=spelling).match_key_type == spelling
        assert OrderContact(match_key="k", match_key_type=spelling).match_key_type == spelling
        assert canonical_match_key_type(spelling) == name
        # the simulator's API validation
        receipt = {**rec.foreign_currency_purchase(), "contact": {"matchKey": "k", "matchKeyType": spelling}}
        assert receipt_errors(receipt) == []
        # the writer and the simulator's file reader
        [path] = write_batches([receipt], tmp_path / spelling, "transactions")
        [parsed] = parse_transactions_file(path)
        assert parsed.errors == [] and parsed.data is not None
        assert parsed.data["contact"]["matchKeyType"] == spelling


def test_an_unknown_type_is_refused_on_every_side(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        ReceiptContact(match_key="k", match_key_type="shoeSize")
    with pytest.raises(ValidationError):
        OrderContact(match_key="k", match_key_type="shoeSize")
    receipt = {**rec.foreign_currency_purchase(), "contact": {"matchKey": "k", "matchKeyType": "shoeSize"}}
    assert "contact.matchKeyType" in {e["field"] for e in receipt_errors(receipt)}
    assert canonical_match_key_type("shoeSize") is None
