"""The baseline of the pipeline bench: a plain synchronous loop that follows Voyado's guide step by step.

For each event, one at a time, with one `requests` session: look the customer up by e-mail, create the
contact on 404, then post the receipt or PATCH the contact. No contact-id cache, no rate limiter (one
call at a time is far below the budget), no queue. Request bodies come from the project's mappers, so
both sides send the same payloads and only the way of calling differs.

Run as a child process (pinned by the bench) so its CPU time is its own:
`python -m bench._baseline WORKLOAD_JSON BASE_URL [--pace EVENTS_PER_S]`, the API key in BENCH_ENGAGE_KEY.
It prints one JSON object: per event its kind, calls and latency, the loop's elapsed and CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import requests

from mappers.contacts import contact_attributes, flatten_attributes, plan_create, plan_update
from mappers.identity import normalize, receipt_contact
from mappers.policy import TenantPolicy
from mappers.receipts import receipt_request
from schemas import parse_event

KEY_ENV = "BENCH_ENGAGE_KEY"
TIMEOUT_S = 15.0
CONTACTS = "/api/v3/contacts"


class GuideLoop:
    """Lookup, create on 404, then the event's own call: one HTTP request at a time."""

    def __init__(self, base_url: str, api_key: str, policy: TenantPolicy) -> None:
        self.base_url = base_url
        self.policy = policy
        self.session = requests.Session()
        self.session.headers.update({"apikey": api_key, "User-Agent": "bench-baseline/1"})
        self.calls: list[str] = []

    def _call(self, name: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        self.calls.append(name)
        response = self.session.request(method, f"{self.base_url}{path}", timeout=TIMEOUT_S, **kwargs)
        if response.status_code != 404:
            response.raise_for_status()
        return response

    def lookup(self, email: str) -> str | None:
        response = self._call("contacts.lookup", "GET", f"{CONTACTS}/id", params={"email": email})
        if response.status_code == 404:
            return None
        contact_id: str = response.json()
        return contact_id

    def create(self, body: dict[str, Any], source: str, store: str) -> str:
        params = {"source": source, "storeExternalId": store}
        response = self._call("contacts.create", "POST", CONTACTS, params=params, json=body)
        response.raise_for_status()
        contact_id: str = response.json()["id"]
        return contact_id

    def patch(self, contact_id: str, body: dict[str, Any]) -> None:
        self._call("contacts.patch", "PATCH", f"{CONTACTS}/{contact_id}", json=body)

    def apply(self, envelope: dict[str, Any]) -> list[str]:
        self.calls = []
        event: Any = parse_event(envelope)
        policy = self.policy
        if event.type in ("customer.created", "customer.updated"):
            attributes = contact_attributes(event, policy)
            contact_id = self.lookup(normalize("email", event.data.email))
            if contact_id is None:
                plan = plan_create(event, policy)
                self.create(plan.body, plan.source, plan.store_external_id)
            else:
                self.patch(contact_id, plan_update(flatten_attributes(attributes)))
        else:
            email = normalize("email", event.data.customer.email)
            contact_id = self.lookup(email)
            if contact_id is None:
                store = policy.store_for(event.store)
                contact_id = self.create({"email": email}, event.source or policy.source, store)
            receipt = receipt_request(event, policy, receipt_contact(contact_id))
            self._call("receipts.create", "POST", "/api/v3/receipts", json=receipt.to_wire())
        return self.calls


def run(workload: dict[str, Any], base_url: str, api_key: str, pace_per_s: float | None) -> dict[str, Any]:
    """`workload`: {"policy": TenantPolicy fields, "events": [{"kind", "envelope"}]}."""
    loop = GuideLoop(base_url, api_key, TenantPolicy(**workload["policy"]))
    events: list[dict[str, Any]] = workload["events"]
    rows: list[dict[str, Any]] = []
    cpu_started = time.process_time()
    started = time.time()
    for n, item in enumerate(events):
        arrives = started if pace_per_s is None else started + n / pace_per_s
        if time.time() < arrives:
            time.sleep(arrives - time.time())
        calls = loop.apply(item["envelope"])
        rows.append({"kind": item["kind"], "calls": calls, "latency_s": time.time() - arrives})
    return {
        "rows": rows,
        "elapsed_s": time.time() - started,
        "cpu_s": time.process_time() - cpu_started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload", type=Path)
    parser.add_argument("base_url")
    parser.add_argument("--pace", type=float, default=None)
    opts = parser.parse_args()
    workload = json.loads(opts.workload.read_text(encoding="utf-8"))
    print(json.dumps(run(workload, opts.base_url, os.environ[KEY_ENV], opts.pace)))


if __name__ == "__main__":
    main()
