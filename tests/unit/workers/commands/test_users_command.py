"""`engage-relay users`: a generated password is shown once, only its hash is stored, disable works."""

from __future__ import annotations

import pytest
import redis
from click.testing import CliRunner

from console.users import RedisUserStore, password_matches
from workers.cli import main


@pytest.fixture
def cli_env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    for name in ("ENGAGE_RELAY_TENANTS_FILE", "ENGAGE_RELAY_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_create_list_disable(cli_env: None, redis_client: redis.Redis) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["users", "create", "Ops", "--role", "operator", "--generate"])
    assert created.exit_code == 0, created.output
    password = created.output.split("keep it now): ")[1].strip()
    user = RedisUserStore(redis_client).get("ops")
    assert user is not None and password_matches(user, password)
    assert password not in user.password_hash
    admin = runner.invoke(
        main,
        ["users", "create", "anna", "--role", "client-admin", "--tenant", "default"],
        input="a long secret\na long secret\n",
    )
    assert admin.exit_code == 0, admin.output
    assert "a long secret" not in admin.output
    listed = runner.invoke(main, ["users", "list"])
    assert "ops\toperator\t*\tactive" in listed.output
    assert "anna\tclient admin\tdefault\tactive" in listed.output
    assert "$argon2" not in listed.output
    assert runner.invoke(main, ["users", "disable", "anna"]).exit_code == 0
    assert "anna\tclient admin\tdefault\tdisabled" in runner.invoke(main, ["users", "list"]).output


def test_bad_input_is_one_line(cli_env: None) -> None:
    runner = CliRunner()
    unknown = runner.invoke(
        main, ["users", "create", "anna", "--role", "client-admin", "--tenant", "nope", "--generate"]
    )
    assert unknown.exit_code == 1 and "no tenant 'nope'" in unknown.output
    no_tenant = runner.invoke(main, ["users", "create", "anna", "--role", "client-admin", "--generate"])
    assert no_tenant.exit_code == 1 and "belongs to one tenant" in no_tenant.output
    runner.invoke(main, ["users", "create", "ops", "--role", "operator", "--generate"])
    again = runner.invoke(main, ["users", "create", "ops", "--role", "operator", "--generate"])
    assert again.exit_code == 1 and "exists already" in again.output
    assert runner.invoke(main, ["users", "disable", "ghost"]).exit_code == 1
