from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fallback.xmlfiles.naming import FILE_KINDS, build_file_name, parse_file_name
from simulator.import_files import kind_of

STOCKHOLM_WINTER = timezone(timedelta(hours=1))


def test_name_uses_utc_timestamp_seq_and_kind() -> None:
    # Given a local time with an offset
    at = datetime(2026, 11, 24, 10, 15, 7, 999, tzinfo=STOCKHOLM_WINTER)
    # When / Then the name carries the UTC second
    assert build_file_name("transactions", 7, at) == "20261124091507_7_transactions.xml"
    assert build_file_name("contacts", "store-600", at) == "20261124091507_store-600_contacts.xml"


@pytest.mark.parametrize("kind", FILE_KINDS)
def test_parse_gives_back_what_build_made(kind: str) -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    name = build_file_name(kind, "relay-12", at)  # type: ignore[arg-type]
    parsed = parse_file_name(name)
    assert (parsed.created_at, parsed.seq, parsed.kind) == (at, "relay-12", kind)
    assert str(parsed) == name
    assert kind_of(name) == kind  # the simulator reads the same names


@pytest.mark.parametrize("seq", ["../x", "a/b", "a.b", "a b", "", "ä", "x" * 65, "a_b"])
def test_unsafe_seq_part_is_refused(seq: str) -> None:
    with pytest.raises(ValueError, match="A-Za-z0-9-"):
        build_file_name("contacts", seq, datetime.now(UTC))


def test_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        build_file_name("contacts", 1, datetime(2026, 1, 1))


@pytest.mark.parametrize(
    "name",
    [
        "20261124091507_7_transactions.xml.part",
        ".20261124091507_7_transactions.xml.1a2b.part",
        "20261124091507_7_receipts.xml",
        "2026112409150_7_transactions.xml",
        "20261324091507_7_transactions.xml",  # month 13
        "20261124091507__transactions.xml",
    ],
)
def test_parse_rejects_other_names(name: str) -> None:
    with pytest.raises(ValueError):
        parse_file_name(name)
