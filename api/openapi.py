"""The OpenAPI document as the repository keeps it (``api/openapi.json``) and ``engage-relay openapi``
prints it: the served ``/openapi.json``, as indented JSON with sorted keys.

The document depends only on the routes, never on the services behind them, so it is built here over an
app whose services are never touched (``create_app`` only stores them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI

from api.services import ApiServices

COMMITTED_PATH = Path(__file__).with_name("openapi.json")


def document(app: FastAPI | None = None) -> dict[str, Any]:
    if app is None:
        from api.app import create_app

        app = create_app(cast(ApiServices, RoutesOnly()))
    return app.openapi()


def openapi_text(app: FastAPI | None = None) -> str:
    return json.dumps(document(app), indent=2, sort_keys=True) + "\n"


class RoutesOnly:
    """Stands in for the services when only the routes matter (the document, a router's test); any use
    of it beyond the settings is a bug."""

    @property
    def settings(self) -> Any:
        from api.settings import ApiSettings

        return ApiSettings()

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the OpenAPI document needs no services (asked for {name!r})")
