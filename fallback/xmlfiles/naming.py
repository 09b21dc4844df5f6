"""Voyado import file names: ``{YYYYMMDDHHmmss}_{seq or store id}_{kind}.xml``.

The timestamp is **UTC**: Voyado only uses it to order files, and UTC never repeats an
hour at a daylight-saving change, so files from several hosts sort correctly.
(Datetimes *inside* the files keep local time plus offset, as Voyado asks.)

The middle part is a sequence number or store id; Voyado needs it whenever several files
may be sent in the same second. The outbox takes it from a per-tenant, per-kind sequence
(fallback/file_sequence.py), so a name is never used twice. It is restricted to
``[A-Za-z0-9-]`` (1 to 64 characters) so that a name can never carry a path separator, a
dot or whitespace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal, get_args

FileKind = Literal["contacts", "transactions", "promotion-redemptions"]
FILE_KINDS: Final[tuple[FileKind, ...]] = get_args(FileKind)

TIMESTAMP_FORMAT: Final = "%Y%m%d%H%M%S"
SEQ_MAX_CHARS: Final = 64
_SEQ_RE: Final = re.compile(rf"[A-Za-z0-9-]{{1,{SEQ_MAX_CHARS}}}")
_NAME_RE: Final = re.compile(
    rf"(?P<ts>[0-9]{{14}})_(?P<seq>[A-Za-z0-9-]{{1,{SEQ_MAX_CHARS}}})_"
    r"(?P<kind>contacts|transactions|promotion-redemptions)\.xml"
)


@dataclass(frozen=True, slots=True)
class ImportFileName:
    """The parts of an import file name; ``str()`` gives the name back."""

    created_at: datetime  # aware, UTC, whole seconds
    seq: str
    kind: FileKind

    def __str__(self) -> str:
        return f"{self.created_at.strftime(TIMESTAMP_FORMAT)}_{self.seq}_{self.kind}.xml"


def check_seq(seq: str | int) -> str:
    """Return ``seq`` as text, or raise ValueError if it is not a safe name part."""
    text = str(seq)
    if _SEQ_RE.fullmatch(text) is None:
        raise ValueError(f"file sequence/store part must match [A-Za-z0-9-]{{1,{SEQ_MAX_CHARS}}}")
    return text


def build_file_name(kind: FileKind, seq: str | int, at: datetime | None = None) -> str:
    """Name for a new import file; ``at`` defaults to now and must be timezone-aware."""
    if kind not in FILE_KINDS:
        raise ValueError(f"unknown import file kind {kind!r}")
    moment = datetime.now(UTC) if at is None else at
    if moment.tzinfo is None:
        raise ValueError("file name timestamp needs a timezone-aware datetime")
    utc = moment.astimezone(UTC).replace(microsecond=0)
    return str(ImportFileName(created_at=utc, seq=check_seq(seq), kind=kind))


def with_seq(name: str, seq: str | int) -> str:
    """``name`` with another sequence part (same timestamp and kind); ValueError for a foreign name."""
    parts = parse_file_name(name)
    return str(ImportFileName(created_at=parts.created_at, seq=check_seq(seq), kind=parts.kind))


def parse_file_name(name: str) -> ImportFileName:
    """Parse a name built by :func:`build_file_name`; raise ValueError otherwise."""
    match = _NAME_RE.fullmatch(name)
    if match is None:
        raise ValueError("not an import file name: expected {YYYYMMDDHHmmss}_{seq}_{kind}.xml")
    try:
        created = datetime.strptime(match["ts"], TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError("import file name has an impossible timestamp") from exc
    kind: FileKind = match["kind"]  # type: ignore[assignment]  # the regex admits only FileKind values
    return ImportFileName(created_at=created, seq=match["seq"], kind=kind)
