"""The base client: HTTP session, auth headers, timeouts, the rate limiter and short retries in one place.

Endpoint methods (``engage.client``) only name a path and a response model; everything that every call
shares lives here, as in openai-python's base client.

Safety rules:
- the API key goes only into the ``apikey`` header of each request, never into the shared session,
  a URL, an error, a log line or a repr (``key_fingerprint`` names a key without revealing it);
- errors and log lines carry the path without its query string (queries hold emails and phone numbers),
  and low-level exceptions are not chained (their text holds the full URL);
- TLS verification is always on.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

import requests
import structlog
import urllib3.exceptions
from pydantic import BaseModel, SecretStr, ValidationError
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_ACCEPT_ENCODING
from tenacity import RetryCallState, Retrying, stop_after_attempt

from engage.errors import (
    EngageError,
    EngageTimeout,
    EngageUnreachable,
    RateLimited,
    RateLimitWaitExceeded,
    RetryableError,
    UnexpectedResponse,
    error_from_response,
)
from engage.ratelimit import DEFAULT_MAX_WAIT_S, Lane, RateLimiter
from engage.retry import DEFAULT_SHORT_RETRY, ShortRetryPolicy
from engage.version import USER_AGENT

DEFAULT_CONNECT_TIMEOUT_S = 3.05
DEFAULT_READ_TIMEOUT_S = 15.0
DEFAULT_POOL_MAXSIZE = 32
RATE_LIMIT_PENALTY_S = 0.5
"""How long a 429 without Retry-After stops the key for every worker (Voyado documents no Retry-After).
Half a window: what is left of the window the 429 came in, on average; the key's lowered rate
(engage/ratelimit.py) keeps the next windows under the limit."""
KEY_FINGERPRINT_HEX_CHARS = 12
SAFE_TO_REPEAT_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = structlog.get_logger("engage.client")
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class CallObservation:
    """One finished Engage exchange, for an observer (metrics): never the key, the query or a body."""

    key_id: str
    method: str
    path: str  # without the query string; ids in it are the caller's to fold into a template
    status: int | None  # None: no HTTP answer (see ``error``)
    seconds: float  # the HTTP exchange alone
    rate_wait_s: float  # time spent waiting for the shared rate limiter before it
    error: str | None = None  # the error class when there was no HTTP answer


CallObserver = Callable[[CallObservation], None]


@dataclass(frozen=True)
class Timeouts:
    """Separate connect and read timeouts, in seconds."""

    connect_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_s: float = DEFAULT_READ_TIMEOUT_S


def key_fingerprint(api_key: str) -> str:
    """A stable, non-secret name for an API key: the first hex characters of its SHA-256."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:KEY_FINGERPRINT_HEX_CHARS]


_sessions: dict[int, requests.Session] = {}
_sessions_lock = threading.Lock()


def shared_session(pool_maxsize: int = DEFAULT_POOL_MAXSIZE) -> requests.Session:
    """The process's pooled session for a pool size (thread-safe); holds no credentials."""
    with _sessions_lock:
        session = _sessions.get(pool_maxsize)
        if session is None:
            session = requests.Session()
            # Each client reads the environment's proxies and CA bundle once (`environment_settings`);
            # requests would look them up, and stat ~/.netrc, on every request (a tenth of a call's CPU).
            session.trust_env = False
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _sessions[pool_maxsize] = session
        return session


def environment_settings(base_url: str) -> tuple[dict[str, str], bool | str]:
    """The proxies and TLS verification requests takes from the environment for `base_url` (HTTPS_PROXY,
    NO_PROXY, REQUESTS_CA_BUNDLE...), read once: what a session that trusts the environment merges into
    every request to that URL."""
    with requests.Session() as probe:
        merged = probe.merge_environment_settings(base_url, {}, None, True, None)
    verify = merged["verify"]
    return dict(merged["proxies"]), True if verify is None else verify


# what `requests.utils.default_headers` adds that `_headers` does not set itself
_REQUESTS_DEFAULT_HEADERS = {"Accept-Encoding": DEFAULT_ACCEPT_ENCODING, "Connection": "keep-alive"}


def _normalised(base_url: str) -> str:
    """The base URL as requests would send it (IDNA host, quoted path), computed once per client."""
    probe = requests.PreparedRequest()
    probe.prepare_url(base_url, None)
    return (probe.url or base_url).rstrip("/")


def _never_sent(exc: EngageError) -> bool:
    return isinstance(exc, EngageUnreachable | EngageTimeout) and not exc.maybe_delivered


def should_retry(method: str, path: str, exc: BaseException, attempt: int) -> bool:
    """The one short-retry decision; logs why, in every branch (never the key or the query)."""
    if not isinstance(exc, EngageError):
        decision, reason = False, "not an Engage error"
    elif isinstance(exc, RateLimited | RateLimitWaitExceeded):
        decision, reason = False, "rate limited: the shared limiter paces the next try"
    elif not isinstance(exc, RetryableError):
        decision, reason = False, f"{exc.kind.value} error"
    elif _never_sent(exc):
        decision, reason = True, "request provably never sent"
    elif method in SAFE_TO_REPEAT_METHODS:
        decision, reason = True, f"{method} is safe to repeat"
    else:
        decision, reason = False, f"{method} may have been applied; not re-sent"
    log.info(
        "engage.call.retry",
        retry=decision,
        reason=reason,
        method=method,
        path=path,
        attempt=attempt,
        error=type(exc).__name__,
        status=getattr(exc, "status", None),
        error_code=getattr(exc, "error_code", None),
    )
    return decision


BAD_API_KEY: Final = "API key has surrounding blanks or a line break: check how it is set"


def api_key_is_one_token(api_key: str) -> bool:
    """Whether the key can go in a header as it is (a key read from a file often ends in a line break)."""
    return api_key == api_key.strip() and not any(c in api_key for c in "\r\n\x00")


class BaseEngageClient:
    """Sends one Engage request with everything every call shares; endpoint methods live in subclasses."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeouts: Timeouts = Timeouts(),  # frozen, so one shared default is safe
        rate_limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        retry: ShortRetryPolicy = DEFAULT_SHORT_RETRY,
        pool_maxsize: int = DEFAULT_POOL_MAXSIZE,
        max_rate_wait_s: float = DEFAULT_MAX_WAIT_S,
        rate_lane: Lane = "live",
        on_response: CallObserver | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an Engage API key is required")
        if not api_key_is_one_token(api_key):
            # said without the key: http.client's own error would show it
            raise ValueError(f"the Engage {BAD_API_KEY}")
        self.base_url = base_url
        self._api_key = SecretStr(api_key)
        self.key_id = key_fingerprint(api_key)
        self.timeouts = timeouts
        self.rate_limiter = rate_limiter
        self.session = session if session is not None else shared_session(pool_maxsize)
        self.retry = retry
        self.max_rate_wait_s = max_rate_wait_s
        self.rate_lane: Lane = rate_lane
        self.on_response = on_response

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, key_id={self.key_id!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    @base_url.setter
    def base_url(self, value: str) -> None:
        self._base_url = value.rstrip("/")
        self._url_base = _normalised(self._base_url)  # as requests sends it, computed once
        self._proxies, self._verify = environment_settings(self._base_url)

    def _headers(self, method: str, has_body: bool) -> dict[str, str]:
        headers = {
            "apikey": self._api_key.get_secret_value(),
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        # Voyado: Content-Type is mandatory, or Engage answers 500. Every body carries it, and so does a
        # write without one (updateContactType, a voucher redeem), where the header costs nothing.
        if has_body or method.upper() in WRITE_METHODS:
            headers["Content-Type"] = "application/json"
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        ok: Collection[int] = (200,),
        answers: tuple[type[EngageError], ...] = (),
    ) -> requests.Response:
        """Send with short retries where safe; return the response if its status is in ``ok``, else raise.

        ``answers``: errors that are the call's answer, not a failure (a lookup's ``ContactNotFound``): raised
        as any error, but never retried and logged at DEBUG, so a new customer's lookup is no INFO line."""
        method = method.upper()

        def decide(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome is not None else None
            if exc is None or isinstance(exc, answers):
                return False
            return should_retry(method, path, exc, state.attempt_number)

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts), wait=self.retry.wait, retry=decide, reraise=True
        )
        for attempt in retrying:
            with attempt:
                return self._send_once(method, path, params, body, ok, answers)
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        body: Any,
        ok: Collection[int],
        answers: tuple[type[EngageError], ...] = (),
    ) -> requests.Response:
        waited_s = 0.0
        if self.rate_limiter is not None:
            try:
                waited_s = self.rate_limiter.acquire(
                    self.key_id, lane=self.rate_lane, max_wait_s=self.max_rate_wait_s
                )
            except RateLimitWaitExceeded as exc:  # the same error, now naming the call
                self._observe(method, path, None, 0.0, exc.wait_s, type(exc).__name__)
                raise RateLimitWaitExceeded(
                    exc.summary, wait_s=exc.wait_s, method=method, path=path
                ) from None
        data = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        started = time.monotonic()
        try:
            response = self._exchange(method, path, params, data)
        except EngageError as exc:
            self._observe(method, path, None, time.monotonic() - started, waited_s, type(exc).__name__)
            raise
        elapsed_s = time.monotonic() - started
        self._observe(method, path, response.status_code, elapsed_s, waited_s, None)
        elapsed_ms = round(elapsed_s * 1000, 1)
        log.debug("engage.call", method=method, path=path, status=response.status_code, elapsed_ms=elapsed_ms)
        if response.status_code in ok:
            return response
        error = error_from_response(method, path, response.status_code, response.content, response.headers)
        error.redact(self._api_key.get_secret_value())
        if isinstance(error, RateLimited) and self.rate_limiter is not None:
            penalty_s = error.retry_after_s if error.retry_after_s is not None else RATE_LIMIT_PENALTY_S
            self.rate_limiter.penalize(self.key_id, penalty_s)
        if isinstance(error, answers):
            log.debug("engage.call.answered", elapsed_ms=elapsed_ms, **error.log_fields())
        else:
            log.info("engage.call.failed", elapsed_ms=elapsed_ms, **error.log_fields())
        raise error

    def _observe(
        self, method: str, path: str, status: int | None, seconds: float, waited_s: float, error: str | None
    ) -> None:
        """Tell the observer, if any; an observer that fails never fails the call."""
        if self.on_response is None:
            return
        try:
            self.on_response(CallObservation(self.key_id, method, path, status, seconds, waited_s, error))
        except Exception as exc:  # an observer is never worth a failed call
            log.warning("engage.call.observer_failed", error=type(exc).__name__)

    def _exchange(
        self, method: str, path: str, params: Mapping[str, str | int] | None, data: bytes | None
    ) -> requests.Response:
        """One HTTP exchange; transport failures become errors that say whether the body may have arrived.

        The request is prepared here and handed to the session's adapter (its connection pools), not to
        `Session.request`: that would merge the session's settings, cookies and hooks into it and parse the
        URL again on every call, a quarter of a call's CPU, for nothing the relay uses (no redirects are
        followed, the environment is read once per client, and no cookie of one tenant's Engage should
        ride on another's request). A session given to the client lends it its adapters (connection pools)
        only: its headers, auth, cookies and hooks are not applied."""
        request = self._prepare(method, path, params, data)
        try:
            response = self.session.get_adapter(request.url or "").send(
                request,
                stream=False,
                timeout=(self.timeouts.connect_s, self.timeouts.read_s),
                verify=self._verify,
                cert=None,
                proxies=self._proxies,
            )
            response.content  # noqa: B018 - read the body now, as Session.send does: the connection goes back
            return response
        # `from None` throughout: the low-level exception's text holds the URL with its query string.
        except requests.exceptions.ConnectTimeout:
            raise EngageTimeout("connect timeout", maybe_delivered=False, method=method, path=path) from None
        except requests.exceptions.ReadTimeout:
            raise EngageTimeout("read timeout", maybe_delivered=True, method=method, path=path) from None
        except requests.exceptions.SSLError:
            raise EngageUnreachable("TLS handshake failed", method=method, path=path) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            # the request arrived; its answer was cut off or cannot be read
            raise EngageUnreachable(
                "answer cut off", maybe_delivered=True, method=method, path=path
            ) from None
        except requests.exceptions.ConnectionError as exc:
            never_sent = _connection_never_made(exc)
            summary = "connection failed" if never_sent else "connection dropped"
            raise EngageUnreachable(
                summary, maybe_delivered=not never_sent, method=method, path=path
            ) from None

    def _prepare(
        self, method: str, path: str, params: Mapping[str, str | int] | None, data: bytes | None
    ) -> requests.PreparedRequest:
        """What `PreparedRequest.prepare` would build for this call: the base URL normalised once (at
        construction), a path of quoted segments and a query encoded as requests would (urlencode), the
        headers requests adds by default under the call's own, and the body's length."""
        method = method.upper()
        request = requests.PreparedRequest()
        request.method = method
        request.url = f"{self._url_base}{path}?{urlencode(params)}" if params else self._url_base + path
        headers: CaseInsensitiveDict[str] = CaseInsensitiveDict(_REQUESTS_DEFAULT_HEADERS)
        headers.update(self._headers(method, data is not None))
        if data is not None:
            headers["Content-Length"] = str(len(data))
        elif method not in ("GET", "HEAD"):
            headers["Content-Length"] = "0"
        request.headers = headers
        request.body = data
        return request

    @staticmethod
    def parse(response: requests.Response, model: type[ModelT], method: str, path: str) -> ModelT:
        """The response body as ``model``; a body that does not fit is an ``UnexpectedResponse``."""
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError):
            raise UnexpectedResponse(
                f"body is not a {model.__name__}", status=response.status_code, method=method, path=path
            ) from None

    @staticmethod
    def json_string(response: requests.Response, method: str, path: str) -> str:
        """A body that is one JSON string (a GUID or a batch id); a bare unquoted string is tolerated."""
        try:
            value = response.json()
        except ValueError:
            value = response.text.strip().strip('"')
        if not isinstance(value, str) or not value:
            raise UnexpectedResponse(
                "body is not a JSON string", status=response.status_code, method=method, path=path
            )
        return value


def _connection_never_made(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the TCP connection was never established (refused, no route, DNS), so nothing was sent."""
    first = exc.args[0] if exc.args else None
    reason: BaseException | None = first if isinstance(first, BaseException) else None
    seen = 0
    while reason is not None and seen < 5:
        if isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
            return True
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        else:
            reason = reason.__context__ or reason.__cause__
        seen += 1
    return False
