"""create_app: the committed OpenAPI document is the served one, extra routers are mounted, the read
path's pure parts (answers, deadline) behave."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import APIRouter

from api.app import create_app
from api.openapi import COMMITTED_PATH, RoutesOnly, document, openapi_text
from api.read import answers
from api.read.deadline import DeadlinePassed, call_within
from engage.models import PromotionAssignment


def test_the_committed_openapi_document_is_the_served_one() -> None:
    committed = COMMITTED_PATH.read_text(encoding="utf-8")
    assert committed == openapi_text(), "run `engage-relay openapi -o api/openapi.json`"
    paths = json.loads(committed)["paths"]
    assert {
        "/v1/events",
        "/v1/events/{event_id}",
        "/v1/contacts/lookup",
        "/v1/contacts/{contact_id}/overview",
        "/v1/contacts/{contact_id}/vouchers",
        "/v1/contacts/{contact_id}/promotions",
        "/v1/contacts/{contact_id}/promotion-assignments",
        "/v1/soft-id",
    } <= set(paths)


def test_extra_routers_are_mounted_after_the_services_own() -> None:
    extra = APIRouter()

    @extra.get("/console/ping")
    def ping() -> dict[str, bool]:
        return {"ok": True}

    app = create_app(RoutesOnly(), extra_routers=[extra])  # type: ignore[arg-type]  # the routes only
    assert "/console/ping" in document(app)["paths"]


def test_active_promotions_leave_out_redeemed_and_expired_ones() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    items = [
        PromotionAssignment(id="a", redeemed=False),
        PromotionAssignment(id="b", redeemed=True),
        PromotionAssignment(id="c", expires_on=now - timedelta(days=1)),
        PromotionAssignment(id="d", expires_on=now + timedelta(days=1)),
    ]
    assert [p.id for p in answers.active(items, now)] == ["a", "d"]


def test_the_overview_takes_points_and_level_from_engage_where_it_sends_them() -> None:
    shown = answers.overview(
        {"id": "c1", "bonusBalance": 120, "attributes": {"firstName": "Anna", "memberLevel": "Gold"}}
    )
    assert (shown.points, shown.level, shown.profile["firstName"]) == (120, "Gold", "Anna")
    assert answers.overview({"id": "c2"}).points is None


def test_a_call_answers_within_its_deadline_or_gives_up() -> None:
    assert call_within(lambda: 42, 1.0) == 42
    started = time.monotonic()
    with pytest.raises(DeadlinePassed):
        call_within(lambda: time.sleep(1.0), 0.1)
    assert time.monotonic() - started < 0.5
    with pytest.raises(ZeroDivisionError):
        call_within(lambda: 1 / 0, 1.0)
