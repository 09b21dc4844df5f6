"""Orders v3 (ref §2.10): the order we send, its async job, the stored order, actions and changes."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import unquote, urlsplit

from pydantic import AwareDatetime, Field, field_validator, model_validator

from engage.models.base import Money, RequestModel, ResponseModel
from engage.models.receipts import ExtraData, known_match_key_type


class OrderContact(RequestModel):
    """The buyer of an order, matched as a receipt's (``MATCH_KEY_TYPES``, any case)."""

    match_key: str
    match_key_type: str

    _known_type = field_validator("match_key_type")(known_match_key_type)


class OrderLineItem(RequestModel):
    """One order line; Voyado has not published the full v3 item schema, so this is the common core."""

    sku: str
    quantity: Money
    description: str | None = None
    gross_paid_price: Money | None = None
    gross_paid_price_per_unit: Money | None = None
    original_price: Money | None = None
    tax_amount: Money | None = None
    tax_percent: Money | None = None
    image_url: str | None = None
    target_url: str | None = None
    extra_data: list[ExtraData] | None = None


class OrderLineItems(RequestModel):
    items: list[OrderLineItem]
    sub_total: Money


class OrderDelivery(RequestModel):
    method: str | None = None
    tracking_number: str | None = None
    tracking_uri: str | None = None
    delivery_date: AwareDatetime | None = None


class OrderActionRequest(RequestModel):
    """``POST /orders/{orderId}/action``: ``version_tag`` must be the order's current one."""

    action: str
    version_tag: str
    language: str | None = None
    data: dict[str, Any] | None = None


class OrderEmbeddedAction(RequestModel):
    """An action travelling in the order body, run once that version is processed: the action call's
    body without the versionTag [inferred shape; Voyado only says an action can be embedded]."""

    action: str
    language: str | None = None
    data: dict[str, Any] | None = None


class OrderStatusChange(RequestModel):
    status: str | None = None
    external_status: str | None = None


class OrderRequest(RequestModel):
    """A v3 order (create with POST, replace with PUT); keyed by ``order_id``."""

    order_id: str
    contact: OrderContact
    external_store_id: str
    status: str
    external_status: str | None = None
    references: list[str] | None = None
    currency_code: str = Field(pattern=r"^[A-Z]{3}$")
    channel: str | None = None
    created_at: AwareDatetime
    last_changed_at: AwareDatetime | None = None
    line_items: OrderLineItems
    payments: dict[str, Any] | None = None
    fees: dict[str, Any] | None = None
    discounts: dict[str, Any] | None = None
    delivery: OrderDelivery | None = None
    billing_address: dict[str, Any] | None = None
    action: str | OrderEmbeddedAction | None = None
    """The embedded action: its name alone, or with its language and data."""


JOB_DONE_STATUSES: Final = frozenset({"completed", "completedwitherrors", "failed"})
"""Job states that are final: the job poll's 302 (documented), and the statuses a client polls for
(alinaqi: Completed, CompletedWithErrors, Failed; unverified, ref §2.10)."""
JOBS_SEGMENT: Final = "jobs"


def job_id_from_link(link: str | None) -> str | None:
    """The job id in a link to the job (`/api/v3/orders/jobs/{jobId}`, relative or absolute), else None."""
    if not link:
        return None
    segments = [unquote(part) for part in urlsplit(link).path.split("/") if part]
    if len(segments) >= 2 and segments[-2].casefold() == JOBS_SEGMENT:
        return segments[-1]
    return None


class OrderJob(ResponseModel):
    """An async order job. ``order_href`` is set once the job is done (Engage answered 302).

    The write's answer names the job by ``jobId``, or only by a link to it (``href`` in the body, or the
    client passes the ``Location`` header as ``href``): the id is then the link's last segment."""

    job_id: str
    order_id: str | None = None
    href: str | None = None
    status: str = "Pending"
    errors: list[Any] = Field(default_factory=list)
    order_href: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _job_id_from_href(cls, data: Any) -> Any:
        if isinstance(data, dict) and not (data.get("jobId") or data.get("job_id")):
            job_id = job_id_from_link(data.get("href"))
            if job_id is not None:
                return {**data, "jobId": job_id}
        return data

    @property
    def done(self) -> bool:
        return self.order_href is not None or self.status.casefold() in JOB_DONE_STATUSES

    @property
    def failed(self) -> bool:
        """Failed, or CompletedWithErrors that carries errors (one without errors is a completed job)."""
        status = self.status.casefold()
        return status == "failed" or (status == "completedwitherrors" and bool(self.errors))


class Order(ResponseModel):
    """A stored order; ``version_tag`` changes with every processed version."""

    order_id: str
    version_tag: str | None = None
    status: str | None = None
    external_status: str | None = None
    contact: dict[str, Any] | None = None
    contact_id: str | None = None
    currency_code: str | None = None
    external_store_id: str | None = None
    line_items: dict[str, Any] | None = None
    delivery: dict[str, Any] | None = None
