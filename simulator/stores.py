"""Stores: seeded per key, listed like v2's `GET /api/v2/stores` (`store_routes`), and required once
any are seeded.

Voyado: "the store must exist in Engage" (receipts, ref §2.8); order jobs fail with "Store is missing"
(ref §2.10); historical imports need the stores to exist (ref §4.4). A key without seeded stores
accepts any storeExternalId, so tests that do not care about stores need not seed them.
The v3 paths and the list's shape (a JSON array of the v2 `ApiStore` model, inactive stores left out
unless `includeInactive=true`) are [inferred] from the v2 Swagger.
"""

from __future__ import annotations

from typing import Any

from simulator.errors import ApiError, field_error, validation_error
from simulator.state import SimState

STORE_MISSING = "Store is missing"
"""Engage's integration-log text for an unknown store (ref §2.10)."""


def seed_store(state: SimState, given: Any) -> None:
    """Add (or replace) one seeded store; each needs an `externalId`."""
    if not isinstance(given, dict) or not isinstance(given.get("externalId"), str) or not given["externalId"]:
        raise ApiError(400, "InvalidSeed", "each store must be an object with an externalId")
    state.stores[given["externalId"]] = {"active": True, **given}


def store_missing(state: SimState, external_id: Any) -> bool:
    """True when stores are seeded and none has this externalId."""
    return bool(state.stores) and external_id not in state.stores


def check_store(state: SimState, external_id: Any, field: str) -> None:
    """ApiError 422 ValidationError ("Store is missing" on `field`) for an unknown store."""
    if store_missing(state, external_id):
        raise validation_error([field_error(field, STORE_MISSING)])
