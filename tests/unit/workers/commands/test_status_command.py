"""`engage-relay status` against a real Redis seeded with what a running relay leaves behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from engage.ratelimit import RedisRateLimiter
from engage.transport import key_fingerprint
from relay.state import read_state
from tests.support import relay_seed as seed
from tests.support.processes import free_port
from workers.cli import main
from workers.commands.status import render_plain

TENANTS_TOML = """
[tenants.acme]
base_url = "https://acme.voyado.com"
api_key_env = "ACME_KEY"
rate_budget_per_s = 30
[tenants.acme.fallback]
local_dir = "{outbox}"

[tenants.beta]
base_url = "https://beta.voyado.com"
api_key_env = "BETA_KEY"
"""


@pytest.fixture
def relay_env(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    path = tmp_path / "tenants.toml"
    path.write_text(TENANTS_TOML.format(outbox=outbox))
    for name, value in {
        "REDIS_URL": redis_url,
        "ENGAGE_RELAY_TENANTS_FILE": str(path),
        "ACME_KEY": "acme-key-status-1",
        "BETA_KEY": "beta-key-status-2",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ENGAGE_RELAY_SECRET_KEY", raising=False)
    return outbox


def seed_relay(client: redis.Redis, outbox: Path) -> None:
    seed.old_outcome(client, "acme")  # first: stream ids only grow
    seed.dead_letters(client, "acme", 2)
    seed.outcomes(client, "acme", "applied", 5)
    seed.outcomes(client, "acme", "rejected", 1)
    seed.outcomes(client, "beta", "dead_lettered", 2)
    seed.outcomes(client, "gone", "applied", 1)
    seed.rejections(client, 3)
    seed.stream_with_lag(client, published=4, read=1)
    seed.open_breaker(client, "beta")
    (outbox / "20261128101500_1_transactions.xml").write_text("<x/>")


def test_json_status_reports_every_tenant_from_redis(relay_env: Path, redis_client: redis.Redis) -> None:
    # Given a relay's leftovers in Redis and one file in acme's outbox
    seed_relay(redis_client, relay_env)
    # When status is asked for as JSON
    result = CliRunner().invoke(main, ["status", "--json"])
    # Then it shows each tenant's state, the last hour's outcomes only, and the stream's lag
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    tenants = {t["name"]: t for t in doc["tenants"]}
    assert tenants["acme"]["dead_letters"] == 2
    assert tenants["acme"]["outcomes"] == {"applied": 5, "rejected": 1}
    assert tenants["acme"]["files_pending"] == 1
    assert tenants["acme"]["rate_budget_per_s"] == 30
    assert tenants["acme"]["breaker"] == "closed"
    assert tenants["beta"]["breaker"] == "open"
    assert tenants["beta"]["outcomes"] == {"dead_lettered": 2}
    assert doc["other_outcomes"] == {"gone": {"applied": 1}}
    assert doc["stream"]["length"] == 4 and doc["stream"]["lag"] == 3 and doc["stream"]["pending"] == 1
    assert doc["dead_letters_total"] == 2 and doc["rejected_total"] == 3
    assert "acme-key-status-1" not in result.output


def test_plain_status_speaks_plain_words(relay_env: Path, redis_client: redis.Redis) -> None:
    seed_relay(redis_client, relay_env)
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "beta: breaker OPEN (not calling Engage)" in result.output
    assert "acme: breaker closed" in result.output and "last hour: applied 5, rejected 1" in result.output
    assert "lag 3, pending 1" in result.output


def test_status_of_an_empty_relay(relay_env: Path) -> None:
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "does not exist yet" in result.output
    assert "last hour: none" in result.output


def test_status_with_redis_down_says_so(relay_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 1
    assert "is not reachable (ConnectionError): is it running? REDIS_URL selects it" in result.stderr


def test_rich_rendering_runs(relay_env: Path, redis_client: redis.Redis) -> None:
    from workers.commands.status import render_rich

    seed_relay(redis_client, relay_env)
    state = read_state(redis_client, [seed.tenant("acme", "k-acme-123", str(relay_env))])
    render_rich(state)  # must not raise on real data
    assert "acme" in render_plain(state)


def test_a_tenant_whose_key_is_refused_shows_held_with_its_cause(
    relay_env: Path, redis_client: redis.Redis
) -> None:
    # Given beta's breaker tripped by a 401, with events held in the backlog lane, and acme healthy
    seed.trip_breaker(redis_client, "beta", seed.key_refused())
    seed.scheduled(redis_client, "beta", due=4, later=3, leased=0, lane="backlog")
    seed.spilled(redis_client, "beta", 2)
    # When status runs, plain and as JSON
    plain = CliRunner().invoke(main, ["status"])
    as_json = CliRunner().invoke(main, ["status", "--json"])
    # Then the plain lines say beta is held, why in Engage's terms, and how many wait where
    assert plain.exit_code == 0, plain.output
    assert "beta HELD for " in plain.output
    assert (
        "7 events wait (live 0, backlog 7); Engage refused the API key (401): check the tenant's key; "
        "they drain by themselves once a probe succeeds"
    ) in plain.output
    assert "beta schedule: live 0 due, 0 waiting, 0 in flight; backlog 4 due, 3 waiting, 0 in flight" in (
        plain.output
    )
    assert "spilled, not yet filed: 2" in plain.output
    assert "acme HELD" not in plain.output
    # And the JSON carries the same facts for scripts
    tenants = {t["name"]: t for t in json.loads(as_json.output)["tenants"]}
    beta = tenants["beta"]
    assert beta["on_hold"] is True and beta["held"] == 7 and beta["held_by_lane"] == {"live": 0, "backlog": 7}
    assert beta["cause_kind"] == "key_refused" and beta["cause"].startswith("Engage refused the API key")
    assert beta["outage_since"] is not None and beta["held_s"] >= 0
    assert beta["lanes"]["backlog"] == {"due": 4, "waiting": 3, "in_flight": 0}
    assert beta["spilled_pending"] == 2
    assert tenants["acme"]["on_hold"] is False and tenants["acme"]["held"] == 0
    assert "beta-key-status-2" not in plain.output + as_json.output


def test_a_paused_tenant_shows_who_paused_it_and_how_to_resume(
    relay_env: Path, redis_client: redis.Redis
) -> None:
    # Given acme paused by an operator
    paused = CliRunner().invoke(main, ["tenants", "pause", "acme", "--by", "karin"])
    assert paused.exit_code == 0, paused.output
    # When status runs
    result = CliRunner().invoke(main, ["status"])
    # Then acme is held by the pause, and the line names the command that ends it
    assert "acme HELD for 0s" in result.output
    assert "paused by karin; `engage-relay tenants resume acme` lets them drain" in result.output


def test_rich_rendering_of_a_held_tenant_runs(relay_env: Path, redis_client: redis.Redis) -> None:
    from workers.commands.status import render_rich

    seed.trip_breaker(redis_client, "acme", seed.key_refused())
    state = read_state(redis_client, [seed.tenant("acme", "k-acme-123", str(relay_env))])
    render_rich(state)  # must not raise with a hold to show


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.9, "59s"), (723, "12m 3s"), (7500, "2h 5m")])
def test_durations_read_as_people_say_them(seconds: float, text: str) -> None:
    from workers.commands.status import duration_text

    assert duration_text(seconds) == text


def test_a_key_a_429_slowed_shows_its_lowered_rate(relay_env: Path, redis_client: redis.Redis) -> None:
    # Given acme (30/s) answered 429 by Engage a moment ago
    key = key_fingerprint("acme-key-status-1")
    RedisRateLimiter(redis_client, budgets={key: 30}).penalize(key, 5.0)
    # When status is asked for
    plain = CliRunner().invoke(main, ["status"])
    doc = json.loads(CliRunner().invoke(main, ["status", "--json"]).output)
    # Then acme shows its cooldown and its rate lowered to 90 %, beta its budget alone
    assert "rate lowered to 27/s after a 429" in plain.output, plain.output
    tenants = {t["name"]: t for t in doc["tenants"]}
    assert tenants["acme"]["rate_now_per_s"] == 27 and tenants["acme"]["cooldown_s"] > 4
    assert tenants["beta"]["rate_now_per_s"] is None
