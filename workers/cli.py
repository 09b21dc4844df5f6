"""The `engage-relay` command: one entry point for every process and operator task."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import click

from engage.version import __version__
from workers.process import ProcessEnv, pass_env


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="engage-relay")
def main() -> None:
    """Relay retail events from Redis to Voyado Engage."""


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

    from relay.retry import LadderError
    from relay.tenants_file import TenantConfigError
    from workers.celery_app import create_app
    from workers.logs import configure_logging, known_secrets

    settings = env.settings
    level = logging.getLevelNamesMapping().get(loglevel.upper(), logging.INFO)
    try:
        configure_logging(level, secrets=known_secrets(env.registry()))
        app = create_app(env)
    except (LadderError, TenantConfigError) as exc:
        raise click.ClickException(str(exc)) from None
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
@click.option("--consumer", default=None, help="Consumer name in the group (default host-pid).")
@pass_env
def ingest(env: ProcessEnv, consumer: str | None) -> None:
    """Consume the events stream: validate, route to Celery, acknowledge; keep what is invalid."""
    from workers.ingest_process import run_ingest

    run_ingest(env, consumer)


@main.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--stream", default=None, help="Stream key (default engage:events).")
@pass_env
def publish(env: ProcessEnv, source: IO[bytes], stream: str | None) -> None:
    """Publish envelopes from a file or stdin onto the events stream: one JSON envelope (an example
    file), a JSON array of them, or NDJSON (one per line)."""
    from schemas.publish import publish_many, read_envelopes

    target = stream or env.settings.events_stream
    count = publish_many(env.redis_client(), read_envelopes(source), target)
    click.echo(f"published {count} event(s) to {target}")


@main.command()
@click.option("--output", "-o", type=click.File("w"), default="-", help="Where to write (default stdout).")
def schema(output: IO[str]) -> None:
    """Print the JSON Schema of envelope v1 and every event type."""
    import json

    from schemas import export_json_schema

    json.dump(export_json_schema(), output, indent=2, sort_keys=True)
    output.write("\n")


def _add_operator_commands() -> None:
    import importlib
    import pkgutil

    import workers.commands

    for info in pkgutil.iter_modules(workers.commands.__path__):
        module = importlib.import_module(f"workers.commands.{info.name}")
        command = getattr(module, "command", None)
        if isinstance(command, click.Command):
            main.add_command(command)


_add_operator_commands()


if __name__ == "__main__":
    main()
