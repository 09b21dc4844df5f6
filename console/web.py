"""The console's page plumbing: templates, who is looking, the CSRF check, and errors as pages.

A handler raises `PageError` (404 for another tenant's page, 403 for a form without its CSRF token) and
the router's route class renders it as a plain-words page; `LoginNeeded` sends the browser to log in.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from console.audit import AuditEntry
from console.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Session, csrf_ok
from console.services import ConsoleServices
from console.users import ROLE_WORDS, User
from relay.tenant_reload import ReloadingRegistry
from relay.tenants import Tenant

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _when(value: datetime | float | None) -> str:
    if value is None:
        return "-"
    moment = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


templates.env.filters["when"] = _when
templates.env.globals["prefix"] = PREFIX
templates.env.globals["role_words"] = ROLE_WORDS


class PageError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.chrome: dict[str, Any] = {"viewer": None}  # who is looking, for the page's header

    def seen_by(self, chrome: dict[str, Any]) -> PageError:
        self.chrome = chrome
        return self


class LoginNeeded(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def not_found(what: str = "This page does not exist, or it belongs to a tenant you cannot see.") -> PageError:
    return PageError(404, "Not found", what)


@dataclass(frozen=True)
class Viewer:
    user: User
    session: Session

    @property
    def name(self) -> str:
        return self.user.name


class ConsoleRoute(APIRoute):
    """Renders `PageError` as a page and turns `LoginNeeded` into a redirect to the log-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginNeeded as need:
                return RedirectResponse(f"{PREFIX}/login?next={quote(need.next_path)}", status_code=303)
            except PageError as err:
                return templates.TemplateResponse(
                    request,
                    "error.html",
                    {**err.chrome, "title": err.title, "message": err.message},
                    status_code=err.status,
                )

        return route


class Pages:
    """The helpers every page handler uses, bound to the console's services."""

    def __init__(self, services: ConsoleServices) -> None:
        self.s = services

    def viewer(self, request: Request) -> Viewer:
        session = self.s.sessions.read(request.cookies.get(SESSION_COOKIE))
        user = self.s.users.get(session.user) if session else None
        if session is None or user is None or user.disabled:
            raise LoginNeeded(request.url.path)
        return Viewer(user, session)

    def tenants_changed(self) -> None:
        """This process serves a tenant saved here at once (the others within RELOAD_CHECK_S)."""
        registry = self.s.tenants()
        if isinstance(registry, ReloadingRegistry):
            registry.refresh(force=True)

    def tenants_for(self, viewer: Viewer) -> list[Tenant]:
        return [t for t in self.s.tenants() if viewer.user.may_see(t.name)]

    def tenant(self, viewer: Viewer, name: str) -> Tenant:
        """The tenant if this viewer may see it; 404 otherwise (another tenant's pages do not exist)."""
        registry = self.s.tenants()
        if not viewer.user.may_see(name) or name not in registry:
            raise not_found().seen_by(self.chrome(viewer))
        return registry.get(name)

    def chrome(self, viewer: Viewer | None) -> dict[str, Any]:
        """What the header of every page needs: who is looking, their tenants, the CSRF token."""
        return {
            "viewer": viewer,
            "nav_tenants": self.tenants_for(viewer) if viewer else [],
            "csrf": viewer.session.csrf if viewer else "",
        }

    async def form(self, request: Request, viewer: Viewer) -> Mapping[str, str]:
        """The posted form, once its CSRF token is checked (403 without the right one)."""
        form = await request.form()
        token = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
        if not csrf_ok(viewer.session, token if isinstance(token, str) else None):
            raise PageError(
                403,
                "Form expired",
                "This form has no valid security token (it is old, or was sent from another site). "
                "Reload the page and try again.",
            ).seen_by(self.chrome(viewer))
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def audit(
        self, viewer: Viewer, action: str, *, tenant: str | None, count: int = 0, detail: str = ""
    ) -> None:
        self.s.audit.record(
            AuditEntry(
                who=viewer.name,
                role=viewer.user.role,
                tenant=tenant,
                action=action,
                count=count,
                detail=detail,
            )
        )

    def render(
        self, request: Request, name: str, viewer: Viewer | None, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        tenants = self.tenants_for(viewer) if viewer else []
        return templates.TemplateResponse(
            request,
            name,
            {
                "viewer": viewer,
                "nav_tenants": tenants,
                "csrf": viewer.session.csrf if viewer else "",
                **context,
            },
            status_code=status_code,
        )
