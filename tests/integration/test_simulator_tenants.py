"""Each API key is its own Engage: state, admin API and import folders per key, over a real process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from simulator.tenancy import key_id
from tests.integration.test_simulator_imports import CONTACTS_XML, drop, transactions_xml
from tests.integration.test_simulator_orders import order, wait_for_job
from tests.integration.test_simulator_receipts import receipt
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator, SimAdmin, SimHttp

pytestmark = pytest.mark.integration


@pytest.fixture
def other_http(simulator: RunningSimulator) -> Iterator[SimHttp]:
    http = SimHttp(simulator.base_url, simulator.api_key_2)
    yield http
    http.close()


@pytest.fixture
def other_admin(simulator: RunningSimulator) -> Iterator[SimAdmin]:
    admin = simulator.admin_for(simulator.api_key_2)
    yield admin
    admin.close()


@pytest.fixture
def first_admin(simulator: RunningSimulator) -> Iterator[SimAdmin]:
    admin = simulator.admin_for(simulator.api_key)
    yield admin
    admin.close()


def test_two_keys_are_two_engages(
    simulator: RunningSimulator,
    sim_http: SimHttp,
    other_http: SimHttp,
    first_admin: SimAdmin,
    other_admin: SimAdmin,
) -> None:
    # Given a contact created with the first key
    first = sim_http.post("/api/v3/contacts", json={"email": "same@example.com"})
    assert first.status_code == 201
    # Then the second key's Engage does not know her, and may create its own with the same key value
    assert other_http.get("/api/v3/contacts/id", params={"email": "same@example.com"}).status_code == 404
    second = other_http.post("/api/v3/contacts", json={"email": "same@example.com"})
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"]
    # And each key's state (the admin API names the key with the apikey header) is its own
    assert [c["id"] for c in first_admin.state()["contacts"]] == [first.json()["id"]]
    assert [c["id"] for c in other_admin.state()["contacts"]] == [second.json()["id"]]
    assert first_admin.request_count("POST /api/v3/contacts", 201) == 1
    assert other_admin.request_count("POST /api/v3/contacts", 201) == 1
    # while the state without a key is the whole simulator: both Engages, counts summed
    whole = simulator.admin.state()
    assert [c["id"] for c in whole["contacts"]] == [first.json()["id"], second.json()["id"]]
    assert whole["requests"]["POST /api/v3/contacts"] == {"201": 2}


def test_receipts_orders_and_vouchers_are_kept_per_key(
    sim_http: SimHttp, other_http: SimHttp, first_admin: SimAdmin, other_admin: SimAdmin
) -> None:
    # Given the same person in both Engages, and with the first key a voucher, a receipt and an order
    first = sim_http.post("/api/v3/contacts", json={"email": "o@example.com"}).json()["id"]
    second = other_http.post("/api/v3/contacts", json={"email": "o@example.com"}).json()["id"]
    first_admin.seed({"vouchers": [{"id": "VCH-1", "voucherNumber": "V1", "contactId": first}]})
    assert sim_http.post("/api/v3/receipts", json=receipt(first)).status_code == 202
    written = sim_http.post("/api/v3/orders", json=order("O-1"))
    assert wait_for_job(sim_http, written.json()["href"]).status_code == 302
    # Then the second key's Engage has none of them
    assert other_http.get("/api/v3/orders/O-1").status_code == 404
    assert other_http.get("/api/v3/reward-vouchers", params={"contactId": first}).status_code == 404
    assert other_http.get("/api/v3/reward-vouchers", params={"contactId": second}).json()["items"] == []
    assert (
        other_http.post("/api/v3/reward-vouchers/VCH-1/redeem", json={"redemptionChannel": "POS"}).ok is False
    )
    assert other_http.get(written.json()["href"]).status_code == 404  # nor the first key's job
    other = other_admin.state()
    assert (other["receipts"], other["orders"], other["vouchers"]) == ([], [], [])
    # And the same uniqueReceiptId and orderId are new there: stored, not a duplicate or a replace
    assert other_http.post("/api/v3/receipts", json=receipt(second)).status_code == 202
    again = other_http.post("/api/v3/orders", json=order("O-1"))
    assert wait_for_job(other_http, again.json()["href"]).status_code == 302
    other = other_admin.state()
    assert [(r["uniqueReceiptId"], r["contactId"]) for r in other["receipts"]] == [("R-1", second)]
    assert other["duplicate_receipts"] == []
    assert [(o["orderId"], o["contactId"]) for o in other["orders"]] == [("O-1", second)]
    mine = first_admin.state()
    assert [(r["uniqueReceiptId"], r["contactId"]) for r in mine["receipts"]] == [("R-1", first)]
    assert [(o["orderId"], o["contactId"]) for o in mine["orders"]] == [("O-1", first)]
    assert [v["id"] for v in mine["vouchers"]] == ["VCH-1"]
    assert mine["vouchers"][0]["redeemed"] is False


def test_seed_and_reset_name_one_key(
    simulator: RunningSimulator, other_http: SimHttp, first_admin: SimAdmin, other_admin: SimAdmin
) -> None:
    # When only the second key is seeded
    other_admin.seed({"contacts": [{"email": "seeded@example.com"}]})
    # Then only it knows the contact
    assert first_admin.state()["contacts"] == []
    assert other_http.get("/api/v3/contacts/id", params={"email": "seeded@example.com"}).status_code == 200
    # And a seed without a key goes to the default key; a reset with a key clears only its Engage
    simulator.admin.seed({"contacts": [{"email": "first@example.com"}]})
    assert len(first_admin.state()["contacts"]) == 1
    simulator.admin.set_faults(latency_ms={"p50": 1, "p99": 2})
    other_admin.reset()
    assert other_admin.state()["contacts"] == []
    assert len(first_admin.state()["contacts"]) == 1
    assert simulator.admin.faults()["latency_ms"] == {"p50": 1, "p99": 2}


def test_keys_are_listed_by_id_and_an_unknown_key_is_404(simulator: RunningSimulator) -> None:
    listed = requests.get(f"{simulator.base_url}/_sim/keys", timeout=5).json()
    assert [(k["key_id"], k["default"]) for k in listed] == [
        (key_id(simulator.api_key), True),
        (key_id(simulator.api_key_2), False),
    ]
    assert all(simulator.api_key not in str(k) for k in listed)
    unknown = requests.get(f"{simulator.base_url}/_sim/state", headers={"apikey": "nope"}, timeout=5)
    assert (unknown.status_code, unknown.json()["errorCode"]) == (404, "UnknownApiKey")


def wait_for_import(admin: SimAdmin) -> dict[str, object]:
    wait_until(lambda: bool(admin.state()["imports"]), timeout_s=5, what="an import")
    entry: dict[str, object] = admin.state()["imports"][0]
    return entry


def test_files_are_imported_for_the_key_whose_folder_holds_them(
    simulator: RunningSimulator, other_http: SimHttp, first_admin: SimAdmin, other_admin: SimAdmin
) -> None:
    # Given a contacts file in the second key's folder, in the sub-folder the relay uploads contacts to
    folder: Path = simulator.import_dir_for(simulator.api_key_2) / "contactImport"
    folder.mkdir()
    dropped = drop(folder, "20261124101500_1_contacts.xml", CONTACTS_XML)
    # Then the second key's Engage imports it, and the default key's does not
    entry = wait_for_import(other_admin)
    assert (entry["folder"], entry["applied"]) == (f"tenants/{key_id(simulator.api_key_2)}/contactImport", 2)
    assert not dropped.exists()
    assert other_http.get("/api/v3/contacts/id", params={"email": "imported@example.com"}).status_code == 200
    assert first_admin.state()["contacts"] == [] and first_admin.state()["imports"] == []


def test_the_import_folders_upload_sub_folders_are_the_default_keys(
    simulator: RunningSimulator, first_admin: SimAdmin
) -> None:
    # Given a member, and a transactions file where the relay uploads them (not the folder's top)
    simulator.admin.seed({"contacts": [{"email": "m@example.com", "memberNumber": "M-9"}]})
    folder = simulator.import_dir / "transactionImport"
    folder.mkdir()
    drop(folder, "20261124101600_1_transactions.xml", transactions_xml(("M-9", "T-1")))
    # Then it is imported for the default key
    entry = wait_for_import(first_admin)
    assert (entry["folder"], entry["kind"], entry["applied"]) == ("transactionImport", "transactions", 1)
    assert [r["uniqueReceiptId"] for r in simulator.admin.state()["receipts"]] == ["T-1"]
