"""The environment's proxies and CA bundle reach every Engage request, read once per client."""

from __future__ import annotations

import pytest

from engage.transport import BaseEngageClient, environment_settings, shared_session

ENGAGE = "https://acme.voyado.com"


def test_the_shared_session_does_not_read_the_environment_per_request() -> None:
    assert shared_session().trust_env is False


def test_a_client_takes_the_proxy_and_ca_bundle_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp.pem")
    client = BaseEngageClient(ENGAGE, "key-123456")
    assert client._proxies["https"] == "http://proxy.example:3128"
    assert client._verify == "/etc/ssl/corp.pem"


def test_no_proxy_and_no_bundle_mean_a_direct_verified_call(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert environment_settings(ENGAGE) == ({}, True)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "acme.voyado.com")
    assert "https" not in environment_settings(ENGAGE)[0]


@pytest.mark.parametrize("key", ["key-123\n456", " key-123456", "key-123456\r", "key\x00123456"])
def test_a_key_with_a_line_break_or_blanks_is_refused_without_showing_it(key: str) -> None:
    with pytest.raises(ValueError, match="surrounding blanks or a line break") as caught:
        BaseEngageClient(ENGAGE, key)
    assert "123" not in str(caught.value)


def test_a_new_base_url_brings_its_own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "engage.internal")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client = BaseEngageClient(ENGAGE, "key-123456")
    assert client._proxies.get("https") == "http://proxy.example:3128"
    client.base_url = "https://engage.internal/"
    assert client.base_url == "https://engage.internal"
    assert "https" not in client._proxies
