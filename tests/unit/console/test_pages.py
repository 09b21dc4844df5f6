"""The console's pages over HTTP: log-in, who sees what, CSRF, settings, and the audit log."""

from __future__ import annotations

import html

from console.auth import LOGIN_ATTEMPTS
from tests.unit.console.conftest import PASSWORD, Console, csrf_of


def test_every_page_needs_a_login(console: Console) -> None:
    client = console.client()
    answer = client.get("/console/t/acme/status", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login?next=")


def test_a_client_admin_sees_only_its_tenant(console: Console) -> None:
    client = console.login("anna")
    home = client.get("/console/")
    assert home.status_code == 200
    assert "acme" in home.text and "other" not in home.text
    for path in ("status", "settings", "failures", "rejected", "events"):
        assert client.get(f"/console/t/acme/{path}").status_code == 200, path
        assert client.get(f"/console/t/other/{path}").status_code == 404, path
    assert client.get("/console/tenants/new").status_code == 404
    refused = client.get("/console/t/other/settings").text
    assert "Log out" in refused and "/console/t/acme/status" in refused  # her own header, not the other's
    assert "/console/t/other" not in refused


def test_an_operator_sees_every_tenant(console: Console) -> None:
    client = console.login("ops")
    home = client.get("/console/")
    assert "acme" in home.text and "other" in home.text
    assert client.get("/console/t/other/settings").status_code == 200


def test_a_form_without_its_csrf_token_is_refused(console: Console) -> None:
    client = console.login("anna")
    page = client.get("/console/t/acme/settings")
    form = {"base_url": "http://127.0.0.1:9", "source": "POS"}
    assert client.post("/console/t/acme/settings", data=form).status_code == 403
    assert client.post("/console/t/acme/settings", data={**form, "csrf": "forged"}).status_code == 403
    assert console.store.get("acme").policy.source == "ECOM"
    saved = client.post("/console/t/acme/settings", data={**form, "csrf": csrf_of(page.text)})
    assert saved.status_code == 200 and "Settings saved" in saved.text
    assert console.store.get("acme").policy.source == "POS"


def test_a_wrong_password_is_refused_and_log_ins_are_rate_limited(console: Console) -> None:
    client = console.client()
    for _ in range(LOGIN_ATTEMPTS):
        answer = client.post("/console/login", data={"username": "anna", "password": "wrong password"})
        assert answer.status_code == 401
        assert "wrong" in answer.text
    blocked = client.post("/console/login", data={"username": "anna", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many failed log-ins" in blocked.text
    # another user from the same address is not blocked
    assert console.login("ops").get("/console/").status_code == 200


def test_secrets_are_write_only_and_saving_keeps_them(console: Console) -> None:
    client = console.login("anna")
    page = client.get("/console/t/acme/settings")
    assert "good-key" not in page.text
    assert "set, last changed on" in page.text
    values = {"base_url": "http://127.0.0.1:9", "csrf": csrf_of(page.text), "api_key": ""}
    client.post("/console/t/acme/settings", data=values)
    assert console.store.get("acme").api_key.get_secret_value() == "good-key"


def test_test_connection_says_in_plain_words_the_key_was_refused(console: Console) -> None:
    client = console.login("anna")
    page = client.get("/console/t/acme/settings")
    token = csrf_of(page.text)
    client.post(
        "/console/t/acme/settings", data={"base_url": "http://127.0.0.1:9", "api_key": "bad", "csrf": token}
    )
    refused = client.post("/console/t/acme/test", data={"csrf": token})
    assert "Engage refused the API key" in refused.text
    client.post(
        "/console/t/acme/settings",
        data={"base_url": "http://127.0.0.1:9", "api_key": "good-key", "csrf": token},
    )
    works = client.post("/console/t/acme/test", data={"csrf": token})
    assert "Connection works" in works.text
    audit = client.get("/console/audit")
    assert "connection tested" in audit.text and "settings saved" in audit.text and "API key" in audit.text


def test_invalid_settings_are_explained_and_not_saved(console: Console) -> None:
    client = console.login("ops")
    page = client.get("/console/t/acme/settings")
    answer = client.post(
        "/console/t/acme/settings",
        data={"base_url": "ftp://nope", "rate_budget_per_s": "fast", "csrf": csrf_of(page.text)},
    )
    assert answer.status_code == 422
    assert "Rate budget: 'fast' is not a number" in html.unescape(answer.text)
    assert console.store.get("acme").base_url == "http://127.0.0.1:9"


def test_an_operator_adds_a_tenant_and_it_is_served_at_once(console: Console) -> None:
    client = console.login("ops")
    page = client.get("/console/tenants/new")
    answer = client.post(
        "/console/tenants/new",
        data={
            "name": "newco",
            "base_url": "https://newco.voyado.com",
            "api_key": "k",
            "csrf": csrf_of(page.text),
        },
    )
    assert answer.status_code == 200, answer.text
    assert "newco" in console.services.tenants()
    assert sorted(console.store.names()) == ["acme", "newco", "other"]


def test_a_disabled_user_is_logged_out_at_once(console: Console) -> None:
    client = console.login("anna")
    assert client.get("/console/t/acme/status").status_code == 200
    console.services.users.set_disabled("anna", True)
    assert client.get("/console/t/acme/status", follow_redirects=False).status_code == 303


def test_static_assets_are_served_and_nothing_else(console: Console) -> None:
    client = console.client()
    assert client.get("/console/static/htmx.min.js").status_code == 200
    assert client.get("/console/static/console.css").headers["content-type"].startswith("text/css")
    assert client.get("/console/static/..%2Fusers.py").status_code == 404
    assert client.get("/console/static/htmx.LICENSE").status_code == 404


def test_rejections_show_their_field_errors_and_only_operators_see_every_tenants(console: Console) -> None:
    from fallback.rejected import Rejection

    reason = {
        "loc": ["engage"],
        "msg": "Engage refused the data",
        "status": 422,
        "error_code": "ValidationError",
        "fields": [{"field": "email", "message": "not a valid e-mail"}],
    }
    console.services.rejected.add(
        Rejection(raw="{}", reasons=[reason], stage="engage", event_id="e1", tenant="acme")
    )
    console.services.rejected.add(
        Rejection(raw="{", reasons=[{"loc": [], "msg": "not JSON"}], stage="ingest")
    )
    anna = console.login("anna")
    page = anna.get("/console/t/acme/rejected").text
    assert "not a valid e-mail" in page and "Engage 422 ValidationError" in page
    assert "not JSON" not in page
    assert anna.get("/console/rejected").status_code == 404
    everything = console.login("ops").get("/console/rejected").text
    assert "not JSON" in everything and "(none)" in everything


def test_a_filter_selection_is_replayed_through_the_backlog_lane_and_applied_ones_skipped(
    console: Console,
) -> None:
    from fallback.deadletters import DeadLetter
    from schemas.publish import EVENTS_STREAM, LANE_FIELD

    def dead(event_id: str, error_class: str, status: int) -> DeadLetter:
        return DeadLetter(
            event_id=event_id,
            tenant="acme",
            type="customer.created",
            envelope={"id": event_id, "tenant": "acme", "type": "customer.created"},
            error_class=error_class,
            error_kind="retryable" if status >= 500 else "permanent",
            engage_status=status,
        )

    for letter in (
        dead("e1", "ServerError", 503),
        dead("e2", "ServerError", 503),
        dead("e3", "Conflict", 409),
    ):
        console.services.deadletters.add(letter)
    console.services.ledger.mark_settled("acme", "e2", "applied", None)  # applied since, by another path
    client = console.login("ops")
    preview = client.get("/console/t/acme/replay?cause=unreachable")
    assert "Replay 2 dead letter(s)?" in preview.text
    assert "skipped: already applied in Engage" in preview.text
    done = client.post("/console/t/acme/replay", data={"cause": "unreachable", "csrf": csrf_of(preview.text)})
    assert "Replayed 1 event(s) through the backlog lane; skipped 1 already applied" in done.text
    entries = console.redis.xrange(EVENTS_STREAM)
    assert len(entries) == 1 and entries[0][1][LANE_FIELD.encode()] == b"backlog"
    assert console.services.deadletters.get("acme:e1") is None
    assert console.services.deadletters.get("acme:e3") is not None  # another cause: not selected
    audit = client.get("/console/audit").text
    assert "replayed" in audit and "1 skipped as already applied" in audit


def test_drop_without_its_confirmation_drops_nothing(console: Console) -> None:
    from fallback.deadletters import DeadLetter

    console.services.deadletters.add(
        DeadLetter(
            event_id="e1",
            tenant="acme",
            type="x",
            envelope={},
            error_class="Conflict",
            error_kind="permanent",
        )
    )
    client = console.login("ops")
    page = client.get("/console/t/acme/drop?id=e1")
    assert "cannot be undone" in page.text
    refused = client.post("/console/t/acme/drop", data={"id": "e1", "csrf": csrf_of(page.text)})
    assert refused.status_code == 400 and console.services.deadletters.get("acme:e1") is not None
    client.post("/console/t/acme/drop", data={"id": "e1", "confirm": "yes", "csrf": csrf_of(page.text)})
    assert console.services.deadletters.get("acme:e1") is None
    # and another tenant's letter cannot be dropped through this tenant's page
    console.services.deadletters.add(
        DeadLetter(
            event_id="e9",
            tenant="other",
            type="x",
            envelope={},
            error_class="Conflict",
            error_kind="permanent",
        )
    )
    client.post("/console/t/acme/drop", data={"id": "e9", "confirm": "yes", "csrf": csrf_of(page.text)})
    assert console.services.deadletters.get("other:e9") is not None
