"""Dead letters for fallback tests: the project's example events, re-addressed and given fresh ids."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr

from fallback.config import FallbackSettings
from fallback.deadletters import DeadLetter
from mappers.policy import TenantPolicy
from relay.tenants import Tenant

EXAMPLES_DIR: Final = Path(__file__).resolve().parents[2] / "examples" / "events"
TENANT: Final = "acme-se"


def envelope(event_type: str, event_id: str, tenant: str = TENANT, **data: Any) -> dict[str, Any]:
    """The example envelope of `event_type` with a new id, the tenant, and `data` fields replaced."""
    raw: dict[str, Any] = json.loads((EXAMPLES_DIR / f"{event_type}.json").read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    raw["id"] = event_id
    raw["tenant"] = tenant
    raw["data"].update(data)
    return raw


def receipt(event_id: str, receipt_id: str, tenant: str = TENANT, **customer: str) -> dict[str, Any]:
    """A POS receipt with its own receipt id, bought by `customer` (default member number 100200300)."""
    return envelope(
        "receipt.completed",
        event_id,
        tenant,
        receipt_id=receipt_id,
        receipt_number=None,
        customer=customer or {"member_number": "100200300"},
    )


def letter(raw: dict[str, Any], error_class: str = "ServerError") -> DeadLetter:
    return DeadLetter(
        event_id=raw["id"],
        tenant=raw["tenant"],
        type=raw["type"],
        envelope=raw,
        error_class=error_class,
        error_kind="retryable",
        engage_status=503,
        attempts=7,
    )


def fallback_tenant(
    base_url: str,
    api_key: str,
    fallback: FallbackSettings,
    name: str = TENANT,
    policy: TenantPolicy | None = None,
) -> Tenant:
    return Tenant(
        name=name,
        base_url=base_url,
        api_key=SecretStr(api_key),
        policy=policy or TenantPolicy(),
        fallback=fallback,
    )
