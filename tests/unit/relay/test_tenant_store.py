"""The encrypted tenant store: secrets sealed at rest, a wrong key said plainly, the registry merged."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from pydantic import SecretStr

from fallback.config import FallbackSettings
from relay.tenant_store import (
    SECRET_KEY_ENV,
    RedisTenantStore,
    SecretBox,
    SecretKeyError,
    TenantStoreError,
    new_secret_key,
)
from relay.tenants import Tenant
from relay.tenants_file import TenantConfigError, load_registry
from workers.settings import Settings

API_KEY = "engage-api-key-0123456789abcdef"
PASSWORD = "sftp-password-fedcba9876543210"


def make_tenant(name: str = "acme-se") -> Tenant:
    return Tenant(
        name=name,
        base_url="https://acme.voyado.com",
        api_key=SecretStr(API_KEY),
        rate_budget_per_s=25,
        fallback=FallbackSettings(transport="sftp", host="ftp.example", password=SecretStr(PASSWORD)),
    )


def test_secrets_are_encrypted_at_rest_and_read_back(redis_client: redis.Redis) -> None:
    # Given a store with a fresh key
    store = RedisTenantStore(redis_client, SecretBox(new_secret_key()))
    # When a tenant is put
    store.put(make_tenant())
    # Then no raw Redis value holds a secret, and the tenant reads back whole
    raw = b"".join(redis_client.hgetall("engage:tenant:acme-se").values())  # type: ignore[union-attr]
    assert API_KEY.encode() not in raw
    assert PASSWORD.encode() not in raw
    tenant = store.get("acme-se")
    assert tenant == make_tenant()
    assert store.names() == ["acme-se"]


def test_wrong_key_is_reported_plainly(redis_client: redis.Redis) -> None:
    # Given a tenant stored with one key
    RedisTenantStore(redis_client, SecretBox(new_secret_key())).put(make_tenant())
    # When it is read with another key
    other = RedisTenantStore(redis_client, SecretBox(new_secret_key()))
    # Then the error names the tenant and the cause, and holds no secret
    with pytest.raises(SecretKeyError, match="cannot be decrypted") as caught:
        other.get("acme-se")
    assert "acme-se" in str(caught.value)
    assert API_KEY not in str(caught.value)


@pytest.mark.parametrize("key", ["", "not-a-fernet-key"])
def test_missing_or_malformed_key_is_refused(key: str) -> None:
    with pytest.raises(SecretKeyError, match=SECRET_KEY_ENV):
        SecretBox(key)


def test_existing_tenant_is_not_overwritten_without_replace(redis_client: redis.Redis) -> None:
    store = RedisTenantStore(redis_client, SecretBox(new_secret_key()))
    store.put(make_tenant())
    with pytest.raises(TenantStoreError, match="already exists"):
        store.put(make_tenant())
    store.put(make_tenant(), replace=True)
    assert store.remove("acme-se") is True
    assert store.names() == []
    assert store.remove("acme-se") is False


def test_box_repr_shows_only_a_fingerprint() -> None:
    key = new_secret_key()
    assert key not in repr(SecretBox(key))


def test_registry_merges_store_and_file_and_refuses_a_name_in_both(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    # Given a stored tenant and a tenants file with another one
    key = new_secret_key()
    RedisTenantStore(redis_client, SecretBox(key)).put(make_tenant("stored-one"))
    path = tmp_path / "tenants.toml"
    path.write_text('[tenants.file-one]\nbase_url = "https://f.voyado.com"\napi_key_env = "FILE_KEY"\n')
    settings = Settings(REDIS_URL=redis_url, ENGAGE_RELAY_TENANTS_FILE=path)
    env = {SECRET_KEY_ENV: key, "FILE_KEY": "file-key"}
    # When the registry is loaded, Then both are served
    assert load_registry(settings.tenant_sources(), env).names() == ["file-one", "stored-one"]
    # And without the secret key only the file's tenant is
    assert load_registry(settings.tenant_sources(), {"FILE_KEY": "file-key"}).names() == ["file-one"]
    # And a name in both places is a clear configuration error
    RedisTenantStore(redis_client, SecretBox(key)).put(make_tenant("file-one"))
    with pytest.raises(TenantConfigError, match="both"):
        load_registry(settings.tenant_sources(), env)


def test_registry_with_empty_store_and_no_file_is_the_default_tenant(redis_url: str) -> None:
    settings = Settings(REDIS_URL=redis_url)
    assert load_registry(settings.tenant_sources(), {SECRET_KEY_ENV: new_secret_key()}).names() == ["default"]


def test_registry_with_wrong_key_is_a_configuration_error(redis_url: str, redis_client: redis.Redis) -> None:
    RedisTenantStore(redis_client, SecretBox(new_secret_key())).put(make_tenant())
    settings = Settings(REDIS_URL=redis_url)
    with pytest.raises(TenantConfigError, match="cannot be decrypted"):
        load_registry(settings.tenant_sources(), {SECRET_KEY_ENV: new_secret_key()})


def test_the_first_stored_tenant_never_drops_default(redis_url: str, redis_client: redis.Redis) -> None:
    # Given no tenants file and the default tenant from the environment
    key = new_secret_key()
    settings = Settings(REDIS_URL=redis_url)
    assert load_registry(settings.tenant_sources(), {SECRET_KEY_ENV: key}).names() == ["default"]
    # When the first tenant is stored (the console or `tenants add`)
    store = RedisTenantStore(redis_client, SecretBox(key))
    before = store.generation()
    store.put(make_tenant("stored-one"))
    # Then both are served, and the store's generation moved so running processes reload
    assert load_registry(settings.tenant_sources(), {SECRET_KEY_ENV: key}).names() == [
        "default",
        "stored-one",
    ]
    assert store.generation() == before + 1
    # And a stored tenant named default takes the environment's place
    store.put(make_tenant("default"))
    registry = load_registry(settings.tenant_sources(), {SECRET_KEY_ENV: key})
    assert registry.names() == ["default", "stored-one"]
    assert registry.get("default").base_url == make_tenant("default").base_url


def test_each_secret_keeps_when_it_last_changed(redis_client: redis.Redis) -> None:
    from pydantic import SecretStr

    store = RedisTenantStore(redis_client, SecretBox(new_secret_key()))
    tenant = make_tenant("stored-one")
    store.put(tenant)
    first = store.secrets_changed("stored-one")
    assert set(first) == {"api_key", "fallback_password"}
    # Saved again with the same key: the time stays
    store.put(tenant, replace=True)
    assert store.secrets_changed("stored-one") == first
    # A new key: its time moves
    store.put(tenant.model_copy(update={"api_key": SecretStr("another-key")}), replace=True)
    assert store.secrets_changed("stored-one")["api_key"] > first["api_key"]
    assert store.get("stored-one").api_key.get_secret_value() == "another-key"
