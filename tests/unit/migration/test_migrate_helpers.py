"""Builders shared by the migration tests (unit and integration): tenants, input files, sale rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from lxml import etree
from pydantic import SecretStr

from fallback.config import FallbackSettings
from mappers.policy import TenantPolicy
from relay.tenants import Tenant

NOW: Final = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TRANSACTIONS_NS: Final = "{http://voyado.Schemas.ImportReceipts}"


def tenant(
    base_url: str = "http://127.0.0.1:9",
    api_key: str = "test-key-1",
    fallback: FallbackSettings | None = None,
) -> Tenant:
    return Tenant(
        name="acme",
        base_url=base_url,
        api_key=SecretStr(api_key),
        policy=TenantPolicy(default_store="online-se"),
        fallback=fallback or FallbackSettings(transport="none"),
    )


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def write_ndjson(path: Path, objects: Iterable[Mapping[str, Any] | str]) -> Path:
    return write_lines(path, (o if isinstance(o, str) else json.dumps(o) for o in objects))


def contacts_csv(path: Path, count: int, bad_at: Iterable[int] = ()) -> Path:
    """A contacts CSV with ``count`` data rows (lines 2..count+1); rows in ``bad_at`` (1-based) bad."""
    bad = set(bad_at)
    rows = ["email;firstName;lastName;mobilePhone;city;countryCode"]
    for i in range(1, count + 1):
        email = f"not-an-email-{i}" if i in bad else f"person{i}@example.com"
        rows.append(f"{email};First{i};Last{i};;Umeå;SE")
    return write_lines(path, rows)


def sale(
    number: int, created_at: str = "2026-05-01T10:00:00+02:00", customer: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """receipt.completed data: one line, one card payment."""
    return {
        "receipt_id": f"r-{number}",
        "created_at": created_at,
        "customer": dict(customer or {"email": f"person{number}@example.com"}),
        "currency": "SEK",
        "lines": [
            {
                "sku": f"sku-{number}",
                "article_number": f"art-{number}",
                "article_name": "Tröja",
                "quantity": 1,
                "unit_price": "100.00",
                "tax_percent": "25",
            }
        ],
        "payments": [{"type": "card", "amount": "100.00"}],
    }


def file_receipts(path: Path) -> list[tuple[str, str]]:
    """(uniqueReceiptId, matchKeyType) of every receipt in a transactions file."""
    root = etree.parse(str(path)).getroot()
    found = []
    for receipt in root.iter(f"{TRANSACTIONS_NS}receipt"):
        unique = receipt.findtext(f"{TRANSACTIONS_NS}uniqueReceiptId") or ""
        key_type = receipt.findtext(f"{TRANSACTIONS_NS}contact/{TRANSACTIONS_NS}matchKeyType") or ""
        found.append((unique, key_type))
    return found


def rejects_lines(path: Path) -> list[int]:
    return [json.loads(line)["line"] for line in path.read_text(encoding="utf-8").splitlines()]
