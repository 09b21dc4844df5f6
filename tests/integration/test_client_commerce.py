"""EngageClient against the real simulator: receipts, promotions, vouchers, orders, tracking."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from engage.client import EngageClient
from engage.errors import AlreadyRedeemed, SkippableError
from engage.models import (
    CartItem,
    CartUpdate,
    OrderActionRequest,
    OrderContact,
    OrderEmbeddedAction,
    OrderJob,
    OrderLineItem,
    OrderLineItems,
    OrderRequest,
    PaymentMethod,
    ProductView,
    ReceiptContact,
    ReceiptItem,
    ReceiptRequest,
)
from tests.support.engage_clients import client_for
from tests.support.processes import wait_until
from tests.support.simulator import RunningSimulator

pytestmark = pytest.mark.integration

PROMO = "11111111-1111-4111-8111-111111111111"
VOUCHER = "44444444-4444-4444-8444-444444444444"
WHEN = datetime.fromisoformat("2026-11-24T10:15:00+01:00")


@pytest.fixture
def client(simulator: RunningSimulator) -> EngageClient:
    return client_for(simulator)


@pytest.fixture
def contact_id(client: EngageClient) -> str:
    return client.create_contact({"email": "c@example.com"}, source="ECOM", store_external_id="s1").id


def receipt(contact_id: str) -> ReceiptRequest:
    return ReceiptRequest(
        contact=ReceiptContact(match_key=contact_id, match_key_type="contactId"),
        unique_receipt_id="R-1",
        created_date=WHEN,
        store_external_id="s1",
        currency="SEK",
        total_gross_price=Decimal("199.90"),
        payment_methods=[PaymentMethod(type="card", value=Decimal("199.90"))],
        items=[
            ReceiptItem(
                type="PURCHASE",
                sku="S1",
                quantity=Decimal(2),
                gross_paid_price=Decimal("199.90"),
                tax_amount=Decimal("39.98"),
                tax_percent=Decimal(25),
                article_number="A1",
                article_name="Socks",
            )
        ],
    )


def test_a_receipt_is_accepted_once(
    simulator: RunningSimulator, client: EngageClient, contact_id: str
) -> None:
    client.create_receipt(receipt(contact_id))
    client.create_receipt(receipt(contact_id))  # the same uniqueReceiptId: accepted and ignored
    receipts = simulator.admin.state()["receipts"]
    assert len(receipts) == 1


def test_promotion_assign_list_redeem_twice(
    simulator: RunningSimulator, client: EngageClient, contact_id: str
) -> None:
    simulator.admin.seed(
        {"promotions": [{"id": PROMO, "name": "Welcome", "redemptionChannels": [{"type": "ECOM"}]}]}
    )
    assignment = client.assign_promotion(contact_id, PROMO)
    assert assignment.promotion_id == PROMO
    listed = client.list_promotion_assignments(contact_id, redemption_channel_type="ECOM")
    assert [a.id for a in listed] == [assignment.id]
    client.redeem_promotion(assignment.id, "ECOM")
    with pytest.raises(AlreadyRedeemed) as caught:
        client.redeem_promotion(assignment.id, "ECOM")
    assert isinstance(caught.value, SkippableError)
    assert client.list_promotion_assignments(contact_id)[0].redeemed


def test_vouchers_list_and_redeem(simulator: RunningSimulator, client: EngageClient, contact_id: str) -> None:
    simulator.admin.seed(
        {
            "vouchers": [
                {
                    "id": VOUCHER,
                    "voucherNumber": "V1",
                    "contactId": contact_id,
                    "value": {"currency": "SEK", "amount": 50},
                }
            ]
        }
    )
    page = client.list_reward_vouchers(contact_id, which="available")
    assert [v.id for v in page.items] == [VOUCHER]
    assert page.items[0].value is not None and page.items[0].value.amount == Decimal(50)
    client.redeem_reward_voucher(VOUCHER)
    with pytest.raises(AlreadyRedeemed):
        client.redeem_reward_voucher(VOUCHER)
    assert [v.id for v in client.list_reward_vouchers(contact_id, which="redeemed").items] == [VOUCHER]


def test_order_create_job_and_action(client: EngageClient, contact_id: str) -> None:
    order = OrderRequest(
        order_id="O-1",
        contact=OrderContact(match_key="c@example.com", match_key_type="Email"),
        external_store_id="Ecom-SE",
        status="InProgress",
        currency_code="SEK",
        created_at=WHEN,
        line_items=OrderLineItems(
            items=[OrderLineItem(sku="S1", quantity=Decimal(1))], sub_total=Decimal(100)
        ),
    )
    job = client.create_order(order)
    assert job.order_id == "O-1"
    wait_until(lambda: client.get_order_job(job.job_id).done, timeout_s=5, what="order job")
    done = client.get_order_job(job.job_id)
    assert done.order_href == "/api/v3/orders/O-1"
    stored = client.get_order("O-1")
    assert stored.version_tag
    client.order_action("O-1", OrderActionRequest(action="ConfirmOrder", version_tag=stored.version_tag))


def test_tracking(simulator: RunningSimulator, client: EngageClient, contact_id: str) -> None:
    client.track_product_view(ProductView(item_id="SKU1", contact_id=contact_id, time=WHEN))
    client.track_cart(
        CartUpdate(
            cart_reference="cart-1",
            contact_id=contact_id,
            time=WHEN,
            items=[CartItem(sku="S", quantity=Decimal(1))],
        )
    )
    tracking = simulator.admin.state()["tracking"]
    assert len(tracking["productviews"]) == 1
    assert len(tracking["carts"]) == 1


def an_order(order_id: str = "O-1", action: str | OrderEmbeddedAction | None = None) -> OrderRequest:
    return OrderRequest(
        order_id=order_id,
        contact=OrderContact(match_key="c@example.com", match_key_type="Email"),
        external_store_id="Ecom-SE",
        status="InProgress",
        currency_code="SEK",
        created_at=WHEN,
        line_items=OrderLineItems(
            items=[OrderLineItem(sku="S1", quantity=Decimal(1))], sub_total=Decimal(100)
        ),
        action=action,
    )


def finished(client: EngageClient, job_id: str) -> OrderJob:
    wait_until(lambda: client.get_order_job(job_id).done, timeout_s=5, what="order job")
    return client.get_order_job(job_id)


@pytest.mark.parametrize("status", [201, 202])
def test_order_writes_are_taken_with_201_or_202(
    simulator: RunningSimulator, client: EngageClient, contact_id: str, status: int
) -> None:
    simulator.admin.set_switches(order_write_status=status)
    done = finished(client, client.create_order(an_order()).job_id)
    assert done.order_href == "/api/v3/orders/O-1"
    assert finished(client, client.replace_order(an_order()).job_id).order_href == "/api/v3/orders/O-1"
    assert simulator.admin.request_count("POST /api/v3/orders", status) == 1


def test_a_replace_of_an_unknown_order_is_a_failed_job(client: EngageClient, contact_id: str) -> None:
    # The documented asynchronous answer: no OrderNotFound at once, a job that fails
    job = finished(client, client.replace_order(an_order("O-9")).job_id)
    assert job.failed
    assert job.errors == ["Order is missing"]


def test_a_failed_order_job_says_contact_is_missing(client: EngageClient) -> None:
    job = finished(client, client.create_order(an_order("O-2")).job_id)  # nobody is c@example.com here
    assert (job.failed, job.errors) == (True, ["Contact is missing"])


def test_an_embedded_action_carries_its_language_and_data(
    simulator: RunningSimulator, client: EngageClient, contact_id: str
) -> None:
    cancel = OrderEmbeddedAction(action="CancelOrder", language="sv-SE", data={"reason": "late"})
    finished(client, client.create_order(an_order(action=cancel)).job_id)
    [ran] = simulator.admin.state()["order_actions"]
    assert (ran["action"], ran["language"], ran["data"]) == ("CancelOrder", "sv-SE", {"reason": "late"})


def test_a_receipt_naming_the_buyer_by_card_id_is_accepted(
    simulator: RunningSimulator, client: EngageClient
) -> None:
    created = client.create_contact(
        {"email": "k@example.com", "cardId": "C-1"}, source="POS", store_external_id="s"
    )
    by_card = receipt(created.id).model_copy(
        update={"contact": ReceiptContact(match_key="C-1", match_key_type="CardId")}
    )
    client.create_receipt(by_card)
    assert simulator.admin.state()["receipts"][0]["contactId"] == created.id
