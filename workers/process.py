"""What a process reads from its environment, once, at its entry point: `ProcessEnv`.

Every entry point (the CLI group, `celery -A workers.beat`, the demo's children) builds one `ProcessEnv`;
everything below it takes the `Settings` and the environment mapping it holds, and nothing else reads
`os.environ`. The settings are built on first use, so `engage-relay --help` pays nothing for them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import redis

    from relay.tenants import TenantRegistry
    from workers.settings import Settings


class ProcessEnv:
    """The process's settings and the environment they (and the tenants' secrets) came from."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = dict(os.environ if environ is None else environ)

    @cached_property
    def settings(self) -> Settings:
        from workers.settings import Settings

        return Settings.model_validate(dict(self.environ))

    def redis_client(self) -> redis.Redis:
        """A client for the process's Redis (REDIS_URL)."""
        from redis import Redis

        return Redis.from_url(self.settings.redis_url)

    def registry(self, client: redis.Redis | None = None) -> TenantRegistry:
        """The tenants this process serves (tenants file, encrypted store, else `default`)."""
        from relay.tenants_file import load_registry

        return load_registry(self.settings.tenant_sources(), self.environ, client=client)

    def __repr__(self) -> str:
        return f"ProcessEnv(variables={len(self.environ)})"


pass_env = click.make_pass_decorator(ProcessEnv, ensure=True)
"""Gives a command the process's one `ProcessEnv` (the CLI group's context object, built on first use)."""


def current_env() -> ProcessEnv:
    """The running command's `ProcessEnv` (for helpers called inside a command)."""
    return click.get_current_context().ensure_object(ProcessEnv)
