"""Dead letters -> the records the fallback path sends: built by the SAME mappers as the API path.

- customer.created -> `mappers.contacts.plan_create` (body, source, store, createAsUnapproved);
  customer.updated -> `plan_update(contact_attributes(...))`, the PATCH body. Each is both a contacts-XML
  record and a bulk-API row; `contactId` (XML) / `id` (bulk update) when the contact-id store knows it.
- order.delivered / receipt.completed -> `mappers.receipts.receipt_request`; return.created ->
  `mappers.returns.return_request`; the buyer by contactId when known, else by the tenant's key
  (`mappers.identity.receipt_contact_by_key`). Files are grouped by matchKeyType (one per file, Voyado's
  historical-import rule).
- promotion.redeemed / voucher.redeemed -> our promotion-redemptions records, channel from
  `mappers.loyalty.redemption_channel`.
- Every other type has no file channel: `not_applicable` (it waits for `engage-relay dlq replay`).

The fallback sweep (relay/spill/sweep.py) plans its letters here, so the file records are built from the
mapper plans in one place.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from engage.contact_store import ContactIdStore
from fallback.deadletters import DeadLetter
from fallback.xmlfiles import FileKind
from mappers.contacts import (
    CustomerEvent,
    contact_attributes,
    plan_create,
    plan_create_of_fields,
    plan_implicit_create,
    plan_update,
)
from mappers.identity import Identity, LookupKey, lookup_keys, receipt_contact, receipt_contact_by_key
from mappers.loyalty import (
    PromotionRedemptionPlan,
    VoucherRedemptionPlan,
    plan_promotion_redemption,
    plan_voucher_redemption,
)
from mappers.policy import TenantPolicy
from mappers.receipts import receipt_request
from mappers.returns import return_request
from schemas import InvalidEvent, parse_event
from schemas.customer import CustomerCreatedEvent, CustomerUpdatedEvent
from schemas.loyalty import PromotionRedeemedEvent, VoucherRedeemedEvent
from schemas.sales import OrderDeliveredEvent, ReceiptCompletedEvent, ReturnCreatedEvent

CONTACT_TYPES: Final = frozenset({"customer.created", "customer.updated"})
TRANSACTION_TYPES: Final = frozenset({"order.delivered", "receipt.completed", "return.created"})
REDEMPTION_TYPES: Final = frozenset({"promotion.redeemed", "voucher.redeemed"})
CONTACT_NOT_IN_ENGAGE: Final = "next:contacts-file"
"""The ``fallback_file`` of a pending customer letter whose bulk row found no contact (ContactNotFound): the
bulk API only updates a contact that exists, so it goes in the contacts file, which creates or updates by
the tenant's key (as the API path creates a contact it cannot find)."""

NO_FILE_CHANNEL: Final = (
    "no Voyado file channel for this event type: replay it with `engage-relay dlq replay` once Engage is back"
)

BulkOperation = Literal["create", "update"]
KEY_ATTRIBUTES: Final = frozenset(
    {"email", "mobilePhone", "memberNumber", "externalId", "socialSecurityNumber"}
)
"""The attributes a contacts record or bulk row is matched by when its GUID is not known."""


class Tenant(Protocol):
    """What the records need of a tenant (the relay's `Tenant` is one): its name and business policy."""

    @property
    def name(self) -> str: ...

    @property
    def policy(self) -> TenantPolicy: ...


@dataclass(frozen=True)
class FileRecord:
    """One letter's record for an import file; files are per (kind, group)."""

    letter: DeadLetter
    kind: FileKind
    group: str
    record: dict[str, Any]
    contact_id: str | None = None
    # contacts only: the keys to mark "created by file" once written (empty when the id is known)
    keys: tuple[LookupKey, ...] = ()
    # a buyer's minimal contact sent ahead of their receipt: it rides in the contacts file but the letter is
    # the receipt's, settled by the transactions file
    companion: bool = False


@dataclass(frozen=True)
class BulkRow:
    """One contact letter as a bulk-API row (the same mapper output as its XML record)."""

    operation: BulkOperation
    contact_type: str | None
    row: dict[str, Any]
    file_record: FileRecord  # what goes into the contacts file when the bulk API cannot take it


@dataclass
class LetterPlan:
    files: list[FileRecord] = field(default_factory=list)
    bulk: list[BulkRow] = field(default_factory=list)
    not_applicable: list[DeadLetter] = field(default_factory=list)
    failed: list[tuple[DeadLetter, str]] = field(default_factory=list)


def known_contact_id(store: ContactIdStore, tenant: Tenant, identity: Identity) -> str | None:
    """The contactId the event carries, else the one the contact-id store holds under any of its keys."""
    for key in lookup_keys(identity, tenant.policy):
        if key.kind == "contactId":
            return key.value
        ref = store.get(tenant.name, key.kind, key.value)
        if ref is not None and ref.contact_id:
            return ref.contact_id
    return None


def plan_letters(
    letters: Iterable[DeadLetter],
    tenant: Tenant,
    store: ContactIdStore,
    *,
    contacts_via_bulk: bool,
    contacts_by_file: Collection[str] = (),
    redemptions_by_file: bool = False,
    contact_fields: Mapping[str, Mapping[str, Any]] | None = None,
) -> LetterPlan:
    """Sort letters into file records, bulk rows, no-channel and undecodable ones (in occurred_at order).

    Redemptions go to our redemptions file only when the tenant agreed its format with Voyado
    (`redemptions_by_file`); otherwise, like every type without a documented file channel, they wait.
    `contacts_by_file`: customer letters that go in the contacts file even when contacts go by bulk API.
    `contact_fields`: per customer letter, the flat fields still newer than what any path already sent
    (the relay's per-field clock); a letter not in it sends all of its fields.
    """
    plan = LetterPlan()
    decoded: list[tuple[DeadLetter, Any]] = []
    channels = CONTACT_TYPES | TRANSACTION_TYPES | (REDEMPTION_TYPES if redemptions_by_file else frozenset())
    for letter in letters:
        if letter.type not in channels:
            plan.not_applicable.append(letter)
            continue
        try:
            decoded.append((letter, parse_event(dict(letter.envelope))))
        except InvalidEvent as exc:
            plan.failed.append((letter, f"envelope no longer valid: {exc}"))
    decoded.sort(key=lambda pair: pair[1].occurred_at)
    buyers: list[tuple[DeadLetter, Any]] = []
    for letter, event in decoded:
        try:
            if isinstance(event, CustomerCreatedEvent | CustomerUpdatedEvent):
                fields = (contact_fields or {}).get(letter.id)
                row = contact_row(letter, event, tenant, store, fields)
                if contacts_via_bulk and letter.id not in contacts_by_file:
                    plan.bulk.append(row)
                else:
                    plan.files.append(row.file_record)
            elif isinstance(event, PromotionRedeemedEvent | VoucherRedeemedEvent):
                plan.files.append(redemption_record(letter, event, tenant, store))
            else:
                record = transaction_record(letter, event, tenant, store)
                plan.files.append(record)
                if record.contact_id is None:
                    buyers.append((letter, event))
        except (ValueError, KeyError) as exc:  # a mapper refusing data it accepted before
            plan.failed.append((letter, f"cannot build the record: {exc}"))
    plan.files.extend(_companions(buyers, plan, tenant))
    return plan


def _companions(buyers: list[tuple[DeadLetter, Any]], plan: LetterPlan, tenant: Tenant) -> list[FileRecord]:
    """Minimal contacts for receipts whose buyer Engage may not know (matched by key, not contactId).

    Engage ignores a receipt for a contact it does not have, so the buyer travels in a contacts file that
    is uploaded (and imported) before the transactions file, as the API path would create it first.
    A buyer who has a contacts record of their own in this sweep needs none.
    """
    covered = {key for item in plan.files if item.kind == "contacts" for key in item.keys}
    covered |= {key for row in plan.bulk for key in row.file_record.keys}
    companions: list[FileRecord] = []
    for letter, event in buyers:
        identity = event.data.customer
        keys = tuple(k for k in lookup_keys(identity, tenant.policy) if k.kind != "contactId")
        if not keys or covered.intersection(keys):
            continue
        covered.update(keys)
        created = plan_implicit_create(event, tenant.policy)
        record = {**created.body, "source": created.source, "storeExternalId": created.store_external_id}
        companions.append(FileRecord(letter, "contacts", "contacts", record, None, keys, companion=True))
    return companions


def contact_row(
    letter: DeadLetter,
    event: CustomerEvent,
    tenant: Tenant,
    store: ContactIdStore,
    fields: Mapping[str, Any] | None = None,
) -> BulkRow:
    """The letter's contacts-file record and bulk row; with `fields`, only those (flat) attributes."""
    policy = tenant.policy
    contact_id = known_contact_id(store, tenant, event.data)
    keys = () if contact_id else tuple(k for k in lookup_keys(event.data, policy) if k.kind != "contactId")
    record: dict[str, Any]
    if isinstance(event, CustomerCreatedEvent) and contact_id is None:
        if (
            fields is not None
        ):  # a create is matched (and made) by its keys: they travel whatever the clock says
            keys_given = {k: v for k, v in contact_attributes(event, policy).items() if k in KEY_ATTRIBUTES}
            fields = {**keys_given, **fields}
        plan = plan_create(event, policy) if fields is None else plan_create_of_fields(event, policy, fields)
        row = {k: v for k, v in plan.body.items() if k != "contactType"}
        record = {**plan.body, "source": plan.source, "storeExternalId": plan.store_external_id}
        if plan.create_as_unapproved:
            record["createAsUnapproved"] = True
        file_record = FileRecord(letter, "contacts", "contacts", record, None, keys)
        return BulkRow("create", plan.contact_type, row, file_record)
    attributes = contact_attributes(event, policy)
    body = plan_update(attributes if fields is None else fields)
    if contact_id is None:
        # without its GUID a record is matched by its keys: they travel whatever the clock cut away
        body = {**{k: v for k, v in attributes.items() if k in KEY_ATTRIBUTES}, **body}
    record = dict(body)
    if event.data.contact_type:
        record["contactType"] = event.data.contact_type
    if contact_id is not None:
        record["contactId"] = contact_id
    row = {**body, "id": contact_id} if contact_id else dict(body)
    file_record = FileRecord(letter, "contacts", "contacts", record, contact_id, keys)
    return BulkRow("update", event.data.contact_type, row, file_record)


def transaction_record(
    letter: DeadLetter,
    event: OrderDeliveredEvent | ReceiptCompletedEvent | ReturnCreatedEvent,
    tenant: Tenant,
    store: ContactIdStore,
) -> FileRecord:
    identity = event.data.customer
    contact_id = known_contact_id(store, tenant, identity)
    contact = receipt_contact(contact_id) if contact_id else receipt_contact_by_key(identity, tenant.policy)
    if isinstance(event, ReturnCreatedEvent):
        receipt = return_request(event, tenant.policy, contact)
    else:
        receipt = receipt_request(event, tenant.policy, contact)
    return FileRecord(letter, "transactions", contact.match_key_type, receipt.to_wire(), contact_id)


def redemption_record(
    letter: DeadLetter,
    event: PromotionRedeemedEvent | VoucherRedeemedEvent,
    tenant: Tenant,
    store: ContactIdStore,
) -> FileRecord:
    """Our promotion-redemptions record, from the same loyalty plan as the API handler."""
    plan: PromotionRedemptionPlan | VoucherRedemptionPlan = (
        plan_voucher_redemption(event, tenant.policy)
        if isinstance(event, VoucherRedeemedEvent)
        else plan_promotion_redemption(event, tenant.policy)
    )
    redeemed_at = plan.redeemed_at.isoformat()
    contact_id = known_contact_id(store, tenant, plan.customer)
    record: dict[str, Any]
    if isinstance(plan, VoucherRedemptionPlan):
        record = {"kind": "rewardVoucher", "redeemedAt": redeemed_at}
        if plan.voucher_id:
            record["voucherId"] = plan.voucher_id
        else:
            record["voucherNumber"] = plan.voucher_number
    elif plan.assignment_id:
        record = {
            "kind": "promotion",
            "assignmentId": plan.assignment_id,
            "redemptionChannel": plan.redemption_channel,
            "redeemedAt": redeemed_at,
        }
    else:
        contact = (
            receipt_contact(contact_id)
            if contact_id
            else receipt_contact_by_key(plan.customer, tenant.policy)
        )
        record = {
            "kind": "promotion",
            "contact": contact.to_wire(),
            "promotionId": plan.promotion_id,
            "redemptionChannel": plan.redemption_channel,
            "redeemedAt": redeemed_at,
        }
    return FileRecord(letter, "promotion-redemptions", "redemptions", record, contact_id)
