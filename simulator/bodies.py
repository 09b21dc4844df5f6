"""Reading JSON request bodies and query flags the way Engage handlers need them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from simulator.errors import ApiError


async def read_json(request: web.Request) -> Any:
    """The parsed JSON body, None when there is none; 400 InvalidJson when it does not parse."""
    if not request.body_exists:
        return None
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "InvalidJson", "The body is not valid JSON") from exc


def query_flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").strip().lower() == "true"


def json_string(value: str, status: int = 200) -> web.Response:
    """A body that is a bare JSON string, as lookup and bulk answer."""
    return web.json_response(value, status=status)
