"""Migration rows -> Engage records through the API path's mappers; bad rows rejected with reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mappers.policy import TenantPolicy
from migration.contacts import ContactRowMapper
from migration.outcomes import Mapped, Rejected, Skipped
from migration.receipts import ReceiptRowMapper, history_cutoff, months_before
from migration.sources import SourceRow
from tests.unit.migration.test_migrate_helpers import NOW, sale

POLICY = TenantPolicy(default_store="online-se")


def row(values: dict[str, object], line: int = 2) -> SourceRow:
    return SourceRow(line=line, start=0, end=1, next_line=line + 1, values=dict(values))


def test_csv_contact_for_bulk_is_mapped_like_the_api_path() -> None:
    # Given a CSV row in Engage names with an upper-case e-mail, an empty-free body and a preference
    mapper = ContactRowMapper("acme", POLICY, "bulk", columns=True)
    values: dict[str, object] = {
        "email": "Anna@Example.COM",
        "firstName": "Anna",
        "mobilePhone": "+46701234567",
        "countryCode": "SE",
        "contactType": "Contact",
        "preferences.acceptsEmail": "yes",
        "shoeSize": "42",
    }
    # When mapped
    outcome = mapper(row(values))
    # Then it is grouped by contact type, which is left out of the row; e-mail normalised as the API path does
    assert outcome == Mapped(
        "Contact",
        {
            "email": "anna@example.com",
            "mobilePhone": "+46701234567",
            "firstName": "Anna",
            "countryCode": "SE",
            "shoeSize": "42",
            "preferences": {"acceptsEmail": True},
        },
    )


def test_contact_for_the_file_carries_source_store_and_type() -> None:
    mapper = ContactRowMapper("acme", POLICY, "xml", columns=False)
    outcome = mapper(row({"email": "b@example.com", "first_name": "Berit", "contact_type": "Contact"}))
    assert isinstance(outcome, Mapped)
    assert outcome.group == "contacts"
    assert outcome.record == {
        "email": "b@example.com",
        "firstName": "Berit",
        "contactType": "Contact",
        "source": "ECOM",
        "storeExternalId": "online-se",
    }


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"email": "not-an-email"}, "email: must be"),
        ({"mobilePhone": "0701234567", "email": "a@example.com"}, "mobilePhone: must be"),
        (
            {"firstName": "Nokey", "mobilePhone": "+46701234567"},
            "email: the tenant's key attribute is missing",
        ),
        (
            {"email": "a@example.com", "preferences.acceptsSms": "perhaps"},
            "preferences.acceptsSms: must be true",
        ),
    ],
)
def test_bad_csv_contacts_are_rejected_with_the_column_named(values: dict[str, object], reason: str) -> None:
    outcome = ContactRowMapper("acme", POLICY, "bulk", columns=True)(row(values))
    assert isinstance(outcome, Rejected)
    assert any(r.startswith(reason) for r in outcome.reasons), outcome.reasons


def test_envelopes_of_another_tenant_or_type_are_rejected() -> None:
    mapper = ContactRowMapper("acme", POLICY, "bulk", columns=False)
    envelope = {
        "id": "e1",
        "type": "customer.created",
        "version": 1,
        "tenant": "other",
        "occurred_at": "2026-01-01T00:00:00+00:00",
        "data": {"email": "a@example.com"},
    }
    assert mapper(row(envelope)) == Rejected(["tenant other: this run migrates tenant acme"])
    assert isinstance(mapper(row({**envelope, "tenant": "acme"})), Mapped)


def test_receipt_data_is_grouped_by_match_key_type() -> None:
    # Given sales naming their buyer by e-mail, member number and contactId
    mapper = ReceiptRowMapper("acme", POLICY, datetime(2024, 1, 1, tzinfo=UTC))
    by_email = mapper(row(sale(1)))
    by_member = mapper(row(sale(2, customer={"member_number": "M-2"})))
    by_id = mapper(row(sale(3, customer={"contact_id": "2e40b702-2767-4abe-ae99-aa510108e22b"})))
    # Then each is a receipt request in wire shape, in the group of its matchKeyType
    assert isinstance(by_email, Mapped) and isinstance(by_member, Mapped) and isinstance(by_id, Mapped)
    assert (by_email.group, by_member.group, by_id.group) == ("email", "memberNumber", "contactId")
    assert by_email.record["uniqueReceiptId"] == "receipt-r-1"
    assert by_email.record["contact"] == {
        "matchKey": "person1@example.com",
        "matchKeyType": "email",
        "contactType": "Member",
    }


def test_receipts_before_the_cutoff_are_skipped_and_bad_ones_rejected() -> None:
    mapper = ReceiptRowMapper("acme", POLICY, history_cutoff(NOW))
    assert mapper(row(sale(1, created_at="2024-06-14T23:59:59+00:00"))) == Skipped("skipped_old")
    assert isinstance(mapper(row(sale(2, created_at="2024-06-15T12:00:00+00:00"))), Mapped)
    no_id = {k: v for k, v in sale(3).items() if k != "receipt_id"}
    assert mapper(row(no_id)) == Rejected(
        ["a data object needs exactly one of order_id, receipt_id, return_id"]
    )
    bad_line = {**sale(4), "lines": []}
    outcome = mapper(row(bad_line))
    assert isinstance(outcome, Rejected) and outcome.reasons[0].startswith("lines:")


def test_cutoff_is_calendar_months_or_a_given_date() -> None:
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(2024, 1, 15, tzinfo=UTC)
    assert history_cutoff(NOW, since=date(2025, 1, 1)) == datetime(2025, 1, 1, tzinfo=UTC)
