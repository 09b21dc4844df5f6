"""Users (Redis and memory, one body), argon2 hashes, signed sessions, the audit log and the log-in limit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from console.audit import AuditEntry, AuditLog, MemoryAuditLog, RedisAuditLog
from console.auth import LoginAttempts, MemoryLoginAttempts, RedisLoginAttempts, SessionCodec, csrf_ok
from console.users import MemoryUserStore, RedisUserStore, UserError, UserStore, new_user, password_matches


@pytest.fixture(params=["redis", "memory"])
def users(request: pytest.FixtureRequest, redis_client: redis.Redis) -> Iterator[UserStore]:
    yield RedisUserStore(redis_client) if request.param == "redis" else MemoryUserStore()


def test_a_user_keeps_only_an_argon2_hash(users: UserStore) -> None:
    users.add(new_user("anna", "client_admin", "a long password", tenant="acme"))
    stored = users.get("anna")
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert "a long password" not in stored.model_dump_json()
    assert password_matches(stored, "a long password")
    assert not password_matches(stored, "another password")
    with pytest.raises(UserError, match="exists"):
        users.add(new_user("anna", "operator", "a long password"))
    assert users.set_disabled("anna", True).disabled
    assert [u.name for u in users.all()] == ["anna"]


def test_roles_and_tenants_must_agree() -> None:
    with pytest.raises(UserError, match="one tenant"):
        new_user("anna", "client_admin", "a long password")
    with pytest.raises(UserError, match="every tenant"):
        new_user("ops", "operator", "a long password", tenant="acme")
    with pytest.raises(UserError, match="at least"):
        new_user("ops", "operator", "short")


def test_a_session_cookie_that_was_altered_reads_as_none() -> None:
    codec = SessionCodec("k" * 32)
    session, cookie = codec.new("anna")
    assert codec.read(cookie) == session
    assert codec.read(cookie[:-2] + "xx") is None
    assert SessionCodec("j" * 32).read(cookie) is None
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, None) and not csrf_ok(session, "forged")


@pytest.fixture(params=["redis", "memory"])
def attempts(request: pytest.FixtureRequest, redis_client: redis.Redis) -> LoginAttempts:
    return (
        RedisLoginAttempts(redis_client, limit=3)
        if request.param == "redis"
        else MemoryLoginAttempts(limit=3)
    )


def test_log_in_failures_block_that_user_from_that_address(attempts: LoginAttempts) -> None:
    for _ in range(3):
        assert not attempts.blocked("anna", "10.0.0.1")
        attempts.failed("anna", "10.0.0.1")
    assert attempts.blocked("anna", "10.0.0.1")
    assert not attempts.blocked("anna", "10.0.0.2")
    assert not attempts.blocked("ops", "10.0.0.1")
    attempts.succeeded("anna", "10.0.0.1")
    assert not attempts.blocked("anna", "10.0.0.1")


@pytest.fixture(params=["redis", "memory"])
def audit(request: pytest.FixtureRequest, redis_client: redis.Redis) -> AuditLog:
    return RedisAuditLog(redis_client) if request.param == "redis" else MemoryAuditLog()


def test_the_audit_log_is_newest_first_and_filters_by_tenant(audit: AuditLog) -> None:
    audit.record(AuditEntry(who="ops", role="operator", tenant="acme", action="replayed", count=3))
    audit.record(AuditEntry(who="anna", role="client_admin", tenant="other", action="paused"))
    assert [e.action for e in audit.recent()] == ["paused", "replayed"]
    assert [e.count for e in audit.recent(tenant="acme")] == [3]
