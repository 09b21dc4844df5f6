"""The Engage error body, and the exception that handlers raise to answer with it.

Handlers raise `ApiError`; the error middleware in `faults.py` turns it into the JSON body the
contract describes: `{"statusCode", "errorCode", "message", "messageDetails"?}`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web


class ApiError(Exception):
    """An Engage error answer: HTTP status, Engage error code, message and optional details."""

    def __init__(
        self, status: int, error_code: str, message: str = "", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {error_code}")
        self.status = status
        self.error_code = error_code
        self.message = message or error_code
        self.details = details


def error_body(
    status: int, error_code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"statusCode": status, "errorCode": error_code, "message": message}
    if details is not None:
        body["messageDetails"] = details
    return body


def error_response(
    status: int,
    error_code: str,
    message: str = "",
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.json_response(
        error_body(status, error_code, message or error_code, details), status=status, headers=headers
    )


def validation_error(errors: list[dict[str, str]]) -> ApiError:
    """422 ValidationError with per-field messages in `messageDetails.errors`."""
    return ApiError(422, "ValidationError", "Validation failed", {"errors": errors})


def field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}
