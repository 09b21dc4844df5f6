"""Model bases: what we send (``RequestModel``, strict) and what Engage returns (``ResponseModel``, lenient).

Attributes are snake_case; the wire names are camelCase aliases,
exactly as docs/engage-contract.md spells them.
Money and quantities are ``Decimal`` in Python and JSON numbers on the wire.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def _decimal_to_json_number(value: Decimal) -> int | float:
    """A JSON number, exact for the up-to-15-significant-digit amounts Engage takes."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


Money = Annotated[Decimal, PlainSerializer(_decimal_to_json_number, when_used="json")]
"""A Decimal amount (prices, quantities, rates) written as a JSON number."""


class RequestModel(BaseModel):
    """Something we send: unknown fields are a bug, so they are refused."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON body Engage expects: wire names, ISO 8601 datetimes, numbers; empty fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class ResponseModel(BaseModel):
    """Something Engage returns: unknown fields are ignored (Engage may add fields at any time)."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True)
