"""Seeding: contact types, contacts, promotions, vouchers and stores from JSON.

Shape (every part optional):
`{"contact_types": {"Member": {"key": "email", "mandatory": ["email"], "attributes": [...]}},
  "contacts": [{"id"?, "contactType"?, <flat attributes>, "preferences"?, "consents"?}],
  "promotions": [{"id", "externalId", "name", "expiresOn", "redemptionChannels"}],
  "vouchers": [{"id", "voucherNumber", "contactId", "name", "value", "expiresOn", "points"}],
  "stores": [{"externalId", "name"?, "active"?, ...}]}` (the v2 `ApiStore` fields; see `stores`)
Stores come first, so seeded contacts may name them; contacts go through the same validation as
`POST /api/v3/contacts`; a given `id` is kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simulator.contacts import create_contact
from simulator.errors import ApiError
from simulator.state import DEFAULT_CONTACT_ATTRIBUTES, ContactType, SimState, new_id
from simulator.stores import seed_store

SEED_PARTS = frozenset({"contact_types", "contacts", "promotions", "vouchers", "stores"})


def load_seed(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"seed file {path} must hold a JSON object")
    return data


def _contact_types(state: SimState, types: Any) -> None:
    if not isinstance(types, dict):
        raise ApiError(400, "InvalidSeed", "contact_types must be an object")
    for name, given in types.items():
        spec = given or {}
        key = spec.get("key", "email")
        mandatory = tuple(spec.get("mandatory", [key]))
        attributes = tuple(dict.fromkeys([*spec.get("attributes", DEFAULT_CONTACT_ATTRIBUTES), *mandatory]))
        state.contact_types[name] = ContactType(name, key, mandatory, attributes)


def _contact(state: SimState, row: Any) -> None:
    if not isinstance(row, dict):
        raise ApiError(400, "InvalidSeed", "each contact must be an object")
    flat = {**row.get("attributes", {}), **{k: v for k, v in row.items() if k not in ("attributes", "id")}}
    created = create_contact(state, flat, source="seed")
    if row.get("id"):
        state.remove_contact(created.id)
        created.id = str(row["id"]).lower()
        state.put_contact(created)


def apply_seed(state: SimState, data: Any) -> dict[str, int]:
    """Add the seed to the state; returns how many of each part were added."""
    if not isinstance(data, dict) or set(data) - SEED_PARTS:
        raise ApiError(400, "InvalidSeed", f"A seed is an object with parts among {sorted(SEED_PARTS)}")
    if "contact_types" in data:
        _contact_types(state, data["contact_types"])
    for store in data.get("stores", []):
        seed_store(state, store)
    for row in data.get("contacts", []):
        _contact(state, row)
    for given_promotion in data.get("promotions", []):
        promotion = {"externalId": None, "expiresOn": None, "redemptionChannels": [], **given_promotion}
        promotion.setdefault("id", new_id())
        state.promotions[str(promotion["id"])] = promotion
    for given_voucher in data.get("vouchers", []):
        voucher = {"name": None, "expiresOn": None, "points": None, "value": None, **given_voucher}
        voucher.setdefault("id", new_id())
        voucher.update(redeemed=bool(voucher.get("redeemed", False)), redeemedOn=voucher.get("redeemedOn"))
        if isinstance(voucher.get("contactId"), str):
            voucher["contactId"] = voucher["contactId"].lower()
        state.vouchers[str(voucher["id"])] = voucher
    return {part: len(data.get(part, [])) for part in sorted(SEED_PARTS)}
