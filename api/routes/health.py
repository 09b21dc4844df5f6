"""``GET /healthz``: the process answers (no token, no data; for compose and load balancers)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    ok: bool


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(ok=True)
