"""What mapping one input row gives: a record for a group's batch, a rejection, or a skip."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from migration.sources import SourceRow
from schemas.parsing import InvalidEvent, render_reason


@dataclass(frozen=True, slots=True)
class Mapped:
    """A record (Engage wire shape) for the batch of ``group`` (matchKeyType, contact type...)."""

    group: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that cannot be migrated, with every reason."""

    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A good row deliberately left out; ``counter`` names what it is counted as."""

    counter: str


RowOutcome = Mapped | Rejected | Skipped
RowMapper = Callable[[SourceRow], RowOutcome]


def reasons_of(exc: InvalidEvent, strip_data: bool, rename: Callable[[str], str] | None = None) -> list[str]:
    """An invalid event's reasons as text; ``strip_data`` drops the ``data.`` prefix of a bare data row."""
    reasons = []
    for reason in exc.reasons:
        loc = list(reason["loc"])
        if strip_data and loc[:1] == ["data"]:
            loc = loc[1:]
        if rename is not None and loc and isinstance(loc[0], str):
            loc[0] = rename(loc[0])
        reasons.append(render_reason({"loc": loc, "msg": reason["msg"]}))
    return reasons
