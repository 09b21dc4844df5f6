"""A cheap, authenticated call to a tenant's Engage, and what its answer means in plain words.

The call looks up a contact that cannot exist (`GET /api/v3/contacts/id?email=...@invalid.example`):
Engage answers 404 ContactNotFound when the key works, 401/403 when it does not, and nothing at all
when the host is wrong. Once the key works, a second call lists Engage's stores (`GET /api/v3/stores`)
and the check fails, naming them, when a store of the tenant's default store or store map is missing
(`relay.store_check`). No data is written. The verdict never holds the API key.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from engage.client import EngageClient
from engage.errors import (
    AuthenticationFailed,
    EngageError,
    EngageTimeout,
    EngageUnreachable,
    NotFound,
    RateLimited,
    ServerError,
    SystemMisconfigured,
)
from engage.retry import ShortRetryPolicy
from engage.transport import Timeouts
from relay.store_check import compare_stores, named_stores
from relay.tenants import Tenant

PROBE_EMAIL = "engage-relay-connection-test@invalid.example"
CHECK_CONNECT_TIMEOUT_S = 5.0
CHECK_READ_TIMEOUT_S = 10.0
SLOW_ANSWER_S = 2.0
"""An answer slower than this works, but the relay will be slow too: say so."""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    verdict: str  # one short word: ok, slow, stores_missing, unreachable, tls, timeout, bad_key, ...
    message: str  # plain words for an operator
    elapsed_s: float
    status: int | None = None
    missing_stores: tuple[str, ...] = ()


def check_connection(tenant: Tenant, *, timeouts: Timeouts | None = None) -> CheckResult:
    """Make the probe call once (no retries, no rate limiter) and explain the answer."""
    client = EngageClient(
        tenant.base_url,
        tenant.api_key.get_secret_value(),
        timeouts=timeouts or Timeouts(connect_s=CHECK_CONNECT_TIMEOUT_S, read_s=CHECK_READ_TIMEOUT_S),
        retry=ShortRetryPolicy(attempts=1),
    )
    started = time.monotonic()
    try:
        client.lookup_contact(email=PROBE_EMAIL)
    except EngageError as exc:
        result = explain_error(tenant, exc, time.monotonic() - started)
    else:
        result = _key_works(time.monotonic() - started)
    return result if not result.ok else _with_stores(result, tenant, client)


def _key_works(elapsed_s: float) -> CheckResult:
    if elapsed_s > SLOW_ANSWER_S:
        return CheckResult(
            True,
            "slow",
            f"the API key works, but Engage took {elapsed_s:.1f}s to answer (over {SLOW_ANSWER_S:.0f}s): "
            "expect slow delivery",
            elapsed_s,
            200,
        )
    return CheckResult(True, "ok", f"the API key works ({elapsed_s * 1000:.0f} ms)", elapsed_s, 200)


def _with_stores(result: CheckResult, tenant: Tenant, client: EngageClient) -> CheckResult:
    """The key works: add whether Engage has every store the tenant names."""
    try:
        listed = client.list_stores(include_inactive=True)
    except EngageError as exc:
        note = f"; its stores could not be listed ({exc.summary}), so they were not checked"
        return replace(result, message=result.message + note)
    stores = compare_stores(named_stores(tenant.policy), listed)
    if not stores.ok:
        message = f"the API key works, but {stores.message}"
        return replace(
            result, ok=False, verdict=stores.verdict, message=message, missing_stores=stores.missing
        )
    return replace(result, message=f"{result.message}; {stores.message}")


def explain_error(tenant: Tenant, exc: EngageError, elapsed_s: float) -> CheckResult:
    """One plain sentence per way the probe can fail (the error tree of `engage.errors`)."""
    url = tenant.base_url
    status = exc.status
    if isinstance(exc, NotFound) and exc.error_code == "ContactNotFound":
        return CheckResult(True, "ok", f"the API key works ({elapsed_s * 1000:.0f} ms)", elapsed_s, status)
    verdict, message = _failure(exc, url)
    return CheckResult(False, verdict, message, elapsed_s, status)


def _failure(exc: EngageError, url: str) -> tuple[str, str]:  # noqa: PLR0911 - one return per kind
    if isinstance(exc, AuthenticationFailed):
        return "bad_key", (
            f"Engage refused the API key ({exc.status}): it is wrong, was rotated, or belongs to another "
            "tenant; store the current key with `engage-relay tenants add NAME --replace`"
        )
    if isinstance(exc, EngageTimeout):
        return "timeout", f"{url} did not answer in time ({exc.summary}): check the host and the firewall"
    if isinstance(exc, EngageUnreachable):
        if "TLS" in exc.summary:
            return "tls", (
                f"the TLS handshake with {url} failed: the certificate is not trusted or the host is not "
                "the Engage tenant"
            )
        return "unreachable", f"cannot reach {url} ({exc.summary}): check the base URL, DNS and the network"
    if isinstance(exc, RateLimited):
        return "rate_limited", (
            "Engage answered 429 Too Many Requests: the key works but is over its rate limit right now; "
            "lower the tenant's rate budget or wait"
        )
    if isinstance(exc, SystemMisconfigured):
        return "engage_misconfigured", (
            "Engage answered 500 InvalidSystemConfiguration: the tenant is misconfigured on Voyado's side"
        )
    if isinstance(exc, ServerError):
        return "server_error", f"Engage answered {exc.status}: it is failing right now; try again later"
    if isinstance(exc, NotFound):
        return "wrong_url", (
            f"{url} answered 404 without ContactNotFound: the base URL is probably not an Engage tenant "
            "(it should be https://<tenant>.voyado.com)"
        )
    return "unexpected", f"unexpected answer from Engage: {type(exc).__name__} {exc.status or ''}".rstrip()
