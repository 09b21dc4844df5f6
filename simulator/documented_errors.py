"""Voyado's documented error answers the relay handles but a healthy Engage rarely gives, on request.

| error | status | documented on (ref) |
|---|---|---|
| `ContactWithKeyIsBeingCreated` | 409 | create contact (§2.2) |
| `InvalidSystemConfiguration` | 500 | contact lookup (§2.1), contact overview (§2.7) |
| `GatewayTimeout` | 504 | reward voucher redeem (§2.12) |

Two ways to ask (neither applies to `/_sim/*`):
- a rule in the fault settings, `PUT /_sim/faults {"inject": [{"error": "GatewayTimeout",
  "route": "POST /api/v3/reward-vouchers/{rewardVoucherId}/redeem", "times": 1, "applied": false,
  "key": null}]}`: `route` defaults to every route the error is documented on, `times` (default 1) counts
  down on each answer and the rule goes when it reaches 0 (null: until the rules are replaced),
  `key` limits it to one API key's requests;
- one request with the header `X-Sim-Error: <error>` (and `X-Sim-Error-Applied: true`).
`applied` false: the request is not applied (Engage refused it); true: it is applied and the answer
is then lost to the error (a timeout after the work was done, a create still settling).
An error on a route Voyado does not document it for is refused with 400 `InvalidFaults`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from simulator.errors import ApiError, error_response

ERROR_HEADER: Final = "X-Sim-Error"
APPLIED_HEADER: Final = "X-Sim-Error-Applied"


@dataclass(frozen=True)
class DocumentedError:
    status: int
    routes: tuple[str, ...]
    message: str


DOCUMENTED_ERRORS: Final[Mapping[str, DocumentedError]] = {
    "ContactWithKeyIsBeingCreated": DocumentedError(
        409, ("POST /api/v3/contacts",), "A contact with this key is being created"
    ),
    "InvalidSystemConfiguration": DocumentedError(
        500, ("GET /api/v3/contacts/id", "GET /api/v3/contactoverview"), "Invalid system configuration"
    ),
    "GatewayTimeout": DocumentedError(
        504, ("POST /api/v3/reward-vouchers/{rewardVoucherId}/redeem",), "Gateway timeout"
    ),
}
RULE_KEYS: Final = frozenset({"error", "route", "times", "applied", "key"})


@dataclass(frozen=True)
class Injection:
    """The documented error one request gets, and whether the request is applied first."""

    error: str
    applied: bool

    def response(self) -> web.Response:
        documented = DOCUMENTED_ERRORS[self.error]
        return error_response(documented.status, self.error, documented.message)


def _bad(why: str) -> ApiError:
    return ApiError(400, "InvalidFaults", why)


def _check_route(error: str, route: str) -> None:
    if route not in DOCUMENTED_ERRORS[error].routes:
        raise _bad(f"Voyado documents {error} only on {list(DOCUMENTED_ERRORS[error].routes)}")


def checked_rule(rule: Any) -> dict[str, Any]:
    """A rule with its defaults filled in; ApiError 400 when it is not one."""
    if not isinstance(rule, dict) or set(rule) - RULE_KEYS:
        raise _bad(f"an inject rule is an object with keys among {sorted(RULE_KEYS)}")
    if rule.get("error") not in DOCUMENTED_ERRORS:
        raise _bad(f"inject error must be one of {sorted(DOCUMENTED_ERRORS)}")
    error = str(rule["error"])
    route = rule.get("route")
    if route is not None:
        _check_route(error, route)
    times = rule.get("times", 1)
    if times is not None and (type(times) is not int or times < 1):
        raise _bad("inject times must be a positive integer or null")
    applied = rule.get("applied", False)
    key = rule.get("key")
    if type(applied) is not bool or not (key is None or isinstance(key, str)):
        raise _bad("inject applied must be a boolean and key a string or null")
    return {"error": error, "route": route, "times": times, "applied": applied, "key": key}


def take_rule(rules: list[dict[str, Any]], route: str, key: str | None) -> Injection | None:
    """The first rule that matches this request, counted down (and dropped when spent)."""
    for index, rule in enumerate(rules):
        routes = (rule["route"],) if rule["route"] is not None else DOCUMENTED_ERRORS[rule["error"]].routes
        if route not in routes or (rule["key"] is not None and rule["key"] != key):
            continue
        if rule["times"] is not None:
            rule["times"] -= 1
            if rule["times"] == 0:
                del rules[index]
        return Injection(rule["error"], rule["applied"])
    return None


def from_headers(request: web.Request, route: str) -> Injection | None:
    """The error one request asks for with `X-Sim-Error`; ApiError 400 when it cannot have it."""
    error = request.headers.get(ERROR_HEADER)
    if error is None:
        return None
    if error not in DOCUMENTED_ERRORS:
        raise _bad(f"{ERROR_HEADER} must be one of {sorted(DOCUMENTED_ERRORS)}")
    _check_route(error, route)
    return Injection(error, request.headers.get(APPLIED_HEADER, "").strip().lower() == "true")
