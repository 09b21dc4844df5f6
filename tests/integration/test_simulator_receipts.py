"""The simulator's receipts endpoint over real HTTP: validation, returns, dedupe, matching."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import voyado_examples as voyado
from tests.support.simulator import RunningSimulator, SimHttp

pytestmark = pytest.mark.integration


def receipt(match_key: str, match_key_type: str = "contactId", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "contact": {"matchKey": match_key, "matchKeyType": match_key_type},
        "uniqueReceiptId": "R-1",
        "receiptNumber": "1",
        "createdDate": "2026-11-24T10:15:00+01:00",
        "storeExternalId": "Store1",
        "currency": "SEK",
        "totalGrossPrice": 300.0,
        "paymentMethods": [{"type": "card", "value": 300.0}],
        "items": [
            {
                "type": "PURCHASE",
                "quantity": 2,
                "grossPaidPrice": 200.0,
                "taxAmount": 40.0,
                "taxPercent": 25.0,
                "sku": "S1",
                "articleNumber": "A1",
                "articleName": "Jacket",
            },
            {
                "type": "PURCHASE",
                "quantity": 1,
                "grossPaidPrice": 100.0,
                "taxAmount": 20.0,
                "taxPercent": 25.0,
                "sku": "S2",
                "articleNumber": "A2",
                "articleName": "Socks",
            },
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def contact(sim_http: SimHttp) -> dict[str, Any]:
    body = {
        "email": "r@example.com",
        "mobilePhone": "+46701112233",
        "memberNumber": "M-1",
        "externalId": "E-1",
    }
    created: dict[str, Any] = sim_http.post("/api/v3/contacts", json=body).json()
    return created


def test_receipt_is_accepted_and_kept_per_contact(
    simulator: RunningSimulator, sim_http: SimHttp, contact: dict[str, Any]
) -> None:
    response = sim_http.post("/api/v3/receipts", json=receipt(contact["id"]))
    assert response.status_code == 202
    assert response.json() == {}
    stored = simulator.admin.state()["receipts"]
    assert [(r["uniqueReceiptId"], r["contactId"]) for r in stored] == [("R-1", contact["id"])]


def test_duplicate_unique_receipt_id_is_202_and_not_stored_again(
    simulator: RunningSimulator, sim_http: SimHttp, contact: dict[str, Any]
) -> None:
    assert sim_http.post("/api/v3/receipts", json=receipt(contact["id"])).status_code == 202
    assert sim_http.post("/api/v3/receipts", json=receipt(contact["id"])).status_code == 202
    state = simulator.admin.state()
    assert len(state["receipts"]) == 1
    assert state["duplicate_receipts"] == ["R-1"]


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("r@example.com", "Email"),
        ("+46701112233", "MOBILEPHONE"),
        ("M-1", "memberNumber"),
        ("E-1", "externalId"),
    ],
)
def test_receipt_matches_by_any_key_type_case_insensitively(
    simulator: RunningSimulator, sim_http: SimHttp, contact: dict[str, Any], key: str, kind: str
) -> None:
    assert sim_http.post("/api/v3/receipts", json=receipt(key, kind)).status_code == 202
    assert simulator.admin.state()["receipts"][0]["contactId"] == contact["id"]


@pytest.mark.parametrize("kind", ["CardId", "cardId", "MemberNumberWithCardNumberAsFallback"])
def test_receipt_matches_by_card_id_as_the_file_side_does(
    simulator: RunningSimulator, sim_http: SimHttp, kind: str
) -> None:
    # Given a contact holding a card number (the attribute CardId searches, inferred)
    created = sim_http.post("/api/v3/contacts", json={"email": "card@example.com", "cardId": "C-77"}).json()
    # When a receipt names the buyer by CardId (Voyado's Swagger enum; the XSD admits it too)
    assert sim_http.post("/api/v3/receipts", json=receipt("C-77", kind)).status_code == 202
    # Then it is stored for that contact
    assert simulator.admin.state()["receipts"][0]["contactId"] == created["id"]


def test_receipt_for_unknown_contact(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    # A contactId naming no contact is 404
    missing = "00000000-0000-4000-8000-000000000000"
    response = sim_http.post("/api/v3/receipts", json=receipt(missing))
    assert response.status_code == 404
    assert response.json()["errorCode"] == "ContactNotFound"
    # Another key finding nobody is accepted and ignored
    assert sim_http.post("/api/v3/receipts", json=receipt("x@example.com", "email")).status_code == 202
    state = simulator.admin.state()
    assert state["receipts"] == []
    assert state["unmatched_receipts"][0]["uniqueReceiptId"] == "R-1"


def return_receipt(contact_id: str, quantity: int, total: float) -> dict[str, Any]:
    item = {
        "type": "RETURN",
        "quantity": quantity,
        "grossPaidPrice": 200.0,
        "taxAmount": 40.0,
        "taxPercent": 25.0,
        "sku": "S1",
        "articleNumber": "A1",
        "articleName": "Jacket",
    }
    return receipt(
        contact_id,
        uniqueReceiptId="RET-1",
        totalGrossPrice=total,
        items=[item],
        paymentMethods=[{"type": "card", "value": total}],
    )


def test_return_receipt_with_negative_quantity_and_total_is_accepted(
    sim_http: SimHttp, contact: dict[str, Any]
) -> None:
    assert (
        sim_http.post("/api/v3/receipts", json=return_receipt(contact["id"], -2, -200.0)).status_code == 202
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"uniqueReceiptId": ""}, "uniqueReceiptId"),
        ({"currency": "sek"}, "currency"),
        ({"currency": "SEKK"}, "currency"),
        ({"createdDate": "2026-11-24T10:15:00"}, "createdDate"),
        ({"items": []}, "items"),
        ({"paymentMethods": []}, "paymentMethods"),
        ({"contact": {"matchKey": "x", "matchKeyType": "shoeSize"}}, "contact.matchKeyType"),
        ({"storeExternalId": None}, "storeExternalId"),
    ],
)
def test_invalid_receipts_are_422_with_the_field(
    sim_http: SimHttp, contact: dict[str, Any], overrides: dict[str, Any], field: str
) -> None:
    response = sim_http.post("/api/v3/receipts", json=receipt(contact["id"], **overrides))
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["messageDetails"]["errors"]}


def test_total_within_a_cent_is_accepted(sim_http: SimHttp, contact: dict[str, Any]) -> None:
    assert (
        sim_http.post("/api/v3/receipts", json=receipt(contact["id"], totalGrossPrice=300.009)).status_code
        == 202
    )


@pytest.fixture
def member(simulator: RunningSimulator) -> str:
    """The member Voyado's receipt examples name."""
    simulator.admin.seed({"contacts": [{"email": "ex@example.com", "memberNumber": voyado.MEMBER_NUMBER}]})
    contact_id: str = simulator.admin.state()["contacts"][0]["id"]
    return contact_id


@pytest.mark.parametrize("example", [voyado.purchase, voyado.return_receipt], ids=["purchase", "return"])
def test_voyados_own_examples_are_accepted_and_stored(
    simulator: RunningSimulator, sim_http: SimHttp, member: str, example: Any
) -> None:
    # When Voyado's documented example is posted as it stands (the return: quantity -2, price 200, total -400)
    response = sim_http.post("/api/v3/receipts", json=example())
    # Then it is accepted and kept for the member
    assert response.status_code == 202, response.json()
    [stored] = simulator.admin.state()["receipts"]
    assert (stored["uniqueReceiptId"], stored["contactId"]) == (example()["uniqueReceiptId"], member)


def test_lines_adding_up_to_the_total_is_an_off_by_default_switch(
    simulator: RunningSimulator, sim_http: SimHttp, contact: dict[str, Any], member: str
) -> None:
    # By default a total that differs from the lines is accepted (Voyado documents no such rule)
    assert simulator.admin.switches()["receipt_totals_must_add_up"] is False
    off = sim_http.post("/api/v3/receipts", json=receipt(contact["id"], totalGrossPrice=300.02))
    assert off.status_code == 202
    # When the switch is on, the same mismatch is 422 on totalGrossPrice, and so is Voyado's return example
    simulator.admin.set_switches(receipt_totals_must_add_up=True)
    on = sim_http.post(
        "/api/v3/receipts", json=receipt(contact["id"], uniqueReceiptId="R-2", totalGrossPrice=300.02)
    )
    assert on.status_code == 422
    assert "totalGrossPrice" in {e["field"] for e in on.json()["messageDetails"]["errors"]}
    assert sim_http.post("/api/v3/receipts", json=voyado.return_receipt()).status_code == 422
    # but a total within a cent still passes
    near = receipt(contact["id"], uniqueReceiptId="R-3", totalGrossPrice=300.009)
    assert sim_http.post("/api/v3/receipts", json=near).status_code == 202


def test_with_the_switch_on_the_tenders_must_add_up_to_the_total_too(
    simulator: RunningSimulator, sim_http: SimHttp, contact: dict[str, Any], member: str
) -> None:
    # Lines that add up but tenders short by one krona (freight left out of the lines, not the tenders)
    short = [{"type": "card", "value": 299.0}]
    assert (
        sim_http.post("/api/v3/receipts", json=receipt(contact["id"], paymentMethods=short)).status_code
        == 202
    )
    simulator.admin.set_switches(receipt_totals_must_add_up=True)
    body = receipt(contact["id"], uniqueReceiptId="R-2", paymentMethods=short)
    on = sim_http.post("/api/v3/receipts", json=body)
    assert on.status_code == 422
    assert {e["field"] for e in on.json()["messageDetails"]["errors"]} == {"paymentMethods"}
    # Voyado's purchase example (a 25 bonus check and 175 by card, total 200) adds up and passes
    assert sim_http.post("/api/v3/receipts", json=voyado.purchase()).status_code == 202


def test_a_return_line_with_a_negative_price_is_refused(sim_http: SimHttp, member: str) -> None:
    # Voyado: grossPaidPrice stays positive on a RETURN line, the quantity carries the sign
    body = voyado.return_receipt()
    body["items"][0]["grossPaidPrice"] = -200.0
    response = sim_http.post("/api/v3/receipts", json=body)
    assert response.status_code == 422
    assert "items[0].grossPaidPrice" in {e["field"] for e in response.json()["messageDetails"]["errors"]}


@pytest.mark.parametrize(
    ("quantity", "total", "field"), [(2, -200.0, "items[0].quantity"), (-2, 200.0, "totalGrossPrice")]
)
def test_return_sign_rules(
    sim_http: SimHttp, contact: dict[str, Any], quantity: int, total: float, field: str
) -> None:
    response = sim_http.post("/api/v3/receipts", json=return_receipt(contact["id"], quantity, total))
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["messageDetails"]["errors"]}
