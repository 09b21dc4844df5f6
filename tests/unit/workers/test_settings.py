"""Settings are read from one mapping (the process's environment), with clear messages for bad values."""

from __future__ import annotations

import pytest

from workers.settings import METRICS_PORT_ENV, Settings


def settings(**env: str) -> Settings:
    return Settings.model_validate(env)


@pytest.mark.parametrize(("raw", "port"), [("", 9808), ("0", 0), ("9100", 9100)])
def test_metrics_port_from_env(raw: str, port: int) -> None:
    assert settings(**{METRICS_PORT_ENV: raw}).metrics_port_or(9808) == port


@pytest.mark.parametrize("raw", ["abc", "70000"])
def test_bad_metrics_port_is_explained(raw: str) -> None:
    with pytest.raises(ValueError, match="0 disables"):
        settings(**{METRICS_PORT_ENV: raw})


def test_open_time_from_env() -> None:
    assert settings().breaker_open_s == 30.0
    assert settings(ENGAGE_RELAY_BREAKER_OPEN_S="0.5").breaker_open_s == 0.5
    with pytest.raises(ValueError, match="ENGAGE_RELAY_BREAKER_OPEN_S"):
        settings(ENGAGE_RELAY_BREAKER_OPEN_S="soon")
    with pytest.raises(ValueError, match="positive"):
        settings(ENGAGE_RELAY_BREAKER_OPEN_S="-1")


def test_nothing_but_the_given_mapping_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a variable in the real environment
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:1/0")
    # Then settings built from another mapping do not see it
    assert settings().redis_url == "redis://127.0.0.1:6379/0"


def test_with_no_fallback_variables_the_default_tenant_has_no_file_server() -> None:
    # The default as shipped: long outages hold and drain; nothing is written for a server nobody named
    fallback = settings().default_tenant().fallback
    assert fallback.transport == "none"
    assert (fallback.spill_after_s, fallback.contacts_via, fallback.redemptions_by_file) == (
        600.0,
        "bulk",
        False,
    )
    assert fallback.local_dir == ".var/outbox/default"


def test_the_default_tenants_fallback_transport_comes_from_the_environment() -> None:
    # Given a single-tenant deployment's SFTP server, described in the environment only
    env = {
        "ENGAGE_FALLBACK_TRANSPORT": "sftp",
        "ENGAGE_FALLBACK_HOST": "ftp.voyado.example",
        "ENGAGE_FALLBACK_PORT": "2222",
        "ENGAGE_FALLBACK_USERNAME": "acme",
        "ENGAGE_FALLBACK_PASSWORD": "sftp-password-91c4",
        "ENGAGE_FALLBACK_REMOTE_DIR": "/integration",
        "ENGAGE_FALLBACK_HOST_KEY_FINGERPRINT": "SHA256:abc",
        "ENGAGE_FALLBACK_REMOTE_SUBDIRS": "contacts=contactImportV2, transactions=",
        "ENGAGE_FALLBACK_SPILL_AFTER_S": "120",
        "ENGAGE_FALLBACK_IMPORT_GRACE_S": "1800",
        "ENGAGE_FALLBACK_CONTACTS_VIA": "xml",
        "ENGAGE_FALLBACK_REDEMPTIONS_BY_FILE": "true",
        "ENGAGE_RELAY_DATA_DIR": "/data",
    }
    # When the process builds its settings and the default tenant
    built = settings(**env)
    fallback = built.default_tenant().fallback
    # Then the tenant's fallback is that server, with the password kept secret
    assert (fallback.transport, fallback.host, fallback.port, fallback.username) == (
        "sftp",
        "ftp.voyado.example",
        2222,
        "acme",
    )
    assert fallback.password is not None and fallback.password.get_secret_value() == "sftp-password-91c4"
    assert (fallback.remote_dir, fallback.host_key_fingerprint) == ("/integration", "SHA256:abc")
    assert fallback.remote_subdirs == {"contacts": "contactImportV2", "transactions": ""}
    assert (fallback.spill_after_s, fallback.contacts_via, fallback.redemptions_by_file) == (
        120.0,
        "xml",
        True,
    )
    assert fallback.local_dir == "/data/outbox/default"
    for shown in (
        repr(built),
        str(built),
        repr(built.default_tenant()),
        built.default_tenant().model_dump_json(),
    ):
        assert "sftp-password-91c4" not in shown


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("ENGAGE_FALLBACK_TRANSPORT", "smb", "ENGAGE_FALLBACK_TRANSPORT"),
        ("ENGAGE_FALLBACK_PORT", "70000", "ENGAGE_FALLBACK_PORT"),
        ("ENGAGE_FALLBACK_SPILL_AFTER_S", "-1", "ENGAGE_FALLBACK_SPILL_AFTER_S"),
        ("ENGAGE_FALLBACK_REMOTE_SUBDIRS", "receipts=x", "REMOTE_SUBDIRS: write KIND=FOLDER pairs"),
    ],
)
def test_a_wrong_fallback_variable_is_named(variable: str, raw: str, message: str) -> None:
    from workers.process import ProcessEnv, SettingsError

    env = {variable: raw, "ENGAGE_FALLBACK_PASSWORD": "never-shown-77"}
    with pytest.raises(SettingsError, match=message) as caught:
        ProcessEnv(env).settings  # noqa: B018 - building them is the test
    assert "never-shown-77" not in str(caught.value)


def test_the_http_services_settings_default_to_the_shipped_constants_and_read_the_environment() -> None:
    from api.settings import ApiSettings

    assert Settings.model_validate({}).api_settings() == ApiSettings()
    changed = Settings.model_validate(
        {
            "ENGAGE_RELAY_API_READ_DEADLINE_S": "0.25",
            "ENGAGE_RELAY_API_REQUESTS_PER_S": "5",
            "ENGAGE_RELAY_READ_CACHE_VOUCHERS_S": "10",
            "ENGAGE_RELAY_READ_CACHE_STALE_S": "5",  # below a fresh TTL: raised to it
        }
    ).api_settings()
    assert changed.read_deadline_s == 0.25
    assert changed.request_budget.requests == 5
    assert changed.cache_ttl.fresh_s["vouchers"] == 10
    assert changed.cache_ttl.stale_keep_s == 60
