"""Turning API-shaped JSON values into the text the import XSDs accept.

Every function takes the value and its field path (for the error message) and returns
the element text, or raises :class:`RecordError`. Messages name the field and the
problem, never the value: values may be personal data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeAlias

_XML_INVALID_CHARS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_DATETIME_WITH_OFFSET: Final = re.compile(
    r"-?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN_DECIMAL: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")

Converter: TypeAlias = Callable[[Any, str], str]


class RecordError(ValueError):
    """A record that cannot be written. Nothing of it reached the file."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'record'}: {problem}")
        self.field = field
        self.problem = problem


def is_absent(value: Any) -> bool:
    """None and blank strings mean "no value": an import file never clears a field."""
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any, field: str) -> str:
    """A non-empty string (ints are accepted and written in decimal)."""
    if type(value) is str:
        result = value.strip()
    elif isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordError(field, f"must be a string, not {type(value).__name__}")
    else:
        result = str(value).strip()
    if not result:
        raise RecordError(field, "must not be empty")
    # Every character XML 1.0 cannot carry is unprintable, so printable text skips the search.
    if not result.isprintable() and _XML_INVALID_CHARS.search(result):
        raise RecordError(field, "contains characters XML 1.0 cannot carry")
    return result


def pattern_text(pattern: re.Pattern[str], what: str) -> Converter:
    """A :func:`text` converter that also requires ``pattern`` to match the whole text."""

    def convert(value: Any, field: str) -> str:
        result = text(value, field)
        if pattern.fullmatch(result) is None:
            raise RecordError(field, f"is not {what}")
        return result

    return convert


@dataclass(frozen=True, slots=True)
class OneOf:
    """A :func:`text` converter for an enumeration: the text must be one of ``allowed``."""

    allowed: frozenset[str]
    what: str

    def __call__(self, value: Any, field: str) -> str:
        result = text(value, field)
        if result not in self.allowed:
            raise RecordError(field, f"is not {self.what}")
        return result


def one_of(allowed: Iterable[str], what: str) -> OneOf:
    return OneOf(frozenset(allowed), what)


def decimal(value: Any, field: str) -> str:
    """A number with '.' as separator and no exponent (``1E+2`` becomes ``100``)."""
    kind = type(value)
    if kind is int:
        return str(value)
    plain: str
    if kind is str:
        plain = value.strip()
        if _PLAIN_DECIMAL.fullmatch(plain):  # already as format(Decimal(plain), "f") would write it
            return plain
    elif kind is float:
        plain = repr(value)  # shortest round trip; plain already unless it has an exponent or is inf/nan
        if "e" not in plain and "n" not in plain:
            return plain
    elif kind is Decimal:
        plain = str(value)  # the same as format(value, "f") unless it has an exponent or is not finite
        if "E" not in plain and "n" not in plain and "N" not in plain:
            return plain
    return _decimal(value, field)


def _decimal(value: Any, field: str) -> str:
    if isinstance(value, bool):
        raise RecordError(field, "must be a number, not a boolean")
    if isinstance(value, int):
        return str(value)
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise RecordError(field, "must be a finite number")
            number = Decimal(repr(value))
        elif isinstance(value, Decimal):
            number = value
        elif isinstance(value, str):
            number = Decimal(value.strip())
        else:
            raise RecordError(field, f"must be a number, not {type(value).__name__}")
    except InvalidOperation as exc:
        raise RecordError(field, "is not a decimal number") from exc
    if not number.is_finite():
        raise RecordError(field, "must be a finite number")
    return format(number, "f")


def boolean(value: Any, field: str) -> str:
    if not isinstance(value, bool):
        raise RecordError(field, f"must be a boolean, not {type(value).__name__}")
    return "true" if value else "false"


def datetime_with_offset(value: Any, field: str) -> str:
    """ISO 8601 with an offset; local time plus offset is kept as given."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise RecordError(field, "datetime needs an offset")
        return value.isoformat()
    result = text(value, field)
    if _DATETIME_WITH_OFFSET.fullmatch(result) is None:
        raise RecordError(field, "is not an ISO 8601 datetime with offset")
    try:
        datetime.fromisoformat(result)
    except ValueError as exc:
        raise RecordError(field, "is not a valid datetime") from exc
    return result


def iso_date(value: Any, field: str) -> str:
    """A calendar date ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        raise RecordError(field, "must be a date, not a datetime")
    if isinstance(value, date):
        return value.isoformat()
    result = text(value, field)
    if _DATE.fullmatch(result) is None:
        raise RecordError(field, "is not a YYYY-MM-DD date")
    try:
        date.fromisoformat(result)
    except ValueError as exc:
        raise RecordError(field, "is not a valid date") from exc
    return result
