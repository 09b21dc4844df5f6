"""``create_app``: the HTTP service as one FastAPI application.

``create_app(services, *, extra_routers=())`` mounts the service's routers (``api/routes/``) and any
others given (the browser console passes its own), installs the shared error answers and the access log,
and keeps ``services`` on ``app.state.services`` for the dependencies (``api.deps``). It starts nothing
and reads no environment: ``engage-relay api`` (``workers/api_process.py``) builds the services and
serves the app with uvicorn.

The access log is this module's, not uvicorn's (which is switched off): one ``api.request`` line per
request with the method, the route's template (``/v1/events/{event_id}``, never the raw path or its
query, which may hold an ``eclub`` token), the status, the time taken and the token's id, never a secret.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Final

import structlog
from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import install_error_handlers
from api.routes import health
from api.services import ApiServices
from engage.version import __version__

log = structlog.get_logger("api.access")

TITLE: Final = "engage-relay"
DESCRIPTION: Final = (
    "Webhook ingest, event outcomes, the checkout read path and soft identification for Voyado Engage. "
    "Every endpoint but /healthz needs `Authorization: Bearer <token>` (`engage-relay tokens create`)."
)
OPENAPI_VERSION: Final = "0.1.0"
"""The document's own version: it changes with the HTTP contract, not with every package release, so the
committed ``api/openapi.json`` stays equal to the served one across releases."""


def service_routers() -> list[APIRouter]:
    """The service's own routers, in the order the OpenAPI document lists them."""
    from api.routes import contacts, events, soft_id

    return [health.router, events.router, contacts.router, soft_id.router]


def create_app(services: ApiServices, *, extra_routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The application over ``services``; ``extra_routers`` are mounted after the service's own."""
    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=OPENAPI_VERSION,
        docs_url="/docs" if services.settings.docs else None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.package_version = __version__
    install_error_handlers(app)
    for router in (*service_routers(), *extra_routers):
        app.include_router(router)

    app.add_middleware(AccessLog)
    return app


class AccessLog:
    """One ``api.request`` line per request (pure ASGI: no per-request task or body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            state = scope.get("state") or {}
            log.info(
                "api.request",
                method=scope.get("method"),
                route=str(getattr(scope.get("route"), "path", "(no route)")),
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                caller=state.get("token_id"),  # a token's id (a field named token would be redacted)
            )
