"""Live status per tenant (refreshed by htmx), its switches (pause, resume, reset breaker, sweep now), and
the silence alerts."""

from __future__ import annotations

from datetime import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from pydantic import ValidationError

from console.history import CHART_COLOURS, chart_bars
from console.silence import SilenceRule, silent
from console.web import PREFIX, PageError, Pages, Viewer
from relay.state import TenantState

REFRESH_S = 5
BREAKER_WORDS = {
    "closed": "Working: calling Engage",
    "half_open": "Probing: one call checks whether Engage is back",
    "open": "Stopped: Engage is failing, events are held",
}


def lanes_text(t: TenantState) -> list[tuple[str, str]]:
    return [
        (lane, f"{c.due} due now, {c.waiting} waiting, {c.in_flight} in flight")
        for lane, c in t.lanes.items()
    ]


def add_routes(router: APIRouter, pages: Pages) -> None:  # noqa: PLR0915 - one closure per page
    s = pages.s

    def panel_context(viewer: Viewer, name: str) -> dict[str, Any]:
        tenant = pages.tenant(viewer, name)
        state = s.state([tenant])
        t = state.tenants[0]
        history = s.history(name)
        rules = s.silence.rules(name)
        alerts = [r for r in rules if silent(r, history.last_seen.get(r.type))]
        return {
            "tenant": name,
            "t": t,
            "breaker_words": BREAKER_WORDS.get(t.breaker, t.breaker),
            "hold": t.on_hold,
            "held": t.held_in_lanes(),
            "lanes": lanes_text(t),
            "draining": _draining(t),
            "history": history,
            "bars": chart_bars(history),
            "colours": CHART_COLOURS,
            "rules": rules,
            "alerts": alerts,
            "read_at": state.read_at,
            "refresh_s": REFRESH_S,
            "can_sweep": s.sweep_now is not None,
            "budget": s.budget_use(tenant),
        }

    @router.get("/t/{name}/status", response_class=HTMLResponse)
    def status(request: Request, name: str, done: str | None = None) -> HTMLResponse:
        viewer = pages.viewer(request)
        return pages.render(request, "status.html", viewer, done=done, **panel_context(viewer, name))

    @router.get("/t/{name}/status/panel", response_class=HTMLResponse)
    def panel(request: Request, name: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        return pages.render(request, "status_panel.html", viewer, **panel_context(viewer, name))

    @router.post("/t/{name}/action", response_model=None)
    async def action(request: Request, name: str) -> Response:
        viewer = pages.viewer(request)
        form = await pages.form(request, viewer)
        pages.tenant(viewer, name)
        what = form.get("action", "")
        if what == "pause":
            s.control.pause(name, viewer.name)
        elif what == "resume":
            s.control.resume(name)
        elif what == "reset_breaker":
            s.breaker.reset(name)
        elif what == "sweep" and s.sweep_now is not None:
            s.sweep_now(name)
        else:
            raise PageError(400, "Unknown action", "This button does nothing here.")
        pages.audit(
            viewer,
            {"reset_breaker": "breaker_reset", "sweep": "sweep_sent"}.get(what, f"{what}d"),
            tenant=name,
        )
        return RedirectResponse(f"{PREFIX}/t/{name}/status?done={what}", status_code=303)

    @router.post("/t/{name}/silence", response_model=None)
    async def silence(request: Request, name: str) -> Response:
        viewer = pages.viewer(request)
        form = await pages.form(request, viewer)
        pages.tenant(viewer, name)
        rules = s.silence.rules(name)
        if form.get("remove"):
            rules = [r for r in rules if r.type != form["remove"]]
            detail = f"removed the rule for {form['remove']}"
        else:
            try:
                rule = SilenceRule(
                    type=form.get("type", "").strip(),
                    minutes=int(form.get("minutes") or 0),
                    opens=time.fromisoformat(form.get("opens") or "08:00"),
                    closes=time.fromisoformat(form.get("closes") or "20:00"),
                    timezone=form.get("timezone") or "Europe/Stockholm",
                )
            except (ValidationError, ValueError) as exc:
                raise PageError(
                    422, "Rule not saved", f"The silence rule is not valid: {_first(exc)}"
                ) from None
            if not rule.type:
                raise PageError(422, "Rule not saved", "Name the event type, e.g. order.delivered.")
            rules = [r for r in rules if r.type != rule.type] + [rule]
            detail = (
                f"{rule.type}: {rule.minutes} min, {rule.opens:%H:%M}-{rule.closes:%H:%M} {rule.timezone}"
            )
        s.silence.save(name, rules)
        pages.audit(viewer, "silence_rule_saved", tenant=name, detail=detail)
        return RedirectResponse(f"{PREFIX}/t/{name}/status", status_code=303)

    @router.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        """`engage_relay_silent{tenant,type}`: 1 while a silence rule fires (Prometheus text format)."""
        lines = [
            "# HELP engage_relay_silent 1 while no event of the type came for the rule's minutes "
            "in trading hours",
            "# TYPE engage_relay_silent gauge",
        ]
        for tenant in s.tenants():
            rules = s.silence.rules(tenant.name)
            if not rules:
                continue
            history = s.history(tenant.name)
            for rule in rules:
                value = int(silent(rule, history.last_seen.get(rule.type)))
                lines.append(f'engage_relay_silent{{tenant="{tenant.name}",type="{rule.type}"}} {value}')
        return "\n".join(lines) + "\n"


def _draining(t: TenantState) -> int:
    """Events still waiting in the backlog lane once a hold ended (a drain's progress); 0 while held."""
    backlog = t.lanes.get("backlog")
    return 0 if t.on_hold or backlog is None else backlog.due + backlog.waiting + backlog.in_flight


def _first(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors(include_url=False))
    return str(exc)
