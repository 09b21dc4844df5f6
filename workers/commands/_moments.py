"""Points in time as operators type them: ISO 8601 (`2026-11-24T10:00`, `2026-11-24`) or relative (`2h`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

RELATIVE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """`30m` -> 30 minutes ago; an ISO 8601 time without an offset is taken as UTC."""
    relative = RELATIVE_RE.match(text)
    if relative:
        amount, unit = relative.groups()
        return (now or datetime.now(UTC)) - timedelta(seconds=float(amount) * UNIT_S[unit])
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither ISO 8601 (2026-11-24T10:00:00+01:00) nor relative (30m, 2h, 7d)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class MomentParam(click.ParamType[datetime, object]):
    name = "TIME"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_moment(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


MOMENT = MomentParam()
