"""EngageClient over a scripted transport: what is sent, which calls are retried, what never leaks."""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from decimal import Decimal
from http.client import RemoteDisconnected
from typing import Any

import pytest
import requests
import urllib3.exceptions
from structlog.testing import capture_logs

from engage.client import EngageClient
from engage.errors import (
    AlreadyRedeemed,
    AuthenticationFailed,
    EngageTimeout,
    EngageUnreachable,
    MultipleMatches,
    NotFound,
    RateLimited,
    RateLimitWaitExceeded,
    ServerError,
    SkippableError,
    UnexpectedResponse,
)
from engage.models import MAX_BULK_CONTACTS, OrderActionRequest, OrderJob, OrderStatusChange
from engage.ratelimit import MemoryRateLimiter
from engage.retry import DEFAULT_SHORT_RETRY, SHORT_RETRY_ATTEMPTS
from engage.transport import RATE_LIMIT_PENALTY_S, Timeouts, key_fingerprint
from engage.version import USER_AGENT
from tests.unit.engage.fake_transport import BASE_URL, FakeTransport, session_with

API_KEY = "sk-very-secret-key-abcdef"
GUID = "2e40b702-2767-4abe-ae99-aa510108e22b"
EMAIL = "jane.doe@example.com"
CONTACT = {"id": GUID, "contactType": "Member", "attributes": {"email": EMAIL}, "unknownField": 1}


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport()


@pytest.fixture
def client(transport: FakeTransport) -> Iterator[EngageClient]:
    yield EngageClient(
        BASE_URL, API_KEY, session=session_with(transport), retry=DEFAULT_SHORT_RETRY.without_waiting()
    )


def refused() -> requests.exceptions.ConnectionError:
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, f"/api/v3/contacts/id?email={EMAIL}", reason)  # type: ignore[arg-type]
    )


def dropped() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", RemoteDisconnected("closed"))
    )


# --- what goes on the wire -----------------------------------------------------------------------------


def test_every_call_sends_key_user_agent_accept_and_content_type_only_with_a_body(
    client: EngageClient, transport: FakeTransport
) -> None:
    # Given a GET and a POST with a body
    transport.reply(200, GUID).reply(201, CONTACT)
    client.lookup_contact(email=EMAIL)
    client.create_contact({"email": EMAIL}, source="ECOM", store_external_id="online-se")
    get, post = transport.sent
    # Then both carry the key, the User-Agent (System/version) and Accept; only the POST a Content-Type
    for sent in (get, post):
        assert sent.headers["apikey"] == API_KEY
        assert sent.headers["User-Agent"] == USER_AGENT
        assert re.fullmatch(r"engage-relay/\S+", sent.headers["User-Agent"])
        assert sent.headers["Accept"] == "application/json"
        assert sent.timeout == (3.05, 15.0)
        assert sent.verify not in (False, None, "")  # True or a CA bundle path: always verifying
    assert "Content-Type" not in get.headers
    assert post.headers["Content-Type"] == "application/json"


def test_a_write_without_a_body_still_says_json(client: EngageClient, transport: FakeTransport) -> None:
    # Voyado: without Content-Type Engage answers 500, so a bodiless POST carries it too
    transport.reply(200, b"")
    client.redeem_reward_voucher("af61c5c8-7ff8-1234-9b67-c75300738cd3")
    (sent,) = transport.sent
    assert sent.body is None
    assert sent.headers["Content-Type"] == "application/json"


def test_timeouts_are_separate(transport: FakeTransport) -> None:
    client = EngageClient(BASE_URL, API_KEY, session=session_with(transport), timeouts=Timeouts(1.0, 2.0))
    transport.reply(200, GUID)
    client.lookup_contact(email=EMAIL)
    assert transport.sent[0].timeout == (1.0, 2.0)


def test_create_puts_source_and_store_in_the_query_and_attributes_in_the_body(
    client: EngageClient, transport: FakeTransport
) -> None:
    transport.reply(201, CONTACT)
    contact = client.create_contact(
        {"email": EMAIL, "firstName": "Jane"},
        source="ECOM",
        store_external_id="online se",
        create_as_unapproved=True,
        contact_type="Contact",
    )
    sent = transport.sent[0]
    assert sent.method == "POST"
    assert sent.url == (
        f"{BASE_URL}/api/v3/contacts?source=ECOM&storeExternalId=online+se&createAsUnapproved=true"
    )
    assert sent.json() == {"email": EMAIL, "firstName": "Jane", "contactType": "Contact"}
    assert contact.id == GUID
    assert contact.attributes == {"email": EMAIL}


def test_path_parameters_are_quoted(client: EngageClient, transport: FakeTransport) -> None:
    transport.reply(200, CONTACT).reply(200, None)
    client.get_contact("a/b?c=d#e")
    client.redeem_reward_voucher("../x y")
    assert transport.sent[0].url == f"{BASE_URL}/api/v3/contacts/a%2Fb%3Fc%3Dd%23e"
    assert transport.sent[1].url == f"{BASE_URL}/api/v3/reward-vouchers/..%2Fx%20y/redeem"


def test_a_lookup_that_finds_no_one_is_an_answer_not_a_failure(
    client: EngageClient, transport: FakeTransport
) -> None:
    # Given Engage knows no contact by the key
    transport.reply(404, {"errorCode": "ContactNotFound"})
    with capture_logs() as logs:
        assert client.lookup_contact(email=EMAIL) is None
    # Then it was asked once, and nothing at INFO says a call failed or weighs a retry (a new customer's
    # lookup is routine)
    assert len(transport.sent) == 1
    assert [e["event"] for e in logs] == ["engage.call", "engage.call.answered"]
    assert all(e["log_level"] == "debug" for e in logs)


def test_another_404_of_a_lookup_is_still_a_failure(client: EngageClient, transport: FakeTransport) -> None:
    transport.reply(404, {"errorCode": "NoSuchEndpoint"})
    with capture_logs() as logs, pytest.raises(NotFound):
        client.lookup_contact(email=EMAIL)
    assert {e["event"] for e in logs if e["log_level"] == "info"} == {
        "engage.call.failed",
        "engage.call.retry",
    }


def test_lookup_returns_the_guid_or_none(client: EngageClient, transport: FakeTransport) -> None:
    transport.reply(200, GUID).reply(404, {"errorCode": "ContactNotFound"})
    assert client.lookup_contact(mobile_phone="+46701234567", contact_type="Member") == GUID
    assert client.lookup_contact(custom_key="M-1") is None
    assert (
        transport.sent[0].url
        == f"{BASE_URL}/api/v3/contacts/id?mobilePhone=%2B46701234567&contactType=Member"
    )
    assert transport.sent[1].url == f"{BASE_URL}/api/v3/contacts/id?customKey=M-1"


def test_lookup_with_several_matches_raises_with_candidates(
    client: EngageClient, transport: FakeTransport
) -> None:
    transport.reply(
        409, {"errorCode": "MultipleMatches", "messageDetails": {"multipleMatchesFound": ["a", "b"]}}
    )
    with pytest.raises(MultipleMatches) as caught:
        client.lookup_contact(any_value=EMAIL)
    assert caught.value.candidate_ids == ("a", "b")


def test_lookup_needs_exactly_one_key(client: EngageClient) -> None:
    with pytest.raises(ValueError):
        client.lookup_contact()
    with pytest.raises(ValueError):
        client.lookup_contact(email=EMAIL, mobile_phone="+46701234567")


def test_patch_sends_only_the_changes(client: EngageClient, transport: FakeTransport) -> None:
    transport.reply(200, CONTACT)
    client.update_contact(GUID, {"lastName": "Doe"})
    assert (transport.sent[0].method, transport.sent[0].json()) == ("PATCH", {"lastName": "Doe"})
    with pytest.raises(ValueError):
        client.update_contact(GUID, {"contactType": "Member"})


@pytest.mark.parametrize(
    ("status", "body"), [(200, CONTACT), (200, None), (200, b"  "), (204, None), (201, CONTACT)]
)
def test_update_contact_type_takes_every_answer_voyado_may_give(
    client: EngageClient, transport: FakeTransport, status: int, body: Any
) -> None:
    # Voyado documents no answer for updateContactType: a contact, an empty 200 or a 204 all work
    transport.reply(status, body)
    if body is None or body == b"  ":
        transport.reply(200, CONTACT)  # the contact is read back
    contact = client.update_contact_type(GUID, "Member")
    assert contact.id == CONTACT["id"]
    assert (
        transport.sent[0].url == f"{BASE_URL}/api/v3/contacts/{GUID}/updateContactType?contactTypeId=Member"
    )
    assert [s.method for s in transport.sent] == ["POST"] + (["GET"] if body in (None, b"  ") else [])


@pytest.mark.parametrize("status", [201, 202])
def test_order_writes_take_201_and_202(client: EngageClient, transport: FakeTransport, status: int) -> None:
    job = {"jobId": "job-1", "orderId": "o-1", "href": "/api/v3/orders/jobs/job-1"}
    transport.reply(status, job).reply(status, job).reply(status, {})
    assert client.delete_order("o-1").job_id == "job-1"
    assert client.change_order_status("o-1", OrderStatusChange(status="Shipped")).job_id == "job-1"
    client.order_action("o-1", OrderActionRequest(action="ConfirmOrder", version_tag="t"))


@pytest.mark.parametrize("body", [[{"externalId": "s1", "name": "One"}], {"items": [{"externalId": "s1"}]}])
def test_list_stores_takes_an_array_or_a_page(
    client: EngageClient, transport: FakeTransport, body: Any
) -> None:
    transport.reply(200, body)
    assert [s.external_id for s in client.list_stores()] == ["s1"]


def test_list_stores_refuses_a_body_of_another_shape(client: EngageClient, transport: FakeTransport) -> None:
    transport.reply(200, {"stores": "none"})
    with pytest.raises(UnexpectedResponse):
        client.list_stores()


def test_bulk_refuses_too_many_rows_before_sending(client: EngageClient, transport: FakeTransport) -> None:
    rows = [{"email": f"{i}@example.com"} for i in range(MAX_BULK_CONTACTS + 1)]
    with pytest.raises(ValueError):
        client.bulk_create_contacts(rows)
    assert transport.sent == []


def test_bulk_returns_the_batch_id(client: EngageClient, transport: FakeTransport) -> None:
    transport.reply(202, "batch-1")
    assert client.bulk_update_contacts([{"id": GUID}], avoid_triggering_export=True) == "batch-1"
    assert transport.sent[0].url == f"{BASE_URL}/api/v3/contacts/bulk?avoidTriggeringExport=true"


def test_a_done_order_job_is_a_302_that_is_not_followed(
    client: EngageClient, transport: FakeTransport
) -> None:
    transport.reply(302, None, {"Location": "/api/v3/orders/o-1"})
    job = client.get_order_job("job-1")
    assert job == OrderJob(job_id="job-1", status="Completed", order_href="/api/v3/orders/o-1")
    assert job.done
    assert len(transport.sent) == 1


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"href": "/api/v3/orders/jobs/job-7"}, {}),
        ({"orderId": "o-1"}, {"Location": "https://acme.voyado.com/api/v3/orders/jobs/job-7"}),
        (None, {"Location": "/api/v3/orders/jobs/job-7"}),
    ],
)
def test_a_write_answered_only_with_a_link_to_its_job_names_the_job(
    client: EngageClient, transport: FakeTransport, body: Any, headers: dict[str, str]
) -> None:
    # Voyado: create and change requests return "201 Accepted" plus a link to the job (ref §2.10)
    transport.reply(201, body, headers)
    job = client.delete_order("o-1")
    assert job.job_id == "job-7" and not job.done


@pytest.mark.parametrize(
    ("body", "headers"),
    [({}, {}), ({"href": "/api/v3/orders/o-1"}, {}), (None, {"Location": "/api/v3/orders/o-1"}), ([], {})],
)
def test_a_write_answer_without_a_job_is_unexpected(
    client: EngageClient, transport: FakeTransport, body: Any, headers: dict[str, str]
) -> None:
    transport.reply(201, body, headers)
    with pytest.raises(UnexpectedResponse, match="job"):
        client.delete_order("o-1")


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (422, {"errorCode": "OrderJobFailed", "message": "Contact is missing"}, "Contact is missing"),
        (404, {"errorCode": "OrderNotFound", "message": "Order is missing"}, "Order is missing"),
        (400, {"errorCode": "StoreMissing"}, "StoreMissing"),
        (409, None, "HTTP 409"),
    ],
)
def test_a_job_poll_answered_with_an_error_is_the_failed_job(
    client: EngageClient, transport: FakeTransport, status: int, body: Any, reason: str
) -> None:
    # ref §2.10: the job poll gives a 302 on success, "an error otherwise"
    transport.reply(status, body)
    job = client.get_order_job("job-1")
    assert job.job_id == "job-1" and job.done and job.failed
    assert job.errors[0]["message"] == reason and job.errors[0]["status"] == status


@pytest.mark.parametrize("status", [401, 429, 503])
def test_a_job_poll_refused_for_other_reasons_raises(
    client: EngageClient, transport: FakeTransport, status: int
) -> None:
    for _ in range(SHORT_RETRY_ATTEMPTS):
        transport.reply(status, {})
    with pytest.raises((AuthenticationFailed, RateLimited, ServerError)):
        client.get_order_job("job-1")


@pytest.mark.parametrize(
    ("answer", "done", "failed"),
    [
        ({"status": "Pending"}, False, False),
        ({"status": "Completed"}, True, False),
        ({"status": "CompletedWithErrors"}, True, False),
        ({"status": "CompletedWithErrors", "errors": [{"message": "Article is missing"}]}, True, True),
        ({"status": "Failed", "errors": ["Store is missing"]}, True, True),
    ],
)
def test_a_job_is_done_when_completed_with_or_without_errors_or_failed(
    client: EngageClient, transport: FakeTransport, answer: dict[str, Any], done: bool, failed: bool
) -> None:
    transport.reply(200, {"jobId": "job-1", **answer})
    job = client.get_order_job("job-1")
    assert (job.done, job.failed) == (done, failed)


def test_money_is_sent_as_json_numbers(client: EngageClient, transport: FakeTransport) -> None:
    from engage.models import CartItem, CartUpdate

    transport.reply(202, {})
    client.track_cart(
        CartUpdate.model_validate(
            {"cartReference": "c1", "contactId": GUID, "time": "2026-11-24T10:15:00+01:00", "items": []}
        ).model_copy(update={"items": [CartItem(sku="s", quantity=Decimal("1.5"))]})
    )
    assert transport.sent[0].json()["items"] == [{"sku": "s", "quantity": 1.5}]
    assert transport.sent[0].json()["time"] == "2026-11-24T10:15:00+01:00"


# --- retries only where safe ---------------------------------------------------------------------------


def test_a_get_is_retried_on_503_then_succeeds(client: EngageClient, transport: FakeTransport) -> None:
    transport.reply(503, b"").reply(200, GUID)
    with capture_logs() as logs:
        assert client.lookup_contact(email=EMAIL) == GUID
    assert len(transport.sent) == 2
    retry_logs = [e for e in logs if e["event"] == "engage.call.retry"]
    assert retry_logs[0]["retry"] is True
    assert retry_logs[0]["reason"] == "GET is safe to repeat"


def test_a_get_gives_up_after_the_short_attempts(client: EngageClient, transport: FakeTransport) -> None:
    for _ in range(SHORT_RETRY_ATTEMPTS):
        transport.reply(503, b"")
    with pytest.raises(ServerError):
        client.get_contact(GUID)
    assert len(transport.sent) == SHORT_RETRY_ATTEMPTS


def test_a_post_whose_read_timed_out_is_not_resent(client: EngageClient, transport: FakeTransport) -> None:
    transport.fail(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(EngageTimeout) as caught:
        client.create_contact({"email": EMAIL}, source="ECOM", store_external_id="s1")
    assert caught.value.maybe_delivered is True
    assert len(transport.sent) == 1


def test_a_patch_whose_read_timed_out_is_not_resent(client: EngageClient, transport: FakeTransport) -> None:
    transport.fail(requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(EngageTimeout) as caught:
        client.update_contact(GUID, {"lastName": "Doe"})
    assert caught.value.maybe_delivered is True
    assert len(transport.sent) == 1


def test_a_post_is_not_resent_after_a_dropped_connection_or_a_503(
    client: EngageClient, transport: FakeTransport
) -> None:
    transport.fail(dropped()).reply(503, b"")
    with pytest.raises(EngageUnreachable) as caught:
        client.redeem_reward_voucher("v1")
    assert caught.value.maybe_delivered is True
    with pytest.raises(ServerError):
        client.redeem_reward_voucher("v1")
    assert len(transport.sent) == 2


def test_a_post_never_sent_is_retried(client: EngageClient, transport: FakeTransport) -> None:
    # Given a refused connection, then a connect timeout, then success
    transport.fail(refused()).fail(requests.exceptions.ConnectTimeout("connect")).reply(200, None)
    with capture_logs() as logs:
        client.redeem_promotion("a1", "POS")
    assert len(transport.sent) == 3
    assert all(s.json() == {"redemptionChannel": "POS"} for s in transport.sent)
    reasons = {e["reason"] for e in logs if e["event"] == "engage.call.retry"}
    assert reasons == {"request provably never sent"}


def test_refused_on_every_try_raises_unreachable(client: EngageClient, transport: FakeTransport) -> None:
    for _ in range(SHORT_RETRY_ATTEMPTS):
        transport.fail(refused())
    with pytest.raises(EngageUnreachable) as caught:
        client.lookup_contact(email=EMAIL)
    assert caught.value.maybe_delivered is False


def test_a_429_is_not_retried_and_slows_the_key(transport: FakeTransport) -> None:
    # Given a client with a limiter
    limiter = MemoryRateLimiter()
    client = EngageClient(BASE_URL, API_KEY, session=session_with(transport), rate_limiter=limiter)
    transport.reply(429, {"errorCode": "TooManyRequests"})
    # When Engage answers 429
    with pytest.raises(RateLimited):
        client.lookup_contact(email=EMAIL)
    # Then it was sent once, the key is cooling down for everyone and its rate is lowered
    assert len(transport.sent) == 1
    key = key_fingerprint(API_KEY)
    assert RATE_LIMIT_PENALTY_S - 0.1 < limiter.cooldown_remaining_s(key) <= RATE_LIMIT_PENALTY_S
    assert limiter.rate_now(key) < limiter.budget_for(key)


def test_the_limiter_is_asked_before_each_request(transport: FakeTransport) -> None:
    limiter = MemoryRateLimiter(default_budget_per_s=1)
    client = EngageClient(
        BASE_URL, API_KEY, session=session_with(transport), rate_limiter=limiter, max_rate_wait_s=0.05
    )
    transport.reply(200, GUID)
    client.lookup_contact(email=EMAIL)
    with pytest.raises(RateLimitWaitExceeded):
        client.lookup_contact(email=EMAIL)
    assert len(transport.sent) == 1


def test_already_redeemed_is_skippable(client: EngageClient, transport: FakeTransport) -> None:
    transport.reply(409, {"errorCode": "PromotionAlreadyRedeemed"})
    with pytest.raises(AlreadyRedeemed) as caught:
        client.redeem_promotion("a1", "ECOM")
    assert isinstance(caught.value, SkippableError)


# --- secrets and personal data -------------------------------------------------------------------------


def _all_text(errors: list[BaseException], logs: list[MutableMapping[str, Any]], client: EngageClient) -> str:
    parts = [repr(client), str(client.__dict__.get("_api_key"))]
    for exc in errors:
        parts += [str(exc), repr(exc), repr(vars(exc))]
        assert exc.__cause__ is None
        assert exc.__suppress_context__ or exc.__context__ is None
    parts += [repr(entry) for entry in logs]
    return "\n".join(parts)


def test_no_key_query_or_email_in_errors_reprs_or_logs(
    client: EngageClient, transport: FakeTransport
) -> None:
    # Given failures of every kind on calls whose query holds an email
    transport.reply(401, {"errorCode": "Unauthorized", "message": f"bad key {API_KEY}"})
    transport.reply(500, {"message": f"oops for {EMAIL}"}).reply(500, b"").reply(500, b"")
    for _ in range(SHORT_RETRY_ATTEMPTS):
        transport.fail(refused())
    for _ in range(SHORT_RETRY_ATTEMPTS):
        transport.fail(requests.exceptions.ReadTimeout(f"{BASE_URL}/api/v3/contacts/id?email={EMAIL}"))
    errors: list[BaseException] = []
    with capture_logs() as logs:
        for _ in range(4):
            try:
                client.lookup_contact(email=EMAIL)
            except (AuthenticationFailed, ServerError, EngageUnreachable, EngageTimeout) as exc:
                errors.append(exc)
    # Then nothing the caller can see or log holds the key, the query or the email
    assert len(errors) == 4
    text = _all_text(errors, logs, client)
    for secret in (API_KEY, EMAIL, "jane", "?email", "%40"):
        assert secret not in text
    assert any(e["event"] == "engage.call.failed" for e in logs)


def test_the_repr_names_the_key_only_by_fingerprint(client: EngageClient) -> None:
    assert API_KEY not in repr(client)
    assert key_fingerprint(API_KEY) in repr(client)
    assert re.fullmatch(r"[0-9a-f]{12}", key_fingerprint(API_KEY))


def test_the_overview_document_keeps_every_field_engage_sends(
    client: EngageClient, transport: FakeTransport
) -> None:
    transport.reply(200, {**CONTACT, "bonusBalance": 120, "promotions": []}).reply(
        200, ["not", "an", "overview"]
    )
    document = client.contact_overview_document(GUID)
    assert document["bonusBalance"] == 120 and document["unknownField"] == 1
    (sent,) = transport.sent
    assert sent.url == f"{BASE_URL}/api/v3/contactoverview?contactId={GUID}"
    with pytest.raises(UnexpectedResponse):
        client.contact_overview_document(GUID)
