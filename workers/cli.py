"""The `engage-relay` command: one entry point for every process and operator task."""

from __future__ import annotations

from pathlib import Path

import click

from engage.version import __version__


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


if __name__ == "__main__":
    main()
