"""The simulator's orders v3, bulk contacts and tracking over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator, SimHttp

pytestmark = pytest.mark.integration


def order(order_id: str = "O-1", email: str | None = "o@example.com") -> dict[str, Any]:
    body: dict[str, Any] = {
        "orderId": order_id,
        "externalStoreId": "Ecom-SE",
        "status": "InProgress",
        "currencyCode": "SEK",
        "createdAt": "2026-11-24T10:15:00+01:00",
        "lineItems": {"items": [{"sku": "S1", "quantity": 1}], "subTotal": 100},
    }
    if email is not None:
        body["contact"] = {"matchKey": email, "matchKeyType": "Email"}
    return body


def wait_for_job(http: SimHttp, href: str) -> Any:
    """Poll a job until it leaves Pending; returns the final response."""
    final: list[Any] = []

    def done() -> bool:
        r = http.get(href)
        if r.status_code == 200 and r.json()["status"] == "Pending":
            return False
        final.append(r)
        return True

    wait_until(done, timeout_s=5, what=f"job {href}")
    return final[0]


@pytest.fixture
def contact_id(sim_http: SimHttp) -> str:
    cid: str = sim_http.post("/api/v3/contacts", json={"email": "o@example.com"}).json()["id"]
    return cid


def test_order_job_redirects_to_the_order_with_a_version_tag(sim_http: SimHttp, contact_id: str) -> None:
    # When an order is created
    accepted = sim_http.post("/api/v3/orders", json=order())
    assert accepted.status_code == 202
    job = accepted.json()
    assert job["href"] == f"/api/v3/orders/jobs/{job['jobId']}"
    # Then the job first is Pending, then 302 to the order
    assert sim_http.get(job["href"]).json() == {"jobId": job["jobId"], "status": "Pending"}
    done = wait_for_job(sim_http, job["href"])
    assert done.status_code == 302
    assert done.headers["Location"] == "/api/v3/orders/O-1"
    stored = sim_http.get("/api/v3/orders/O-1").json()
    assert stored["versionTag"]
    assert stored["contactId"] == contact_id


def test_action_needs_the_latest_version_tag(
    simulator: RunningSimulator, sim_http: SimHttp, contact_id: str
) -> None:
    wait_for_job(sim_http, sim_http.post("/api/v3/orders", json=order()).json()["href"])
    old_tag = sim_http.get("/api/v3/orders/O-1").json()["versionTag"]
    # When the status changes, the version tag changes
    changed = sim_http.post("/api/v3/orders/O-1/change-status", json={"status": "Shipped"})
    wait_for_job(sim_http, changed.json()["href"])
    current = sim_http.get("/api/v3/orders/O-1").json()
    assert current["status"] == "Shipped"
    assert current["versionTag"] != old_tag
    # Then an action with the old tag is 404 VersionTagMismatch, with the new one 202
    stale = sim_http.post(
        "/api/v3/orders/O-1/action", json={"action": "ConfirmShipment", "versionTag": old_tag}
    )
    assert (stale.status_code, stale.json()["errorCode"]) == (404, "VersionTagMismatch")
    ok = sim_http.post(
        "/api/v3/orders/O-1/action", json={"action": "ConfirmShipment", "versionTag": current["versionTag"]}
    )
    assert ok.status_code == 202
    assert [a["action"] for a in simulator.admin.state()["order_actions"]] == ["ConfirmShipment"]


def test_change_delivery_put_and_delete(sim_http: SimHttp, contact_id: str) -> None:
    wait_for_job(sim_http, sim_http.post("/api/v3/orders", json=order()).json()["href"])
    delivery = sim_http.post("/api/v3/orders/O-1/change-delivery", json={"trackingNumber": "T1"})
    wait_for_job(sim_http, delivery.json()["href"])
    assert sim_http.get("/api/v3/orders/O-1").json()["delivery"] == {"trackingNumber": "T1"}
    replaced = order()
    replaced["status"] = "Cancelled"
    wait_for_job(sim_http, sim_http.put("/api/v3/orders/O-1", json=replaced).json()["href"])
    after_put = sim_http.get("/api/v3/orders/O-1").json()
    assert after_put["status"] == "Cancelled"
    assert "delivery" not in after_put
    deleted = wait_for_job(sim_http, sim_http.delete("/api/v3/orders/O-1").json()["href"])
    assert deleted.json()["status"] == "Completed"
    assert sim_http.get("/api/v3/orders/O-1").json()["errorCode"] == "OrderNotFound"
    assert (
        sim_http.post("/api/v3/orders/nope/action", json={"action": "X", "versionTag": "t"}).status_code
        == 404
    )


def test_order_errors(sim_http: SimHttp) -> None:
    # An order whose contact does not exist fails its job
    failed = wait_for_job(
        sim_http, sim_http.post("/api/v3/orders", json=order("O-2", "nobody@example.com")).json()["href"]
    )
    assert failed.json() == {
        "jobId": failed.json()["jobId"],
        "status": "Failed",
        "errors": ["Contact is missing"],
    }
    # An order without a contact is stored, but an action on it is 422
    wait_for_job(sim_http, sim_http.post("/api/v3/orders", json=order("O-3", None)).json()["href"])
    tag = sim_http.get("/api/v3/orders/O-3").json()["versionTag"]
    no_contact = sim_http.post("/api/v3/orders/O-3/action", json={"action": "X", "versionTag": tag})
    assert (no_contact.status_code, no_contact.json()["errorCode"]) == (422, "OrderHasNoContact")
    # An order missing required fields is 422
    assert sim_http.post("/api/v3/orders", json={"orderId": "O-4"}).status_code == 422


def test_bulk_create_reports_rows_and_created_ids(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    rows = [
        {"email": "b1@example.com"},
        {"firstName": "no key"},
        {"email": "b2@example.com", "mobilePhone": "bad"},
    ]
    accepted = sim_http.post("/api/v3/contacts/bulk", json=rows, params={"contactType": "Member"})
    assert accepted.status_code == 202
    batch_id = accepted.json()
    assert isinstance(batch_id, str)

    def completed() -> bool:
        return bool(
            sim_http.get("/api/v3/contacts/bulk/status", params={"batchId": batch_id}).json()["status"]
            == "Completed"
        )

    wait_until(completed, timeout_s=5, what="bulk batch")
    status = sim_http.get("/api/v3/contacts/bulk/status", params={"batchId": batch_id}).json()
    assert (status["total"], status["succeeded"], status["failed"]) == (3, 1, 2)
    assert [e["index"] for e in status["errors"]] == [1, 2]
    assert {e["errorCode"] for e in status["errors"]} == {"ValidationError"}
    created = status["createdContactIds"]["0"]
    assert sim_http.get("/api/v3/contacts/id", params={"email": "b1@example.com"}).json() == created


def test_bulk_update_by_key_and_id(sim_http: SimHttp) -> None:
    cid = sim_http.post("/api/v3/contacts", json={"email": "u@example.com"}).json()["id"]
    rows = [
        {"email": "u@example.com", "city": "Lund"},
        {"id": cid, "firstName": "U"},
        {"email": "none@example.com"},
    ]
    batch_id = sim_http.patch("/api/v3/contacts/bulk", json=rows).json()
    wait_until(
        lambda: (
            sim_http.get("/api/v3/contacts/bulk/status", params={"batchId": batch_id}).json()["status"]
            == "Completed"
        ),
        timeout_s=5,
    )
    status = sim_http.get("/api/v3/contacts/bulk/status", params={"batchId": batch_id}).json()
    assert (status["succeeded"], status["failed"]) == (2, 1)
    assert sim_http.get(f"/api/v3/contacts/{cid}").json()["attributes"] == {
        "email": "u@example.com",
        "city": "Lund",
        "firstName": "U",
    }


def test_bulk_limits(sim_http: SimHttp) -> None:
    too_many = [{"email": f"c{i}@example.com"} for i in range(4001)]
    response = sim_http.post("/api/v3/contacts/bulk", json=too_many)
    assert (response.status_code, response.json()["errorCode"]) == (400, "TooManyContacts")
    assert sim_http.post("/api/v3/contacts/bulk", json=too_many[:4000]).status_code == 202
    assert sim_http.post("/api/v3/contacts/bulk", json=[]).json()["errorCode"] == "NoData"
    assert (
        sim_http.get("/api/v3/contacts/bulk/status", params={"batchId": "nope"}).json()["errorCode"]
        == "BatchNotFound"
    )


def test_tracking_is_accepted_and_stored(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    view = {"itemId": "SKU1", "contactId": "c1", "time": "2026-11-24T10:15:00+01:00"}
    cart = {
        "cartReference": "cart-1",
        "contactId": "c1",
        "time": "2026-11-24T10:15:00+01:00",
        "items": [{"sku": "S", "quantity": 1}],
    }
    assert sim_http.post("/api/v3/tracking/productview", json=view).status_code == 202
    assert sim_http.post("/api/v3/tracking/carts", json=cart).status_code == 202
    assert sim_http.post("/api/v3/tracking/carts", json={"cartReference": "x"}).status_code == 422
    tracking = simulator.admin.state()["tracking"]
    assert [v["itemId"] for v in tracking["productviews"]] == ["SKU1"]
    assert [c["cartReference"] for c in tracking["carts"]] == ["cart-1"]
