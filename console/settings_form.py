"""The settings panel's form, both ways: a tenant to the form's values, and posted values to a tenant.

Pure functions, no I/O. Secrets are write-only: the form never holds them; an empty secret field keeps
the stored secret, a filled one replaces it (`clear_<field>` removes an optional one). Every problem is
collected as one plain sentence per field (`SettingsInvalid.problems`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, get_args

from pydantic import SecretStr, ValidationError

from engage.ratelimit import DEFAULT_LIVE_SHARE
from fallback.config import ContactsFallback, Transport
from mappers.policy import ContactKey, VoucherTreatment
from relay.tenants import Tenant

CONTACT_KEYS: tuple[str, ...] = get_args(ContactKey)
TRANSPORTS: tuple[str, ...] = get_args(Transport)
CONTACTS_VIA: tuple[str, ...] = get_args(ContactsFallback)
VOUCHER_MODES: tuple[str, ...] = get_args(VoucherTreatment)
SECRET_FIELDS = ("api_key", "fallback_password", "fallback_key_passphrase", "soft_id_key")
FORM_TOP_LEVEL = frozenset(
    {"name", "base_url", "api_key", "rate_budget_per_s", "live_share", "policy", "fallback"}
)
FIELD_WORDS = {
    "base_url": "Base URL",
    "api_key": "API key",
    "rate_budget_per_s": "Rate budget",
    "live_share": "Live share",
    "source": "Source",
    "default_store": "Default store",
    "store_map": "Store map",
    "contact_key": "Contact key",
    "contact_type": "Contact type",
    "group_currency": "Group currency",
    "exchange_rates": "Exchange rates",
    "vouchers_as": "Voucher mode",
    "spill_after_s": "Spill after",
    "transport": "File transport",
    "host": "File server host",
    "port": "File server port",
    "username": "File server user",
    "host_key_fingerprint": "Host key pin",
    "remote_dir": "Remote folder",
    "name": "Tenant name",
}


class SettingsInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _pairs_text(pairs: Mapping[str, Any]) -> str:
    return "\n".join(f"{k}={v}" for k, v in sorted(pairs.items()))


def form_values(tenant: Tenant) -> dict[str, str]:
    """The form's fields for a stored tenant; secrets are never among them."""
    p, f = tenant.policy, tenant.fallback
    return {
        "name": tenant.name,
        "base_url": tenant.base_url,
        "rate_budget_per_s": f"{tenant.rate_budget_per_s:g}",
        "live_share": f"{tenant.live_share:g}",
        "source": p.source,
        "default_store": p.default_store,
        "store_map": _pairs_text(p.store_map),
        "contact_key": p.contact_key,
        "contact_type": p.contact_type,
        "group_currency": p.group_currency,
        "exchange_rates": _pairs_text(p.exchange_rates),
        "include_freight": "on" if p.include_freight else "",
        "vouchers_as": p.vouchers_as,
        "move_orders": "on" if p.move_orders else "",
        "spill_after_s": f"{f.spill_after_s:g}",
        "transport": f.transport,
        "host": f.host,
        "port": "" if f.port is None else str(f.port),
        "username": f.username or "",
        "private_key_path": f.private_key_path or "",
        "host_key_fingerprint": f.host_key_fingerprint or "",
        "remote_dir": f.remote_dir,
        "local_dir": f.local_dir,
        "contacts_via": f.contacts_via,
    }


def _pairs(text: str, what: str, problems: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for raw in text.replace(",", "\n").splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            problems.append(f"{what}: write one KEY=VALUE a line (got {line!r})")
            continue
        pairs[key.strip()] = value.strip()
    return pairs


def _number(text: str, what: str, problems: list[str]) -> float | None:
    try:
        return float(text)
    except ValueError:
        problems.append(f"{what}: {text!r} is not a number")
        return None


def tenant_from_form(form: Mapping[str, str], existing: Tenant | None, *, name: str | None = None) -> Tenant:
    """The tenant the posted form describes; `existing` gives the secrets an empty field keeps."""
    problems: list[str] = []

    def get(key: str) -> str:
        return form.get(key, "").strip()

    tenant_name = name or get("name")
    api_key = get("api_key") or (existing.api_key.get_secret_value() if existing else "")
    if not api_key:
        problems.append("API key: enter the tenant's Engage API key")
    rates = _pairs(form.get("exchange_rates", ""), "Exchange rates", problems)
    exchange: dict[str, Decimal] = {}
    for currency, rate in rates.items():
        try:
            exchange[currency.upper()] = Decimal(rate)
        except InvalidOperation:
            problems.append(f"Exchange rates: {rate!r} for {currency} is not a number")
    budget = _number(get("rate_budget_per_s") or "40", "Rate budget", problems)
    live_share = _number(get("live_share") or f"{DEFAULT_LIVE_SHARE:g}", "Live share", problems)
    spill = _number(get("spill_after_s") or "600", "Spill after", problems)
    port: int | None = None
    if get("port"):
        try:
            port = int(get("port"))
        except ValueError:
            problems.append(f"File server port: {get('port')!r} is not a port number")
    fallback: dict[str, Any] = {
        "transport": get("transport") or "none",
        "host": get("host") or "127.0.0.1",
        "port": port,
        "username": get("username") or None,
        "private_key_path": get("private_key_path") or None,
        "host_key_fingerprint": get("host_key_fingerprint") or None,
        "remote_dir": get("remote_dir") or "/",
        "local_dir": get("local_dir") or f".var/outbox/{tenant_name}",
        "contacts_via": get("contacts_via") or "bulk",
        "spill_after_s": spill,
    }
    if existing is not None:  # what the form does not show stays as it was
        before = existing.fallback
        fallback.update(
            known_hosts_path=before.known_hosts_path,
            ca_file=before.ca_file,
            remote_subdirs=before.remote_subdirs,
            import_grace_s=before.import_grace_s,
            redemptions_by_file=before.redemptions_by_file,
        )
    for field, secret in (
        ("password", "fallback_password"),
        ("private_key_passphrase", "fallback_key_passphrase"),
    ):
        fallback[field] = _secret(form, secret, getattr(existing.fallback, field) if existing else None)
    policy: dict[str, Any] = {
        **(existing.policy.model_dump() if existing else {}),
        "source": get("source") or "ECOM",
        "default_store": get("default_store") or "online",
        "store_map": _pairs(form.get("store_map", ""), "Store map", problems),
        "contact_key": get("contact_key") or "email",
        "contact_type": get("contact_type") or "Member",
        "group_currency": (get("group_currency") or "SEK").upper(),
        "exchange_rates": exchange,
        "include_freight": bool(form.get("include_freight")),
        "vouchers_as": get("vouchers_as") or "discount",
        "move_orders": bool(form.get("move_orders")),
    }
    if problems:
        raise SettingsInvalid(problems)
    kept: dict[str, Any] = {}
    if existing is not None:  # the top-level settings the form does not show stay as they were
        kept = {k: getattr(existing, k) for k in Tenant.model_fields if k not in FORM_TOP_LEVEL}
    kept["soft_id_key"] = _secret(form, "soft_id_key", existing.soft_id_key if existing else None)
    try:
        return Tenant.model_validate(
            {
                **kept,
                "name": tenant_name,
                "base_url": get("base_url"),
                "api_key": SecretStr(api_key),
                "rate_budget_per_s": budget,
                "live_share": live_share,
                "policy": policy,
                "fallback": fallback,
            }
        )
    except ValidationError as exc:
        raise SettingsInvalid(
            [_plain(e) for e in exc.errors(include_input=False, include_url=False)]
        ) from None


def _secret(form: Mapping[str, str], field: str, current: SecretStr | None) -> SecretStr | None:
    """A write-only secret: a filled field replaces it, `clear_<field>` removes it, empty keeps it."""
    value = form.get(field, "").strip()
    if value:
        return SecretStr(value)
    return None if form.get(f"clear_{field}") else current


def _plain(error: Any) -> str:
    loc = [str(p) for p in error["loc"]]
    field = loc[-1] if loc else "settings"
    words = FIELD_WORDS.get(field, field.replace("_", " "))
    return f"{words}: {str(error['msg']).removeprefix('Value error, ')}"
