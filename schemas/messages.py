"""Plain-language reasons for pydantic errors, so a producer can fix an envelope from the message alone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from schemas import customer, envelope, fields, identity

PATTERN_DESCRIPTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        envelope.EVENT_ID_PATTERN: "1-128 printable ASCII characters without whitespace",
        envelope.TENANT_PATTERN: "a slug of lower-case letters, digits, '-' and '_'",
        envelope.SOURCE_PATTERN: "a source name: letters, digits, '_', '.' or '-' (such as ECOM or POS)",
        fields.IDENTIFIER_PATTERN: "an identifier without control characters or surrounding whitespace",
        fields.TEXT_PATTERN: "text without control characters",
        fields.GUID_PATTERN: "a GUID such as 2e40b702-2767-4abe-ae99-aa510108e22b",
        fields.CONTACT_REF_PATTERN: "a contact GUID or a 22-character short GUID (vtid)",
        fields.CURRENCY_PATTERN: "an ISO 4217 currency code of three upper-case letters such as SEK",
        fields.COUNTRY_PATTERN: "an ISO 3166-1 alpha-2 country code of two upper-case letters such as SE",
        fields.LANGUAGE_PATTERN: "an ISO 639-1 language such as sv, or a culture such as sv-SE",
        fields.URL_PATTERN: "an absolute http(s) URL",
        identity.EMAIL_PATTERN: "an e-mail address such as anna@example.se",
        identity.MOBILE_PHONE_PATTERN: "an E.164 mobile number: + and 7 to 15 digits, such as +46701234567",
        identity.SOCIAL_SECURITY_NUMBER_PATTERN: "a personnummer (YYYYMMDD-NNNN) or Finnish identity code",
        customer.ATTRIBUTE_NAME_PATTERN: "an Engage attribute name: a letter, then letters, digits or '_'",
        customer.CONTACT_TYPE_PATTERN: "an Engage contact type such as Member or Contact",
    }
)

_TEMPLATES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "greater_than": "must be greater than {gt}",
        "greater_than_equal": "must be at least {ge}",
        "less_than": "must be less than {lt}",
        "less_than_equal": "must be at most {le}",
        "too_long": "must have at most {max_length} items, not {actual_length}",
        "decimal_max_places": "must have at most {decimal_places} decimals",
        "decimal_max_digits": "must have at most {max_digits} digits",
        "extra_forbidden": "unknown field (extra fields are not allowed)",
        "timezone_aware": "must include a UTC offset, such as 2026-11-24T10:15:00+01:00",
        "missing": "required field missing",
    }
)


def describe_error(error: Mapping[str, Any]) -> str:
    """One sentence for one pydantic error (an item of `ValidationError.errors()`)."""
    kind = error["type"]
    msg = str(error["msg"])
    ctx = error.get("ctx") or {}
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_DESCRIPTIONS:
        return "must be " + PATTERN_DESCRIPTIONS[ctx["pattern"]]
    if kind == "too_short":
        least = ctx.get("min_length")
        return f"must have at least {least} item" + ("" if least == 1 else "s")
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    try:
        return _TEMPLATES[kind].format_map({key: _number(value) for key, value in ctx.items()})
    except KeyError:
        return msg


def _number(value: object) -> str:
    text = str(value)
    match = re.fullmatch(r"Decimal\('(.*)'\)", text)
    return match.group(1) if match else text
