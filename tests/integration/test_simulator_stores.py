"""Stores over a real simulator: listing, and unknown stores refused once a key's stores are seeded."""

from __future__ import annotations

from typing import Any

import pytest

from engage.client import EngageClient
from tests.integration.test_simulator_imports import CONTACTS_XML, drop, transactions_xml, wait_for_imports
from tests.integration.test_simulator_orders import order, wait_for_job
from tests.support import voyado_examples as voyado
from tests.support.engage_clients import client_for
from tests.support.simulator import RunningSimulator, SimHttp

pytestmark = pytest.mark.integration

STORES = [
    {"externalId": "Store1337", "name": "Oslo", "countryCode": "NO", "type": "Store"},
    {"externalId": "Ecom-SE", "name": "Web shop", "countryCode": "SE"},
    {"externalId": "closed-1", "name": "Closed", "active": False},
]


@pytest.fixture
def stores(simulator: RunningSimulator) -> None:
    simulator.admin.seed({"stores": STORES})


def errors_of(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["messageDetails"]["errors"]}


@pytest.mark.usefixtures("stores")
def test_stores_are_listed_as_a_json_array_inactive_ones_on_request(sim_http: SimHttp) -> None:
    listed = sim_http.get("/api/v3/stores")
    assert listed.status_code == 200
    assert [s["externalId"] for s in listed.json()] == ["Store1337", "Ecom-SE"]
    everyone = sim_http.get("/api/v3/stores", params={"includeInactive": "true"}).json()
    assert [s["externalId"] for s in everyone] == ["Store1337", "Ecom-SE", "closed-1"]
    assert sim_http.get("/api/v3/stores/Store1337").json()["name"] == "Oslo"
    assert sim_http.get("/api/v3/stores/nope").json()["errorCode"] == "StoreNotFound"


@pytest.mark.usefixtures("stores")
def test_the_client_lists_the_stores(simulator: RunningSimulator) -> None:
    client: EngageClient = client_for(simulator)
    assert [(s.external_id, s.country_code) for s in client.list_stores()] == [
        ("Store1337", "NO"),
        ("Ecom-SE", "SE"),
    ]
    assert [s.active for s in client.list_stores(include_inactive=True)] == [True, True, False]
    # and another key's Engage has stores of its own (none here)
    assert client_for(simulator, api_key=simulator.api_key_2).list_stores() == []


def test_without_seeded_stores_any_store_is_accepted(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    simulator.admin.seed({"contacts": [{"email": "ex@example.com", "memberNumber": voyado.MEMBER_NUMBER}]})
    body = {**voyado.purchase(), "storeExternalId": "anything"}
    assert sim_http.post("/api/v3/receipts", json=body).status_code == 202


@pytest.mark.usefixtures("stores")
def test_an_unknown_store_is_refused_once_stores_are_seeded(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    simulator.admin.seed({"contacts": [{"email": "ex@example.com", "memberNumber": voyado.MEMBER_NUMBER}]})
    # A receipt naming a store Engage does not have is 422 "Store is missing"; a known one is accepted
    unknown = sim_http.post("/api/v3/receipts", json={**voyado.purchase(), "storeExternalId": "Store9"})
    assert unknown.status_code == 422
    assert errors_of(unknown) == {"storeExternalId": "Store is missing"}
    assert sim_http.post("/api/v3/receipts", json=voyado.purchase()).status_code == 202
    # A contact recruited by an unknown store likewise
    created = sim_http.post(
        "/api/v3/contacts",
        params={"source": "POS", "storeExternalId": "Store9"},
        json={"email": "n@example.com"},
    )
    assert created.status_code == 422
    assert errors_of(created) == {"storeExternalId": "Store is missing"}
    known = {"source": "POS", "storeExternalId": "Store1337"}
    assert sim_http.post("/api/v3/contacts", params=known, json={"email": "n@example.com"}).status_code == 201


@pytest.mark.usefixtures("stores")
def test_an_order_for_an_unknown_store_fails_its_job(sim_http: SimHttp) -> None:
    sim_http.post("/api/v3/contacts", json={"email": "o@example.com"})
    body = {**order(), "externalStoreId": "Store9"}
    failed = wait_for_job(sim_http, sim_http.post("/api/v3/orders", json=body).json()["href"])
    assert (failed.json()["status"], failed.json()["errors"]) == ("Failed", ["Store is missing"])


@pytest.mark.usefixtures("stores")
def test_a_file_receipt_for_an_unknown_store_is_in_the_import_log(simulator: RunningSimulator) -> None:
    # transactions_xml names store 600, which this Engage does not have
    simulator.admin.seed({"contacts": [{"email": "m@example.com", "memberNumber": "M-9"}]})
    drop(simulator.import_dir, "20261124101600_1_transactions.xml", transactions_xml(("M-9", "T-1")))
    [entry] = wait_for_imports(simulator, 1)
    assert (entry["applied"], entry["skipped"]) == (0, 1)
    assert entry["errors"] == [
        {"index": 0, "errorCode": "ValidationError", "message": "storeExternalId: Store is missing"}
    ]
    assert simulator.admin.state()["receipts"] == []


@pytest.mark.usefixtures("stores")
def test_a_file_contact_recruited_by_an_unknown_store_is_in_the_import_log(
    simulator: RunningSimulator,
) -> None:
    # CONTACTS_XML's first member is recruited by store 600, which this Engage does not have
    drop(simulator.import_dir, "20261124101500_1_contacts.xml", CONTACTS_XML)
    [entry] = wait_for_imports(simulator, 1)
    assert {
        "index": 0,
        "errorCode": "ValidationError",
        "message": "storeExternalId: Store is missing",
    } in entry["errors"]
    emails = [c["attributes"]["email"] for c in simulator.admin.state()["contacts"]]
    assert "imported@example.com" not in emails
