"""Who an event is about: the customer identity every event family shares.

An identity names the customer by one or more of the keys Engage can look a contact up by.
The relay prefers `contact_id` (no lookup needed), then the tenant's configured key.
At least one identifier is required.
`country_code` is the customer's country (from the address), not an identifier: in customer events it is
the contact's `countryCode` attribute; in every other event it is used only when the relay creates the
contact from that purchase, offer or order (Voyado: set the country from the address, else the store).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Self

from pydantic import ConfigDict, StringConstraints, model_validator

from schemas.envelope import DataModel
from schemas.fields import MAX_EMAIL_CHARS, ContactRef, CountryCode, Guid, Identifier

EMAIL_PATTERN: Final = r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$"
MOBILE_PHONE_PATTERN: Final = r"^\+[1-9][0-9]{6,14}$"
# Swedish personnummer / samordningsnummer (10 or 12 digits, optional - or +), or a Finnish identity code.
SOCIAL_SECURITY_NUMBER_PATTERN: Final = (
    r"^(?:[0-9]{6}|[0-9]{8})[-+]?[0-9]{4}$|^[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]$"
)

Email = Annotated[str, StringConstraints(max_length=MAX_EMAIL_CHARS, pattern=EMAIL_PATTERN)]
"""An e-mail address shaped like `x@y.z` (Engage validates it further)."""

MobilePhone = Annotated[str, StringConstraints(pattern=MOBILE_PHONE_PATTERN)]
"""A mobile phone number in E.164 form: `+` and 7 to 15 digits (`+46701234567`)."""

SocialSecurityNumber = Annotated[str, StringConstraints(pattern=SOCIAL_SECURITY_NUMBER_PATTERN)]
"""A Swedish personnummer (`YYYYMMDD-NNNN`, `YYYYMMDDNNNN`, `YYMMDD-NNNN`) or a Finnish identity code."""

IDENTIFIER_FIELDS: Final = (
    "contact_id",
    "email",
    "mobile_phone",
    "member_number",
    "social_security_number",
    "external_id",
)


def _identity_schema(schema: dict[str, Any]) -> None:
    schema["anyOf"] = [{"required": [name]} for name in IDENTIFIER_FIELDS]


def missing_identifier_message() -> str:
    return "at least one identifier is required: " + ", ".join(IDENTIFIER_FIELDS)


class _IdentityFields(DataModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_identity_schema)

    email: Email | None = None
    mobile_phone: MobilePhone | None = None
    member_number: Identifier | None = None
    social_security_number: SocialSecurityNumber | None = None
    external_id: Identifier | None = None

    @model_validator(mode="after")
    def _require_an_identifier(self) -> Self:
        if all(getattr(self, name) is None for name in IDENTIFIER_FIELDS):
            raise ValueError(missing_identifier_message())
        return self


class CustomerIdentity(_IdentityFields):
    """The customer as Engage knows them; `contact_id` is the Engage contact GUID when the shop stored it.

    `country_code` is not an identifier (see the module docstring).
    """

    contact_id: Guid | None = None
    country_code: CountryCode | None = None


class TrackingIdentity(_IdentityFields):
    """A web visitor: `contact_id` may also be the short GUID (`vtid`) from an Engage e-mail link."""

    contact_id: ContactRef | None = None
