"""The console's pure parts: causes, masking, replay previews, the settings form, silence rules, the chart."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from pydantic import SecretStr

from console.failures import MASK, cause_of, grouped, identity_contacts, masked, preview
from console.history import History, chart_bars
from console.settings_form import SettingsInvalid, form_values, tenant_from_form
from console.silence import SilenceRule, silent
from fallback.config import FallbackSettings
from fallback.deadletters import DeadLetter
from relay.tenants import Tenant


def letter(
    error_class: str, status: int | None = None, kind: str = "permanent", **extra: object
) -> DeadLetter:
    return DeadLetter(
        event_id=f"evt-{error_class}-{status}",
        tenant="acme",
        type="customer.created",
        envelope={"id": "e", "data": {"email": "a@b.se", "first_name": "Anna", "lines": [{"sku": "1"}]}},
        error_class=error_class,
        error_kind=kind,
        engage_status=status,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("error_class", "status", "kind", "cause"),
    [
        ("EngageUnreachable", None, "retryable", "unreachable"),
        ("ServerError", 503, "retryable", "unreachable"),
        ("AuthenticationFailed", 401, "systemic", "key_refused"),
        ("ValidationFailed", 400, "permanent", "data_refused"),
        ("Conflict", 409, "permanent", "conflict"),
        ("IdentityConflict", None, "permanent", "identity"),
        ("Whatever", None, "permanent", "other"),
    ],
)
def test_each_letter_has_one_cause(error_class: str, status: int | None, kind: str, cause: str) -> None:
    assert cause_of(letter(error_class, status, kind)) == cause


def test_groups_follow_the_causes_order_and_leave_out_empty_ones() -> None:
    groups = grouped([letter("Conflict", 409), letter("AuthenticationFailed", 401), letter("Conflict", 409)])
    assert [(g.cause, len(g.letters)) for g in groups] == [("key_refused", 1), ("conflict", 2)]


def test_personal_fields_are_masked_and_the_rest_kept() -> None:
    shown = masked(letter("Conflict").envelope)
    assert shown == {"id": "e", "data": {"email": MASK, "first_name": MASK, "lines": [{"sku": "1"}]}}


def test_an_identity_conflict_names_both_contacts() -> None:
    conflict = letter("IdentityConflict", details={"contact_by_key": "c-1", "contact_by_other": "c-2"})
    assert identity_contacts(conflict) == ["c-1", "c-2"]


def test_the_preview_skips_what_engage_has_already() -> None:
    fresh, filed, applied = letter("A"), letter("B", fallback_state="delivered_by_file"), letter("C")
    rows = preview([fresh, filed, applied], applied={applied.id})
    assert [r.verdict for r in rows] == ["send", "skip_delivered", "skip_applied"]
    assert rows[1].words == "skipped: already delivered by file"


def stored() -> Tenant:
    return Tenant(
        name="acme",
        base_url="https://acme.voyado.com",
        api_key=SecretStr("the-key"),
        fallback=FallbackSettings(transport="sftp", host="ftp.example", password=SecretStr("pw")),
    )


def test_the_form_round_trips_a_tenant_and_keeps_secrets_left_empty() -> None:
    values = form_values(stored())
    assert "the-key" not in str(values) and "pw" not in values.values()
    again = tenant_from_form(
        {**values, "store_map": "S1=001\nS2=002", "exchange_rates": "eur=11.5"}, stored()
    )
    assert again.api_key.get_secret_value() == "the-key"
    assert again.fallback.password is not None and again.fallback.password.get_secret_value() == "pw"
    assert again.policy.store_map == {"S1": "001", "S2": "002"}
    assert str(again.policy.exchange_rates["EUR"]) == "11.5"
    cleared = tenant_from_form({**values, "clear_fallback_password": "on"}, stored())
    assert cleared.fallback.password is None
    replaced = tenant_from_form({**values, "api_key": "new-key"}, stored())
    assert replaced.api_key.get_secret_value() == "new-key"


def test_every_problem_of_the_form_is_one_plain_line() -> None:
    with pytest.raises(SettingsInvalid) as caught:
        tenant_from_form(
            {"name": "x", "base_url": "https://x.voyado.com", "store_map": "nope", "port": "ftp"}, None
        )
    assert sorted(caught.value.problems) == [
        "API key: enter the tenant's Engage API key",
        "File server port: 'ftp' is not a port number",
        "Store map: write one KEY=VALUE a line (got 'nope')",
    ]
    with pytest.raises(SettingsInvalid, match="Base URL: base_url must start with https://"):
        tenant_from_form({"name": "x", "base_url": "ftp://x", "api_key": "k"}, None)


def test_silence_counts_only_within_trading_hours() -> None:
    rule = SilenceRule(type="order.delivered", minutes=30, opens=time(8), closes=time(20), timezone="UTC")
    noon = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert silent(rule, None, noon)
    assert silent(rule, noon.timestamp() - 31 * 60, noon)
    assert not silent(rule, noon.timestamp() - 10 * 60, noon)
    assert not silent(rule, None, datetime(2026, 12, 2, 8, 10, tzinfo=UTC))  # the window began before opening
    assert not silent(rule, None, datetime(2026, 12, 2, 22, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="time zone"):
        SilenceRule(type="x", minutes=5, timezone="Mars/Olympus")


def test_the_chart_stacks_each_hour_to_scale() -> None:
    hours: list[dict[str, int]] = [{} for _ in range(24)]
    hours[-1] = {"applied": 3, "dead_lettered": 1}
    hours[0] = {"applied": 2}
    bars = chart_bars(History(hours), height=160)
    assert len(bars) == 3
    tallest = [b for b in bars if b["x"] == bars[-1]["x"]]
    assert sum(float(b["h"]) for b in tallest) == pytest.approx(150, abs=0.5)  # type: ignore[arg-type]
    assert History(hours).day() == {"applied": 5, "dead_lettered": 1}
