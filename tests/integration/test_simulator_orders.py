"""The simulator's orders v3, bulk contacts and tracking over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support import voyado_examples as voyado
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
    assert accepted.status_code == 201
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


def test_voyados_order_example_is_written_with_201_and_stored(sim_http: SimHttp) -> None:
    # Given the contact Voyado's order example names
    sim_http.post("/api/v3/contacts", json={"email": voyado.ORDER_EMAIL})
    # When the documented create payload is posted
    accepted = sim_http.post("/api/v3/orders", json=voyado.order())
    # Then the answer is 201 (the order API page: "201 Accepted") with a link to the job
    assert accepted.status_code == 201
    done = wait_for_job(sim_http, accepted.json()["href"])
    assert (done.status_code, done.headers["Location"]) == (302, "/api/v3/orders/order-1764771379")
    stored = sim_http.get("/api/v3/orders/order-1764771379").json()
    assert (stored["externalStatus"], stored["delivery"]["method"]) == ("Picked", "DHL")


def test_the_write_status_is_a_switch_with_202_as_the_alternative(
    simulator: RunningSimulator, sim_http: SimHttp, contact_id: str
) -> None:
    assert simulator.admin.switches()["order_write_status"] == 201
    simulator.admin.set_switches(order_write_status=202)
    accepted = sim_http.post("/api/v3/orders", json=order())
    assert accepted.status_code == 202
    wait_for_job(sim_http, accepted.json()["href"])
    assert sim_http.put("/api/v3/orders/O-1", json=order()).status_code == 202


def test_a_put_of_an_unknown_order_is_accepted_and_its_job_fails(sim_http: SimHttp, contact_id: str) -> None:
    # When an order Engage does not have is replaced (shipped before placed)
    accepted = sim_http.put("/api/v3/orders/O-9", json=order("O-9"))
    # Then the write is accepted, as Engage's asynchronous API does, and the job fails
    assert accepted.status_code == 201
    failed = wait_for_job(sim_http, accepted.json()["href"])
    assert (failed.status_code, failed.json()["status"], failed.json()["errors"]) == (
        200,
        "Failed",
        ["Order is missing"],
    )
    assert sim_http.get("/api/v3/orders/O-9").status_code == 404
    # and so do a delete and a change of it
    for write in (
        sim_http.delete("/api/v3/orders/O-9"),
        sim_http.post("/api/v3/orders/O-9/change-status", json={"status": "Shipped"}),
    ):
        assert write.status_code == 201
        assert wait_for_job(sim_http, write.json()["href"]).json()["errors"] == ["Order is missing"]


def test_a_put_after_an_accepted_create_waits_its_turn(sim_http: SimHttp, contact_id: str) -> None:
    # Jobs apply in the order they were accepted, so a replace right behind its create finds the order
    sim_http.post("/api/v3/orders", json=order())
    shipped = {**order(), "status": "Shipped"}
    done = wait_for_job(sim_http, sim_http.put("/api/v3/orders/O-1", json=shipped).json()["href"])
    assert done.status_code == 302
    assert sim_http.get("/api/v3/orders/O-1").json()["status"] == "Shipped"


def test_the_old_synchronous_404_is_an_off_by_default_switch(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    simulator.admin.set_switches(order_unknown_sync_404=True)
    refused = sim_http.put("/api/v3/orders/O-9", json=order("O-9"))
    assert (refused.status_code, refused.json()["errorCode"]) == (404, "OrderNotFound")


@pytest.mark.parametrize("answer", ["href", "location"])
def test_a_write_may_answer_only_with_the_link_to_its_job(
    simulator: RunningSimulator, sim_http: SimHttp, contact_id: str, answer: str
) -> None:
    # By default the body names the job; the switch leaves only "a link to the job" (ref §2.10)
    assert simulator.admin.switches()["order_write_answer"] == "job"
    simulator.admin.set_switches(order_write_answer=answer)
    accepted = sim_http.post("/api/v3/orders", json=order())
    assert accepted.status_code == 201
    if answer == "href":
        assert set(accepted.json()) == {"href"}
        link = accepted.json()["href"]
    else:
        assert accepted.content == b""
        link = accepted.headers["Location"]
    assert link.startswith("/api/v3/orders/jobs/")
    assert wait_for_job(sim_http, link).status_code == 302


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_failed_job_may_answer_with_an_error_status(
    simulator: RunningSimulator, sim_http: SimHttp, status: int
) -> None:
    # By default a failed job is 200 with its errors; the switch answers "an error otherwise" (ref §2.10)
    assert simulator.admin.switches()["order_job_failed_status"] == 200
    simulator.admin.set_switches(order_job_failed_status=status)
    accepted = sim_http.put("/api/v3/orders/O-9", json=order("O-9"))
    failed = wait_for_job(sim_http, accepted.json()["href"])
    assert failed.status_code == status
    assert (failed.json()["errorCode"], failed.json()["message"]) == ("OrderJobFailed", "Order is missing")


@pytest.mark.parametrize(
    "changes", [{"order_write_answer": "xml"}, {"order_job_failed_status": 500}, {"order_write_status": 200}]
)
def test_an_order_switch_outside_its_values_is_refused(
    simulator: RunningSimulator, changes: dict[str, Any]
) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        simulator.admin.set_switches(**changes)
    assert refused.value.response.status_code == 400


def test_an_embedded_action_keeps_its_language_and_data(
    simulator: RunningSimulator, sim_http: SimHttp, contact_id: str
) -> None:
    # Given an order carrying its action with a language and data (the cancel reason)
    cancel = {"action": "CancelOrder", "language": "sv-SE", "data": {"reason": "changed my mind"}}
    body = {**order(), "status": "Cancelled", "action": cancel}
    # When it is processed
    wait_for_job(sim_http, sim_http.post("/api/v3/orders", json=body).json()["href"])
    # Then the action ran with them, and a bare action name still works
    [ran] = simulator.admin.state()["order_actions"]
    assert (ran["action"], ran["language"], ran["data"], ran["embedded"]) == (
        "CancelOrder",
        "sv-SE",
        {"reason": "changed my mind"},
        True,
    )
    wait_for_job(sim_http, sim_http.put("/api/v3/orders/O-1", json={**order(), "action": "X"}).json()["href"])
    assert [a["action"] for a in simulator.admin.state()["order_actions"]] == ["CancelOrder", "X"]
    malformed = sim_http.post("/api/v3/orders", json={**order("O-2"), "action": {"language": "sv-SE"}})
    assert malformed.status_code == 422
    # and a later status or delivery change does not run the last write's action again
    for change, body in (("change-status", {"status": "Completed"}), ("change-delivery", {"method": "DHL"})):
        wait_for_job(sim_http, sim_http.post(f"/api/v3/orders/O-1/{change}", json=body).json()["href"])
    assert [a["action"] for a in simulator.admin.state()["order_actions"]] == ["CancelOrder", "X"]


def test_voyados_action_example_is_accepted_with_the_current_version_tag(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    sim_http.post("/api/v3/contacts", json={"email": voyado.ORDER_EMAIL})
    wait_for_job(sim_http, sim_http.post("/api/v3/orders", json=voyado.order()).json()["href"])
    tag = sim_http.get("/api/v3/orders/order-1764771379").json()["versionTag"]
    action = {**voyado.order_action(), "versionTag": tag}
    assert sim_http.post("/api/v3/orders/order-1764771379/action", json=action).status_code == 202
    [ran] = simulator.admin.state()["order_actions"]
    assert (ran["language"], ran["data"]) == ("en-US", {"custom": "data", "list": ["data1", "data2"]})


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
