"""The synchronous assignment then the redemption in the same sale, and soft identification, over real
HTTP against the running service, the relay and the simulator."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from api.soft_id import encode_token, encrypt_plaintext
from tests.integration.api.conftest import (
    PROMO,
    SOFT_ID_KEY,
    ApiService,
    Shopper,
    envelope,
    new_id,
    publish_and_settle,
)
from tests.integration.api.test_reads import READS
from tests.support.simulator import RunningSimulator

OTHER_KEY = "Zz9yXw8vUt7sRq6pOn5mLk4jIh3gFe2d"


def test_assign_then_redeem_in_one_sale(
    api: ApiService, acme_token: str, shopper: Shopper, simulator: RunningSimulator
) -> None:
    promotions = READS["promotions"](shopper)
    assert api.call("GET", promotions, acme_token).json()["promotions"] == []  # cached: no assignment yet
    path = f"/v1/contacts/{shopper.contact_id}/promotion-assignments"
    body = {"promotion_id": PROMO, "request_id": "till-2-sale-0457"}

    made = api.call("POST", path, acme_token, json=body)
    again = api.call("POST", path, acme_token, json=body)

    assert made.status_code == 201, made.text
    assignment_id = made.json()["assignment_id"]
    assert again.status_code == 200
    assert again.json() == {**made.json(), "created": False}
    state = simulator.admin_for(simulator.api_key).state()
    assert [a["id"] for a in state["promotion_assignments"]] == [assignment_id]
    listed = api.call("GET", promotions, acme_token)
    assert listed.headers["X-Cache"] == "MISS"  # the assignment invalidated the cached list
    assert [p["assignment_id"] for p in listed.json()["promotions"]] == [assignment_id]

    # the same sale redeems it as an event naming only the promotion: the remembered id is used
    redeem = envelope(
        "promotion.redeemed",
        {"customer": {"contact_id": shopper.contact_id}, "promotion_id": PROMO, "redemption_channel": "POS"},
    )
    trail = publish_and_settle(api, acme_token, redeem)
    assert trail["outcome"] == "applied"
    assert simulator.admin.request_count("GET /api/v3/promotion-assignments") <= 2  # our two reads, no lookup
    redemptions = simulator.admin_for(simulator.api_key).state()["promotion_redemptions"]
    assert [r["assignmentId"] for r in redemptions] == [assignment_id]
    after = api.call("GET", promotions, acme_token)
    assert after.headers["X-Cache"] == "MISS" and after.json()["promotions"] == []


def test_an_assignment_engage_refuses_is_422_and_an_unknown_contact_404(
    api: ApiService, acme_token: str, shopper: Shopper
) -> None:
    path = f"/v1/contacts/{shopper.contact_id}/promotion-assignments"
    refused = api.call("POST", path, acme_token, json={"promotion_id": "nope", "request_id": new_id()})
    assert refused.status_code == 422
    unknown = api.call(
        "POST",
        "/v1/contacts/99999999-9999-4999-8999-999999999999/promotion-assignments",
        acme_token,
        json={"promotion_id": PROMO, "request_id": new_id()},
    )
    assert unknown.status_code == 404


def soft_id(api: ApiService, token: str, eclub: str, **params: str) -> tuple[int, dict[str, object]]:
    answer = api.call("GET", "/v1/soft-id", token, params={"token": eclub, **params})
    return answer.status_code, answer.json()


def test_a_good_token_gives_the_contact_and_if_asked_its_overview(
    api: ApiService, acme_token: str, shopper: Shopper
) -> None:
    linked = datetime.now(UTC) - timedelta(hours=2)
    eclub = encode_token(SOFT_ID_KEY, contact_id=shopper.contact_id, linked_at=linked, email=shopper.email)

    status, body = soft_id(api, acme_token, eclub)
    assert status == 200
    assert body["contact_id"] == shopper.contact_id
    assert body["overview"] is None

    status, body = soft_id(api, acme_token, eclub, overview="1")
    assert status == 200
    assert isinstance(body["overview"], dict) and body["overview"]["contact_id"] == shopper.contact_id


def test_voyados_documented_json_decodes(api: ApiService, acme_token: str) -> None:
    stamp = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    documented = (
        '{\n"contactId": "1f9a5e4f-7a32-4c83-9d6b-a9f3e2b1c0d4",\n"email": "jane.doe@example.com",\n'
        f'"dateTime": "{stamp}"\n}}'
    )
    status, body = soft_id(api, acme_token, encrypt_plaintext(SOFT_ID_KEY, documented.encode()))
    assert status == 200
    assert body["contact_id"] == "1f9a5e4f-7a32-4c83-9d6b-a9f3e2b1c0d4"


def tampered(token: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[20] ^= 0x01  # a ciphertext bit: block 1 garbled
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


@pytest.mark.parametrize("kind", ["wrong key", "tampered", "not base64", "not Voyado's fields"])
def test_every_bad_token_is_one_and_the_same_400(api: ApiService, acme_token: str, kind: str) -> None:
    now = datetime.now(UTC)
    contact_id = "1f9a5e4f-7a32-4c83-9d6b-a9f3e2b1c0d4"
    tokens = {
        "wrong key": encode_token(OTHER_KEY, contact_id=contact_id, linked_at=now),
        "tampered": tampered(encode_token(SOFT_ID_KEY, contact_id=contact_id, linked_at=now)),
        "not base64": "%%%not-a-token%%%",
        "not Voyado's fields": encrypt_plaintext(SOFT_ID_KEY, json.dumps({"who": "me"}).encode()),
    }
    status, body = soft_id(api, acme_token, tokens[kind])
    assert (status, body) == (
        400,
        {"error": "invalid_token", "detail": "the token does not identify a contact of this tenant"},
    )


def test_an_expired_token_is_410_and_a_tenant_without_a_key_404(api: ApiService, acme_token: str) -> None:
    old = datetime.now(UTC) - timedelta(days=15)  # the default max age is 14 days
    eclub = encode_token(SOFT_ID_KEY, contact_id="1f9a5e4f-7a32-4c83-9d6b-a9f3e2b1c0d4", linked_at=old)
    status, body = soft_id(api, acme_token, eclub)
    assert status == 410 and body["error"] == "token_expired"

    status, _ = soft_id(api, api.token_for("other"), eclub)
    assert status == 404
    log = api.proc.log_path.read_text(errors="replace")
    assert eclub not in log and SOFT_ID_KEY not in log
