"""(status, Engage error code) -> error class, for every code in docs/engage-contract.md and odd bodies."""

from __future__ import annotations

import json

import pytest

from engage.errors import (
    AlreadyRedeemed,
    AuthenticationFailed,
    BadRequest,
    Conflict,
    ContactAlreadyExists,
    ContactBeingCreated,
    ContactKeyTaken,
    ContactNotFound,
    DeferredError,
    EngageError,
    ErrorKind,
    MultipleMatches,
    NotFound,
    OrderNotFound,
    PermanentError,
    RateLimited,
    RetryableError,
    ServerError,
    SkippableError,
    SystemicError,
    SystemMisconfigured,
    UnexpectedResponse,
    ValidationFailed,
    VersionTagMismatch,
    error_from_response,
)

TABLE: list[tuple[int, str | None, type[EngageError], type[EngageError]]] = [
    # status, errorCode, exact class, consequence base
    (400, "InvalidEmailAddress", BadRequest, PermanentError),
    (400, "InvalidPhoneNumber", BadRequest, PermanentError),
    (400, "InvalidSocialSecurityNumber", BadRequest, PermanentError),
    (400, "InvalidContactType", BadRequest, PermanentError),
    (400, "InvalidSearchQuery", BadRequest, PermanentError),
    (400, "InvalidContactId", BadRequest, PermanentError),
    (400, "NoData", BadRequest, PermanentError),
    (400, "TooManyContacts", BadRequest, PermanentError),
    (400, "InvalidPromotionId", BadRequest, PermanentError),
    (400, "NotAValidRedemptionChannel", BadRequest, PermanentError),
    (400, "InvalidRewardVoucherId", BadRequest, PermanentError),
    (401, "Unauthorized", AuthenticationFailed, SystemicError),
    (403, None, AuthenticationFailed, SystemicError),
    (404, "ContactNotFound", ContactNotFound, PermanentError),
    (404, "OrderNotFound", OrderNotFound, PermanentError),
    (404, "VersionTagMismatch", VersionTagMismatch, RetryableError),
    (404, "BatchNotFound", NotFound, PermanentError),
    (404, "PromotionNotFound", NotFound, PermanentError),
    (404, "RewardVoucherNotFound", NotFound, PermanentError),
    (409, "MultipleMatches", MultipleMatches, PermanentError),
    (409, "ApprovedContactWithKeyExists", ContactAlreadyExists, RetryableError),
    (409, "ContactWithKeyIsBeingCreated", ContactBeingCreated, RetryableError),
    (409, "PromotionAlreadyRedeemed", AlreadyRedeemed, SkippableError),
    (409, "RewardVoucherAlreadyRedeemed", AlreadyRedeemed, SkippableError),
    (409, "RewardVoucherAlreadyActivated", AlreadyRedeemed, SkippableError),
    (409, "PromotionExpired", Conflict, PermanentError),
    (409, "RewardVoucherExpired", Conflict, PermanentError),
    (409, "PromotionNotValidForRedemptionChannel", Conflict, PermanentError),
    (422, "ValidationError", ValidationFailed, PermanentError),
    (422, "OrderHasNoContact", ValidationFailed, PermanentError),
    (429, "TooManyRequests", RateLimited, DeferredError),
    (500, "InvalidSystemConfiguration", SystemMisconfigured, SystemicError),
    (500, None, ServerError, RetryableError),
    (502, None, ServerError, RetryableError),
    (503, None, ServerError, RetryableError),
    (504, "GatewayTimeout", ServerError, RetryableError),
    (507, "SomethingNew", ServerError, RetryableError),
    (408, None, ServerError, RetryableError),
    (418, "Teapot", BadRequest, PermanentError),
    (302, None, UnexpectedResponse, PermanentError),
]


def body(status: int, code: str | None, **extra: object) -> bytes:
    payload: dict[str, object] = {"statusCode": status, "message": "text", **extra}
    if code is not None:
        payload["errorCode"] = code
    return json.dumps(payload).encode()


@pytest.mark.parametrize(("status", "code", "cls", "base"), TABLE)
def test_status_and_code_map_to_one_class(
    status: int, code: str | None, cls: type[EngageError], base: type[EngageError]
) -> None:
    # When Engage answers with this status and code
    error = error_from_response("post", "/api/v3/x", status, body(status, code), {})
    # Then the exact class, its consequence base and its kind are right, and the facts are kept
    assert type(error) is cls
    assert isinstance(error, base)
    assert error.kind == base.kind
    assert (error.status, error.error_code, error.method, error.path) == (status, code, "POST", "/api/v3/x")


def test_each_class_has_exactly_one_consequence() -> None:
    bases = (RetryableError, DeferredError, SystemicError, PermanentError, SkippableError)
    for _, _, cls, _ in TABLE:
        assert sum(issubclass(cls, b) for b in bases) == 1
    assert {b.kind for b in bases} == set(ErrorKind)


def test_contact_key_taken_groups_the_look_up_again_cases() -> None:
    assert issubclass(ContactAlreadyExists, ContactKeyTaken)
    assert issubclass(ContactBeingCreated, ContactKeyTaken)


def test_multiple_matches_carries_the_candidates() -> None:
    raw = body(409, "MultipleMatches", messageDetails={"multipleMatchesFound": ["id1", "id2"]})
    error = error_from_response("GET", "/api/v3/contacts/id", 409, raw, {})
    assert isinstance(error, MultipleMatches)
    assert error.candidate_ids == ("id1", "id2")


def test_validation_failed_carries_field_errors_without_personal_data() -> None:
    details = {"errors": [{"field": "email", "message": "jane@example.com is not valid"}]}
    error = error_from_response(
        "POST", "/api/v3/contacts", 422, body(422, "ValidationError", messageDetails=details), {}
    )
    assert isinstance(error, ValidationFailed)
    assert [(f.field, f.message) for f in error.field_errors] == [("email", "<email> is not valid")]


def test_rate_limited_reads_retry_after() -> None:
    error = error_from_response("GET", "/p", 429, b"", {"Retry-After": "2.5"})
    assert isinstance(error, RateLimited)
    assert error.retry_after_s == 2.5
    assert isinstance(error_from_response("GET", "/p", 429, b"", {}), RateLimited)


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (b"", None, None),
        (b"   ", None, None),
        (b"<html>Bad gateway</html>", None, "<html>Bad gateway</html>"),
        (b'{"message": "An error has occurred"}', None, "An error has occurred"),
        (b'{"code": "ContactNotFound"}', "ContactNotFound", None),
        (b'{"error": "ContactNotFound", "detail": "gone"}', "ContactNotFound", "gone"),
        (b'{"error": {"code": "ContactNotFound", "message": "gone"}}', "ContactNotFound", "gone"),
        (b'{"ErrorCode": "ContactNotFound"}', "ContactNotFound", None),
        (b'["a", "list"]', None, None),
        (b'"just a string"', None, "just a string"),
        (b"\xff\xfe not utf-8", None, "\ufffd\ufffd not utf-8"),
    ],
)
def test_odd_bodies_are_tolerated(raw: bytes, code: str | None, message: str | None) -> None:
    error = error_from_response("GET", "/api/v3/contacts/x", 404, raw, {})
    assert isinstance(error, NotFound)
    assert error.error_code == code
    assert error.engage_message == message


def test_code_under_another_key_still_selects_the_class() -> None:
    assert type(error_from_response("GET", "/p", 404, b'{"code": "ContactNotFound"}', {})) is ContactNotFound


def test_no_query_string_or_personal_data_in_the_error() -> None:
    # Given a path that (wrongly) still has a query, and a message quoting the email and phone
    raw = body(404, "ContactNotFound", message="No contact jane.doe@example.com / +46701234567\n")
    error = error_from_response("GET", "/api/v3/contacts/id?email=jane.doe%40example.com", 404, raw, {})
    text = str(error)
    # Then neither the query nor the personal data is in the error
    assert error.path == "/api/v3/contacts/id"
    for secret in ("jane", "example.com", "46701234567", "?"):
        assert secret not in text
        assert secret not in repr(error.log_fields())


def test_long_messages_are_truncated_and_request_id_kept() -> None:
    raw = body(500, None, message="x" * 5000)
    error = error_from_response("GET", "/p", 500, raw, {"X-Request-Id": "req-42"})
    assert error.engage_message is not None
    assert len(error.engage_message) <= 200
    assert error.request_id == "req-42"
    assert "req-42" in str(error)
