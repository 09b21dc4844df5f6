"""`engage-relay demo`: the whole stack on one machine, a sample day through it, and a summary.

Starts Redis (unless REDIS_URL is set), the simulator, a local FTP drop, ingest, a worker, beat and
Flower as child processes under `.var/demo/`; publishes an e-commerce and a POS day for two tenants;
then switches Engage down while one tenant's stores keep selling: its events are held, its receipts
spill to a file that Engage imports, and the rest goes through the API once Engage is back; shows
progress; prints outcomes by type and kind, the outage, the Engage calls made, and where to look next.
Then keeps the stack running until Ctrl-C, or, with DEMO_ONCE=1, stops it and exits: 0, or 1 when an
event was lost (no final outcome within the wait). Children never outlive the command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from workers.process import current_env, redact_url

if TYPE_CHECKING:
    from rich.console import Console

    from workers.demo.processes import Supervisor
    from workers.demo.stack import DemoPaths

DEFAULT_DEMO_DIR = Path(".var/demo")
EXIT_LOST = 1
EXIT_START_FAILED = 2
EXIT_INTERRUPTED = 130
WATCH_INTERVAL_S = 1.0
PLAIN_OUTPUT_WIDTH = 120  # when stdout is a file or a pipe, so tables are not cut to 80 columns


@click.command("demo")
@click.option(
    "--dir",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DEMO_DIR,
    show_default=True,
    help="Folder for the demo's data, logs, tenants file and pids.",
)
@click.option(
    "--once",
    is_flag=True,
    envvar="DEMO_ONCE",
    help="Stop the stack after the summary (also DEMO_ONCE=1); exit 1 if an event was lost.",
)
def command(root: Path, once: bool) -> None:
    """Bring up a local stack, publish a sample e-com and POS day, and show what happened."""
    sys.exit(run_demo(root.resolve(), once=once))


def run_demo(root: Path, *, once: bool) -> int:
    """The whole demo; returns the exit status. Every child is stopped before it returns."""
    import atexit
    import signal
    from types import FrameType

    from rich.console import Console

    from workers.demo.data import DemoDataMissing
    from workers.demo.processes import DemoStartError, Supervisor, stop_leftovers
    from workers.demo.stack import DemoPaths

    console = Console(highlight=False, width=None if sys.stdout.isatty() else PLAIN_OUTPUT_WIDTH)
    paths = DemoPaths(root)
    root.mkdir(parents=True, exist_ok=True)
    for name in stop_leftovers(paths.pids_file):
        console.print(f"stopped {name}, left running by an earlier demo")
    supervisor = Supervisor(paths.logs, paths.pids_file)
    atexit.register(supervisor.stop_all)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    # Ctrl-C raises KeyboardInterrupt even when started from a shell that ignored SIGINT for it
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return _run(console, supervisor, paths, once=once)
    except (DemoStartError, DemoDataMissing) as exc:
        console.print(f"[bold red]demo failed:[/] {exc}", highlight=False)
        return EXIT_START_FAILED
    except KeyboardInterrupt:
        console.print("\ninterrupted: stopping the stack")
        return EXIT_INTERRUPTED
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        with console.status("stopping the stack"):
            supervisor.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(console: Console, supervisor: Supervisor, paths: DemoPaths, *, once: bool) -> int:
    import time

    import redis

    from workers.demo.data import OUTAGE_FILED, OUTAGE_TENANT, demo_waves, outage_wave
    from workers.demo.processes import DemoStartError
    from workers.demo.report import print_summary, shown_path, write_summary
    from workers.demo.run import OutageScene, run_waves
    from workers.demo.stack import imports_of, set_outage, simulator_state, start_stack, tenant_state

    def still_running() -> None:
        for child in supervisor.dead():
            raise DemoStartError(
                f"{child.name} stopped (status {child.popen.returncode}); the end of {child.log_path}:\n"
                f"{child.log_tail()}"
            )

    waves = demo_waves()
    console.print(f"[bold]engage-relay demo[/]: starting the stack under {shown_path(paths.root)}")
    with console.status("starting Redis, the simulator, the FTP drop, ingest, a worker, beat and Flower"):
        stack = start_stack(supervisor, paths, current_env().environ)
    names = ", ".join(c.name for c in supervisor.children)
    console.print(f"stack up: {names} (logs in {shown_path(paths.logs)})")
    settings = current_env().settings
    client = redis.Redis.from_url(stack.redis_url)
    outage = OutageScene(
        wave=outage_wave(),
        tenant=OUTAGE_TENANT,
        filed=frozenset(f"{OUTAGE_TENANT}:{event_id}" for event_id in OUTAGE_FILED),
        switch=lambda down: set_outage(stack, down),
        look=lambda: tenant_state(stack, client, OUTAGE_TENANT),
        imports=lambda: imports_of(simulator_state(stack), stack.import_folders[OUTAGE_TENANT]),
    )
    try:
        result = run_waves(
            client,
            waves,
            events_stream=settings.events_stream,
            outcomes_stream=settings.outcomes_stream,
            console=console,
            still_running=still_running,
            outage=outage,
        )
    except redis.RedisError as exc:
        still_running()  # the demo's own Redis died: say so, with the end of its log
        raise DemoStartError(
            f"Redis at {redact_url(stack.redis_url)} stopped answering ({type(exc).__name__})"
        ) from None
    finally:
        client.close()
    try:
        states = simulator_state(stack)  # each tenant's Engage (its API key's)
    except Exception:  # the summary is still worth printing without the call counts
        states = None
    print_summary(console, stack, result, states)
    write_summary(paths.summary_file, stack, result, states)
    status = EXIT_LOST if result.lost else 0
    if once:
        console.print("DEMO_ONCE is set: stopping the stack")
        return status
    console.print("\nThe stack keeps running; [bold]Ctrl-C[/] stops it.")
    try:
        while True:
            still_running()
            time.sleep(WATCH_INTERVAL_S)
    except KeyboardInterrupt:
        console.print("\nstopping the stack")
    return status
