"""`engage-relay tenants`: secrets go in encrypted and never come out in what the commands print."""

from __future__ import annotations

import json

import pytest
import redis
from click.testing import CliRunner

from relay.tenant_store import SECRET_KEY_ENV, new_secret_key
from workers.cli import main

API_KEY = "tenant-api-key-5f1e2d3c4b5a"
PASSWORD = "tenant-ftp-password-0a9b8c"


@pytest.fixture
def env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"REDIS_URL": redis_url, SECRET_KEY_ENV: new_secret_key(), "ACME_FTP_PASSWORD": PASSWORD}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ENGAGE_RELAY_TENANTS_FILE", raising=False)
    return values


def add(*extra: str, input_: str | None = None) -> tuple[int, str]:
    args = ["tenants", "add", "acme-se", "--base-url", "https://acme.voyado.com", *extra]
    result = CliRunner().invoke(main, args, input=input_)
    return result.exit_code, result.output


def test_add_with_prompted_key_then_list_and_show_never_print_secrets(
    env: dict[str, str], redis_client: redis.Redis
) -> None:
    # Given a tenant added with the key typed at a hidden prompt and the password from a variable
    code, output = add(
        "--fallback-transport", "sftp", "--fallback-password-env", "ACME_FTP_PASSWORD",
        "--store-map", "s1=001", "--exchange-rate", "EUR=11.5", input_=f"{API_KEY}\n",
    )  # fmt: skip
    assert code == 0, output
    # Then the raw Redis hash holds neither secret
    raw = b"".join(redis_client.hgetall("engage:tenant:acme-se").values())  # type: ignore[union-attr]
    assert API_KEY.encode() not in raw and PASSWORD.encode() not in raw
    # And no command prints them
    listed = CliRunner().invoke(main, ["tenants", "list"])
    shown = CliRunner().invoke(main, ["tenants", "show", "acme-se"])
    for result in (listed, shown):
        assert result.exit_code == 0, result.output
        assert API_KEY not in result.output and PASSWORD not in result.output
    assert API_KEY not in output
    document = json.loads(shown.output)
    assert document["api_key"] == "***"
    assert document["fallback"]["password"] == "***"
    assert document["policy"]["store_map"] == {"s1": "001"}
    assert len(document["api_key_fingerprint"]) == 12


def test_show_with_a_wrong_secret_key_says_so(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert add("--api-key", API_KEY)[0] == 0
    monkeypatch.setenv(SECRET_KEY_ENV, new_secret_key())
    result = CliRunner().invoke(main, ["tenants", "show", "acme-se"])
    assert result.exit_code == 1
    assert "cannot be decrypted" in result.output
    assert API_KEY not in result.output


def test_add_without_a_secret_key_is_refused(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV)
    code, output = add("--api-key", API_KEY)
    assert code == 1
    assert "keygen" in output


def test_add_reports_invalid_settings_in_plain_words(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main, ["tenants", "add", "Bad Name", "--base-url", "ftp://x", "--api-key", API_KEY]
    )
    assert result.exit_code == 1
    assert "name:" in result.output and "base_url:" in result.output
    assert API_KEY not in result.output


def test_remove_asks_unless_yes(env: dict[str, str]) -> None:
    assert add("--api-key", API_KEY)[0] == 0
    declined = CliRunner().invoke(main, ["tenants", "remove", "acme-se"], input="n\n")
    assert declined.exit_code == 1
    assert "acme-se" in CliRunner().invoke(main, ["tenants", "list"]).output
    removed = CliRunner().invoke(main, ["tenants", "remove", "acme-se", "--yes"])
    assert removed.exit_code == 0, removed.output
    assert "no stored tenants" in CliRunner().invoke(main, ["tenants", "list"]).output


def test_keygen_prints_a_usable_key() -> None:
    from relay.tenant_store import SecretBox

    key = CliRunner().invoke(main, ["tenants", "keygen"]).output.strip()
    assert SecretBox(key).fingerprint


def test_pause_holds_a_served_tenant_until_resume(env: dict[str, str], redis_client: redis.Redis) -> None:
    from relay.control import RedisTenantControl

    # Given a stored tenant
    assert add("--api-key", API_KEY)[0] == 0
    control = RedisTenantControl(redis_client)
    # When an operator pauses it
    paused = CliRunner().invoke(main, ["tenants", "pause", "acme-se", "--by", "ops-karin"])
    # Then every process sees it paused, by whom, and the line says how to end it
    assert paused.exit_code == 0, paused.output
    assert "`engage-relay tenants resume acme-se` lets them drain" in paused.output
    assert control.paused_by("acme-se") is not None
    assert control.paused_by("acme-se")[0] == "ops-karin"  # type: ignore[index]
    # When it is resumed, twice
    first = CliRunner().invoke(main, ["tenants", "resume", "acme-se"])
    second = CliRunner().invoke(main, ["tenants", "resume", "acme-se"])
    # Then it flows again, and the second resume says there was nothing to do
    assert first.exit_code == 0 and "resumed tenant acme-se" in first.output
    assert second.exit_code == 0 and "was not paused" in second.output
    assert not control.paused("acme-se")


def test_pause_refuses_a_tenant_not_served_here(env: dict[str, str], redis_client: redis.Redis) -> None:
    from relay.control import RedisTenantControl

    assert add("--api-key", API_KEY)[0] == 0
    result = CliRunner().invoke(main, ["tenants", "pause", "acme-no"])
    assert result.exit_code == 1
    assert "no tenant 'acme-no' is served here" in result.output
    assert not RedisTenantControl(redis_client).paused("acme-no")


SOFT_ID_KEY = "Qw3rTy6uIo9pAs2dFg5hJk8lZx1cVb4n"


def test_the_soft_identification_key_goes_in_encrypted_and_is_never_shown(
    env: dict[str, str], redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_SOFT_ID_KEY", SOFT_ID_KEY)
    code, output = add(
        "--api-key", API_KEY, "--soft-id-key-env", "ACME_SOFT_ID_KEY", "--soft-id-max-age", "3600"
    )
    assert code == 0, output
    raw = b"".join(redis_client.hgetall("engage:tenant:acme-se").values())  # type: ignore[union-attr]
    assert SOFT_ID_KEY.encode() not in raw
    shown = CliRunner().invoke(main, ["tenants", "show", "acme-se"])
    assert SOFT_ID_KEY not in shown.output
    document = json.loads(shown.output)
    assert document["soft_id_key"] == "***"
    assert document["soft_id_max_age_s"] == 3600

    from relay.tenant_store import RedisTenantStore, SecretBox

    tenant = RedisTenantStore(redis_client, SecretBox(env[SECRET_KEY_ENV])).get("acme-se")
    assert tenant.soft_id_key is not None and tenant.soft_id_key.get_secret_value() == SOFT_ID_KEY


def test_a_soft_identification_key_of_the_wrong_shape_is_refused_without_echoing_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_SOFT_ID_KEY", "too-short-and-secret")
    code, output = add("--api-key", API_KEY, "--soft-id-key-env", "ACME_SOFT_ID_KEY")
    assert code == 1
    assert "soft_id_key" in output and "too-short-and-secret" not in output
