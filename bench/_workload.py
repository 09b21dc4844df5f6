"""The pipeline bench's workload: a seeded, deterministic mix of customer and order events.

Four kinds of measured event, each about one customer:
- ``new_order``: ``order.delivered`` for an e-mail Engage has never seen (guest checkout);
- ``new_signup``: ``customer.created`` for an e-mail Engage has never seen;
- ``known_order``: ``order.delivered`` for a customer created in the warm-up;
- ``known_update``: ``customer.updated`` (a new city) for a customer created in the warm-up, each update
  to a different customer while there are enough, so that no update is superseded by another.

The orders come in one of two mixes (`MIXES`): ``journey`` (the default) sends them as e-com
``order.delivered``, which also moves the order in Engage (the order journey: about 5 calls for a new
customer's order, a receipt, the order's status change and its job followed until done, in two runs of
the task); ``receipts`` sends them as POS ``receipt.completed`` of the same lines and buyer, which is the
guide loop's own work (look up or create, then the receipt), so calls per event match the baseline's.

Every id and e-mail carries a namespace, so runs and scenarios never see each other's customers.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "events"
KIND_WEIGHTS: dict[str, float] = {
    "new_order": 0.25,
    "new_signup": 0.15,
    "known_order": 0.45,
    "known_update": 0.15,
}
NEW_KINDS = frozenset({"new_order", "new_signup"})
WARMUP_AT = datetime.fromisoformat("2026-11-24T09:00:00+01:00")
UPDATE_STEP = timedelta(seconds=1)
BURST_AT = WARMUP_AT + timedelta(hours=1)  # measured events follow the warm-up...
PACED_AT = WARMUP_AT + timedelta(hours=6)  # ...and paced ones follow the burst (under 18,000 events)
ORDER_TOTAL = "548.00"
RECEIPT_TOTAL = "499.00"  # the same line, no freight
MIXES: dict[str, str] = {"journey": "order.delivered", "receipts": "receipt.completed"}
"""Mix name -> the event type its orders are sent as."""
DEFAULT_MIX = "journey"

Envelope = dict[str, Any]


@dataclass(frozen=True)
class BenchEvent:
    kind: str
    tenant: str
    envelope: Envelope

    @property
    def id(self) -> str:
        event_id: str = self.envelope["id"]
        return event_id

    @property
    def is_new(self) -> bool:
        return self.kind in NEW_KINDS


def _example(event_type: str) -> Envelope:
    envelope: Envelope = json.loads((EXAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))
    return envelope


_TEMPLATES = {
    name: _example(name)
    for name in ("customer.created", "customer.updated", "order.delivered", "receipt.completed")
}


def _envelope(event_type: str, event_id: str, tenant: str, occurred_at: datetime, data: Envelope) -> Envelope:
    envelope = copy.deepcopy(_TEMPLATES[event_type])
    envelope.update(id=event_id, tenant=tenant, occurred_at=occurred_at.isoformat(), source="ECOM")
    envelope["store"] = "online-se"
    if event_type == "order.delivered":
        envelope["data"] = {**envelope["data"], **data}
    elif event_type == "receipt.completed":
        envelope["source"] = "POS"
        envelope["data"] = {
            "created_at": envelope["data"]["created_at"],
            "currency": envelope["data"]["currency"],
            **data,
        }
    else:
        envelope["data"] = data
    return envelope


def email(namespace: str, kind: str, n: int) -> str:
    return f"{kind}-{namespace}-{n:05d}@bench.example.se"


def signup(event_id: str, tenant: str, address: str, at: datetime) -> Envelope:
    data = {
        "email": address,
        "first_name": "Bench",
        "last_name": "Kund",
        "country_code": "SE",
        "city": "Malmö",
    }
    return _envelope("customer.created", event_id, tenant, at, data)


def order(
    event_id: str, tenant: str, address: str, order_id: str, at: datetime, mix: str = DEFAULT_MIX
) -> Envelope:
    """An order of one line for `address`: an e-com delivery (`journey`) or a POS receipt (`receipts`)."""
    event_type = MIXES[mix]
    data: Envelope = {
        "order_id" if event_type == "order.delivered" else "receipt_id": order_id,
        "receipt_number": order_id,
        "customer": {"email": address},
        "lines": [
            {
                "sku": "7391234599100",
                "article_number": "MSS-0100",
                "article_name": "Mössa Ull",
                "quantity": 1,
                "unit_price": "499.00",
                "tax_percent": "25",
            }
        ],
        "order_discounts": [],
        "used_promotions": [],
        "freight": {"amount": "49.00", "tax_percent": "25"},
        "payments": [{"type": "card", "amount": ORDER_TOTAL, "description": "Visa"}],
        "total_gross": ORDER_TOTAL,
    }
    if event_type == "receipt.completed":
        del data["freight"]
        data["payments"] = [{"type": "card", "amount": RECEIPT_TOTAL, "description": "Visa"}]
        data["total_gross"] = RECEIPT_TOTAL
    return _envelope(event_type, event_id, tenant, at, data)


def update(event_id: str, tenant: str, address: str, city: str, at: datetime) -> Envelope:
    return _envelope("customer.updated", event_id, tenant, at, {"email": address, "city": city})


def known_emails(namespace: str, count: int) -> list[str]:
    return [email(namespace, "known", n) for n in range(count)]


def warmup(namespace: str, tenant: str, customers: list[str]) -> list[BenchEvent]:
    """The sign-ups that make `customers` known (to Engage, and to the relay's contact-id store)."""
    return [
        BenchEvent("warmup", tenant, signup(f"{namespace}-warm-{n:05d}", tenant, address, WARMUP_AT))
        for n, address in enumerate(customers)
    ]


def measured(
    namespace: str,
    tenant: str,
    count: int,
    customers: list[str],
    seed: int,
    start_at: datetime,
    mix: str = DEFAULT_MIX,
) -> list[BenchEvent]:
    """`count` events drawn from KIND_WEIGHTS with `random.Random(seed)`; ids `<namespace>-<n>`.

    `customers` are the known e-mails; `start_at` is the first event's occurred_at (one second apart), to
    be later than any earlier update of the same customers."""
    rng = random.Random(seed)
    kinds = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()), k=count)
    known = len(customers)
    updates = 0
    events: list[BenchEvent] = []
    for n, kind in enumerate(kinds):
        event_id = f"{namespace}-{n:05d}"
        at = start_at + n * UPDATE_STEP
        if kind == "new_order":
            envelope = order(event_id, tenant, email(namespace, "new", n), f"{namespace}-o{n}", at, mix)
        elif kind == "new_signup":
            envelope = signup(event_id, tenant, email(namespace, "new", n), at)
        elif kind == "known_order":
            envelope = order(event_id, tenant, rng.choice(customers), f"{namespace}-o{n}", at, mix)
        else:
            envelope = update(event_id, tenant, customers[updates % known], f"Stad {n}", at)
            updates += 1
        events.append(BenchEvent(kind, tenant, envelope))
    return events
