"""Building and running the simulator: `build_app(config)` for in-process use, `serve(...)` for the CLI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from aiohttp import web

from simulator import admin, bulk, contact_routes, loyalty, order_routes, receipts, store_routes, tracking
from simulator.config import SHUTDOWN_TIMEOUT_S, SimConfig
from simulator.context import SIM, Sim
from simulator.faults import FaultGate
from simulator.middleware import engage_middleware
from simulator.seed import load_seed

log = structlog.get_logger("simulator")


def build_app(config: SimConfig) -> web.Application:
    """The simulator as an aiohttp application (routes, middleware, seed, import watcher)."""
    app = web.Application(middlewares=[engage_middleware])
    startup_seed = load_seed(config.seed_path) if config.seed_path is not None else None
    sim = Sim(config=config, faults=FaultGate(config.api_keys, config.rate_limit), startup_seed=startup_seed)
    app[SIM] = sim
    # Order matters: fixed paths (bulk, /contacts/id) before /contacts/{contactId}.
    for table in (admin.routes, bulk.routes, contact_routes.routes, receipts.routes, order_routes.routes):
        app.add_routes(table)
    app.add_routes(loyalty.routes)
    app.add_routes(tracking.routes)
    app.add_routes(store_routes.routes)
    if config.import_dir is not None:
        app.cleanup_ctx.append(_import_watcher)
    return app


async def _import_watcher(app: web.Application) -> AsyncIterator[None]:
    from simulator.importer import ImportWatcher

    sim = app[SIM]
    assert sim.config.import_dir is not None
    watcher = ImportWatcher(sim, sim.config.import_dir, sim.config.import_interval_s)
    watcher.start()
    yield
    await watcher.stop()


def serve(
    host: str,
    port: int,
    api_keys: list[str],
    rate_limit: int,
    import_dir: Path | None,
    seed_path: Path | None,
) -> None:
    """Run until SIGINT/SIGTERM (aiohttp turns both into a graceful shutdown)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if import_dir is not None:
        import_dir.mkdir(parents=True, exist_ok=True)
    config = SimConfig(
        api_keys=tuple(api_keys), rate_limit=rate_limit, import_dir=import_dir, seed_path=seed_path
    )
    log.info("sim.starting", host=host, port=port, config=repr(config))
    web.run_app(
        build_app(config),
        host=host,
        port=port,
        access_log=None,
        print=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        handle_signals=True,
    )
    log.info("sim.stopped")
