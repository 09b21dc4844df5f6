"""A retail day for outage tests: two tenants' events in waves, and what Engage should hold at the end.

acme-se (e-commerce, contact key e-mail): per customer a sign-up, the order journey (placed, shipped with
its tracking, delivered with its receipt), a later address change, and a return for every fourth.
nordic-no (POS, contact key member number, members seeded in its Engage): per member an offer assigned,
a receipt, the offer redeemed and a voucher redeemed, and a city change for every fourth.

The waves follow a shop's order (a sign-up before its order, a delivery after its shipment); the tests
publish them while Engage is down, so the relay holds them and drains them by itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from workers.demo.data import event

ECOM, POS = "acme-se", "nordic-no"
WELCOME = "8d1f4c2a-5b6e-4f70-9a3b-2c1d0e9f8a7b"
DAY0, DAY1, DAY2, DAY3 = (
    "2026-11-24T10:00:00+01:00",
    "2026-11-25T10:00:00+01:00",
    "2026-11-26T10:00:00+01:00",
    "2026-11-27T10:00:00+01:00",
)
Envelope = dict[str, Any]


def member_id(n: int) -> str:
    return f"7f1b2c3d-4e5f-4a6b-8c7d-{n:012d}"


def voucher_id(n: int) -> str:
    return f"af61c5c8-7ff8-4234-9b67-{n:012d}"


def email(n: int) -> str:
    return f"kund{n}@example.se"


def member(n: int) -> dict[str, str]:
    return {"member_number": f"900{n:04d}"}


def order_line(n: int) -> list[dict[str, Any]]:
    return [{"sku": f"73912345{n:05d}", "name": f"Vara {n}", "quantity": 1, "unit_price": "299.00"}]


def order_totals() -> dict[str, str]:
    return {"sub_total": "299.00", "freight": "0.00", "total_gross": "299.00"}


def _journey(kind: str, prefix: str, n: int, at: str, **extra: Any) -> Envelope:
    return event(
        kind,
        f"{prefix}-{n}",
        ECOM,
        at,
        order_id=f"E-{n}",
        customer={"email": email(n)},
        lines=order_line(n),
        totals=order_totals(),
        **extra,
    )


def placed(n: int) -> Envelope:
    return _journey("order.placed", "op", n, DAY0)


def shipped(n: int) -> Envelope:
    return _journey("order.shipped", "os", n, DAY1)


def delivered(n: int) -> Envelope:
    return event("order.delivered", f"od-{n}", ECOM, DAY2, order_id=f"E-{n}", customer={"email": email(n)})


def returned(n: int) -> Envelope:
    """A return of order E-{n} (a status change: it carries no whole order)."""
    return event(
        "return.created",
        f"r-{n}",
        ECOM,
        DAY3,
        return_id=f"E-{n}-R1",
        original_order_id=f"E-{n}",
        customer={"email": email(n)},
    )


def ecom_waves(customers: int) -> list[list[Envelope]]:
    """Sign-ups, orders placed, shipped (tracking), delivered, then the address changes and returns."""
    who = range(customers)
    signups = [
        event("customer.created", f"c-{n}", ECOM, DAY0)
        | {"data": {"email": email(n), "first_name": f"Kund{n}", "city": "Malmö"}}
        for n in who
    ]
    later = [
        event("customer.updated", f"cu-{n}", ECOM, DAY3) | {"data": {"email": email(n), "city": f"Lund-{n}"}}
        for n in who
    ] + [returned(n) for n in who if n % 4 == 1]
    return [signups, [placed(n) for n in who], [shipped(n) for n in who], [delivered(n) for n in who], later]


def pos_waves(members: int) -> list[list[Envelope]]:
    """Offers assigned, receipts, offers and vouchers redeemed, then some members move."""
    who = range(members)
    assigned = [
        event("promotion.assigned", f"pa-{n}", POS, DAY0, customer=member(n), promotion_id=WELCOME)
        for n in who
    ]
    receipts = [
        event(
            "receipt.completed",
            f"p-{n}",
            POS,
            DAY1,
            customer=member(n),
            receipt_id=f"POS-{n}",
            payments=[{"type": "card", "amount": "943.20"}],
            used_vouchers=[],
        )
        for n in who
    ]
    redeemed = [
        event(
            "promotion.redeemed",
            f"pr-{n}",
            POS,
            DAY1,
            customer=member(n),
            promotion_id=WELCOME,
            receipt_id=None,
        )
        for n in who
    ]
    vouchers = [
        event(
            "voucher.redeemed",
            f"pv-{n}",
            POS,
            DAY1,
            customer=member(n),
            voucher_id=voucher_id(n),
            voucher_number=None,
        )
        for n in who
    ]
    moves = [
        event("customer.updated", f"pu-{n}", POS, DAY2) | {"data": {**member(n), "city": f"Oslo-{n}"}}
        for n in range(0, members, 4)
    ]
    return [assigned, receipts, redeemed, vouchers, moves]


def day_waves(customers: int, members: int) -> list[list[Envelope]]:
    """Both tenants' waves side by side (the e-com and POS events of the same moment together)."""
    return [ecom + pos for ecom, pos in zip(ecom_waves(customers), pos_waves(members), strict=True)]


def pos_seed(members: int) -> dict[str, Any]:
    """nordic-no's Engage before the day: members keyed by member number (as the tenant's contact key, so
    its contacts import files match them), the welcome offer, a voucher per member."""
    return {
        "contact_types": {"Member": {"key": "memberNumber", "mandatory": ["memberNumber"]}},
        "contacts": [
            {"id": member_id(n), "email": f"medlem{n}@example.no", "memberNumber": f"900{n:04d}"}
            for n in range(members)
        ],
        "promotions": [
            {"id": WELCOME, "externalId": "WELCOME", "name": "Välkommen", "redemptionChannels": []}
        ],
        "vouchers": [
            {
                "id": voucher_id(n),
                "voucherNumber": f"V{n}",
                "contactId": member_id(n),
                "value": {"currency": "NOK", "amount": 100},
            }
            for n in range(members)
        ],
    }


def tenant_table(base_url: str, key_env: str, tenant: str, fallback: Mapping[str, Any]) -> dict[str, Any]:
    """A tenants-file table with the shipped defaults for everything but the connection and `fallback`."""
    policy: dict[str, Any] = (
        {"source": "ECOM", "default_store": "online-se"}
        if tenant == ECOM
        else {"source": "POS", "default_store": "store-001", "contact_key": "member_number"}
    )
    return {"base_url": base_url, "api_key_env": key_env, "policy": policy, "fallback": dict(fallback)}


def accounting(
    keys: Iterable[str], final: Mapping[str, str], types: Mapping[str, str]
) -> Counter[tuple[str, str, str]]:
    """(tenant, event type, final outcome) -> events; 'lost' for an event without one."""
    return Counter((key.split(":", 1)[0], types[key], final.get(key, "lost")) for key in keys)


def print_accounting(title: str, table: Counter[tuple[str, str, str]]) -> None:
    print(f"\n{title}\n  {'tenant':10} {'type':20} {'outcome':18} events")
    for (tenant, kind, outcome), count in sorted(table.items()):
        print(f"  {tenant:10} {kind:20} {outcome:18} {count}")
    by_outcome = Counter[str]()
    for (_, _, outcome), count in table.items():
        by_outcome[outcome] += count
    print(f"  total {sum(table.values())} events: {dict(sorted(by_outcome.items()))}")


def engage_summary(ecom_state: Mapping[str, Any], pos_state: Mapping[str, Any]) -> dict[str, int]:
    """What each Engage holds, counted, for the printed accounting."""
    return {
        "ecom contacts": len(ecom_state["contacts"]),
        "ecom receipts": len(ecom_state["receipts"]),
        "ecom orders": len(ecom_state["orders"]),
        "pos receipts": len(pos_state["receipts"]),
        "pos offers assigned": len(pos_state["promotion_assignments"]),
        "pos offers redeemed": len(pos_state["promotion_redemptions"]),
        "pos vouchers redeemed": len(pos_state["voucher_redemptions"]),
        "imports (files)": len(ecom_state["imports"]) + len(pos_state["imports"]),
    }
