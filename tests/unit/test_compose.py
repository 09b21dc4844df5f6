"""docker-compose.yml, the Dockerfile and ops/ agree with the code: commands exist, files exist, alerts
name metrics the relay exports. (No Docker engine runs here; this is what can be checked without one.)"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import redis
import yaml
from prometheus_client import Counter, Histogram

from tests.support import relay_seed as seed
from workers import metrics
from workers.cli import main
from workers.metrics_collector import RelayStateCollector

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
CELERY_COMMANDS = {"beat", "flower", "worker", "inspect"}
APP_IN_IMAGE = Path("/app")


def test_the_stack_has_every_service_and_each_has_a_healthcheck() -> None:
    assert set(SERVICES) == {"redis", "simulator", "ftp", "ingest", "worker", "api", "beat", "flower"}
    for name, service in SERVICES.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_redis_keeps_its_data() -> None:
    command = SERVICES["redis"]["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(v.endswith(":/data") for v in SERVICES["redis"]["volumes"])


@pytest.mark.parametrize("name", [n for n, s in SERVICES.items() if "build" in s])
def test_build_context_and_dockerfile_exist(name: str) -> None:
    build = SERVICES[name]["build"]
    context = ROOT / build["context"]
    assert context.is_dir()
    assert (context / build.get("dockerfile", "Dockerfile")).is_file()


def test_dockerfile_installs_the_project_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert re.search(r"pip install \"?\.", text)
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    for source in re.findall(r"^COPY (\S+) ", text, re.MULTILINE):
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"


def _engage_relay_command(args: list[str]) -> click.Command:
    command: click.Command = main
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        found = command.get_command(click.Context(command), rest[0])
        assert found is not None, f"engage-relay has no subcommand {rest[0]!r}"
        command, rest = found, rest[1:]
    options = {opt for p in command.params for opt in getattr(p, "opts", [])}
    for token in rest:
        if token.startswith("--"):
            assert token.split("=", 1)[0] in options, f"{command.name} has no option {token}"
    return command


def _check_celery_command(args: list[str]) -> None:
    app_ref = args[args.index("-A") + 1]
    module, _, attr = app_ref.partition(":")
    path = ROOT / (module.replace(".", "/") + ".py")
    assert path.is_file(), f"celery -A {app_ref}: no {path}"
    assert re.search(rf"^{attr or 'app'} = ", path.read_text(), re.MULTILINE)
    assert CELERY_COMMANDS & set(args), f"unknown celery command in {args}"
    for token in args:
        if token.startswith("--conf="):
            inside = Path(token.split("=", 1)[1])
            assert (ROOT / inside.relative_to(APP_IN_IMAGE)).is_file(), f"{token} is not in the image"


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_command_refers_to_something_that_exists(name: str) -> None:
    args = [str(a) for a in SERVICES[name]["command"]]
    if args[0] == "engage-relay":
        _engage_relay_command(args[1:])
    elif args[0] == "celery":
        _check_celery_command(args)
    elif args[0] == "redis-server":
        assert SERVICES[name]["image"].startswith("redis:")
    elif args[:2] == ["sh", "-c"]:
        words = shlex.split(args[2].split("exec ", 1)[1])
        assert words[:3] == ["python", "-m", "pyftpdlib"]
        assert "pyftpdlib" in (ROOT / "pyproject.toml").read_text().split("demo = ", 1)[1].split("\n")[0]
    else:
        pytest.fail(f"{name}: unexpected command {args}")


def test_variables_the_services_need_are_in_the_env_example() -> None:
    example = (ROOT / "ops" / "compose.env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    used = set(re.findall(r"\$\$([A-Z][A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert used <= documented
    assert {"FLOWER_BASIC_AUTH", "ENGAGE_API_KEY", "ENGAGE_RELAY_SECRET_KEY"} <= documented


def _flower_settings(env: dict[str, str]) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        exec(compile((ROOT / "ops/flower/flowerconfig.py").read_text(), "flowerconfig.py", "exec"), namespace)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return namespace


def test_flower_config_requires_basic_auth_and_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWER_BASIC_AUTH", raising=False)
    with pytest.raises(SystemExit, match="FLOWER_BASIC_AUTH"):
        _flower_settings({})
    settings = _flower_settings({"FLOWER_BASIC_AUTH": "ops:s3cret,viewer:v"})
    assert settings["basic_auth"] == ["ops:s3cret", "viewer:v"]
    assert settings["persistent"] is False and settings["natural_time"] is True


def _exported_names(client: redis.Redis) -> set[str]:
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            names.add(f"{value._name}_total")
        elif isinstance(value, Histogram):
            names |= {f"{value._name}_{s}" for s in ("bucket", "count", "sum")}
    names |= {"engage_relay_ingest_routed_total"}
    collector = RelayStateCollector(client, [seed.tenant("acme", "key-acme-123", "/tmp")])
    names |= {s.name for family in collector.collect() for s in family.samples}
    return names


def test_alert_rules_only_name_metrics_the_relay_exports(redis_client: redis.Redis) -> None:
    rules = yaml.safe_load((ROOT / "ops" / "alerts" / "engage-relay.rules.yml").read_text())
    exprs = [r["expr"] for group in rules["groups"] for r in group["rules"]]
    assert len(exprs) >= 4
    seed.stream_with_lag(redis_client, published=1, read=0)  # so the lag gauge is exported
    seed.trip_breaker(redis_client, "acme", seed.key_refused())  # and the breaker's cause
    exported = _exported_names(redis_client)
    for expr in exprs:
        for name in re.findall(r"engage_relay_\w+", expr):
            assert name in exported, f"alert uses {name}, which the relay does not export"


def _compose_env() -> dict[str, str]:
    """What a relay service's environment holds: ops/compose.env.example, then the anchor's environment."""
    example = (ROOT / "ops" / "compose.env.example").read_text()
    env = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", example, re.MULTILINE))
    env |= {k: str(v) for k, v in COMPOSE["x-relay"]["environment"].items()}
    return env


def _option(words: list[str], flag: str) -> str:
    return words[words.index(flag) + 1]


def test_the_default_tenant_delivers_files_to_the_ftp_service_the_simulator_imports_from() -> None:
    # Given the relay services' environment and the ftp and simulator services
    env = _compose_env()
    ftp = shlex.split(SERVICES["ftp"]["command"][2].split("exec ", 1)[1])
    simulator = [str(a) for a in SERVICES["simulator"]["command"]]
    # When a relay process builds its settings the way every entry point does
    from workers.process import ProcessEnv

    fallback = ProcessEnv(env).settings.default_tenant().fallback
    # Then the default tenant's files go to the ftp service, with the login the ftp service accepts
    assert fallback.transport == "ftp"
    assert fallback.host == "ftp" and "ftp" in SERVICES
    assert fallback.port == int(_option(ftp, "-p"))
    user, password = _option(ftp, "-u"), _option(ftp, "-P")
    assert user == "$$ENGAGE_FALLBACK_USERNAME" and fallback.username == env["ENGAGE_FALLBACK_USERNAME"]
    assert password == "$$ENGAGE_FALLBACK_PASSWORD"  # compose: $$ is a $ for the shell
    assert fallback.password is not None
    assert fallback.password.get_secret_value() == env["ENGAGE_FALLBACK_PASSWORD"]
    # And the server lets it make the sub-folders, into the folder the simulator imports from
    assert "-w" in ftp  # pyftpdlib's write permissions include MKD
    assert _option(ftp, "-d") == _option(simulator, "--import-dir")
    assert fallback.remote_dir == "/"
    # And the tenant's key is the simulator's first key (the one its import folder's root belongs to)
    assert env["SIM_API_KEYS"].split()[0] == env["ENGAGE_API_KEY"]
    assert env["ENGAGE_BASE_URL"] == "http://simulator:8080"


def test_the_image_holds_every_package_the_project_installs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) ", dockerfile, re.MULTILINE))
    pyproject = (ROOT / "pyproject.toml").read_text()
    include = pyproject.split("[tool.setuptools.packages.find]", 1)[1].split("]", 1)[0]
    packages = {name.rstrip("*") for name in re.findall(r'"([a-z_]+)\*?"', include)}
    missing = {p for p in packages if (ROOT / p).is_dir()} - copied
    assert not missing, f"the Dockerfile does not copy {sorted(missing)}"


def test_the_alert_examples_cover_a_long_hold_and_a_refused_key() -> None:
    rules = yaml.safe_load((ROOT / "ops" / "alerts" / "engage-relay.rules.yml").read_text())
    by_name = {r["alert"]: r for group in rules["groups"] for r in group["rules"]}
    held = by_name["EngageRelayTenantHeld"]["expr"]
    assert "engage_relay_tenant_held_seconds" in held and "engage_relay_tenant_paused" in held
    assert 'engage_relay_breaker_cause{cause="key_refused"}' in by_name["EngageRelayKeyRefused"]["expr"]
    for rule in by_name.values():
        runbook = re.search(r"ops/runbooks/([\w-]+\.md)", rule["annotations"]["description"])
        if runbook:
            assert (ROOT / "ops" / "runbooks" / runbook.group(1)).is_file(), runbook.group(0)
