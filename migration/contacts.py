"""Contact rows -> bulk rows or contacts-file records, through the same mapper as the API path.

Every row becomes our `customer.created` data first and is validated by its model (key shapes:
e-mail `x@y.z`, mobile phone E.164, ...), then mapped with `mappers.contacts.plan_create`, so the
migration follows the live rules: empty values are dropped, e-mail is lower-cased, the tenant's
language default applies.

Rows, by input format:

- CSV: a header of Engage attribute names (`email;firstName;lastName;mobilePhone;city;countryCode`, also
  `memberNumber`, `externalId`, `socialSecurityNumber`, `street`, `zipCode`, `language`, `birthDay`,
  `gender`), plus `contactId` (Engage GUID), `contactType`, `createAsUnapproved`, and
  `preferences.acceptsEmail` / `preferences.acceptsSms` / `preferences.acceptsPostal`
  (`true`/`false`, `1`/`0`, `yes`/`no`). Any other column is a tenant attribute, sent as text.
- NDJSON: per line, our `customer.created` `data` object (snake_case, the event catalog's fields), or
  a whole `customer.created` / `customer.updated` envelope for this tenant.

The tenant's key attribute (`TenantPolicy.contact_key`, e-mail by default) is required (for the XML
file a `contactId` does as well). Bulk rows carry no `contactType`: rows are grouped by contact type and
each bulk request names its type; contacts-file records carry it as an attribute (one group).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from mappers.contacts import plan_create
from mappers.policy import TenantPolicy
from migration.outcomes import Mapped, Rejected, RowOutcome, reasons_of
from migration.sources import SourceRow
from schemas.customer import ENGAGE_ATTRIBUTE_NAMES, CustomerCreatedEvent, CustomerUpdatedEvent
from schemas.parsing import InvalidEvent, parse_event

ContactsVia = Literal["bulk", "xml"]
SYNTHETIC_TENANT: Final = "migration"
SYNTHETIC_OCCURRED_AT: Final = "1970-01-01T00:00:00+00:00"  # mappers do not read it; rows carry no time
CONTACT_FILE_GROUP: Final = "contacts"
CUSTOMER_TYPES: Final = frozenset({"customer.created", "customer.updated"})
PREFERENCE_COLUMNS: Final[Mapping[str, str]] = {
    "preferences.acceptsEmail": "accepts_email",
    "preferences.acceptsSms": "accepts_sms",
    "preferences.acceptsPostal": "accepts_postal",
}
SPECIAL_COLUMNS: Final[Mapping[str, str]] = {
    "contactId": "contact_id",
    "contactType": "contact_type",
    "createAsUnapproved": "create_as_unapproved",
}
TRUE_WORDS: Final = frozenset({"true", "1", "yes", "y"})
FALSE_WORDS: Final = frozenset({"false", "0", "no", "n"})
_FIELD_OF_COLUMN: Final[dict[str, str]] = {engage: ours for ours, engage in ENGAGE_ATTRIBUTE_NAMES.items()}
_COLUMN_OF_FIELD: Final[dict[str, str]] = {
    **{ours: engage for engage, ours in _FIELD_OF_COLUMN.items()},
    **{ours: column for column, ours in SPECIAL_COLUMNS.items()},
}


class ColumnError(ValueError):
    """A CSV cell that cannot be read (a flag that is not true/false)."""


def _flag(column: str, text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ColumnError(f"{column}: must be true or false")


def data_from_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """A CSV row (Engage column names) as our `customer.created` data; raises ColumnError."""
    data: dict[str, Any] = {}
    preferences: dict[str, bool] = {}
    attributes: dict[str, Any] = {}
    for column, value in values.items():
        if column in PREFERENCE_COLUMNS:
            preferences[PREFERENCE_COLUMNS[column]] = _flag(column, value)
        elif column == "createAsUnapproved":
            data["create_as_unapproved"] = _flag(column, value)
        elif column in SPECIAL_COLUMNS:
            data[SPECIAL_COLUMNS[column]] = value
        elif column in _FIELD_OF_COLUMN:
            data[_FIELD_OF_COLUMN[column]] = value
        else:
            attributes[column] = value
    if preferences:
        data["preferences"] = preferences
    if attributes:
        data["attributes"] = attributes
    return data


def column_name(field: str) -> str:
    """Our data field -> the CSV column it came from (for messages)."""
    return _COLUMN_OF_FIELD.get(field, field)


class ContactRowMapper:
    """Maps one contact row (see the module docstring) for bulk or for the contacts file."""

    def __init__(
        self,
        tenant: str,
        policy: TenantPolicy,
        via: ContactsVia,
        *,
        columns: bool,
    ) -> None:
        self.tenant = tenant
        self.policy = policy
        self.via = via
        self.columns = columns  # CSV (Engage column names) rather than our data objects
        self.key_attribute = next(
            engage for ours, engage in ENGAGE_ATTRIBUTE_NAMES.items() if ours == policy.contact_key
        )

    def __call__(self, row: SourceRow) -> RowOutcome:  # noqa: PLR0911  # one return per outcome
        if row.error is not None:
            return Rejected([row.error])
        try:
            event = self._event(row)
        except ColumnError as exc:
            return Rejected([str(exc)])
        except InvalidEvent as exc:
            rename = column_name if self.columns else None
            return Rejected(reasons_of(exc, strip_data=not _is_envelope(row.values), rename=rename))
        except _WrongEnvelope as exc:
            return Rejected([str(exc)])
        plan = plan_create(event, self.policy)
        body = dict(plan.body)
        has_key = self.key_attribute in body
        if self.via == "bulk":
            if not has_key:
                return Rejected([f"{self._key_column()}: the tenant's key attribute is missing"])
            body.pop("contactType", None)
            return Mapped(plan.contact_type, body)
        contact_id = event.data.contact_id
        if not has_key and contact_id is None:
            return Rejected([f"{self._key_column()}: the tenant's key attribute (or contactId) is missing"])
        record: dict[str, Any] = {}
        if contact_id is not None:
            record["contactId"] = contact_id
        record.update(body)
        record["source"] = plan.source
        record["storeExternalId"] = plan.store_external_id
        if plan.create_as_unapproved:
            record["createAsUnapproved"] = True
        return Mapped(CONTACT_FILE_GROUP, record)

    def _key_column(self) -> str:
        return self.key_attribute if self.columns else self.policy.contact_key

    def _event(self, row: SourceRow) -> CustomerCreatedEvent | CustomerUpdatedEvent:
        if _is_envelope(row.values):
            event = parse_event(row.values)
            if not isinstance(event, CustomerCreatedEvent | CustomerUpdatedEvent):
                raise _WrongEnvelope(f"type {event.type}: a contacts migration reads customer.* events")
            if event.tenant != self.tenant:
                raise _WrongEnvelope(f"tenant {event.tenant}: this run migrates tenant {self.tenant}")
            return event
        data = data_from_columns(row.values) if self.columns else row.values
        event = parse_event(
            {
                "id": f"migration-line-{row.line}",
                "type": "customer.created",
                "version": 1,
                "tenant": SYNTHETIC_TENANT,
                "occurred_at": SYNTHETIC_OCCURRED_AT,
                "data": data,
            }
        )
        assert isinstance(event, CustomerCreatedEvent)
        return event


class _WrongEnvelope(ValueError):
    """A valid envelope this run does not take (another type or tenant)."""


def _is_envelope(values: Mapping[str, Any]) -> bool:
    return "type" in values and isinstance(values.get("data"), dict)
