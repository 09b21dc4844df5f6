"""The documented errors a healthy Engage rarely gives, on request, over a real simulator process."""

from __future__ import annotations

import pytest

from tests.support.simulator import RunningSimulator, SimHttp

pytestmark = pytest.mark.integration

VOUCHER = "af61c5c8-7ff8-1234-9b67-c75300738cd3"
REDEEM = "POST /api/v3/reward-vouchers/{rewardVoucherId}/redeem"


@pytest.fixture
def voucher(simulator: RunningSimulator, sim_http: SimHttp) -> str:
    contact_id = sim_http.post("/api/v3/contacts", json={"email": "v@example.com"}).json()["id"]
    simulator.admin.seed({"vouchers": [{"id": VOUCHER, "voucherNumber": "V1", "contactId": contact_id}]})
    return f"/api/v3/reward-vouchers/{VOUCHER}/redeem"


def test_a_one_shot_409_being_created_on_create_is_not_applied(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    # Given one ContactWithKeyIsBeingCreated asked for
    simulator.admin.set_faults(inject=[{"error": "ContactWithKeyIsBeingCreated"}])
    # When a contact is created twice
    first = sim_http.post("/api/v3/contacts", json={"email": "c@example.com"})
    second = sim_http.post("/api/v3/contacts", json={"email": "c@example.com"})
    # Then the first answer is the documented 409 and created nothing; the second creates her
    assert (first.status_code, first.json()["errorCode"]) == (409, "ContactWithKeyIsBeingCreated")
    assert second.status_code == 201
    assert len(simulator.admin.state()["contacts"]) == 1
    assert simulator.admin.faults()["inject"] == []


def test_an_applied_409_created_the_contact_all_the_same(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    simulator.admin.set_faults(inject=[{"error": "ContactWithKeyIsBeingCreated", "applied": True}])
    answer = sim_http.post("/api/v3/contacts", json={"email": "c@example.com"})
    assert answer.status_code == 409
    assert sim_http.get("/api/v3/contacts/id", params={"email": "c@example.com"}).status_code == 200


def test_500_invalid_system_configuration_on_lookup_and_overview(
    simulator: RunningSimulator, sim_http: SimHttp
) -> None:
    simulator.admin.set_faults(inject=[{"error": "InvalidSystemConfiguration", "times": 2}])
    lookup = sim_http.get("/api/v3/contacts/id", params={"email": "x@example.com"})
    overview = sim_http.get(
        "/api/v3/contactoverview", params={"contactType": "Member", "email": "x@example.com"}
    )
    for answer in (lookup, overview):
        assert answer.status_code == 500
        assert answer.json()["errorCode"] == "InvalidSystemConfiguration"
    # spent: the next lookup is Engage's ordinary answer
    assert sim_http.get("/api/v3/contacts/id", params={"email": "x@example.com"}).status_code == 404


def test_504_on_voucher_redeem_by_header_applied_or_not(
    simulator: RunningSimulator, sim_http: SimHttp, voucher: str
) -> None:
    # A 504 asked for by header, not applied: the voucher stays available
    refused = sim_http.post(voucher, headers={"X-Sim-Error": "GatewayTimeout"})
    assert (refused.status_code, refused.json()["errorCode"]) == (504, "GatewayTimeout")
    assert simulator.admin.state()["voucher_redemptions"] == []
    # Applied: the voucher is redeemed, the answer still a 504, so a retry meets AlreadyRedeemed
    headers = {"X-Sim-Error": "GatewayTimeout", "X-Sim-Error-Applied": "true"}
    assert sim_http.post(voucher, headers=headers).status_code == 504
    assert len(simulator.admin.state()["voucher_redemptions"]) == 1
    assert sim_http.post(voucher).json()["errorCode"] == "RewardVoucherAlreadyRedeemed"


def test_an_error_only_where_voyado_documents_it(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    wrong_route = sim_http.post(
        "/api/v3/contacts", json={"email": "c@example.com"}, headers={"X-Sim-Error": "GatewayTimeout"}
    )
    assert (wrong_route.status_code, wrong_route.json()["errorCode"]) == (400, "InvalidFaults")
    assert simulator.admin.state()["contacts"] == []


def test_a_rule_may_name_one_key(simulator: RunningSimulator, sim_http: SimHttp) -> None:
    simulator.admin.set_faults(inject=[{"error": "ContactWithKeyIsBeingCreated", "key": simulator.api_key_2}])
    assert sim_http.post("/api/v3/contacts", json={"email": "c@example.com"}).status_code == 201
    other = SimHttp(simulator.base_url, simulator.api_key_2)
    try:
        assert other.post("/api/v3/contacts", json={"email": "c@example.com"}).status_code == 409
    finally:
        other.close()
