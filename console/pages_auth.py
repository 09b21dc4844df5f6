"""Log in, log out, the home page (the tenants this user sees) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from console.auth import SESSION_COOKIE
from console.users import password_matches
from console.web import PREFIX, PageError, Pages


def _safe_next(value: str | None) -> str:
    """Only a path inside the console: never another site (an open redirect)."""
    if value and value.startswith(f"{PREFIX}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{PREFIX}/"


def add_routes(router: APIRouter, pages: Pages) -> None:
    s = pages.s

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None) -> HTMLResponse:
        return pages.render(request, "login.html", None, next=_safe_next(next), error=None)

    @router.post("/login", response_model=None)
    def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        next: Annotated[str | None, Form()] = None,
    ) -> Response:
        name = username.strip().lower()
        address = request.client.host if request.client else "unknown"
        if s.attempts.blocked(name, address):
            return pages.render(
                request,
                "login.html",
                None,
                status_code=429,
                next=_safe_next(next),
                error="Too many failed log-ins for this user from here. Wait 15 minutes and try again.",
            )
        user = s.users.get(name)
        if user is None or user.disabled or not password_matches(user, password):
            s.attempts.failed(name, address)
            return pages.render(
                request,
                "login.html",
                None,
                status_code=401,
                next=_safe_next(next),
                error="The user name or the password is wrong (or the account is disabled).",
            )
        s.attempts.succeeded(name, address)
        _, cookie = s.sessions.new(user.name)
        target = _safe_next(next)
        if target == f"{PREFIX}/" and user.tenant:
            target = f"{PREFIX}/t/{user.tenant}/status"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=s.sessions.max_age_s,
            httponly=True,
            samesite="lax",
            secure=s.secure_cookies,
            path=PREFIX,
        )
        return response

    @router.post("/logout", response_model=None)
    async def logout(request: Request) -> Response:
        viewer = pages.viewer(request)
        await pages.form(request, viewer)
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        viewer = pages.viewer(request)
        tenants = pages.tenants_for(viewer)
        state = s.state(tenants)
        return pages.render(request, "home.html", viewer, state=state, stored=_stored(pages))

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request, tenant: str | None = None) -> HTMLResponse:
        viewer = pages.viewer(request)
        if not viewer.user.is_operator:
            tenant = viewer.user.tenant
        elif tenant and tenant not in s.tenants():
            raise PageError(404, "Not found", f"No tenant {tenant!r}.")
        entries = s.audit.recent(tenant=tenant or None)
        return pages.render(request, "audit.html", viewer, entries=entries, tenant=tenant)


def _stored(pages: Pages) -> set[str]:
    store = pages.s.tenant_store
    return set(store.names()) if store is not None else set()
