"""Constrained scalar types shared by every event family.

Money and quantities are `Decimal` (never float): finite, bounded, with a fixed number of decimals.
JSON numbers and numeric strings are both accepted (`199.9`, `"199.90"`); money is normalised to 2 decimals.
Datetimes must be ISO 8601 strings with a UTC offset (a naive time or a Unix timestamp is refused),
because Engage wants local time plus offset.
Text is refused when it holds control characters; identifiers also refuse surrounding whitespace.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints
from pydantic import AwareDatetime as _PydanticAwareDatetime

MONEY_DECIMAL_PLACES: Final = 2
EXCHANGE_RATE_DECIMAL_PLACES: Final = 4
QUANTITY_DECIMAL_PLACES: Final = 3
MAX_MONEY_AMOUNT: Final = Decimal("1000000000")  # per amount, in the event's currency
MAX_QUANTITY: Final = Decimal("1000000")
MAX_EXCHANGE_RATE: Final = Decimal("100000")
MAX_IDENTIFIER_CHARS: Final = 100
MAX_TEXT_CHARS: Final = 500
MAX_URL_CHARS: Final = 2048
MAX_EMAIL_CHARS: Final = 254
TOTAL_TOLERANCE: Final = Decimal("0.01")  # allowed difference between a stated and a computed total

_MONEY_QUANTUM: Final = Decimal(1).scaleb(-MONEY_DECIMAL_PLACES)

_NO_CONTROL = r"\x00-\x1f\x7f"
IDENTIFIER_PATTERN: Final = rf"^[^\s{_NO_CONTROL}](?:[^{_NO_CONTROL}]*[^\s{_NO_CONTROL}])?$"
TEXT_PATTERN: Final = rf"^[^{_NO_CONTROL}]+$"
GUID_PATTERN: Final = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
SHORT_GUID_PATTERN: Final = r"^[A-Za-z0-9_-]{22}$"
CONTACT_REF_PATTERN: Final = rf"{GUID_PATTERN}|{SHORT_GUID_PATTERN}"
CURRENCY_PATTERN: Final = r"^[A-Z]{3}$"
COUNTRY_PATTERN: Final = r"^[A-Z]{2}$"
LANGUAGE_PATTERN: Final = r"^[a-z]{2}(?:-[A-Z]{2})?$"
URL_PATTERN: Final = r"^https?://[^\s\x00-\x1f\x7f]+$"


def _quantize_money(value: Decimal) -> Decimal:
    return value.quantize(_MONEY_QUANTUM)


def _refuse_bool(value: Any) -> Any:
    # A JSON true is not a number; pydantic would otherwise refuse it with a less helpful message.
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


def _require_datetime_text(value: Any) -> Any:
    # pydantic would read a number as a Unix timestamp; the contract wants local time plus offset.
    if isinstance(value, dt.datetime | str):
        return value
    raise ValueError("must be an ISO 8601 date-time string with a UTC offset")


def _require_date_text(value: Any) -> Any:
    if isinstance(value, dt.date | str) and not isinstance(value, dt.datetime):
        return value
    raise ValueError("must be an ISO 8601 date string such as 1988-04-12")


def _decimal(places: int, *, gt: Decimal | None = None, ge: Decimal | None = None, le: Decimal) -> Any:
    return Field(decimal_places=places, allow_inf_nan=False, gt=gt, ge=ge, le=le)


Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_IDENTIFIER_CHARS, pattern=IDENTIFIER_PATTERN)
]
"""An id, code or key: 1-100 characters, no control characters, no leading or trailing whitespace."""

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS, pattern=TEXT_PATTERN)]
"""Free text (names, descriptions): 1-500 characters, no control characters."""

Guid = Annotated[str, StringConstraints(pattern=GUID_PATTERN)]
"""An Engage GUID such as `2e40b702-2767-4abe-ae99-aa510108e22b`."""

ShortGuid = Annotated[str, StringConstraints(pattern=SHORT_GUID_PATTERN)]
"""A short GUID (22 URL-safe base64 characters), e.g. the `vtid` of Engage e-mail links."""

ContactRef = Annotated[str, StringConstraints(pattern=CONTACT_REF_PATTERN)]
"""A contact GUID or its short GUID (`vtid`); the tracking API takes either."""

CurrencyCode = Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)]
"""ISO 4217 code, three upper-case letters (`SEK`)."""

CountryCode = Annotated[str, StringConstraints(pattern=COUNTRY_PATTERN)]
"""ISO 3166-1 alpha-2 code, two upper-case letters (`SE`)."""

LanguageCode = Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN)]
"""ISO 639-1 language (`sv`) or culture (`sv-SE`)."""

Url = Annotated[str, StringConstraints(max_length=MAX_URL_CHARS, pattern=URL_PATTERN)]
"""An absolute http(s) URL."""

AwareDatetime = Annotated[_PydanticAwareDatetime, BeforeValidator(_require_datetime_text)]
"""ISO 8601 datetime with a UTC offset (`2026-11-24T10:15:00+01:00`); naive times are refused."""

IsoDate = Annotated[dt.date, BeforeValidator(_require_date_text)]
"""ISO 8601 calendar date (`1985-04-12`)."""

Money = Annotated[
    Decimal,
    _decimal(MONEY_DECIMAL_PLACES, ge=-MAX_MONEY_AMOUNT, le=MAX_MONEY_AMOUNT),
    BeforeValidator(_refuse_bool),
    AfterValidator(_quantize_money),
]
"""A signed amount with at most two decimals, |amount| <= 1e9."""

NonNegativeMoney = Annotated[
    Decimal,
    _decimal(MONEY_DECIMAL_PLACES, ge=Decimal(0), le=MAX_MONEY_AMOUNT),
    BeforeValidator(_refuse_bool),
    AfterValidator(_quantize_money),
]
"""An amount >= 0 with at most two decimals."""

PositiveMoney = Annotated[
    Decimal,
    _decimal(MONEY_DECIMAL_PLACES, gt=Decimal(0), le=MAX_MONEY_AMOUNT),
    BeforeValidator(_refuse_bool),
    AfterValidator(_quantize_money),
]
"""An amount > 0 with at most two decimals."""

Quantity = Annotated[
    Decimal,
    _decimal(QUANTITY_DECIMAL_PLACES, gt=Decimal(0), le=MAX_QUANTITY),
    BeforeValidator(_refuse_bool),
]
"""A quantity > 0 with at most three decimals (weighed goods)."""

Percent = Annotated[
    Decimal,
    _decimal(MONEY_DECIMAL_PLACES, ge=Decimal(0), le=Decimal(100)),
    BeforeValidator(_refuse_bool),
]
"""A percentage 0-100 with at most two decimals (VAT rate)."""

ExchangeRate = Annotated[
    Decimal,
    _decimal(EXCHANGE_RATE_DECIMAL_PLACES, gt=Decimal(0), le=MAX_EXCHANGE_RATE),
    BeforeValidator(_refuse_bool),
]
"""Rate to the tenant's group currency, > 0, at most four decimals."""
