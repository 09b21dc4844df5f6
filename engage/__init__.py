"""The Engage v3 client layer: HTTP client, error tree, models, shared rate limiter, contact-id store.

Public API (re-exported here):
- ``EngageClient(base_url, api_key, *, timeouts=Timeouts(), rate_limiter=None, session=None,
  retry=DEFAULT_SHORT_RETRY, pool_maxsize=32)``: one method per endpoint (``engage.client``);
  ``Timeouts``, ``shared_session(pool_maxsize)``, ``key_fingerprint(api_key)`` (``engage.transport``);
- ``ShortRetryPolicy``, ``DEFAULT_SHORT_RETRY``, ``NO_RETRY``, ``SHORT_RETRY_ATTEMPTS`` (``engage.retry``);
- the error tree and ``error_from_response`` (``engage.errors``; the tree is drawn in its docstring):
  bases ``EngageError``, ``RetryableError``, ``DeferredError``, ``SystemicError``, ``PermanentError``,
  ``SkippableError``,
  ``ErrorKind``, and every leaf class;
- ``RateLimiter`` protocol, ``RedisRateLimiter``, ``MemoryRateLimiter``, ``DEFAULT_BUDGET_PER_S``
  (``engage.ratelimit``);
- ``ContactIdStore`` protocol, ``ContactRef``, ``RedisContactIdStore``, ``MemoryContactIdStore``
  (``engage.contact_store``);
- request and response models in ``engage.models`` (imported from there, not re-exported here);
- ``__version__`` and ``USER_AGENT`` (``engage.version``).
"""

from __future__ import annotations

from engage.client import EngageClient
from engage.contact_store import ContactIdStore, ContactRef, MemoryContactIdStore, RedisContactIdStore
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
    EngageTimeout,
    EngageUnreachable,
    ErrorKind,
    FieldError,
    MultipleMatches,
    NotFound,
    OrderNotFound,
    PermanentError,
    RateLimited,
    RateLimitWaitExceeded,
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
from engage.ratelimit import DEFAULT_BUDGET_PER_S, MemoryRateLimiter, RateLimiter, RedisRateLimiter
from engage.retry import DEFAULT_SHORT_RETRY, NO_RETRY, SHORT_RETRY_ATTEMPTS, ShortRetryPolicy
from engage.transport import Timeouts, key_fingerprint, shared_session
from engage.version import USER_AGENT, __version__

__all__ = [
    "DEFAULT_BUDGET_PER_S",
    "DEFAULT_SHORT_RETRY",
    "NO_RETRY",
    "SHORT_RETRY_ATTEMPTS",
    "USER_AGENT",
    "AlreadyRedeemed",
    "AuthenticationFailed",
    "BadRequest",
    "Conflict",
    "ContactAlreadyExists",
    "ContactBeingCreated",
    "ContactIdStore",
    "ContactKeyTaken",
    "ContactNotFound",
    "ContactRef",
    "DeferredError",
    "EngageClient",
    "EngageError",
    "EngageTimeout",
    "EngageUnreachable",
    "ErrorKind",
    "FieldError",
    "MemoryContactIdStore",
    "MemoryRateLimiter",
    "MultipleMatches",
    "NotFound",
    "OrderNotFound",
    "PermanentError",
    "RateLimitWaitExceeded",
    "RateLimited",
    "RateLimiter",
    "RedisContactIdStore",
    "RedisRateLimiter",
    "RetryableError",
    "ServerError",
    "ShortRetryPolicy",
    "SkippableError",
    "SystemMisconfigured",
    "SystemicError",
    "Timeouts",
    "UnexpectedResponse",
    "ValidationFailed",
    "VersionTagMismatch",
    "__version__",
    "error_from_response",
    "key_fingerprint",
    "shared_session",
]
