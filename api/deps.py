"""The dependencies routes share (FastAPI ``Depends``): the services, the caller's token, its tenant.

- ``services(request)``: the process's ``ApiServices`` (``app.state.services``);
- ``caller``: the ``TokenScope`` of the request's ``Authorization: Bearer <token>``; 401 when the header is
  missing or the token is wrong or revoked (one answer for all three), 429 with ``Retry-After`` when the
  token's request budget is used up (``api.ratelimit``);
- ``tenant_of_caller``: the tenant the request is about. A tenant token sees its own tenant; naming another
  with ``?tenant=`` is 404, the same answer as a tenant that does not exist, so no token learns which
  other tenants there are. An operator token names the tenant with ``?tenant=`` (400 without it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, not_found
from api.services import ApiServices
from api.tokens import TokenScope
from relay.errors import UnknownTenant
from relay.tenants import Tenant

_bearer = HTTPBearer(auto_error=False, description="An API token: `engage-relay tokens create`.")
_UNAUTHORIZED = ApiError(
    401,
    "unauthorized",
    "a valid API token is required (Authorization: Bearer <token>)",
    {"WWW-Authenticate": "Bearer"},
)


def services(request: Request) -> ApiServices:
    found: ApiServices = request.app.state.services
    return found


Services = Annotated[ApiServices, Depends(services)]


def caller(
    request: Request,
    svc: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> TokenScope:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _UNAUTHORIZED
    scope = svc.tokens.authenticate(credentials.credentials)
    if scope is None:
        raise _UNAUTHORIZED
    request.state.token_id = scope.token_id  # the access log names the token by its id, never its secret
    decision = svc.request_limiter.check(scope.token_id, svc.settings.request_budget)
    if not decision.allowed:
        raise ApiError(
            429,
            "rate_limited",
            "this token's request budget is used up; try again after Retry-After seconds",
            {"Retry-After": decision.retry_after_header},
        )
    return scope


Caller = Annotated[TokenScope, Depends(caller)]


def visible_tenant(svc: ApiServices, scope: TokenScope, name: str | None) -> Tenant:
    """The tenant ``name`` (or the token's own) if the token may see it; 404 for anything it may not."""
    if name is None:
        if scope.tenant is None:
            raise ApiError(400, "tenant_required", "an operator token names the tenant: ?tenant=NAME")
        name = scope.tenant
    if not scope.allows(name):
        raise not_found()
    try:
        return svc.tenant(name)
    except UnknownTenant:
        raise not_found() from None


def tenant_of_caller(
    svc: Services,
    scope: Caller,
    tenant: Annotated[
        str | None, Query(description="The tenant (operator tokens; a tenant token may omit it).")
    ] = None,
) -> Tenant:
    return visible_tenant(svc, scope, tenant)


CallerTenant = Annotated[Tenant, Depends(tenant_of_caller)]
