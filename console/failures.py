"""What went wrong, for the console: dead letters grouped by cause, personal fields masked, replay previews.

Pure functions over `DeadLetter`s (no I/O). The causes are the ones a retailer's team tells apart:
Engage unreachable (or failing), the API key refused, data refused by Engage (with its field errors), a
business conflict, an identity conflict (with both contacts), and anything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from fallback.deadletters import DeadLetter

Cause = Literal["unreachable", "key_refused", "data_refused", "conflict", "identity", "other"]
CAUSE_WORDS: dict[str, str] = {
    "unreachable": "Engage unreachable or failing",
    "key_refused": "API key refused",
    "data_refused": "Data refused by Engage",
    "conflict": "Business conflict",
    "identity": "Identity conflict (two contacts)",
    "other": "Other",
}
UNREACHABLE = {"EngageUnreachable", "EngageTimeout", "ServerError", "CircuitOpen", "SystemMisconfigured"}
KEY_REFUSED = {"AuthenticationFailed"}
DATA_REFUSED = {"BadRequest", "ValidationFailed", "UnexpectedResponse", "NotFound", "ContactNotFound"}
CONFLICT = {"Conflict", "MultipleMatches", "IdConflict", "OrderNotFound"}
IDENTITY = {"IdentityConflict"}
PERSONAL_KEYS = frozenset(
    {
        "email",
        "mobile_phone",
        "phone",
        "phone_number",
        "first_name",
        "last_name",
        "name",
        "full_name",
        "street",
        "address",
        "address_line",
        "co_address",
        "zip_code",
        "postal_code",
        "city",
        "birth_day",
        "birth_date",
        "social_security_number",
        "ssn",
        "member_number",
        "gender",
    }
)
MASK = "•••••"


def cause_of(letter: DeadLetter) -> Cause:
    kind = letter.error_class
    if kind in IDENTITY:
        return "identity"
    if kind in KEY_REFUSED or letter.engage_status in (401, 403):
        return "key_refused"
    if kind in UNREACHABLE or letter.error_kind in ("retryable", "systemic"):
        return "unreachable"
    if kind in CONFLICT or letter.engage_status == 409:
        return "conflict"
    if kind in DATA_REFUSED or letter.engage_status in (400, 404, 422):
        return "data_refused"
    return "other"


@dataclass(frozen=True)
class CauseGroup:
    cause: str
    words: str
    letters: list[DeadLetter]


def grouped(letters: Iterable[DeadLetter]) -> list[CauseGroup]:
    """The letters by cause, in CAUSE_WORDS' order, empty causes left out."""
    by: dict[str, list[DeadLetter]] = {}
    for letter in letters:
        by.setdefault(cause_of(letter), []).append(letter)
    return [CauseGroup(c, w, by[c]) for c, w in CAUSE_WORDS.items() if c in by]


def masked(value: Any) -> Any:
    """The envelope with every personal field's value masked (keys kept, so the shape stays readable)."""
    if isinstance(value, dict):
        return {
            k: (MASK if k in PERSONAL_KEYS and v not in (None, "") else masked(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def field_errors(letter: DeadLetter) -> list[str]:
    """Engage's field errors, as `field: message` lines, when the letter holds them."""
    details = letter.details or {}
    errors = details.get("field_errors") or details.get("errors") or []
    lines = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            field = error.get("field") or error.get("name") or "?"
            lines.append(f"{field}: {error.get('message') or error.get('code') or ''}".rstrip(": "))
    return lines


def identity_contacts(letter: DeadLetter) -> list[str]:
    details = letter.details or {}
    found = [str(v) for k, v in details.items() if "contact" in k and isinstance(v, str)]
    for v in details.values():
        if isinstance(v, list):
            found += [str(x) for x in v if isinstance(x, str)]
    return found


Verdict = Literal["send", "skip_delivered", "skip_applied"]
VERDICT_WORDS = {
    "send": "will be sent again (backlog lane)",
    "skip_delivered": "skipped: already delivered by file",
    "skip_applied": "skipped: already applied in Engage",
}


@dataclass(frozen=True)
class PreviewRow:
    letter: DeadLetter
    verdict: Verdict

    @property
    def words(self) -> str:
        return VERDICT_WORDS[self.verdict]


def preview(letters: Iterable[DeadLetter], applied: set[str]) -> list[PreviewRow]:
    """What a replay would do with each letter; `applied` holds the ids of letters already applied."""
    rows = []
    for letter in letters:
        if letter.fallback_state == "delivered_by_file":
            rows.append(PreviewRow(letter, "skip_delivered"))
        elif letter.id in applied:
            rows.append(PreviewRow(letter, "skip_applied"))
        else:
            rows.append(PreviewRow(letter, "send"))
    return rows
