"""The README's first command on a clean clone: it installs, brings the stack up, runs the sample day and
the outage (one tenant's receipts go from the hold to a file to Engage; its offer waits and goes by the
API), prints the summary, and (with DEMO_ONCE=1) stops everything and exits 0 with no event lost.

This runs the command exactly as the README shows it, in a fresh `git clone` of HEAD with no `.venv`,
no REDIS_URL and this environment's virtualenv off PATH, so it costs one `make install` (about 25 s
with a warm pip cache) plus the demo itself (about 10 s).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("heavy")]  # one at a time (make test)
FIRST_RUN_TIMEOUT_S = 600
SUMMARY_RE = re.compile(r"^demo summary: (.*)$", re.MULTILINE)
EXPECTED_PUBLISHED = 24
EXPECTED_BY_FILE = 2  # the outage's two receipts


def repository_root() -> Path:
    top = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "rev-parse", "--show-toplevel"],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(top.stdout.strip())


def readme_first_command(readme: str) -> str:
    """The first command of the first code block under `## Quick start`, without its comment."""
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    for line in block.splitlines()[1:]:  # the first line is the fence's language
        command = line.split("#", 1)[0].strip()
        if command:
            return command
    raise AssertionError("the Quick start section has no command")


def fresh_machine_env(repo: Path) -> dict[str, str]:
    """This environment without its virtualenv, Redis or relay settings: what a new user has."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "VIRTUAL_ENV", "PYTHONPATH") and not k.startswith("ENGAGE_")
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and not p.startswith(str(repo / ".venv"))
    )
    env["DEMO_ONCE"] = "1"
    return env


def processes_mentioning(text: str) -> list[str]:
    found: list[str] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.timeout(FIRST_RUN_TIMEOUT_S + 60)
def test_the_readmes_first_command_runs_the_demo_on_a_clean_clone(tmp_path: Path) -> None:
    # Given a clean clone of HEAD (no .venv, no .var) and the README's first command
    repo = repository_root()
    clone = tmp_path / "engage-relay"
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True, timeout=60)
    command = readme_first_command((clone / "README.md").read_text(encoding="utf-8"))
    assert command == "make demo"

    # When it runs there with DEMO_ONCE=1 and no REDIS_URL
    run = subprocess.run(
        ["bash", "-c", command],
        cwd=clone,
        env=fresh_machine_env(repo),
        capture_output=True,
        text=True,
        timeout=FIRST_RUN_TIMEOUT_S,
        check=False,
    )
    output = run.stdout + run.stderr

    # Then it exits 0 after printing the summary: every event settled, the invalid one rejected
    assert run.returncode == 0, output[-5000:]
    match = SUMMARY_RE.search(run.stdout)
    assert match, output[-5000:]
    counts = {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    assert counts["published"] == EXPECTED_PUBLISHED
    assert counts["lost"] == 0
    assert counts["rejected"] == 1
    assert counts["superseded"] == 1
    assert counts["dead_lettered"] == 0
    assert counts["delivered_by_file"] == EXPECTED_BY_FILE
    assert counts["applied"] + counts["skipped"] == EXPECTED_PUBLISHED - 2 - EXPECTED_BY_FILE, counts
    assert counts["applied"] >= EXPECTED_PUBLISHED - 3 - EXPECTED_BY_FILE
    summary = json.loads((clone / ".var/demo/summary.json").read_text(encoding="utf-8"))
    assert summary["outcomes"]["acme-se:ecom-broken-order"] == "rejected"
    assert "required field missing" in summary["rejected"]["acme-se:ecom-broken-order"]
    assert summary["engage_calls"]["POST /api/v3/receipts"]["202"] == 6  # the outage's went by file
    # and the outage: held with its cause, the receipts filed and imported, the offer applied after
    outage = summary["outage"]
    assert outage["held"]["cause"] == "Engage answers 503" and outage["held"]["breaker"] != "closed"
    for event_id in ("pos-outage-lisa-receipt", "pos-outage-karin-receipt"):
        assert summary["outcomes"][f"nordic-no:{event_id}"] == "delivered_by_file"
    assert summary["outcomes"]["nordic-no:pos-outage-karin-welcome"] == "applied"
    assert [(i["kind"], i["records"], i["applied"]) for i in outage["imports"]] == [("transactions", 2, 2)]
    assert "engage-relay status said: nordic-no HELD for" in run.stdout
    # and where to look next, with the Flower login but never an API key
    for hint in ("Flower", "login demo / ", "/_sim/state", "engage-relay dlq list", "engage-relay status"):
        assert hint in run.stdout, hint
    # and the HTTP service's address with a token for it, the token not in any log
    api_line = re.search(r"HTTP service \(API\): +(http://127\.0\.0\.1:\d+)/docs +token (er_\S+)", run.stdout)
    assert api_line, run.stdout[-3000:]
    env_file = (clone / ".var/demo/env").read_text(encoding="utf-8")
    keys = [
        line.split("=", 1)[1] for line in env_file.splitlines() if line.startswith("DEMO_") and "=" in line
    ]
    assert keys
    logs = "".join(p.read_text(errors="replace") for p in (clone / ".var/demo/logs").iterdir())
    for key in keys:
        assert key not in output
        assert key not in logs
    assert api_line.group(2) not in logs
    # and the console's address with a login made up for the run, the password in no log
    console_line = re.search(
        r"Console \(browser\): +(http://127\.0\.0\.1:\d+/console/) +login demo / (\S+)", run.stdout
    )
    assert console_line, run.stdout[-3000:]
    assert console_line.group(2) not in logs

    # and no child outlived it: every recorded process group is gone, no process runs from the clone
    groups = json.loads((clone / ".var/demo/pids").read_text(encoding="utf-8"))
    assert {g["name"] for g in groups} == {
        "redis", "simulator", "ftp", "ingest", "worker", "beat", "flower", "api"
    }  # fmt: skip
    assert [g["name"] for g in groups if group_alive(g["pgid"])] == []
    assert processes_mentioning(str(clone)) == []
