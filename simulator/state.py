"""The simulator's in-memory store: everything Engage would hold, plus request and import logs.

One `SimState` per process. Handlers and the import watcher change it only through the domain
modules (`contacts`, `receipts`, `loyalty`, `orders`, `bulk`, `tracking`), so the API and the file
import apply the same rules. `snapshot()` is what `GET /_sim/state` returns.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_CONTACT_ATTRIBUTES: tuple[str, ...] = (
    "firstName",
    "lastName",
    "email",
    "mobilePhone",
    "street",
    "zipCode",
    "city",
    "countryCode",
    "language",
    "birthDay",
    "gender",
    "socialSecurityNumber",
    "memberNumber",
    "externalId",
    "cardId",
)
"""`cardId` is what matchKeyType CardId searches [inferred: Voyado names no card attribute]."""


INDEXED_ATTRIBUTES: tuple[str, ...] = (
    "email",
    "mobilePhone",
    "socialSecurityNumber",
    "memberNumber",
    "externalId",
)


def normalize(attribute: str, value: Any) -> str:
    """The comparable form of an identifier: emails case-insensitive, SSNs without the dash."""
    text = str(value).strip()
    if attribute == "email":
        return text.lower()
    if attribute == "socialSecurityNumber":
        return text.replace("-", "")
    return text


@dataclass
class ContactType:
    """A contact type: its key attribute, mandatory fields and known attributes."""

    name: str
    key: str = "email"
    mandatory: tuple[str, ...] = ("email",)
    attributes: tuple[str, ...] = DEFAULT_CONTACT_ATTRIBUTES


def default_contact_types() -> dict[str, ContactType]:
    return {"Member": ContactType("Member"), "Contact": ContactType("Contact")}


@dataclass
class Contact:
    id: str
    contact_type: str
    attributes: dict[str, Any]
    meta: dict[str, Any]
    preferences: dict[str, Any] = field(default_factory=dict)
    consents: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "contactType": self.contact_type,
            "attributes": dict(self.attributes),
            "meta": dict(self.meta),
            "preferences": dict(self.preferences),
            "consents": [dict(c) for c in self.consents],
        }


def new_id() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class SimState:
    """Everything the simulator knows. Cleared by `POST /_sim/reset`."""

    contact_types: dict[str, ContactType] = field(default_factory=default_contact_types)
    contacts: dict[str, Contact] = field(default_factory=dict)
    contact_index: defaultdict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    receipts: list[dict[str, Any]] = field(default_factory=list)
    receipt_ids: set[str] = field(default_factory=set)
    duplicate_receipts: list[str] = field(default_factory=list)
    unmatched_receipts: list[dict[str, Any]] = field(default_factory=list)
    stores: dict[str, dict[str, Any]] = field(default_factory=dict)
    promotions: dict[str, dict[str, Any]] = field(default_factory=dict)
    promotion_assignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    promotion_redemptions: list[dict[str, Any]] = field(default_factory=list)
    vouchers: dict[str, dict[str, Any]] = field(default_factory=dict)
    voucher_redemptions: list[dict[str, Any]] = field(default_factory=list)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    order_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    order_actions: list[dict[str, Any]] = field(default_factory=list)
    productviews: list[dict[str, Any]] = field(default_factory=list)
    carts: list[dict[str, Any]] = field(default_factory=list)
    bulk_batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    imports: list[dict[str, Any]] = field(default_factory=list)
    requests: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    user_agents: Counter[str] = field(default_factory=Counter)

    def _index_keys(self, contact: Contact) -> list[tuple[str, str]]:
        return [
            (name, normalize(name, contact.attributes[name]))
            for name in INDEXED_ATTRIBUTES
            if contact.attributes.get(name) not in (None, "")
        ]

    def put_contact(self, contact: Contact) -> None:
        """Store a new contact and index its identifiers."""
        self.contacts[contact.id] = contact
        for key in self._index_keys(contact):
            self.contact_index[key].add(contact.id)

    def remove_contact(self, contact_id: str) -> None:
        contact = self.contacts.pop(contact_id)
        for key in self._index_keys(contact):
            self.contact_index[key].discard(contact_id)

    def update_attributes(self, contact: Contact, changes: dict[str, Any]) -> None:
        """Overwrite attributes and keep the identifier index right."""
        for key in self._index_keys(contact):
            self.contact_index[key].discard(contact.id)
        contact.attributes.update(changes)
        for key in self._index_keys(contact):
            self.contact_index[key].add(contact.id)

    def indexed(self, attribute: str, value: Any) -> list[Contact]:
        """Contacts whose identifier `attribute` (one of INDEXED_ATTRIBUTES) equals `value`."""
        ids = self.contact_index.get((attribute, normalize(attribute, value)), set())
        return [self.contacts[i] for i in sorted(ids)]

    def count_request(self, route: str, status: int) -> None:
        self.requests[route][str(status)] += 1

    def snapshot(self) -> dict[str, Any]:
        return {
            "contact_types": {
                name: {"key": t.key, "mandatory": list(t.mandatory), "attributes": list(t.attributes)}
                for name, t in self.contact_types.items()
            },
            "contacts": [c.to_json() for c in self.contacts.values()],
            "receipts": list(self.receipts),
            "duplicate_receipts": list(self.duplicate_receipts),
            "unmatched_receipts": list(self.unmatched_receipts),
            "stores": list(self.stores.values()),
            "promotions": list(self.promotions.values()),
            "promotion_assignments": list(self.promotion_assignments.values()),
            "promotion_redemptions": list(self.promotion_redemptions),
            "vouchers": list(self.vouchers.values()),
            "voucher_redemptions": list(self.voucher_redemptions),
            "orders": list(self.orders.values()),
            "order_jobs": list(self.order_jobs.values()),
            "order_actions": list(self.order_actions),
            "tracking": {"productviews": list(self.productviews), "carts": list(self.carts)},
            "bulk_batches": list(self.bulk_batches.values()),
            "imports": list(self.imports),
            "requests": {route: dict(statuses) for route, statuses in self.requests.items()},
            "user_agents": dict(self.user_agents),
        }


COUNTED_PARTS = ("requests", "user_agents")


def combined_snapshot(states: Sequence[SimState]) -> dict[str, Any]:
    """Several keys' snapshots as one: lists in key order, counts summed, contact types merged."""
    combined: dict[str, Any] = {}
    for snapshot in (state.snapshot() for state in states):
        for part, value in snapshot.items():
            if part not in combined:
                combined[part] = value
            elif part == "contact_types":
                combined[part] = {**value, **combined[part]}
            elif part == "tracking":
                combined[part] = {kind: combined[part][kind] + items for kind, items in value.items()}
            elif part in COUNTED_PARTS:
                combined[part] = _summed(combined[part], value)
            else:
                combined[part] = combined[part] + value
    return combined


def _summed(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for name, value in b.items():
        if isinstance(value, dict):
            out[name] = _summed(out.get(name, {}), value)
        else:
            out[name] = out.get(name, 0) + value
    return out
