"""The simulator's promotions and reward vouchers over real HTTP: assign, list, redeem once, expiry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.simulator import RunningSimulator, SimHttp

pytestmark = pytest.mark.integration

PROMO = "11111111-1111-4111-8111-111111111111"
EXPIRED_PROMO = "22222222-2222-4222-8222-222222222222"
POS_ONLY_PROMO = "33333333-3333-4333-8333-333333333333"
VOUCHER = "44444444-4444-4444-8444-444444444444"
EXPIRED_VOUCHER = "55555555-5555-4555-8555-555555555555"


@pytest.fixture
def contact_id(simulator: RunningSimulator, sim_http: SimHttp) -> str:
    cid: str = sim_http.post("/api/v3/contacts", json={"email": "l@example.com"}).json()["id"]
    ecom = [{"type": "ECOM", "valueType": "PERCENT", "value": 10}]
    simulator.admin.seed(
        {
            "promotions": [
                {"id": PROMO, "externalId": "WELCOME", "name": "Welcome", "redemptionChannels": ecom},
                {"id": EXPIRED_PROMO, "name": "Old", "expiresOn": "2020-01-01T00:00:00+00:00"},
                {"id": POS_ONLY_PROMO, "name": "Store", "redemptionChannels": [{"type": "POS"}]},
            ],
            "vouchers": [
                {
                    "id": VOUCHER,
                    "voucherNumber": "V1",
                    "contactId": cid,
                    "value": {"currency": "SEK", "amount": 50},
                },
                {
                    "id": EXPIRED_VOUCHER,
                    "voucherNumber": "V2",
                    "contactId": cid,
                    "expiresOn": "2020-01-01T00:00:00Z",
                },
            ],
        }
    )
    return cid


def assign(http: SimHttp, contact_id: str, promotion_id: str) -> dict[str, Any]:
    response = http.post(
        "/api/v3/promotion-assignments", json={"contactId": contact_id, "promotionId": promotion_id}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_assign_list_and_redeem_once(simulator: RunningSimulator, sim_http: SimHttp, contact_id: str) -> None:
    # Given an assignment with its own id
    assignment = assign(sim_http, contact_id, PROMO)
    assert assignment["id"] != PROMO
    assert assignment["promotionId"] == PROMO
    listed = sim_http.get("/api/v3/promotion-assignments", params={"contactId": contact_id}).json()
    assert [a["id"] for a in listed] == [assignment["id"]]
    # When redeemed twice
    path = f"/api/v3/promotion-assignments/{assignment['id']}/redeem"
    first = sim_http.post(path, json={"redemptionChannel": "ECOM"})
    second = sim_http.post(path, json={"redemptionChannel": "ECOM"})
    # Then once 200, then 409 PromotionAlreadyRedeemed, with channel and time recorded
    assert first.status_code == 200
    assert first.json()["redeemed"] is True
    assert second.status_code == 409
    assert second.json()["errorCode"] == "PromotionAlreadyRedeemed"
    redemptions = simulator.admin.state()["promotion_redemptions"]
    assert [(r["assignmentId"], r["channel"]) for r in redemptions] == [(assignment["id"], "ECOM")]
    assert redemptions[0]["at"]


def test_assignment_ids_are_per_contact(sim_http: SimHttp, contact_id: str) -> None:
    other: str = sim_http.post("/api/v3/contacts", json={"email": "other@example.com"}).json()["id"]
    assert assign(sim_http, contact_id, PROMO)["id"] != assign(sim_http, other, PROMO)["id"]


def test_promotion_errors(sim_http: SimHttp, contact_id: str) -> None:
    def code(body: dict[str, Any]) -> tuple[int, str]:
        r = sim_http.post("/api/v3/promotion-assignments", json=body)
        return r.status_code, r.json()["errorCode"]

    assert code({"contactId": contact_id, "promotionId": EXPIRED_PROMO}) == (409, "PromotionExpired")
    assert code({"contactId": contact_id, "promotionId": "nope"}) == (400, "InvalidPromotionId")
    assert code({"contactId": contact_id, "promotionId": VOUCHER}) == (404, "PromotionNotFound")
    assert code({"contactId": "nope", "promotionId": PROMO}) == (400, "InvalidContactId")
    assert code({"contactId": VOUCHER, "promotionId": PROMO}) == (404, "ContactNotFound")
    pos_only = assign(sim_http, contact_id, POS_ONLY_PROMO)
    path = f"/api/v3/promotion-assignments/{pos_only['id']}/redeem"
    assert (
        sim_http.post(path, json={"redemptionChannel": "WEB"}).json()["errorCode"]
        == "NotAValidRedemptionChannel"
    )
    wrong = sim_http.post(path, json={"redemptionChannel": "ECOM"})
    assert (wrong.status_code, wrong.json()["errorCode"]) == (409, "PromotionNotValidForRedemptionChannel")
    missing = sim_http.post(
        f"/api/v3/promotion-assignments/{PROMO}/redeem", json={"redemptionChannel": "POS"}
    )
    assert (missing.status_code, missing.json()["errorCode"]) == (404, "PromotionNotFound")


def test_voucher_list_and_redeem_once(
    simulator: RunningSimulator, sim_http: SimHttp, contact_id: str
) -> None:
    page = sim_http.get("/api/v3/reward-vouchers", params={"contactId": contact_id}).json()
    assert page["totalCount"] == 2
    first = sim_http.post(f"/api/v3/reward-vouchers/{VOUCHER}/redeem", json={"redemptionChannel": "POS"})
    second = sim_http.post(f"/api/v3/reward-vouchers/{VOUCHER}/redeem")
    assert first.status_code == 200
    assert (second.status_code, second.json()["errorCode"]) == (409, "RewardVoucherAlreadyRedeemed")
    redeemed = sim_http.get("/api/v3/reward-vouchers/redeemed", params={"contactId": contact_id}).json()
    assert [v["id"] for v in redeemed["items"]] == [VOUCHER]
    available = sim_http.get("/api/v3/reward-vouchers/available", params={"contactId": contact_id}).json()
    assert [v["id"] for v in available["items"]] == [EXPIRED_VOUCHER]
    assert [(r["voucherId"], r["channel"]) for r in simulator.admin.state()["voucher_redemptions"]] == [
        (VOUCHER, "POS")
    ]


def test_voucher_errors(sim_http: SimHttp, contact_id: str) -> None:
    expired = sim_http.post(f"/api/v3/reward-vouchers/{EXPIRED_VOUCHER}/redeem")
    assert (expired.status_code, expired.json()["errorCode"]) == (409, "RewardVoucherExpired")
    assert (
        sim_http.post("/api/v3/reward-vouchers/nope/redeem").json()["errorCode"] == "InvalidRewardVoucherId"
    )
    assert (
        sim_http.post(f"/api/v3/reward-vouchers/{PROMO}/redeem").json()["errorCode"]
        == "RewardVoucherNotFound"
    )
