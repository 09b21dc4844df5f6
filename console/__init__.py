"""The browser console: server-rendered pages (Jinja2, a little vendored htmx) for a retailer's team.

`build_router(services)` gives the FastAPI router with every page under /console and the static assets
(console/static/) it serves itself; `engage-relay api` includes it beside the HTTP API.
"""

from console.router import build_router
from console.services import ConsoleServices, redis_services

__all__ = ["ConsoleServices", "build_router", "redis_services"]
