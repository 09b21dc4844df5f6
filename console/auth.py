"""Console sessions, CSRF tokens and the log-in rate limit.

- A session is a cookie signed with itsdangerous (HMAC-SHA1 over the payload, with a timestamp): it holds
  the user's name and the session's CSRF token, nothing secret; it lasts SESSION_MAX_AGE_S. The user is
  read again on every request, so a disabled account is out at once.
- Every form carries the session's CSRF token (a hidden field `csrf`, or the `X-CSRF-Token` header that
  htmx sends); a POST without the right one is refused with 403.
- Log-in attempts: at most LOGIN_ATTEMPTS failures per (user name, client address) within
  LOGIN_WINDOW_S; past that every attempt is refused (429) until the window ends, right password or not.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Protocol, cast

import redis
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "engage_console"
SESSION_MAX_AGE_S = 8 * 3600  # one working day
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW_S = 15 * 60
ATTEMPTS_PREFIX = "engage:console:login-failures"
SESSION_SALT = "engage-relay-console-session"


@dataclass(frozen=True)
class Session:
    user: str
    csrf: str


class SessionCodec:
    """Signs and reads the session cookie; a cookie that was altered or is too old reads as no session."""

    def __init__(self, key: str, *, max_age_s: int = SESSION_MAX_AGE_S) -> None:
        if len(key) < 16:
            raise ValueError("the console's session key must have at least 16 characters")
        self._serializer = URLSafeTimedSerializer(key, salt=SESSION_SALT)
        self.max_age_s = max_age_s

    def new(self, user: str) -> tuple[Session, str]:
        session = Session(user=user, csrf=secrets.token_urlsafe(24))
        return session, self._serializer.dumps({"u": session.user, "c": session.csrf})

    def read(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # SignatureExpired is a BadSignature
            return None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("u"), str)
            or not isinstance(data.get("c"), str)
        ):
            return None
        return Session(user=data["u"], csrf=data["c"])


def csrf_ok(session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(session.csrf, token or "")


class LoginAttempts(Protocol):
    def blocked(self, user: str, address: str) -> bool: ...

    def failed(self, user: str, address: str) -> None: ...

    def succeeded(self, user: str, address: str) -> None: ...


class RedisLoginAttempts:
    """Failures counted in Redis (INCR with an expiry set on the first), so every API process shares them."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        limit: int = LOGIN_ATTEMPTS,
        window_s: int = LOGIN_WINDOW_S,
        prefix: str = ATTEMPTS_PREFIX,
    ) -> None:
        self._redis = client
        self._limit = limit
        self._window_s = window_s
        self._prefix = prefix

    def _key(self, user: str, address: str) -> str:
        return f"{self._prefix}:{user.lower()}:{address}"

    def blocked(self, user: str, address: str) -> bool:
        raw = cast(bytes | None, self._redis.get(self._key(user, address)))
        return raw is not None and int(raw) >= self._limit

    def failed(self, user: str, address: str) -> None:
        key = self._key(user, address)
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, self._window_s, nx=True)
        pipe.execute()

    def succeeded(self, user: str, address: str) -> None:
        self._redis.delete(self._key(user, address))


class MemoryLoginAttempts:
    def __init__(self, *, limit: int = LOGIN_ATTEMPTS, window_s: float = LOGIN_WINDOW_S) -> None:
        self._guard = threading.Lock()
        self._limit = limit
        self._window_s = window_s
        self._failures: dict[tuple[str, str], list[float]] = {}

    def _recent(self, user: str, address: str) -> list[float]:
        now = time.monotonic()
        kept = [t for t in self._failures.get((user.lower(), address), []) if now - t < self._window_s]
        self._failures[(user.lower(), address)] = kept
        return kept

    def blocked(self, user: str, address: str) -> bool:
        with self._guard:
            return len(self._recent(user, address)) >= self._limit

    def failed(self, user: str, address: str) -> None:
        with self._guard:
            self._recent(user, address).append(time.monotonic())

    def succeeded(self, user: str, address: str) -> None:
        with self._guard:
            self._failures.pop((user.lower(), address), None)
