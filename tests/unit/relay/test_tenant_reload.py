"""ReloadingRegistry: a moved generation counter reloads the tenants; a failing reload keeps the old ones."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from relay.errors import UnknownTenant
from relay.tenant_reload import ReloadingRegistry
from relay.tenants import Tenant, TenantRegistry


def tenant(name: str) -> Tenant:
    return Tenant(name=name, base_url="http://127.0.0.1:1", api_key=SecretStr(f"key-{name}"))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_moved_generation_is_picked_up_at_the_next_check() -> None:
    # Given a registry over a store whose generation is 1
    state = {"generation": 1, "names": ["default"]}
    changes: list[list[str]] = []
    clock = Clock()
    registry = ReloadingRegistry(
        lambda: TenantRegistry(tenant(n) for n in state["names"]),  # type: ignore[union-attr]
        lambda: int(state["generation"]),  # type: ignore[call-overload]
        check_every_s=2.0,
        clock=clock,
        on_change=lambda fresh: changes.append(fresh.names()),
    )
    assert registry.names() == ["default"]
    # When a tenant is added and the counter moves
    state["names"] = ["default", "acme"]
    state["generation"] = 2
    # Then listing the tenants shows it only after the check interval
    clock.now = 1.0
    assert registry.names() == ["default"]
    # But a lookup of the new name looks at once, with the change announced once
    assert "acme" in registry
    assert registry.get("acme").name == "acme"
    assert [t.name for t in registry] == ["default", "acme"]
    clock.now = 10.0
    assert len(registry) == 2
    assert changes == [["acme", "default"]]


def test_unknown_names_read_the_generation_at_most_every_so_often() -> None:
    reads = {"n": 0}

    def generation() -> int:
        reads["n"] += 1
        return 1

    clock = Clock()
    registry = ReloadingRegistry(lambda: TenantRegistry([tenant("default")]), generation, clock=clock)
    assert reads["n"] == 1
    for _ in range(100):
        assert "nope" not in registry
    assert reads["n"] == 2  # one look for the whole burst
    clock.now = 0.5
    assert "nope" not in registry
    assert reads["n"] == 3


def test_a_name_not_known_yet_reads_the_counter_at_once() -> None:
    # Given a registry that has just looked at the counter
    state = {"generation": 1, "names": ["default"]}
    clock = Clock()
    registry = ReloadingRegistry(
        lambda: TenantRegistry(tenant(n) for n in state["names"]),  # type: ignore[union-attr]
        lambda: int(state["generation"]),  # type: ignore[call-overload]
        check_every_s=2.0,
        clock=clock,
    )
    # When a tenant is saved and an event for it arrives a moment later
    state["names"] = ["default", "acme"]
    state["generation"] = 2
    clock.now = 0.1
    # Then the unknown name makes it look now: the event is not refused for a stale registry
    assert "acme" in registry
    assert registry.get("acme").name == "acme"
    # And a name the store does not have either is still unknown
    with pytest.raises(UnknownTenant):
        registry.get("nobody")


def test_a_failing_reload_keeps_the_tenants_it_had() -> None:
    clock = Clock()
    calls = {"n": 0}

    def load() -> TenantRegistry:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ValueError("stored tenant acme is not valid")
        return TenantRegistry([tenant("default")])

    generation = iter(range(100))
    registry = ReloadingRegistry(load, lambda: next(generation), clock=clock)
    clock.now = 5.0
    assert registry.names() == ["default"]
    assert calls["n"] == 2


def test_an_unreadable_generation_keeps_the_tenants_it_had() -> None:
    clock = Clock()

    def broken() -> int:
        raise ConnectionError("redis down")

    registry = ReloadingRegistry(lambda: TenantRegistry([tenant("default")]), broken, clock=clock)
    clock.now = 5.0
    assert registry.names() == ["default"]
    with pytest.raises(UnknownTenant):
        registry.get("nope")
