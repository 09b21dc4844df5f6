"""customer.created and customer.updated: a contact's attributes, preferences and consents.

The identifiers (`contact_id`, `email`, `mobile_phone`, `member_number`, `social_security_number`,
`external_id`) both find the contact and, except `contact_id`, are written as attributes.
First-class fields map to Engage attributes by `ENGAGE_ATTRIBUTE_NAMES`; any other tenant attribute
passes through `attributes` under its Engage name. A `null` anywhere but in `attributes` means
"not given": Engage overwrites with whatever it is sent, so the relay never sends absent fields.
A `null` inside `attributes` is accepted but not sent: Voyado warns that an empty value overwrites what
Engage holds, so the relay never sends one (clearing a field is done in Engage itself).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Final, Literal, Self

from pydantic import (
    Field,
    PlainValidator,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from schemas.envelope import DataModel, Envelope, EventType, SourceName
from schemas.fields import AwareDatetime, IsoDate, LanguageCode, Text
from schemas.identity import IDENTIFIER_FIELDS, CustomerIdentity

MAX_ATTRIBUTES: Final = 100
MAX_ATTRIBUTE_TEXT_CHARS: Final = 1000
MAX_CONSENTS: Final = 50
MAX_SAFE_INTEGER: Final = 2**53 - 1  # the largest integer every JSON consumer reads exactly
EARLIEST_BIRTH_DAY: Final = dt.date(1880, 1, 1)
ATTRIBUTE_NAME_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
CONTACT_TYPE_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"

ENGAGE_ATTRIBUTE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "email": "email",
        "mobile_phone": "mobilePhone",
        "member_number": "memberNumber",
        "social_security_number": "socialSecurityNumber",
        "external_id": "externalId",
        "first_name": "firstName",
        "last_name": "lastName",
        "street": "street",
        "zip_code": "zipCode",
        "city": "city",
        "country_code": "countryCode",
        "language": "language",
        "birth_day": "birthDay",
        "gender": "gender",
    }
)
"""Our snake_case field -> the Engage contact attribute it is written to."""

RESERVED_ATTRIBUTE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "id": "contact_id",
        "contactId": "contact_id",
        "contactType": "contact_type",
        "preferences": "preferences",
        "consents": "consents",
    }
)
"""Engage names that are not plain attributes -> the field to use instead."""

AttributeName = Annotated[str, StringConstraints(pattern=ATTRIBUTE_NAME_PATTERN)]


def _json_scalar(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError(f"integer attributes must be within +-{MAX_SAFE_INTEGER}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    if isinstance(value, str):
        if not value.isascii() and _has_lone_surrogate(value):
            raise ValueError("must be valid Unicode text")
        if len(value) > MAX_ATTRIBUTE_TEXT_CHARS:
            raise ValueError(f"text attributes must be at most {MAX_ATTRIBUTE_TEXT_CHARS} characters")
        return value
    raise ValueError("must be a JSON scalar: string, number, boolean or null")


def _has_lone_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


AttributeValue = Annotated[
    str | int | float | bool | None,
    PlainValidator(_json_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"]}),
]
"""A JSON scalar: string (<= 1000 characters), integer (|n| < 2**53), finite number, boolean or null."""

ContactType = Annotated[str, StringConstraints(pattern=CONTACT_TYPE_PATTERN)]
"""An Engage contact type id (`Member`, `Contact`); it must exist in the tenant."""


class Preferences(DataModel):
    """Communication preferences; each given flag is written, absent ones are left alone."""

    accepts_email: StrictBool | None = None
    accepts_sms: StrictBool | None = None
    accepts_postal: StrictBool | None = None


class Consent(DataModel):
    """One consent answer; once set in Engage it can change value but never go back to "not set"."""

    id: Annotated[str, StringConstraints(pattern=ATTRIBUTE_NAME_PATTERN)]
    value: StrictBool
    date: AwareDatetime
    source: SourceName | None = None
    comment: Text | None = None


class _CustomerFields(CustomerIdentity):
    first_name: Text | None = None
    last_name: Text | None = None
    street: Text | None = None
    zip_code: Annotated[str, StringConstraints(min_length=1, max_length=20)] | None = None
    city: Text | None = None
    language: LanguageCode | None = None
    birth_day: IsoDate | None = None
    gender: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    contact_type: ContactType | None = None
    preferences: Preferences | None = None
    consents: Annotated[tuple[Consent, ...], Field(max_length=MAX_CONSENTS)] | None = None
    attributes: Annotated[dict[AttributeName, AttributeValue], Field(max_length=MAX_ATTRIBUTES)] | None = None

    @field_validator("birth_day")
    @classmethod
    def _plausible_birth_day(cls, value: dt.date | None) -> dt.date | None:
        if value is not None and value < EARLIEST_BIRTH_DAY:
            raise ValueError(f"must not be before {EARLIEST_BIRTH_DAY.isoformat()}")
        return value

    @field_validator("attributes")
    @classmethod
    def _no_reserved_attributes(
        cls, value: dict[str, AttributeValue] | None
    ) -> dict[str, AttributeValue] | None:
        for name in value or {}:
            if name in RESERVED_ATTRIBUTE_NAMES:
                raise ValueError(
                    f"'{name}' is not an attribute; use the {RESERVED_ATTRIBUTE_NAMES[name]} field"
                )
        return value

    @model_validator(mode="after")
    def _no_attribute_given_twice(self) -> Self:
        for name in sorted(self.attributes or {}):
            field = next((f for f, engage in ENGAGE_ATTRIBUTE_NAMES.items() if engage == name), None)
            if field is not None and getattr(self, field) is not None:
                raise ValueError(f"attributes.{name} repeats {field}; give it once")
        return self


class CustomerCreated(_CustomerFields):
    """A customer registered (sign-up, checkout, POS enrolment); created in Engage unless found."""

    create_as_unapproved: StrictBool | None = None


class CustomerUpdated(_CustomerFields):
    """A customer changed some data; carries only what changed.

    To change a key attribute (say the e-mail), identify the customer by `contact_id` or another key.
    """

    @model_validator(mode="after")
    def _carries_a_change(self) -> Self:
        given = {name for name in type(self).model_fields if getattr(self, name) is not None}
        changes = given - set(IDENTIFIER_FIELDS)
        identifiers = given & set(IDENTIFIER_FIELDS)
        if not changes and not ("contact_id" in identifiers and len(identifiers) > 1):
            raise ValueError("customer.updated carries no change: give at least one field to update")
        return self


class CustomerCreatedEvent(Envelope):
    type: Literal[EventType.CUSTOMER_CREATED]
    data: CustomerCreated


class CustomerUpdatedEvent(Envelope):
    type: Literal[EventType.CUSTOMER_UPDATED]
    data: CustomerUpdated
