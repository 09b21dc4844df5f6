"""The `engage-relay` command: one entry point for every process and operator task.

Quick to start: an operator command's module (`workers/commands/`) is imported only when the command runs
or shows its --help (click's lazy-group pattern: `LAZY_COMMANDS` holds each name and its help line), and
every command imports what it needs inside its body, so `engage-relay --help` imports click and little
else. A service that is down or answers badly, or a wrong setting, is one line on stderr and exit status 1,
never a traceback: `RelayGroup.invoke` asks `workers.commands._failures.explain` for the line.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from workers.process import REDIS_URL_ENV, ProcessEnv, SettingsError, pass_env

PACKAGE = "engage-relay"


@dataclass(frozen=True)
class LazyCommand:
    """An operator command known by its module (which exports `command`) and the first paragraph of its
    help, so `engage-relay --help` lists it without importing it (a test keeps the two in step)."""

    module: str
    help: str

    def load(self) -> click.Command:
        command = importlib.import_module(self.module).command
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.module}.command is not a click command")
        return command


LAZY_COMMANDS: Mapping[str, LazyCommand] = {
    "demo": LazyCommand(
        "workers.commands.demo",
        "Bring up a local stack, publish a sample e-com and POS day, and show what happened.",
    ),
    "dlq": LazyCommand(
        "workers.commands.dlq",
        "Dead letters: events whose retries ran out. List, show, replay onto the stream, or drop.",
    ),
    "fallback": LazyCommand(
        "workers.commands.fallback",
        "The fallback path: dead letters delivered by import files or the bulk API.",
    ),
    "migrate": LazyCommand(
        "workers.commands.migrate",
        "Migrate historical contacts and receipts into Engage (before go-live); resumable.",
    ),
    "rejected": LazyCommand(
        "workers.commands.rejected",
        "Rejected envelopes: invalid, for an unknown tenant, or refused by Engage as wrong data.",
    ),
    "status": LazyCommand(
        "workers.commands.status",
        "Per tenant: held or not and why, the schedule's lanes, dead letters, spill, budget, last hour.",
    ),
    "tokens": LazyCommand(
        "workers.commands.tokens",
        "API tokens for the HTTP service: create (shown once), list, revoke.",
    ),
    "tenants": LazyCommand(
        "workers.commands.tenants",
        "Add, list, show, test, remove, pause and resume Engage tenants (secrets encrypted in Redis).",
    ),
    "users": LazyCommand(
        "workers.commands.users",
        "Console accounts: create operators and client admins, list them, disable or enable one.",
    ),
}


class RelayGroup(click.Group):
    """A group whose lazy commands are imported on use, and whose known failures are one line."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy_commands.get(cmd_name)
        return lazy.load() if lazy is not None else super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own listing, over stand-ins that carry each lazy command's help: nothing is imported."""
        stand_ins = {name: click.Command(name, help=lazy.help) for name, lazy in self.lazy_commands.items()}
        click.Group(commands={**stand_ins, **self.commands}).format_commands(ctx, formatter)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own: usage errors, --help, Ctrl-C at a prompt
        except Exception as exc:
            from workers.commands._failures import explain

            line = explain(exc, redis_url=lambda: _redis_url(ctx))
            if line is None:
                raise  # not a failure we know: a bug, whose traceback is worth reading
            raise click.ClickException(line) from None


def _redis_url(ctx: click.Context) -> str:
    """The REDIS_URL a failure names (`explain` redacts it): the settings', else the environment's."""
    env = ctx.find_object(ProcessEnv)
    if env is None:
        return REDIS_URL_ENV
    try:
        return env.settings.redis_url
    except SettingsError:
        return env.environ.get(REDIS_URL_ENV, REDIS_URL_ENV)


@click.group(
    cls=RelayGroup,
    lazy_commands=LAZY_COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name=PACKAGE, prog_name=PACKAGE)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Relay retail events from Redis to Voyado Engage."""
    ctx.ensure_object(ProcessEnv)  # one per process, shared by every command (and seen by `invoke`)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--api-key", "api_keys", multiple=True, envvar="SIM_API_KEYS", help="Accepted API key (repeatable)."
)
@click.option(
    "--rate-limit", default=200, show_default=True, type=int, help="Requests per second per API key."
)
@click.option(
    "--import-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder watched for contacts/transactions XML import files.",
)
@click.option(
    "--seed",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="JSON seed file (promotions, vouchers, contacts, stores).",
)
def simulator(
    host: str,
    port: int,
    api_keys: tuple[str, ...],
    rate_limit: int,
    import_dir: Path | None,
    seed: Path | None,
) -> None:
    """Run the Engage simulator (for tests, the demo and benchmarks)."""
    from simulator.server import serve

    serve(
        host=host,
        port=port,
        api_keys=list(api_keys) or ["dev-key"],
        rate_limit=rate_limit,
        import_dir=import_dir,
        seed_path=seed,
    )


@main.command()
@click.option(
    "--concurrency",
    type=int,
    default=None,
    help="Worker threads (default ENGAGE_RELAY_WORKER_CONCURRENCY or 32).",
)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option(
    "--hostname", default="engage@%h", show_default=True, help="Worker node name (Flower shows it)."
)
@pass_env
def worker(env: ProcessEnv, concurrency: int | None, loglevel: str, hostname: str) -> None:
    """Run a Celery worker: a thread pool over every tenant's queue and the fallback queue."""
    import logging

    settings = env.settings  # a wrong environment is one line before anything heavy is imported
    from workers.celery_app import create_app
    from workers.logs import configure_logging, known_secrets, quiet_celery_task_lines

    level = logging.getLevelNamesMapping().get(loglevel.upper(), logging.INFO)
    configure_logging(level, secrets=known_secrets(env.registry()))
    quiet_celery_task_lines(level)
    app = create_app(env)  # a wrong ladder or tenants file is one line too (RelayGroup.invoke)
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency or settings.worker_concurrency}",
            f"--queues={','.join(app.conf.engage_queues)}",
            f"--loglevel={loglevel}",
            f"--hostname={hostname}",
            "--without-mingle",
            "--without-gossip",
        ]
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8090, show_default=True)
@pass_env
def console(env: ProcessEnv, host: str, port: int) -> None:
    """Serve the browser console alone at http://HOST:PORT/console/ (`engage-relay api` serves it too)."""
    env.settings  # noqa: B018 - a wrong environment is one line before anything heavy is imported
    import uvicorn

    from workers.console_app import create_console_app
    from workers.logs import configure_logging

    configure_logging(secrets=[])
    uvicorn.run(create_console_app(env), host=host, port=port, log_level="warning", access_log=False)


@main.command()
@click.option("--consumer", default=None, help="Consumer name in the group (default host-pid).")
@pass_env
def ingest(env: ProcessEnv, consumer: str | None) -> None:
    """Consume the events stream: validate, route to Celery, acknowledge; keep what is invalid."""
    env.settings  # noqa: B018 - a wrong environment is one line before anything heavy is imported
    from workers.ingest_process import run_ingest

    run_ingest(env, consumer)


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--stream", default=None, help="Stream key (default engage:events).")
@pass_env
def publish(env: ProcessEnv, source: IO[bytes], stream: str | None) -> None:
    """Publish envelopes from a file or stdin onto the events stream: one JSON envelope (an example
    file), a JSON array of them, or NDJSON (one per line).

    The whole input is read and checked first: one in none of these forms is refused, with the line and
    column of its first error, before anything is published."""
    from schemas.publish import EnvelopeInputError, publish_input

    target = stream or env.settings.events_stream
    client = env.redis_client()
    try:
        count = publish_input(client, source, target)
    except EnvelopeInputError as exc:
        raise click.ClickException(
            f"{source.name}: {exc}; nothing was published "
            "(give one JSON envelope, a JSON array of them, or NDJSON: one envelope per line)"
        ) from None
    finally:
        client.close()
    click.echo(f"published {count} event(s) to {target}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Processes.")
@pass_env
def api(env: ProcessEnv, host: str, port: int, workers: int) -> None:
    """Run the HTTP service: webhook ingest, event outcomes, the checkout read path, soft identification."""
    from workers.api_process import serve_api

    serve_api(env, host=host, port=port, workers=workers)


@main.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here (default: print to stdout).",
)
def openapi(output: Path | None) -> None:
    """Print (or write) the HTTP service's OpenAPI document, as `/openapi.json` serves it."""
    from api.openapi import openapi_text

    text = openapi_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")


@main.command()
@click.option("--output", "-o", type=click.File("w"), default="-", help="Where to write (default stdout).")
def schema(output: IO[str]) -> None:
    """Print the JSON Schema of envelope v1 and every event type."""
    import json

    from schemas import export_json_schema

    json.dump(export_json_schema(), output, indent=2, sort_keys=True)
    output.write("\n")


if __name__ == "__main__":
    main()
