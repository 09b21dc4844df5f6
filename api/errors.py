"""The HTTP service's error answers: one JSON shape, ``{"error": code, "detail": text}``, and the handlers
that turn the few failures every route shares into it (Redis unreachable -> 503 with ``Retry-After``).

``ApiError(status, code, detail, headers=None)`` is raised by routes and dependencies; the codes are
stable words a client can branch on (``unauthorized``, ``not_found``, ``rate_limited``, ...). No answer
holds a secret, a token, or a hint that another tenant's data exists (that is ``not_found``, like data
that does not exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import redis
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

log = structlog.get_logger(__name__)

REDIS_DOWN_RETRY_AFTER_S: Final = 5
"""A Redis blip: the client comes back in a few seconds (processes reconnect by themselves)."""


class ErrorBody(BaseModel):
    error: str
    detail: str


class ApiError(Exception):
    """An answer other than success: its status, a stable code, a sentence, and optional headers."""

    def __init__(self, status: int, code: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def not_found(what: str = "no such resource") -> ApiError:
    return ApiError(404, "not_found", what)


def error_response(
    status: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        ErrorBody(error=code, detail=detail).model_dump(), status_code=status, headers=dict(headers or {})
    )


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.detail, exc.headers)

    async def redis_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("api.redis_unavailable", error=type(exc).__name__, path=request.url.path)
        return error_response(
            503,
            "unavailable",
            "the relay's Redis cannot be reached; try again shortly",
            {"Retry-After": str(REDIS_DOWN_RETRY_AFTER_S)},
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(redis.RedisError, redis_down)


ERROR_RESPONSES: Final[dict[int | str, dict[str, object]]] = {
    401: {"model": ErrorBody, "description": "no token, or a wrong or revoked one"},
    404: {"model": ErrorBody, "description": "no such resource for this token's tenant"},
    429: {"model": ErrorBody, "description": "the token's request budget is used up (see Retry-After)"},
    503: {"model": ErrorBody, "description": "Redis or Engage cannot answer now (see Retry-After)"},
}
"""The answers every authenticated route may give, for the OpenAPI document."""
