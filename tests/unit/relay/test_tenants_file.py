"""Tenants come from a TOML file with secrets in the environment, or from ENGAGE_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.tenants import UnknownTenant
from relay.tenants_file import TenantConfigError, load_tenants_file
from workers.process import ProcessEnv

TENANTS_TOML = """
[tenants.acme-se]
base_url = "https://acme.voyado.com/"
api_key_env = "ACME_KEY"
rate_budget_per_s = 25

[tenants.acme-se.policy]
source = "POS"
default_store = "online-se"
store_map = { "store-001" = "001" }
exchange_rates = { EUR = "11.50" }
include_freight = true

[tenants.acme-se.fallback]
transport = "sftp"
host = "127.0.0.1"
port = 2222
username = "acme"
password_env = "ACME_SFTP_PASSWORD"

[tenants.beta-no]
base_url = "https://beta.staging.voyado.com"
api_key_env = "BETA_KEY"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tenants.toml"
    path.write_text(text)
    return path


def test_a_tenants_file_is_loaded_with_secrets_from_the_environment(tmp_path: Path) -> None:
    env = {"ACME_KEY": "k-acme-123", "BETA_KEY": "k-beta-456", "ACME_SFTP_PASSWORD": "pw-789"}
    registry = load_tenants_file(write(tmp_path, TENANTS_TOML), env)
    assert registry.names() == ["acme-se", "beta-no"]
    acme = registry.get("acme-se")
    assert acme.base_url == "https://acme.voyado.com"
    assert acme.api_key.get_secret_value() == "k-acme-123"
    assert acme.rate_budget_per_s == 25
    assert acme.policy.store_for("store-001") == "001"
    assert acme.policy.store_for(None) == "online-se"
    assert acme.policy.include_freight
    assert acme.fallback.transport == "sftp"
    # secrets never show in reprs
    assert "k-acme-123" not in repr(acme)
    assert "pw-789" not in repr(acme)
    assert registry.get("beta-no").rate_budget_per_s == 40


def test_an_unknown_tenant_is_an_error_never_a_guess(tmp_path: Path) -> None:
    registry = load_tenants_file(
        write(tmp_path, TENANTS_TOML), {"ACME_KEY": "a", "BETA_KEY": "b", "ACME_SFTP_PASSWORD": "p"}
    )
    with pytest.raises(UnknownTenant):
        registry.get("gamma")


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (TENANTS_TOML, {"BETA_KEY": "b", "ACME_SFTP_PASSWORD": "p"}, "ACME_KEY is not set"),
        ('[tenants.x]\nbase_url = "https://x"\napi_key = "inline"\n', {}, "never the key itself"),
        ('[tenants.x]\nbase_url = "ftp://x"\napi_key_env = "K"\n', {"K": "k"}, "base_url"),
        ('[tenants."X!"]\nbase_url = "https://x"\napi_key_env = "K"\n', {"K": "k"}, "slug"),
        ('[tenants.x]\nbase_url = "https://x"\napi_key_env = "K"\n', {"K": "k-9\n"}, "a line break"),
        ("[other]\n", {}, "no [tenants.<name>] table"),
        ("not toml = = =", {}, "tenants.toml"),
    ],
)
def test_a_wrong_tenants_file_says_what_is_wrong(
    tmp_path: Path, text: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(TenantConfigError, match=message.replace("[", r"\[").replace("]", r"\]")) as caught:
        load_tenants_file(write(tmp_path, text), env)
    assert not any(len(value) > 1 and value.strip() in str(caught.value) for value in env.values())


def test_without_a_file_the_default_tenant_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENGAGE_BASE_URL", "https://shop.staging.voyado.com")
    monkeypatch.setenv("ENGAGE_API_KEY", "secret-key-1")
    monkeypatch.setenv("ENGAGE_SOURCE", "POS")
    monkeypatch.setenv("ENGAGE_STORE", "store-9")
    monkeypatch.delenv("ENGAGE_RELAY_TENANTS_FILE", raising=False)
    registry = ProcessEnv().registry()
    tenant = registry.get("default")
    assert tenant.base_url == "https://shop.staging.voyado.com"
    assert tenant.api_key.get_secret_value() == "secret-key-1"
    assert tenant.policy.source == "POS"
    assert tenant.policy.default_store == "store-9"


def test_a_soft_identification_key_comes_from_the_environment_never_the_file(tmp_path: Path) -> None:
    from relay.tenants_file import TenantConfigError, load_tenants_file

    path = tmp_path / "tenants.toml"
    path.write_text(
        '[tenants.acme]\nbase_url = "https://acme.voyado.com"\napi_key_env = "K"\n'
        'soft_id_key_env = "S"\nsoft_id_max_age_s = 600\n'
    )
    key = "Ab3dEf6hIj9kLm2oPq5sTu8wXy1zAb4d"
    tenant = load_tenants_file(path, {"K": "engage-key", "S": key}).get("acme")
    assert tenant.soft_id_key is not None and tenant.soft_id_key.get_secret_value() == key
    assert tenant.soft_id_max_age_s == 600
    assert key not in repr(tenant)
    path.write_text(
        f'[tenants.acme]\nbase_url = "https://acme.voyado.com"\napi_key_env = "K"\nsoft_id_key = "{key}"\n'
    )
    with pytest.raises(TenantConfigError, match="soft_id_key_env"):
        load_tenants_file(path, {"K": "engage-key"})
