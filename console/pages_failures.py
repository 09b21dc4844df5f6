"""What went wrong: dead letters by cause, a letter's detail (masked until revealed), replay and drop with a
preview, rejected envelopes, and an event's outcome trail by its id."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from console.failures import CAUSE_WORDS, cause_of, field_errors, grouped, identity_contacts, masked, preview
from console.web import PageError, Pages, Viewer, not_found
from fallback.deadletters import DeadLetter, DeadLetterFilter, dead_letter_id
from relay.ledger import APPLIED_OUTCOMES

SINCE_CHOICES = {"": "any time", "1h": "last hour", "24h": "last 24 hours", "7d": "last 7 days"}
SINCE_DELTAS = {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7)}
MAX_SHOWN = 500
REJECTED_READ = 1000


def add_routes(router: APIRouter, pages: Pages) -> None:  # noqa: PLR0915 - one closure per page
    s = pages.s

    def selection(tenant: str, params: Mapping[str, str]) -> list[DeadLetter]:
        """One letter (`id`) or everything the filter (type, cause, since) selects, of this tenant only."""
        if params.get("id"):
            letter = s.deadletters.get(dead_letter_id(tenant, params["id"]))
            return [letter] if letter is not None else []
        since = SINCE_DELTAS.get(params.get("since", ""))
        where = DeadLetterFilter(
            tenant=tenant,
            type=params.get("type") or None,
            since=datetime.now(UTC) - since if since else None,
        )
        cause = params.get("cause") or None
        return [x for x in s.deadletters.list(where) if cause is None or cause_of(x) == cause]

    def applied_ids(letters: list[DeadLetter]) -> set[str]:
        marks = s.ledger.settled_many([(x.tenant, x.event_id) for x in letters])
        return {
            x.id
            for x, m in zip(letters, marks, strict=True)
            if m is not None and m.outcome in APPLIED_OUTCOMES
        }

    def letter_or_404(viewer: Viewer, tenant: str, event_id: str) -> DeadLetter:
        pages.tenant(viewer, tenant)
        letter = s.deadletters.get(dead_letter_id(tenant, event_id))
        if letter is None:
            raise not_found("No such dead letter: it was replayed or dropped, or never existed.")
        return letter

    @router.get("/t/{name}/failures", response_class=HTMLResponse)
    def failures(request: Request, name: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        pages.tenant(viewer, name)
        params = dict(request.query_params)
        params.pop("id", None)
        letters = selection(name, params)
        all_letters = list(s.deadletters.list(DeadLetterFilter(tenant=name)))
        return pages.render(
            request,
            "failures.html",
            viewer,
            tenant=name,
            groups=grouped(letters[:MAX_SHOWN]),
            total=len(letters),
            shown=min(len(letters), MAX_SHOWN),
            params=params,
            query=str(request.query_params),
            types=sorted({x.type for x in all_letters}),
            causes=CAUSE_WORDS,
            since_choices=SINCE_CHOICES,
            cause_counts={g.cause: len(g.letters) for g in grouped(all_letters)},
        )

    def detail(request: Request, viewer: Viewer, letter: DeadLetter, *, revealed: bool) -> HTMLResponse:
        envelope = letter.envelope if revealed else masked(letter.envelope)
        return pages.render(
            request,
            "letter.html",
            viewer,
            tenant=letter.tenant,
            letter=letter,
            cause=CAUSE_WORDS[cause_of(letter)],
            envelope=json.dumps(envelope, indent=2, ensure_ascii=False),
            revealed=revealed,
            field_errors=field_errors(letter),
            contacts=identity_contacts(letter) if cause_of(letter) == "identity" else [],
            trail=s.trail.read(letter.tenant, letter.event_id),
        )

    @router.get("/t/{name}/failures/{event_id}", response_class=HTMLResponse)
    def letter_page(request: Request, name: str, event_id: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        return detail(request, viewer, letter_or_404(viewer, name, event_id), revealed=False)

    @router.post("/t/{name}/failures/{event_id}/reveal", response_class=HTMLResponse)
    async def reveal(request: Request, name: str, event_id: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        await pages.form(request, viewer)
        letter = letter_or_404(viewer, name, event_id)
        pages.audit(viewer, "revealed", tenant=name, count=1, detail=f"personal fields of {event_id}")
        return detail(request, viewer, letter, revealed=True)

    def confirm_page(
        request: Request, viewer: Viewer, name: str, action: str, params: Mapping[str, str]
    ) -> HTMLResponse:
        letters = selection(name, params)
        rows = preview(letters, applied_ids(letters)) if action == "replay" else []
        return pages.render(
            request,
            "confirm.html",
            viewer,
            tenant=name,
            action=action,
            letters=letters[:MAX_SHOWN],
            rows=rows[:MAX_SHOWN],
            total=len(letters),
            to_send=sum(1 for r in rows if r.verdict == "send"),
            params={k: v for k, v in params.items() if k in ("id", "type", "cause", "since") and v},
            done=None,
        )

    @router.get("/t/{name}/replay", response_class=HTMLResponse)
    def replay_preview(request: Request, name: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        pages.tenant(viewer, name)
        return confirm_page(request, viewer, name, "replay", dict(request.query_params))

    @router.get("/t/{name}/drop", response_class=HTMLResponse)
    def drop_confirm(request: Request, name: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        pages.tenant(viewer, name)
        return confirm_page(request, viewer, name, "drop", dict(request.query_params))

    @router.post("/t/{name}/replay", response_class=HTMLResponse)
    async def replay(request: Request, name: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        form = await pages.form(request, viewer)
        pages.tenant(viewer, name)
        letters = selection(name, form)
        rows = preview(letters, applied_ids(letters))
        replayed = skipped = 0
        for row in rows:
            if row.verdict == "send":
                result = s.replayer.replay(row.letter)  # the CLI's replayer: onto the stream, backlog lane
                replayed += result.action == "replayed"
            else:
                skipped += 1
        pages.audit(
            viewer, "replayed", tenant=name, count=replayed, detail=f"{skipped} skipped as already applied"
        )
        done = f"Replayed {replayed} event(s) through the backlog lane; skipped {skipped} already applied."
        return pages.render(request, "confirm.html", viewer, tenant=name, action="replay", done=done)

    @router.post("/t/{name}/drop", response_class=HTMLResponse)
    async def drop(request: Request, name: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        form = await pages.form(request, viewer)
        pages.tenant(viewer, name)
        if form.get("confirm") != "yes":
            raise PageError(
                400, "Not confirmed", "Tick the box to confirm that these events are dropped for good."
            )
        dropped = sum(s.deadletters.drop(x.id) for x in selection(name, form))
        pages.audit(viewer, "dropped", tenant=name, count=dropped)
        done = f"Dropped {dropped} dead letter(s) for good."
        return pages.render(request, "confirm.html", viewer, tenant=name, action="drop", done=done)

    @router.get("/t/{name}/rejected", response_class=HTMLResponse)
    def rejected(request: Request, name: str) -> HTMLResponse:
        viewer = pages.viewer(request)
        pages.tenant(viewer, name)
        rows = [(eid, r) for eid, r in s.rejected.newest(REJECTED_READ) if r.tenant == name]
        return pages.render(request, "rejected.html", viewer, tenant=name, rows=rows[:MAX_SHOWN])

    @router.get("/rejected", response_class=HTMLResponse)
    def all_rejected(request: Request) -> HTMLResponse:
        """Operators: every rejection, those naming no tenant or an unknown one included."""
        viewer = pages.viewer(request)
        if not viewer.user.is_operator:
            raise not_found()
        rows = s.rejected.newest(REJECTED_READ)
        return pages.render(request, "rejected.html", viewer, tenant=None, rows=rows[:MAX_SHOWN])

    @router.get("/t/{name}/events", response_class=HTMLResponse)
    def events(request: Request, name: str, id: str = "") -> Response:
        viewer = pages.viewer(request)
        pages.tenant(viewer, name)
        event_id = id.strip()
        trail = s.trail.read(name, event_id) if event_id else []
        letter = s.deadletters.get(dead_letter_id(name, event_id)) if event_id else None
        try:
            settled = s.ledger.settled(name, event_id) if event_id else None
        except ValidationError:
            settled = None
        return pages.render(
            request,
            "events.html",
            viewer,
            tenant=name,
            event_id=event_id,
            trail=trail,
            letter=letter,
            settled=settled,
        )
