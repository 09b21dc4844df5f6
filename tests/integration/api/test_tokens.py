"""Access over real HTTP: 401 for no, wrong or revoked tokens, 404 for another tenant's data (the same
answer as for a tenant that does not exist), operator tokens, the per-token budget, the CLI, the log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

from api.openapi import COMMITTED_PATH
from api.ratelimit import DEFAULT_REQUEST_BUDGET
from tests.integration.api.conftest import ApiService, Shopper
from tests.integration.api.test_reads import READS


def test_no_token_a_wrong_one_and_a_revoked_one_are_all_401(api: ApiService, shopper: Shopper) -> None:
    path = READS["overview"](shopper)
    tokens = api.tokens()
    revoked = tokens.create_for_tenant("till", "acme")
    assert api.call("GET", path, revoked.raw).status_code == 200
    assert tokens.revoke(revoked.info.token_id)

    answers = [
        api.call("GET", path, None),
        api.call("GET", path, "er_0000000000000000_" + "a" * 43),
        api.call("GET", path, revoked.raw),
        api.call("GET", path, None, headers={"Authorization": f"Basic {revoked.raw}"}),
    ]
    assert [a.status_code for a in answers] == [401] * 4
    assert len({a.text for a in answers}) == 1
    assert answers[0].headers["WWW-Authenticate"] == "Bearer"


def test_another_tenants_data_is_404_like_data_that_does_not_exist(api: ApiService, shopper: Shopper) -> None:
    other = api.token_for("other")
    path = READS["overview"](shopper)
    theirs = api.call("GET", path, other)  # acme's contact id, asked through other's Engage
    named = api.call("GET", f"{path}?tenant=acme", other)
    missing = api.call("GET", f"{path}?tenant=no-such-tenant", other)
    assert theirs.status_code == named.status_code == missing.status_code == 404
    assert named.json() == missing.json()


def test_an_operator_token_names_the_tenant(api: ApiService, shopper: Shopper) -> None:
    operator = api.operator_token()
    path = READS["overview"](shopper)
    assert api.call("GET", path, operator).status_code == 400
    assert api.call("GET", f"{path}?tenant=acme", operator).json()["contact_id"] == shopper.contact_id


def test_a_token_beyond_its_budget_is_429_with_retry_after_and_others_go_on(
    api: ApiService, acme_token: str
) -> None:
    burst = DEFAULT_REQUEST_BUDGET.requests * 2

    def one(_: int) -> requests.Response:
        return api.call("GET", "/v1/events/evt-none", acme_token)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(one, range(burst)))
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert all(int(a.headers["Retry-After"]) >= 1 for a in limited)
    assert api.call("GET", "/v1/events/evt-none", api.token_for("acme")).status_code == 404


def test_the_cli_shows_a_token_once_and_revokes_it(api: ApiService) -> None:
    env = {**api.stack.env}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "workers.cli", "tokens", *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    created = cli("create", "till-7", "--tenant", "acme")
    assert created.returncode == 0, created.stderr
    raw = created.stdout.strip()
    assert raw.startswith("er_")
    listed = cli("list", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    token_id = raw.split("_")[1]
    assert any(r["id"] == token_id and r["tenant"] == "acme" for r in rows)
    assert raw.split("_")[2] not in listed.stdout
    assert api.call("GET", "/v1/events/evt-none", raw).status_code == 404
    assert cli("revoke", token_id).returncode == 0
    assert api.call("GET", "/v1/events/evt-none", raw).status_code == 401
    assert cli("create", "x", "--tenant", "nobody").returncode == 1
    assert cli("create", "x").returncode == 2  # neither --tenant nor --operator


def test_the_log_names_tokens_by_id_only_and_the_served_openapi_is_the_committed_one(
    api: ApiService, acme_token: str
) -> None:
    assert api.call("GET", "/v1/events/evt-none", acme_token).status_code == 404
    log = api.proc.log_path.read_text(errors="replace")
    assert acme_token not in log
    assert acme_token.split("_")[1] in log  # the id, in the access line
    served = requests.get(f"{api.base_url}/openapi.json", timeout=5).json()
    assert served == json.loads(COMMITTED_PATH.read_text(encoding="utf-8"))
