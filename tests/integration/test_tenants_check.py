"""`engage-relay tenants test NAME` against the real simulator: good key, bad key, no host, outage."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import structlog
from click.testing import CliRunner

from relay.tenant_store import SECRET_KEY_ENV, new_secret_key
from tests.support.processes import free_port
from tests.support.simulator import RunningSimulator
from workers.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """`tenants test` configures structlog for its process; give the next test the defaults back."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def cli_env(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv(SECRET_KEY_ENV, new_secret_key())
    monkeypatch.delenv("ENGAGE_RELAY_TENANTS_FILE", raising=False)


def add_and_test(base_url: str, api_key: str) -> tuple[int, dict[str, object], str]:
    runner = CliRunner()
    added = runner.invoke(main, ["tenants", "add", "acme", "--base-url", base_url, "--api-key", api_key])
    assert added.exit_code == 0, added.output
    result = runner.invoke(main, ["tenants", "test", "acme", "--json"])
    return result.exit_code, json.loads(result.output), result.output


def test_working_key_is_reported_ok(cli_env: None, simulator: RunningSimulator) -> None:
    code, result, _ = add_and_test(simulator.base_url, simulator.api_key)
    assert code == 0
    assert result["ok"] is True and result["verdict"] == "ok"


def test_wrong_key_is_reported_as_a_bad_key(cli_env: None, simulator: RunningSimulator) -> None:
    code, result, output = add_and_test(simulator.base_url, "not-the-right-key-123")
    assert code == 1
    assert result["verdict"] == "bad_key"
    assert "refused the API key" in str(result["message"])
    assert "not-the-right-key-123" not in output


def test_unreachable_host_is_reported_unreachable(cli_env: None) -> None:
    code, result, _ = add_and_test(f"http://127.0.0.1:{free_port()}", "some-key-abc")
    assert code == 1
    assert result["verdict"] == "unreachable"
    assert "cannot reach" in str(result["message"])


def test_outage_is_reported_as_a_server_error(cli_env: None, simulator: RunningSimulator) -> None:
    simulator.admin.set_faults(outage=True)
    code, result, _ = add_and_test(simulator.base_url, simulator.api_key)
    assert code == 1
    assert result["verdict"] == "server_error" and result["status"] == 503


def test_plain_output_names_the_tenant(cli_env: None, simulator: RunningSimulator) -> None:
    add_and_test(simulator.base_url, simulator.api_key)
    result = CliRunner().invoke(main, ["tenants", "test", "acme"])
    assert result.output.startswith("acme: OK: the API key works")


STORES = [
    {"externalId": "online-se", "name": "Web shop SE", "countryCode": "SE"},
    {"externalId": "Ecom-NO", "name": "Web shop NO", "countryCode": "NO"},
    {"externalId": "closed-1", "name": "Closed", "active": False},
]


def add_with_stores(simulator: RunningSimulator, *store_args: str) -> None:
    simulator.admin.seed({"stores": STORES})
    args = ["tenants", "add", "acme", "--base-url", simulator.base_url, "--api-key", simulator.api_key]
    added = CliRunner().invoke(main, [*args, *store_args])
    assert added.exit_code == 0, added.output


def test_stores_the_tenant_names_that_engage_lacks_are_named(
    cli_env: None, simulator: RunningSimulator
) -> None:
    # Given Engage with two active stores, and a tenant whose store map names one it lacks
    add_with_stores(
        simulator, "--store", "online-se", "--store-map", "no=Ecom-NO", "--store-map", "dk=Ecom-DK"
    )
    # When the tenant is tested
    result = CliRunner().invoke(main, ["tenants", "test", "acme"])
    # Then it fails, naming the missing store and where the tenant names it, in plain words
    assert result.exit_code == 1
    assert result.output.startswith("acme: FAILED: the API key works, but Engage has no store Ecom-DK")
    assert "(store map dk=Ecom-DK)" in result.output and "Ecom-NO" not in result.output
    as_json = json.loads(CliRunner().invoke(main, ["tenants", "test", "acme", "--json"]).output)
    assert (as_json["verdict"], as_json["missing_stores"]) == ("stores_missing", ["Ecom-DK"])


def test_a_tenant_whose_stores_all_exist_passes_and_an_inactive_one_is_mentioned(
    cli_env: None, simulator: RunningSimulator
) -> None:
    add_with_stores(simulator, "--store", "online-se", "--store-map", "old=closed-1")
    result = CliRunner().invoke(main, ["tenants", "test", "acme"])
    assert result.exit_code == 0, result.output
    assert (
        "every store the tenant names is in Engage (2), but closed-1 (store map old=closed-1) is inactive"
        in (result.output)
    )


def test_a_default_store_engage_lacks_fails_the_check(cli_env: None, simulator: RunningSimulator) -> None:
    # Given a tenant added without --store: its default store is "online", which this Engage lacks
    add_with_stores(simulator)
    result = CliRunner().invoke(main, ["tenants", "test", "acme", "--json"])
    assert result.exit_code == 1
    verdict = json.loads(result.output)
    assert verdict["missing_stores"] == ["online"] and "(the default store)" in verdict["message"]


def test_an_engage_without_stores_listed_is_not_checked(cli_env: None, simulator: RunningSimulator) -> None:
    _, result, _ = add_and_test(simulator.base_url, simulator.api_key)
    assert result["ok"] is True
    assert "Engage lists no stores, so the tenant's stores were not checked" in str(result["message"])
