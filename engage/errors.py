"""Every way an Engage call can fail, grouped by what the caller should do.

One tree, four bases by consequence; tasks classify with ``isinstance`` on the bases
(or read the class-level ``kind``)::

    EngageError
    ├── RetryableError            try again later, on the retry ladder
    │   ├── EngageUnreachable         refused (never sent) or dropped (``maybe_delivered``)
    │   ├── EngageTimeout             connect timeout (never sent) or read timeout (``maybe_delivered``)
    │   ├── ServerError               500/502/503/504, any other 5xx, 408
    │   ├── VersionTagMismatch        404 VersionTagMismatch: re-read the order's versionTag, retry
    │   └── ContactKeyTaken           409 on create: look the contact up again, then use it
    │       ├── ContactBeingCreated       409 ContactWithKeyIsBeingCreated
    │       └── ContactAlreadyExists      409 ApprovedContactWithKeyExists
    ├── DeferredError             not now: go again after ``retry_after_s``, on the same ladder step
    │   ├── RateLimited               429: the key's cooldown, shared by every worker (``retry_after_s``)
    │   └── RateLimitWaitExceeded     our own shared limiter would make us wait too long: never sent
    ├── SystemicError             hold the tenant and alert; drains by itself once fixed; never dead-letter
    │   ├── AuthenticationFailed      401/403: bad or rotated API key
    │   └── SystemMisconfigured       500 InvalidSystemConfiguration
    ├── PermanentError            reject at once, keeping Engage's code and message
    │   ├── BadRequest                400 and unknown 4xx
    │   ├── NotFound                  404
    │   │   ├── ContactNotFound
    │   │   └── OrderNotFound
    │   ├── ValidationFailed          422, with ``field_errors``
    │   ├── Conflict                  409 (PromotionExpired, RewardVoucherExpired, ...)
    │   │   └── MultipleMatches           409 MultipleMatches, with ``candidate_ids``
    │   └── UnexpectedResponse        a status or body the contract does not know
    └── SkippableError            counts as done; log it
        └── AlreadyRedeemed           409 PromotionAlreadyRedeemed / RewardVoucherAlreadyRedeemed /
                                      RewardVoucherAlreadyActivated

``ContactAlreadyExists`` is retryable, not permanent: the contact exists, so looking it up again
(which a retried task does first) succeeds. Callers that resolve contacts catch ``ContactKeyTaken``
and look up at once.

Every error carries ``status``, ``error_code``, ``method``, ``path`` (never the query string, which holds
emails and phone numbers), a truncated, redacted ``engage_message``, and ``request_id`` when Engage sent one.
None of them ever holds the API key, a query string or a request body.
``error_from_response`` is the one place that turns an HTTP answer into this tree.
The relay hangs its own branches (``ContactBusy``, ``EventUndecodable``, ``UnknownTenant``) under these
bases in ``relay/errors.py``.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

MAX_ENGAGE_MESSAGE_CHARS = 200
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-correlation-id", "x-ms-request-id")

_EMAIL_RE = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+")
_LONG_NUMBER_RE = re.compile(r"\+?\d[\d\s-]{5,}\d")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]+")


class ErrorKind(enum.StrEnum):
    """What the caller should do; the four bases of the tree."""

    RETRYABLE = "retryable"
    DEFERRED = "deferred"
    SYSTEMIC = "systemic"
    PERMANENT = "permanent"
    SKIPPABLE = "skippable"


@dataclass(frozen=True)
class FieldError:
    """One per-field message of a 422 ValidationError (the message is redacted)."""

    field: str
    message: str


def sanitize_message(text: str | None) -> str | None:
    """Engage's message made safe to log: control characters, emails and long numbers removed, truncated."""
    if text is None:
        return None
    cleaned = _CONTROL_RE.sub(" ", text)
    cleaned = _EMAIL_RE.sub("<email>", cleaned)
    cleaned = _LONG_NUMBER_RE.sub("<number>", cleaned).strip()
    if len(cleaned) > MAX_ENGAGE_MESSAGE_CHARS:
        cleaned = cleaned[: MAX_ENGAGE_MESSAGE_CHARS - 3] + "..."
    return cleaned


def strip_query(path: str) -> str:
    """The path alone: everything from ``?`` or ``#`` on may hold personal data."""
    return path.split("?", 1)[0].split("#", 1)[0]


class EngageError(Exception):
    """Base of every Engage failure; see the module docstring for the tree."""

    kind: ClassVar[ErrorKind] = ErrorKind.PERMANENT

    def __init__(
        self,
        summary: str = "",
        *,
        status: int | None = None,
        error_code: str | None = None,
        method: str | None = None,
        path: str | None = None,
        engage_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.method = method
        self.path = strip_query(path) if path is not None else None
        self.engage_message = sanitize_message(engage_message)
        self.request_id = request_id
        self.summary = summary
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [f"{self.method or '?'} {self.path or '?'}"]
        if self.status is not None:
            parts.append(f"-> {self.status}")
        if self.error_code:
            parts.append(self.error_code)
        if self.summary:
            parts.append(f"({self.summary})")
        if self.engage_message:
            parts.append(f": {self.engage_message}")
        if self.request_id:
            parts.append(f"[request {self.request_id}]")
        return " ".join(parts)

    def redact(self, secret: str) -> None:
        """Remove a secret (the API key) should Engage have echoed it in its message."""
        if secret and self.engage_message and secret in self.engage_message:
            self.engage_message = self.engage_message.replace(secret, "<redacted>")
            self.args = (self._text(),)

    def log_fields(self) -> dict[str, Any]:
        """Safe structured fields for a log line or a dead letter."""
        return {
            "error": type(self).__name__,
            "kind": self.kind.value,
            "status": self.status,
            "error_code": self.error_code,
            "method": self.method,
            "path": self.path,
            "engage_message": self.engage_message,
            "request_id": self.request_id,
        }


class RetryableError(EngageError):
    kind = ErrorKind.RETRYABLE


class DeferredError(EngageError):
    kind = ErrorKind.DEFERRED
    retry_after_s: float | None = None


class SystemicError(EngageError):
    kind = ErrorKind.SYSTEMIC


class PermanentError(EngageError):
    kind = ErrorKind.PERMANENT


class SkippableError(EngageError):
    kind = ErrorKind.SKIPPABLE


class EngageUnreachable(RetryableError):
    """No HTTP answer: the connection failed (never sent) or dropped (``maybe_delivered``)."""

    def __init__(self, summary: str = "", *, maybe_delivered: bool = False, **kwargs: Any) -> None:
        self.maybe_delivered = maybe_delivered
        super().__init__(summary, **kwargs)


class EngageTimeout(RetryableError):
    """No answer in time; ``maybe_delivered`` is True when the request may have reached Engage."""

    def __init__(self, summary: str = "", *, maybe_delivered: bool, **kwargs: Any) -> None:
        self.maybe_delivered = maybe_delivered
        super().__init__(summary, **kwargs)


class RateLimited(DeferredError):
    """429: the key is over Engage's rate; ``retry_after_s`` when Engage said how long to wait."""

    def __init__(self, summary: str = "", *, retry_after_s: float | None = None, **kwargs: Any) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(summary, **kwargs)


class RateLimitWaitExceeded(DeferredError):
    """Our shared limiter would make this call wait longer than allowed; nothing was sent."""

    def __init__(self, summary: str = "", *, wait_s: float, **kwargs: Any) -> None:
        self.wait_s = wait_s
        self.retry_after_s = wait_s
        super().__init__(summary, **kwargs)


class ServerError(RetryableError):
    """Engage (or a proxy in front of it) failed: 5xx or 408."""


class VersionTagMismatch(RetryableError):
    """404 VersionTagMismatch: the order moved on; read its versionTag again and retry the action."""


class ContactKeyTaken(RetryableError):
    """409 on create: a contact with that key exists or is being made; look it up again."""


class ContactBeingCreated(ContactKeyTaken):
    """409 ContactWithKeyIsBeingCreated."""


class ContactAlreadyExists(ContactKeyTaken):
    """409 ApprovedContactWithKeyExists."""


class AuthenticationFailed(SystemicError):
    """401/403: the API key is wrong, rotated or not allowed from this address."""


class SystemMisconfigured(SystemicError):
    """500 InvalidSystemConfiguration: the tenant's Engage configuration is broken."""


class BadRequest(PermanentError):
    """400, or a 4xx the contract does not name."""


class NotFound(PermanentError):
    """404; ``error_code`` says what was missing."""


class ContactNotFound(NotFound):
    """404 ContactNotFound."""


class OrderNotFound(NotFound):
    """404 OrderNotFound."""


class ValidationFailed(PermanentError):
    """422 ValidationError, with Engage's per-field messages."""

    def __init__(
        self, summary: str = "", *, field_errors: tuple[FieldError, ...] = (), **kwargs: Any
    ) -> None:
        self.field_errors = field_errors
        super().__init__(summary, **kwargs)


class Conflict(PermanentError):
    """409 that no retry can fix (PromotionExpired, PromotionNotValidForRedemptionChannel, ...)."""


class MultipleMatches(Conflict):
    """409 MultipleMatches: the key names several contacts; ``candidate_ids`` are their GUIDs."""

    def __init__(self, summary: str = "", *, candidate_ids: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.candidate_ids = candidate_ids
        super().__init__(summary, **kwargs)


class UnexpectedResponse(PermanentError):
    """A status or body that the contract does not describe."""


class AlreadyRedeemed(SkippableError):
    """409 ...AlreadyRedeemed / AlreadyActivated: the wanted state already holds."""


# --- the one mapping from (status, error code) to the tree -------------------------------------------

_BY_STATUS_AND_CODE: Mapping[tuple[int, str], type[EngageError]] = {
    (409, "contactwithkeyisbeingcreated"): ContactBeingCreated,
    (409, "approvedcontactwithkeyexists"): ContactAlreadyExists,
    (409, "multiplematches"): MultipleMatches,
    (409, "promotionalreadyredeemed"): AlreadyRedeemed,
    (409, "rewardvoucheralreadyredeemed"): AlreadyRedeemed,
    (409, "rewardvoucheralreadyactivated"): AlreadyRedeemed,
    (404, "contactnotfound"): ContactNotFound,
    (404, "ordernotfound"): OrderNotFound,
    (404, "versiontagmismatch"): VersionTagMismatch,
    (500, "invalidsystemconfiguration"): SystemMisconfigured,
}

_BY_STATUS: Mapping[int, type[EngageError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: AuthenticationFailed,
    404: NotFound,
    408: ServerError,
    409: Conflict,
    422: ValidationFailed,
    429: RateLimited,
}

_CODE_KEYS = ("errorcode", "code", "error", "errortype")
_MESSAGE_KEYS = ("message", "detail", "title", "error_description", "errormessage")


def _ci_get(obj: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    folded = {str(k).casefold(): v for k, v in obj.items()}
    for name in names:
        if name in folded and folded[name] not in (None, ""):
            return folded[name]
    return None


def _parse_body(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body.decode("utf-8", errors="replace"))
    except ValueError:
        return body.decode("utf-8", errors="replace")


def _code_and_message(parsed: Any) -> tuple[str | None, str | None]:
    if isinstance(parsed, str):
        return None, parsed
    if not isinstance(parsed, Mapping):
        return None, None
    code = _ci_get(parsed, _CODE_KEYS)
    message = _ci_get(parsed, _MESSAGE_KEYS)
    if isinstance(code, Mapping):  # {"error": {"code": ..., "message": ...}}
        message = message or _ci_get(code, _MESSAGE_KEYS)
        code = _ci_get(code, _CODE_KEYS)
    return (str(code) if isinstance(code, str | int) else None), (
        str(message) if isinstance(message, str | int) else None
    )


def _details(parsed: Any) -> Mapping[str, Any]:
    if isinstance(parsed, Mapping):
        details = _ci_get(parsed, ("messagedetails", "details"))
        if isinstance(details, Mapping):
            return details
    return {}


def _candidate_ids(details: Mapping[str, Any]) -> tuple[str, ...]:
    found = _ci_get(details, ("multiplematchesfound",))
    if isinstance(found, list):
        return tuple(str(x) for x in found if isinstance(x, str | int))
    return ()


def _field_errors(parsed: Any, details: Mapping[str, Any]) -> tuple[FieldError, ...]:
    raw = _ci_get(details, ("errors",))
    if raw is None and isinstance(parsed, Mapping):
        raw = _ci_get(parsed, ("errors",))
    out: list[FieldError] = []
    if isinstance(raw, list):
        for item in raw:
            if isinstance(item, Mapping):
                field = _ci_get(item, ("field", "name", "property"))
                msg = sanitize_message(str(_ci_get(item, ("message", "error")) or "")) or ""
                out.append(FieldError(field=str(field) if field is not None else "", message=msg))
    elif isinstance(raw, Mapping):  # {"errors": {"email": ["..."]}} (ASP.NET problem details)
        for field, msgs in raw.items():
            text = "; ".join(str(m) for m in msgs) if isinstance(msgs, list) else str(msgs)
            out.append(FieldError(field=str(field), message=sanitize_message(text) or ""))
    return tuple(out)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds, or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _class_for(status: int, code: str | None) -> type[EngageError]:
    if code is not None:
        by_code = _BY_STATUS_AND_CODE.get((status, code.casefold()))
        if by_code is not None:
            return by_code
    by_status = _BY_STATUS.get(status)
    if by_status is not None:
        return by_status
    if status >= 500:
        return ServerError
    if status >= 400:
        return BadRequest
    return UnexpectedResponse


def error_from_response(
    method: str, path: str, status: int, body: bytes, headers: Mapping[str, str]
) -> EngageError:
    """Turn one HTTP answer into the right error; tolerant of any body (JSON of any shape, text, empty)."""
    parsed = _parse_body(body)
    code, message = _code_and_message(parsed)
    lower_headers = {k.lower(): v for k, v in headers.items()}
    request_id = next((lower_headers[h] for h in REQUEST_ID_HEADERS if lower_headers.get(h)), None)
    common: dict[str, Any] = {
        "status": status,
        "error_code": code,
        "method": method.upper(),
        "path": path,
        "engage_message": message,
        "request_id": request_id,
    }
    cls = _class_for(status, code)
    details = _details(parsed)
    if cls is MultipleMatches:
        return MultipleMatches(candidate_ids=_candidate_ids(details), **common)
    if cls is ValidationFailed:
        return ValidationFailed(field_errors=_field_errors(parsed, details), **common)
    if cls is RateLimited:
        return RateLimited(retry_after_s=retry_after_seconds(lower_headers.get("retry-after")), **common)
    return cls(**common)
