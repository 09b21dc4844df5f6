"""The receipt and order ``contact.matchKeyType`` values: one list for every side that names a buyer.

The API side (``ReceiptContact``, ``OrderContact``, the simulator's receipts and orders), the XSDs of the
transactions and promotion-redemptions files, the XML writer and the simulator's file reader all take
their values from :data:`MATCH_KEY_TYPES`; a unit test checks the XSDs against it.

- contactId, memberNumber, socialSecurityNumber, mobilePhone, externalId, email: Voyado's receipt field
  definitions (ref §2.8) [doc].
- cardId, memberNumberWithCardNumberAsFallback: Voyado's v2 Swagger enum (PascalCase there) [swagger-v2].
- Engage compares the value case-insensitively [inferred: real clients send both ``contactId`` and
  ``ContactId``]; the XSDs admit the camelCase and PascalCase spellings of each name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

MATCH_KEY_TYPES: Final[tuple[str, ...]] = (
    "contactId",
    "memberNumber",
    "socialSecurityNumber",
    "mobilePhone",
    "externalId",
    "email",
    "cardId",
    "memberNumberWithCardNumberAsFallback",
)
"""Every matchKeyType Engage knows, in the canonical camelCase spelling."""

_BY_FOLDED: Final[dict[str, str]] = {name.casefold(): name for name in MATCH_KEY_TYPES}


def canonical_match_key_type(value: str) -> str | None:
    """The canonical spelling of ``value`` (any case), or None when Engage knows no such type."""
    return _BY_FOLDED.get(value.casefold())


def match_key_type_pattern(names: Iterable[str] = MATCH_KEY_TYPES) -> str:
    """The regular expression (also an XSD pattern) admitting each name in camelCase or PascalCase."""
    return "|".join(f"[{name[0].lower()}{name[0].upper()}]{name[1:]}" for name in names)
