"""`build_router(services)`: every console page under /console, and its static assets."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from console import pages_auth, pages_failures, pages_settings, pages_status
from console.services import ConsoleServices
from console.web import HERE, PREFIX, ConsoleRoute, Pages, not_found

STATIC = HERE / "static"
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


def build_router(services: ConsoleServices) -> APIRouter:
    router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
    pages = Pages(services)

    @router.get("/static/{name}")
    def static(name: str) -> FileResponse:
        path = STATIC / name
        if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
            raise not_found("No such file.")
        return FileResponse(
            path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "max-age=3600"}
        )

    pages_auth.add_routes(router, pages)
    pages_settings.add_routes(router, pages)
    pages_failures.add_routes(router, pages)
    pages_status.add_routes(router, pages)
    return router
