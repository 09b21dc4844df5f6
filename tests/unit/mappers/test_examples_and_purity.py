"""Every example event maps to a wire body; mappers import nothing but schemas and engage.models."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import mappers
from mappers import (
    TenantPolicy,
    cart_update,
    contact_attributes,
    order_contact,
    order_plan,
    plan_assignment,
    plan_create,
    plan_promotion_redemption,
    plan_voucher_redemption,
    product_view,
    receipt_contact,
    receipt_request,
    return_request,
)
from schemas import parse_event
from tests.unit.mappers.events import EXAMPLES_DIR, GUID, example

POLICY = TenantPolicy(include_freight=True)
ALLOWED_IMPORT_ROOTS = {"__future__", "schemas", "engage", "mappers"}
ALLOWED_ENGAGE_MODULES = ("engage.models",)


def _wire(value: Any) -> Any:
    return value.to_wire() if hasattr(value, "to_wire") else value


MAPPERS: dict[str, Callable[[Any], Any]] = {
    "customer.created": lambda e: plan_create(e, POLICY).body,
    "customer.updated": lambda e: contact_attributes(e, POLICY),
    "order.delivered": lambda e: receipt_request(e, POLICY, receipt_contact(GUID)),
    "receipt.completed": lambda e: receipt_request(e, POLICY, receipt_contact(GUID)),
    "return.created": lambda e: return_request(e, POLICY, receipt_contact(GUID)),
    "promotion.assigned": lambda e: plan_assignment(e, POLICY).request(GUID),
    "promotion.redeemed": lambda e: plan_promotion_redemption(e, POLICY).body,
    "voucher.redeemed": lambda e: {"channel": plan_voucher_redemption(e, POLICY).redemption_channel},
    "order.placed": lambda e: order_plan(e, POLICY, order_contact(GUID)).embedded(),
    "order.shipped": lambda e: order_plan(e, POLICY, order_contact(GUID)).embedded(),
    "order.cancelled": lambda e: order_plan(e, POLICY, order_contact(GUID)).embedded(),
    "product.viewed": lambda e: product_view(e, GUID),
    "cart.updated": lambda e: cart_update(e, GUID),
}


def test_every_example_type_has_a_mapper() -> None:
    assert {p.stem for p in EXAMPLES_DIR.glob("*.json")} == set(MAPPERS)


@pytest.mark.parametrize("event_type", sorted(MAPPERS))
def test_every_example_maps_to_a_non_empty_wire_body(event_type: str) -> None:
    event = parse_event(example(event_type))
    body = _wire(MAPPERS[event_type](event))
    assert isinstance(body, dict) and body
    # and mapping is deterministic
    assert _wire(MAPPERS[event_type](parse_event(example(event_type)))) == body


@pytest.mark.parametrize("event_type", ["order.delivered", "receipt.completed", "return.created"])
def test_every_example_receipt_total_is_the_exact_item_sum(event_type: str) -> None:
    receipt = MAPPERS[event_type](parse_event(example(event_type)))
    signed = [-i.gross_paid_price if i.quantity < 0 else i.gross_paid_price for i in receipt.items]
    assert sum(signed) == receipt.total_gross_price


@pytest.mark.parametrize("path", sorted(Path(mappers.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_mappers_import_only_schemas_and_engage_models(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        for name in names:
            root = name.split(".")[0]
            if root == "engage":
                assert name.startswith(ALLOWED_ENGAGE_MODULES), f"{path.name} imports {name}"
            elif root not in ALLOWED_IMPORT_ROOTS:
                assert root in {"collections", "dataclasses", "decimal", "typing", "pydantic"}, (
                    f"{path.name} imports {name} (no I/O, clock or randomness in mappers)"
                )
