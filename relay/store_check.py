"""Whether every store a tenant names exists in its Engage, in plain words.

A tenant names stores in its default store and its store map (a shop's store code -> storeExternalId).
Engage refuses a receipt or a contact naming a store it does not have, and fails the order's job
("Store is missing"), so `engage-relay tenants test` lists Engage's stores (`GET /api/v3/stores`,
inactive ones included) and says which named ones are missing or inactive.

Public: `named_stores(policy)`, `compare_stores(named, listed)` (pure), `StoreVerdict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engage.models import Store
from mappers.policy import TenantPolicy


@dataclass(frozen=True)
class StoreVerdict:
    ok: bool
    verdict: str  # stores_ok, stores_missing, stores_unlisted
    message: str
    missing: tuple[str, ...] = ()
    inactive: tuple[str, ...] = ()


def named_stores(policy: TenantPolicy) -> dict[str, str]:
    """Each storeExternalId the tenant names, and where it names it (for the operator's sentence)."""
    default = policy.store_for(None)
    named = {default: "the default store"}
    for code, store in sorted(policy.store_map.items()):
        if store not in named:
            named[store] = f"store map {code}={store}"
    return named


def _listed(names: Sequence[str], named: dict[str, str]) -> str:
    return ", ".join(f"{name} ({named[name]})" for name in names)


def compare_stores(named: dict[str, str], listed: Sequence[Store]) -> StoreVerdict:
    """The verdict for the stores a tenant names against the stores its Engage lists."""
    if not listed:
        return StoreVerdict(
            True, "stores_unlisted", "Engage lists no stores, so the tenant's stores were not checked"
        )
    active = {store.external_id for store in listed if store.active is not False}
    known = {store.external_id for store in listed}
    missing = tuple(name for name in named if name not in known)
    inactive = tuple(name for name in named if name in known and name not in active)
    if missing:
        message = (
            f"Engage has no store {_listed(missing, named)}: receipts, contacts and orders naming it are "
            "refused; create it in Engage or correct the tenant's default store and store map"
        )
        if inactive:
            message += f"; and {_listed(inactive, named)} is inactive in Engage"
        return StoreVerdict(False, "stores_missing", message, missing, inactive)
    message = f"every store the tenant names is in Engage ({len(named)})"
    if inactive:
        message += f", but {_listed(inactive, named)} is inactive there"
    return StoreVerdict(True, "stores_ok", message, (), inactive)
