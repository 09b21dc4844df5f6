"""The command line: --version and --help without any service running, and a --help that imports nothing
heavy (operator commands load on use; the list of commands comes from `LAZY_COMMANDS`)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path
from typing import get_args

import click
import pytest
from click.testing import CliRunner

import workers.commands
from engage.models.contacts import MAX_BULK_CONTACTS
from engage.version import USER_AGENT, __version__
from fallback.config import BreakerMode, ContactsFallback, Transport
from fallback.deadletters import FallbackState
from fallback.xmlfiles import MAX_RECORDS_PER_FILE
from mappers.policy import ContactKey
from migration.receipts import DEFAULT_HISTORY_MONTHS
from relay.tenants import DEFAULT_RATE_BUDGET_PER_S
from workers.cli import LAZY_COMMANDS, main
from workers.commands import dlq, migrate, tenants

# What `--help` must not import: measured as the slow part of the old CLI's start (1.6 s of imports), and
# every package of ours below workers (each pulls pydantic, requests or redis in).
HEAVY_LIBRARIES = (
    "aiohttp",
    "celery",
    "cryptography",
    "fastapi",
    "kombu",
    "lxml",
    "paramiko",
    "prometheus_client",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "redis",
    "requests",
    "rich",
    "starlette",
    "structlog",
    "tenacity",
    "urllib3",
)
OUR_HEAVY_PACKAGES = (
    "engage",
    "schemas",
    "mappers",
    "fallback",
    "relay",
    "tasks",
    "api",
    "console",
    "migration",
)
LIGHT_WORKERS_MODULES = ("workers.cli", "workers.process", "workers.commands")

# Runs in a fresh interpreter: asks for the help of every command, one after the other, and says which
# heavy modules each one brought in.
HELP_PROBE = """
import contextlib, io, json, sys
import click
from workers.cli import main

heavy_tops, light = json.loads(sys.argv[1])

def heavy():
    return {m for m in sys.modules if m.split(".")[0] in heavy_tops
            or (m.startswith("workers.") and not m.startswith(tuple(light)))}

report, before = {}, heavy()
preloaded = sorted(before)  # by `from workers.cli import main` itself
def visit(command, path):
    global before
    with contextlib.redirect_stdout(io.StringIO()):
        main([*path, "--help"], prog_name="engage-relay", standalone_mode=False)
    now = heavy()
    report[" ".join(path) or "engage-relay"] = sorted(now - before)
    before = now
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            visit(command.get_command(ctx, name), [*path, name])

visit(main, [])
print(json.dumps({"preloaded": preloaded, "report": report}))
"""


def test_version_is_printed() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_user_agent_has_engage_form() -> None:
    assert USER_AGENT == f"engage-relay/{__version__}"


def test_no_help_imports_anything_heavy() -> None:
    # Given a fresh interpreter
    heavy_tops = [*HEAVY_LIBRARIES, *OUR_HEAVY_PACKAGES]
    run = subprocess.run(
        [sys.executable, "-c", HELP_PROBE, json.dumps([heavy_tops, LIGHT_WORKERS_MODULES])],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = json.loads(run.stdout)
    # When it shows the help of the group and of every command and subcommand
    report: dict[str, list[str]] = found["report"]
    assert {"engage-relay", "dlq", "dlq list", "tenants add", "migrate receipts", "worker"} <= set(report)
    assert len(report) == 1 + sum(
        1 + len(_subcommands(name)) for name in main.list_commands(click.Context(main))
    )
    # Then none of them imported a heavy module
    assert found["preloaded"] == []
    assert {path: modules for path, modules in report.items() if modules} == {}


def test_the_installed_command_imports_nothing_heavy_for_help() -> None:
    # Given the console script pip installed, run with -X importtime
    script = Path(sys.executable).with_name("engage-relay")
    for args in (["--help"], ["dlq", "--help"]):
        run = subprocess.run(
            [sys.executable, "-X", "importtime", str(script), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        # Then the modules it imported hold none of the heavy ones
        imported = {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines() if "|" in line}
        assert "workers.cli" in imported and "click" in imported
        heavy = {m for m in imported if m.split(".")[0] in (*HEAVY_LIBRARIES, *OUR_HEAVY_PACKAGES)}
        assert heavy == set(), args


def _subcommands(name: str) -> list[str]:
    command = main.get_command(click.Context(main), name)
    return command.list_commands(click.Context(command)) if isinstance(command, click.Group) else []


def test_every_command_module_is_listed_under_its_own_name() -> None:
    # Given the modules of workers/commands (those without a leading underscore are commands)
    modules = {
        info.name for info in pkgutil.iter_modules(workers.commands.__path__) if not info.name.startswith("_")
    }
    # Then each is in LAZY_COMMANDS under the name its command has
    assert set(LAZY_COMMANDS) == modules
    for name, lazy in LAZY_COMMANDS.items():
        assert lazy.module == f"workers.commands.{name}"
        assert lazy.load().name == name


@pytest.mark.parametrize("name", list(LAZY_COMMANDS))
def test_the_help_line_listed_is_the_commands_own(name: str) -> None:
    command = LAZY_COMMANDS[name].load()
    assert command.help is not None
    assert LAZY_COMMANDS[name].help == " ".join(command.help.partition("\n\n")[0].split())


@pytest.mark.parametrize("width", [50, 80, 120])
def test_the_command_list_reads_as_if_every_command_were_loaded(width: int) -> None:
    # Given the group's listing, and the listing click makes of the same commands all loaded
    ctx = click.Context(main, info_name="engage-relay", terminal_width=width)
    lazy, eager = ctx.make_formatter(), ctx.make_formatter()
    main.format_commands(ctx, lazy)
    loaded = {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}
    click.Group(commands={n: c for n, c in loaded.items() if c is not None}).format_commands(ctx, eager)
    # Then they are the same, word for word
    assert lazy.getvalue() == eager.getvalue()
    assert "dlq" in lazy.getvalue() and "Dead letters" in lazy.getvalue()


@pytest.mark.parametrize(
    ("written_out", "owner"),
    [
        (dlq.FALLBACK_STATES, get_args(FallbackState)),
        (tenants.CONTACT_KEYS, get_args(ContactKey)),
        (tenants.TRANSPORTS, get_args(Transport)),
        (tenants.CONTACTS_FALLBACKS, get_args(ContactsFallback)),
        (tenants.BREAKER_MODES, get_args(BreakerMode)),
        (tenants.DEFAULT_RATE_BUDGET_PER_S, DEFAULT_RATE_BUDGET_PER_S),
        (migrate.MAX_BULK_CONTACTS, MAX_BULK_CONTACTS),
        (migrate.MAX_RECORDS_PER_FILE, MAX_RECORDS_PER_FILE),
        (migrate.DEFAULT_HISTORY_MONTHS, DEFAULT_HISTORY_MONTHS),
    ],
)
def test_values_written_out_for_a_fast_help_match_their_owners(written_out: object, owner: object) -> None:
    assert written_out == owner
