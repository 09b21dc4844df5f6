"""What a process reads from its environment, once, at its entry point: `ProcessEnv`.

Every entry point (the CLI group, `celery -A workers.beat`, the demo's children) builds one `ProcessEnv`;
everything below it takes the `Settings` and the environment mapping it holds, and nothing else reads
`os.environ`. The settings are built on first use, so `engage-relay --help` pays nothing for them.
A wrong environment (a variable that does not parse, a REDIS_URL that is not one) is a `SettingsError`
whose message names the variable and never shows a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

if TYPE_CHECKING:
    import redis
    from pydantic import ValidationError

    from relay.tenants import TenantRegistry
    from workers.settings import Settings

REDIS_URL_ENV = "REDIS_URL"
REDIS_URL_SCHEMES = ("redis", "rediss", "unix")  # what redis-py's `Redis.from_url` takes
REDIS_CONNECT_TIMEOUT_S = 5.0  # a command facing a host that drops packets says so instead of hanging
SECRET_SHOWN_AS = "***"  # noqa: S105 - the placeholder shown instead of a password
_URL_PASSWORD_RE = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)
_QUERY_PASSWORD_RE = re.compile(r"(?P<head>[?&]password=)[^&\s]*", re.IGNORECASE)


class SettingsError(ValueError):
    """The environment cannot make the process's settings; the message names each variable at fault."""


def redact_url(text: str) -> str:
    """`redis://:pw@host` -> `redis://:***@host` (and `?password=pw`), in a URL or in text holding URLs."""
    text = _URL_PASSWORD_RE.sub(rf"\g<head>{SECRET_SHOWN_AS}@", text)
    return _QUERY_PASSWORD_RE.sub(rf"\g<head>{SECRET_SHOWN_AS}", text)


def redis_url_problem(url: str) -> str | None:
    """Why `url` cannot be a REDIS_URL (in words, the URL redacted), or None when redis-py can use it."""
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"{REDIS_URL_ENV} {shown} is not a URL (host:port?)"
    if parts.scheme not in REDIS_URL_SCHEMES:
        return (
            f"{REDIS_URL_ENV} {shown} is not a Redis URL: it must start with redis://, rediss:// or unix://"
        )
    database = parts.path.strip("/")
    if parts.scheme != "unix" and database and not database.isdigit():
        return f"{REDIS_URL_ENV} {shown}: the path must be a database number (/0), not /{database}"
    return None


class ProcessEnv:
    """The process's settings and the environment they (and the tenants' secrets) came from."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = dict(os.environ if environ is None else environ)

    @cached_property
    def settings(self) -> Settings:
        """The settings; a `SettingsError` (one line per variable at fault) when the environment is wrong."""
        from pydantic import ValidationError

        from workers.settings import Settings

        try:
            settings = Settings.model_validate(dict(self.environ))
        except ValidationError as exc:
            raise SettingsError(_plain(exc)) from None
        problem = redis_url_problem(settings.redis_url)
        if problem is not None:
            raise SettingsError(problem)
        return settings

    def redis_client(self, *, connect_timeout_s: float = REDIS_CONNECT_TIMEOUT_S) -> redis.Redis:
        """A client for the process's Redis (REDIS_URL); it connects on its first command."""
        from redis import Redis

        return Redis.from_url(self.settings.redis_url, socket_connect_timeout=connect_timeout_s)

    def registry(self, client: redis.Redis | None = None) -> TenantRegistry:
        """The tenants this process serves (tenants file, encrypted store, else `default`)."""
        from relay.tenants_file import load_registry

        return load_registry(self.settings.tenant_sources(), self.environ, client=client)

    def live_registry(self, client: redis.Redis) -> TenantRegistry:
        """The tenants this process serves, following the encrypted store: a tenant added or changed
        there (the console, `tenants add`) is served within seconds, without a restart."""
        from relay.tenant_reload import ReloadingRegistry
        from relay.tenant_store import RedisTenantStore
        from workers.logs import known_secrets, learn_secrets

        generation = RedisTenantStore(client, None).generation
        live = ReloadingRegistry(lambda: self.registry(client), generation)
        live.listen(lambda fresh: learn_secrets(known_secrets(fresh)))  # its secrets stay out of the logs
        return live

    def __repr__(self) -> str:
        return f"ProcessEnv(variables={len(self.environ)})"


def _plain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "settings"
        problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return redact_url("the environment is not valid: " + "; ".join(problems))


pass_env = click.make_pass_decorator(ProcessEnv, ensure=True)
"""Gives a command the process's one `ProcessEnv` (the CLI group's context object, built on first use)."""


def current_env() -> ProcessEnv:
    """The running command's `ProcessEnv` (for helpers called inside a command)."""
    return click.get_current_context().ensure_object(ProcessEnv)
