"""The relay meeting Voyado's documented errors, end to end: real HTTP to the simulator, which answers
them on request (`PUT /_sim/faults {"inject": [...]}`), and the relay on the memory runtime.

- 409 ContactWithKeyIsBeingCreated on create: the event looks the contact up again (or waits on the
  ladder while it is not visible yet) and is applied, with one contact in Engage.
- 500 InvalidSystemConfiguration on lookup: the tenant is held with that cause, nothing is
  dead-lettered, and the held events drain once the fault is lifted.
- 504 on voucher redeem that Engage applied all the same: the retry meets 409 AlreadyRedeemed, which
  counts as done; the voucher is redeemed once.

Fixtures are Voyado's own examples where there are some (tests/support/voyado_examples.py): the minimal
contact of create-a-new-contact, and the voucher of get-vouchers-for-contact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relay import handlers
from relay.breaker import BreakerPolicy, MemoryCircuitBreaker
from relay.runtime import Runtime
from relay.schedule import Job
from tests.support import voyado_examples as voyado
from tests.support.simulator import RunningSimulator
from tests.support.task_harness import (
    installed,
    memory_runtime,
    outcomes_of,
    parked,
    run_event,
    run_until_final,
    tenant_for,
)

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "events"
OPEN_S = 30.0
CREATE = "POST /api/v3/contacts"
LOOKUP = "GET /api/v3/contacts/id"
REDEEM = "POST /api/v3/reward-vouchers/{rewardVoucherId}/redeem"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def envelope(event_type: str, event_id: str, **data: Any) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads((EXAMPLES / f"{event_type}.json").read_text())
    raw.update(id=event_id, tenant="acme-se")
    if data:
        raw["data"] = data
    return raw


def voyados_contact(event_id: str = "evt-example-created", **extra: Any) -> dict[str, Any]:
    """customer.created carrying Voyado's minimal contact (firstName, email, countryCode)."""
    example = voyado.contact()
    data = {
        "email": example["email"],
        "first_name": example["firstName"],
        "country_code": example["countryCode"],
    }
    return envelope("customer.created", event_id, **data, **extra)


@pytest.fixture
def rt(simulator: RunningSimulator) -> Iterator[Runtime]:
    runtime = memory_runtime([tenant_for(simulator.base_url, simulator.api_key)])
    with installed(runtime):
        yield runtime


def test_a_contact_being_created_elsewhere_is_looked_up_again_and_used(
    rt: Runtime, simulator: RunningSimulator
) -> None:
    # Given Engage answering the create 409 ContactWithKeyIsBeingCreated, having created it all the same
    simulator.admin.set_faults(inject=[{"error": "ContactWithKeyIsBeingCreated", "applied": True}])
    # When Voyado's example contact signs up
    result = run_event(voyados_contact(), handlers.CUSTOMER)
    # Then the relay looked her up again and used that contact (writing the event's fields to it, as
    # for any contact found): applied at once, one contact
    assert result["outcome"] == "applied"
    assert result["calls"] == ["contacts.lookup", "contacts.create", "contacts.lookup", "contacts.patch"]
    contacts = simulator.admin.state()["contacts"]
    assert [c["attributes"]["email"] for c in contacts] == ["example@example.com"]
    assert result["contact_id"] == contacts[0]["id"]
    assert simulator.admin.request_count(CREATE, 409) == 1


def test_a_contact_still_being_created_waits_and_is_then_created_once(
    rt: Runtime, simulator: RunningSimulator
) -> None:
    # Given Engage answering 409 ContactWithKeyIsBeingCreated without the contact being visible yet
    simulator.admin.set_faults(inject=[{"error": "ContactWithKeyIsBeingCreated"}])
    # When the contact signs up
    first = run_event(voyados_contact(), handlers.CUSTOMER)
    # Then the event waits on the ladder (nothing rejected or dead-lettered)
    waiting = parked(rt, voyados_contact())
    assert first["reason"] == "ladder" and waiting is not None and waiting.attempt == 1
    assert rt.deadletters.count() == 0 and rt.rejected.list() == []
    # and its next step creates her: applied, one contact
    result, _ = run_until_final(voyados_contact(), handlers.CUSTOMER)
    assert result["outcome"] == "applied"
    assert len(simulator.admin.state()["contacts"]) == 1
    assert simulator.admin.request_count(CREATE, 201) == 1


def test_invalid_system_configuration_holds_the_tenant_with_its_cause_and_drains_once_lifted(
    simulator: RunningSimulator,
) -> None:
    # Given Engage answering every lookup 500 InvalidSystemConfiguration, until the fault is lifted
    clock = Clock()
    rt = memory_runtime(
        [tenant_for(simulator.base_url, simulator.api_key)],
        breaker=MemoryCircuitBreaker(BreakerPolicy(open_s=OPEN_S), clock=clock),
    )
    simulator.admin.set_faults(inject=[{"error": "InvalidSystemConfiguration", "times": None}])
    signups = [voyados_contact(f"evt-signup-{n}") for n in range(3)]
    signups[1]["data"]["email"] = "second@example.com"
    signups[2]["data"]["email"] = "third@example.com"
    with installed(rt):
        # When events come
        results = [run_event(signup, handlers.CUSTOMER) for signup in signups]
        # Then the first trips the breaker with Engage's cause, and every event is held, not sent on
        assert [r["reason"] for r in results] == ["held", "held", "held"]
        info = rt.circuit.info("acme-se")
        assert info.state == "open" and "InvalidSystemConfiguration" in (info.cause or "")
        assert simulator.admin.request_count(LOOKUP) == 1  # the others were held without a call
        held = [parked(rt, signup) for signup in signups]
        assert all(job is not None and job.lane == "backlog" for job in held)
        # and nothing is dead-lettered or rejected, nor has an outcome
        assert rt.deadletters.count() == 0 and rt.rejected.list() == [] and outcomes_of(rt) == []
        # When the fault is lifted and the breaker's open time has passed
        simulator.admin.set_faults(inject=[])
        clock.now += OPEN_S

        def later(job: Job) -> None:
            clock.now += OPEN_S

        finals = [run_until_final(signup, handlers.CUSTOMER, between=later)[0] for signup in signups]
    # Then the held events drain by themselves: each applied once, one contact each
    assert [f["outcome"] for f in finals] == ["applied", "applied", "applied"]
    assert rt.circuit.state("acme-se") == "closed"
    assert sorted(c["attributes"]["email"] for c in simulator.admin.state()["contacts"]) == [
        "example@example.com",
        "second@example.com",
        "third@example.com",
    ]
    assert rt.deadletters.count() == 0


@pytest.fixture
def voucher(simulator: RunningSimulator) -> dict[str, Any]:
    """Voyado's example voucher, available (the example shows it redeemed and expired in 2023) and held
    by Voyado's example member."""
    item = voyado.vouchers_page()["items"][0]
    contact_id = "5f3e7b2a-1c4d-4e8f-9a0b-1c2d3e4f5a6b"
    simulator.admin.seed(
        {
            "contacts": [
                {"id": contact_id, "email": "member@example.com", "memberNumber": voyado.MEMBER_NUMBER}
            ],
            "vouchers": [
                {
                    "id": item["id"],
                    "voucherNumber": item["voucherNumber"],
                    "name": item["name"],
                    "value": item["value"],
                    "contactId": contact_id,
                }
            ],
        }
    )
    return {**item, "contactId": contact_id}


def test_a_voucher_redeem_answered_504_after_engage_applied_it_is_done_once(
    rt: Runtime, simulator: RunningSimulator, voucher: dict[str, Any]
) -> None:
    # Given Engage that redeems the voucher and then answers 504 GatewayTimeout (documented for redeem)
    simulator.admin.set_faults(inject=[{"error": "GatewayTimeout", "applied": True}])
    redeemed = envelope(
        "voucher.redeemed",
        "evt-voucher-504",
        customer={"contact_id": voucher["contactId"]},
        voucher_id=voucher["id"],
        redemption_channel="POS",
    )
    # When the redemption runs: the 504 sends it on the ladder
    first = run_event(redeemed, handlers.VOUCHER_REDEMPTION)
    assert first["reason"] == "ladder"
    # and its retry meets 409 RewardVoucherAlreadyRedeemed, which counts as done
    result, _ = run_until_final(redeemed, handlers.VOUCHER_REDEMPTION)
    assert result["outcome"] == "applied" and result["detail"] == "RewardVoucherAlreadyRedeemed"
    # Then the voucher was redeemed once, and the event has one outcome
    state = simulator.admin.state()
    assert [r["voucherId"] for r in state["voucher_redemptions"]] == [voucher["id"]]
    assert simulator.admin.request_count(REDEEM, 504) == 1
    assert simulator.admin.request_count(REDEEM, 409) == 1
    assert [o.outcome for o in outcomes_of(rt)] == ["applied"]
    assert rt.deadletters.count() == 0
