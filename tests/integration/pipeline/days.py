"""The demo's e-commerce day and POS day (workers.demo.data), without its deliberately invalid order.

A wave is published after the previous one is settled, the way a shop's sign-up precedes its purchase;
inside a wave, events race each other through the workers.
"""

from __future__ import annotations

from typing import Any

from workers.demo.data import (
    ANNA,
    ECOM_TENANT,
    INVALID_EVENT_ID,
    KARIN_ID,
    KARIN_VOUCHER_ID,
    KARIN_VOUCHER_NUMBER,
    POS_TENANT,
    WELCOME_PROMOTION,
    Envelope,
    event,
    example,
    pos_day,
)
from workers.demo.data import ecom_day as demo_ecom_day
from workers.demo.data import simulator_seed as pos_seed

__all__ = [
    "ANNA",
    "ECOM_TENANT",
    "KARIN_ID",
    "KARIN_VOUCHER_ID",
    "KARIN_VOUCHER_NUMBER",
    "POS_TENANT",
    "WELCOME_PROMOTION",
    "ecom_day",
    "event",
    "event_keys",
    "example",
    "pos_day",
    "pos_seed",
]


def ecom_day() -> list[list[Envelope]]:
    return [[e for e in wave if e["id"] != INVALID_EVENT_ID] for wave in demo_ecom_day()]


def event_keys(waves: list[list[dict[str, Any]]]) -> list[str]:
    return [f"{e['tenant']}:{e['id']}" for wave in waves for e in wave]
