"""The console's wiring for a process: its services from the settings, and a FastAPI app serving it.

`console_services(env, client)` is what `engage-relay api` hands to `console.build_router`;
`create_console_app(env)` is the console alone (`engage-relay console`), for a deployment or a test
that wants the pages without the HTTP API.

The session cookie's signing key: ENGAGE_RELAY_CONSOLE_SESSION_KEY, else one derived from
ENGAGE_RELAY_SECRET_KEY (HMAC-SHA256 with a label, so the Fernet key itself signs nothing), else a random
key for this process (sessions then end when it restarts, and each API process has its own).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import redis
import structlog
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from pydantic import SecretStr

from console import build_router
from console.services import ConsoleServices, redis_services
from relay.tenant_store import SECRET_KEY_ENV, RedisTenantStore, SecretBox
from relay.tenants import TenantRegistry
from workers.process import ProcessEnv

SESSION_KEY_ENV = "ENGAGE_RELAY_CONSOLE_SESSION_KEY"
SESSION_KEY_LABEL = b"engage-relay console session v1"

log = structlog.get_logger(__name__)


def session_key(configured: SecretStr | None, secret_key: str | None) -> str:
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    if secret_key:
        return hmac.new(secret_key.encode(), SESSION_KEY_LABEL, hashlib.sha256).hexdigest()
    log.warning("console.session_key_random", hint=f"set {SESSION_KEY_ENV} to keep sessions across restarts")
    return secrets.token_urlsafe(32)


def console_services(
    env: ProcessEnv, client: redis.Redis, *, registry: TenantRegistry | None = None
) -> ConsoleServices:
    settings = env.settings
    environ = dict(env.environ)
    box = SecretBox.from_env(environ) if environ.get(SECRET_KEY_ENV) else None
    file_tenants: frozenset[str] = frozenset()
    if settings.tenants_file is not None:
        from relay.tenants_file import load_tenants_file

        file_tenants = frozenset(load_tenants_file(settings.tenants_file, environ).names())
    from tasks.fallback import sweep_sender
    from workers.celery_app import create_app

    send = sweep_sender(create_app(env))
    live = registry if registry is not None else env.live_registry(client)
    return redis_services(
        client,
        session_key=session_key(settings.console_session_key, environ.get(SECRET_KEY_ENV)),
        tenants=lambda: live,
        tenant_store=RedisTenantStore(client, box) if box is not None else None,
        events_stream=settings.events_stream,
        outcomes_stream=settings.outcomes_stream,
        breaker_open_s=settings.breaker_open_s,
        sweep_now=lambda tenant: send(tenant, 0.0),
        secure_cookies=settings.console_secure_cookies,
        file_tenants=file_tenants,
    )


def create_console_app(env: ProcessEnv) -> FastAPI:
    client = env.redis_client()
    app = FastAPI(title="engage-relay console", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(build_router(console_services(env, client)))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    return app
