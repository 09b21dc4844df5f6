"""``EngageClient``: one thin method per Engage v3 endpoint (path, query, body, response model).

Transport, auth, timeouts, rate limiting and short retries are in ``engage.transport.BaseEngageClient``.
Path parameters are URL-quoted; keyword arguments are snake_case and become Engage's camelCase names.
Every method raises the ``engage.errors`` tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import requests
from pydantic import ValidationError

from engage.errors import ContactNotFound, EngageError, UnexpectedResponse
from engage.models import (
    MAX_BULK_CONTACTS,
    BulkStatus,
    CartUpdate,
    Contact,
    ContactOverview,
    Order,
    OrderActionRequest,
    OrderDelivery,
    OrderJob,
    OrderRequest,
    OrderStatusChange,
    ProductView,
    PromotionAssignment,
    PromotionAssignmentRequest,
    PromotionRedeemRequest,
    ReceiptRequest,
    RedemptionChannel,
    Store,
    VoucherPage,
)
from engage.transport import BaseEngageClient

VoucherList = Literal["all", "available", "redeemed"]

_CONTACTS = "/api/v3/contacts"
_ORDERS = "/api/v3/orders"
_PROMOTION_ASSIGNMENTS = "/api/v3/promotion-assignments"
_REWARD_VOUCHERS = "/api/v3/reward-vouchers"
_STORES = "/api/v3/stores"
_ORDER_ACCEPTED = (201, 202)
"""Order writes: the order API page says "201 Accepted"; the action page says 202; both are taken."""
_JOB_FAILED_STATUSES = (400, 404, 409, 410, 422)
"""The job poll answers 302 once done "and an error otherwise" (ref §2.10): a 4xx answer to it is read as
the failed job, in Engage's words [inferred; the body of a failed job is not documented either]."""


def _seg(value: str) -> str:
    """One path segment, quoted so that no value can add segments or a query."""
    if not value:
        raise ValueError("a path parameter must not be empty")
    return quote(value, safe="")


def _key_params(
    *,
    email: str | None,
    mobile_phone: str | None,
    social_security_number: str | None,
    custom_key: str | None,
    any_value: str | None,
) -> dict[str, str]:
    given = {
        "email": email,
        "mobilePhone": mobile_phone,
        "socialSecurityNumber": social_security_number,
        "customKey": custom_key,
        "any": any_value,
    }
    chosen = {name: value for name, value in given.items() if value is not None}
    if len(chosen) != 1:
        raise ValueError(
            "give exactly one of email, mobile_phone, social_security_number, custom_key, any_value"
        )
    return chosen


class EngageClient(BaseEngageClient):
    """A typed client for one Engage tenant and API key. Thread-safe; share one per tenant."""

    # --- contacts ---------------------------------------------------------------------------------------

    def lookup_contact(
        self,
        *,
        email: str | None = None,
        mobile_phone: str | None = None,
        social_security_number: str | None = None,
        custom_key: str | None = None,
        any_value: str | None = None,
        contact_type: str | None = None,
    ) -> str | None:
        """The contactId for one key, or None when Engage has no such contact (404 ContactNotFound)."""
        params = _key_params(
            email=email,
            mobile_phone=mobile_phone,
            social_security_number=social_security_number,
            custom_key=custom_key,
            any_value=any_value,
        )
        if contact_type is not None:
            params["contactType"] = contact_type
        path = f"{_CONTACTS}/id"
        try:
            response = self.request("GET", path, params=params, answers=(ContactNotFound,))
        except ContactNotFound:
            return None
        return self.json_string(response, "GET", path)

    def create_contact(
        self,
        attributes: Mapping[str, Any],
        *,
        source: str,
        store_external_id: str,
        create_as_unapproved: bool = False,
        contact_type: str | None = None,
    ) -> Contact:
        """Create a contact (201); source and store go in the query, as v3 requires."""
        if not attributes:
            raise ValueError("a contact needs attributes")
        body = dict(attributes)
        if contact_type is not None:
            body["contactType"] = contact_type
        params: dict[str, str | int] = {"source": source, "storeExternalId": store_external_id}
        if create_as_unapproved:
            params["createAsUnapproved"] = "true"
        response = self.request("POST", _CONTACTS, params=params, body=body, ok=(200, 201))
        return self.parse(response, Contact, "POST", _CONTACTS)

    def get_contact(self, contact_id: str) -> Contact:
        path = f"{_CONTACTS}/{_seg(contact_id)}"
        return self.parse(self.request("GET", path), Contact, "GET", path)

    def update_contact(self, contact_id: str, changes: Mapping[str, Any]) -> Contact:
        """PATCH: every field sent overwrites, even "" or null, so send only real changes."""
        if not changes:
            raise ValueError("an update needs at least one changed attribute")
        if "contactType" in changes:
            raise ValueError("contactType cannot be PATCHed; use update_contact_type")
        path = f"{_CONTACTS}/{_seg(contact_id)}"
        response = self.request("PATCH", path, body=dict(changes), ok=(200, 202, 204))
        if response.status_code == 204 or not response.content:
            return self.get_contact(contact_id)
        return self.parse(response, Contact, "PATCH", path)

    def update_contact_type(self, contact_id: str, contact_type_id: str) -> Contact:
        """Change the contact type; the contact afterwards. Voyado documents no answer for it, so a
        contact body, an empty 200 or a 204 are all taken (the contact is then read back)."""
        path = f"{_CONTACTS}/{_seg(contact_id)}/updateContactType"
        response = self.request("POST", path, params={"contactTypeId": contact_type_id}, ok=(200, 201, 204))
        if response.status_code == 204 or not response.content.strip():
            return self.get_contact(contact_id)
        return self.parse(response, Contact, "POST", path)

    def bulk_create_contacts(self, rows: Sequence[Mapping[str, Any]], contact_type: str | None = None) -> str:
        """Start a bulk create (at most ``MAX_BULK_CONTACTS`` rows); returns the batch id."""
        return self._bulk("POST", rows, contact_type, avoid_triggering_export=False)

    def bulk_update_contacts(
        self,
        rows: Sequence[Mapping[str, Any]],
        contact_type: str | None = None,
        avoid_triggering_export: bool = False,
    ) -> str:
        """Start a bulk update (each row with ``id`` or the key attribute); returns the batch id."""
        return self._bulk("PATCH", rows, contact_type, avoid_triggering_export=avoid_triggering_export)

    def _bulk(
        self,
        method: str,
        rows: Sequence[Mapping[str, Any]],
        contact_type: str | None,
        *,
        avoid_triggering_export: bool,
    ) -> str:
        if not rows:
            raise ValueError("a bulk request needs at least one row")
        if len(rows) > MAX_BULK_CONTACTS:
            raise ValueError(f"{len(rows)} rows > MAX_BULK_CONTACTS ({MAX_BULK_CONTACTS}); split them")
        params: dict[str, str | int] = {}
        if contact_type is not None:
            params["contactType"] = contact_type
        if avoid_triggering_export:
            params["avoidTriggeringExport"] = "true"
        path = f"{_CONTACTS}/bulk"
        response = self.request(method, path, params=params, body=[dict(r) for r in rows], ok=(200, 202))
        return self.json_string(response, method, path)

    def bulk_status(self, batch_id: str) -> BulkStatus:
        path = f"{_CONTACTS}/bulk/status"
        return self.parse(self.request("GET", path, params={"batchId": batch_id}), BulkStatus, "GET", path)

    def contact_overview(
        self,
        *,
        contact_id: str | None = None,
        contact_type: str | None = None,
        email: str | None = None,
        mobile_phone: str | None = None,
        social_security_number: str | None = None,
        custom_key: str | None = None,
        any_value: str | None = None,
    ) -> ContactOverview:
        """The enriched (possibly cached) profile, by contactId or by contact type plus one key."""
        params: dict[str, str | int]
        if contact_id is not None:
            params = {"contactId": contact_id}
        else:
            if contact_type is None:
                raise ValueError("contact_type is required unless contact_id is given")
            params = {
                "contactType": contact_type,
                **_key_params(
                    email=email,
                    mobile_phone=mobile_phone,
                    social_security_number=social_security_number,
                    custom_key=custom_key,
                    any_value=any_value,
                ),
            }
        path = "/api/v3/contactoverview"
        return self.parse(self.request("GET", path, params=params), ContactOverview, "GET", path)

    def contact_overview_document(self, contact_id: str) -> dict[str, Any]:
        """The overview by contactId as Engage sent it: every field kept, including those the model does
        not know (Voyado leaves the bonus balance and level fields undocumented)."""
        path = "/api/v3/contactoverview"
        response = self.request("GET", path, params={"contactId": contact_id})
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            raise UnexpectedResponse("body is not a contact overview", status=200, method="GET", path=path)
        return document

    # --- receipts ---------------------------------------------------------------------------------------

    def create_receipt(self, receipt: ReceiptRequest) -> None:
        """Register a purchase or return; a repeated uniqueReceiptId is accepted and ignored by Engage."""
        self.request("POST", "/api/v3/receipts", body=receipt.to_wire(), ok=(200, 201, 202, 204))

    # --- orders v3 ---------------------------------------------------------------------------------------

    def _job(self, method: str, path: str, body: Any = None) -> OrderJob:
        return _job_answer(self.request(method, path, body=body, ok=_ORDER_ACCEPTED), method, path)

    def create_order(self, order: OrderRequest) -> OrderJob:
        return self._job("POST", _ORDERS, order.to_wire())

    def replace_order(self, order: OrderRequest) -> OrderJob:
        return self._job("PUT", f"{_ORDERS}/{_seg(order.order_id)}", order.to_wire())

    def delete_order(self, order_id: str) -> OrderJob:
        return self._job("DELETE", f"{_ORDERS}/{_seg(order_id)}")

    def get_order_job(self, job_id: str) -> OrderJob:
        """The job's state; once done Engage answers 302, returned as ``order_href`` (never followed).
        A 4xx answer (``_JOB_FAILED_STATUSES``) is the failed job, its error in ``errors``."""
        path = f"{_ORDERS}/jobs/{_seg(job_id)}"
        try:
            response = self.request("GET", path, ok=(200, 302, 303))
        except EngageError as exc:
            if exc.status not in _JOB_FAILED_STATUSES:
                raise
            message = exc.engage_message or exc.error_code or f"HTTP {exc.status}"
            error = {"message": message, "errorCode": exc.error_code, "status": exc.status}
            return OrderJob(job_id=job_id, status="Failed", errors=[error])
        if response.status_code in (302, 303):
            location = response.headers.get("Location")
            if not location:
                raise UnexpectedResponse("302 without Location", status=302, method="GET", path=path)
            return OrderJob(job_id=job_id, status="Completed", order_href=location)
        job = self.parse(response, OrderJob, "GET", path)
        return job if job.job_id else job.model_copy(update={"job_id": job_id})

    def get_order(self, order_id: str) -> Order:
        path = f"{_ORDERS}/{_seg(order_id)}"
        return self.parse(self.request("GET", path), Order, "GET", path)

    def order_action(self, order_id: str, action: OrderActionRequest) -> None:
        """Trigger an automation; ``action.version_tag`` must be the order's current versionTag."""
        self.request("POST", f"{_ORDERS}/{_seg(order_id)}/action", body=action.to_wire(), ok=_ORDER_ACCEPTED)

    def change_order_status(self, order_id: str, change: OrderStatusChange) -> OrderJob:
        return self._job("POST", f"{_ORDERS}/{_seg(order_id)}/change-status", change.to_wire())

    def change_order_delivery(self, order_id: str, delivery: OrderDelivery) -> OrderJob:
        return self._job("POST", f"{_ORDERS}/{_seg(order_id)}/change-delivery", delivery.to_wire())

    # --- promotions and reward vouchers ------------------------------------------------------------------

    def list_promotion_assignments(
        self, contact_id: str, redemption_channel_type: RedemptionChannel | None = None
    ) -> list[PromotionAssignment]:
        params: dict[str, str | int] = {"contactId": contact_id}
        if redemption_channel_type is not None:
            params["redemptionChannelType"] = redemption_channel_type
        response = self.request("GET", _PROMOTION_ASSIGNMENTS, params=params)
        try:
            raw = response.json()
            if not isinstance(raw, list):
                raise ValueError("not a list")
            return [PromotionAssignment.model_validate(item) for item in raw]
        except ValueError:  # pydantic's ValidationError is a ValueError
            raise UnexpectedResponse(
                "body is not a list of assignments", status=200, method="GET", path=_PROMOTION_ASSIGNMENTS
            ) from None

    def assign_promotion(self, contact_id: str, promotion_id: str) -> PromotionAssignment:
        body = PromotionAssignmentRequest(contact_id=contact_id, promotion_id=promotion_id).to_wire()
        response = self.request("POST", _PROMOTION_ASSIGNMENTS, body=body, ok=(200, 201))
        return self.parse(response, PromotionAssignment, "POST", _PROMOTION_ASSIGNMENTS)

    def redeem_promotion(self, assignment_id: str, channel: RedemptionChannel) -> None:
        """Redeem an assignment (its ``id``, not the template); redeeming twice raises AlreadyRedeemed."""
        body = PromotionRedeemRequest(redemption_channel=channel).to_wire()
        path = f"{_PROMOTION_ASSIGNMENTS}/{_seg(assignment_id)}/redeem"
        self.request("POST", path, body=body, ok=(200, 202, 204))

    def list_reward_vouchers(
        self, contact_id: str, which: VoucherList = "all", offset: int = 0, count: int = 100
    ) -> VoucherPage:
        path = _REWARD_VOUCHERS if which == "all" else f"{_REWARD_VOUCHERS}/{_seg(which)}"
        params: dict[str, str | int] = {"contactId": contact_id, "offset": offset, "count": count}
        return self.parse(self.request("GET", path, params=params), VoucherPage, "GET", path)

    def redeem_reward_voucher(self, voucher_id: str) -> None:
        path = f"{_REWARD_VOUCHERS}/{_seg(voucher_id)}/redeem"
        self.request("POST", path, ok=(200, 202, 204))

    # --- stores ------------------------------------------------------------------------------------------

    def list_stores(self, *, include_inactive: bool = False) -> list[Store]:
        """Every store Engage knows (active ones unless asked): a JSON array, as v2's ``GET /stores``
        answers; a paged ``{"items": [...]}`` body is tolerated [inferred v3 path and shape]."""
        params: dict[str, str | int] = {"includeInactive": "true"} if include_inactive else {}
        response = self.request("GET", _STORES, params=params)
        try:
            raw = response.json()
            items = raw.get("items") if isinstance(raw, dict) else raw
            if not isinstance(items, list):
                raise ValueError("not a list")
            return [Store.model_validate(item) for item in items]
        except ValueError:  # pydantic's ValidationError is a ValueError
            raise UnexpectedResponse(
                "body is not a list of stores", status=response.status_code, method="GET", path=_STORES
            ) from None

    # --- tracking ----------------------------------------------------------------------------------------

    def track_product_view(self, view: ProductView) -> None:
        self.request("POST", "/api/v3/tracking/productview", body=view.to_wire(), ok=(200, 202, 204))

    def track_cart(self, cart: CartUpdate) -> None:
        """Send the cart's latest full state; an empty ``items`` list means the cart was emptied."""
        self.request("POST", "/api/v3/tracking/carts", body=cart.to_wire(), ok=(200, 202, 204))


def _job_answer(response: requests.Response, method: str, path: str) -> OrderJob:
    """An order write's job: ``jobId`` in the body, or only a link to the job (``href`` in the body or a
    ``Location`` header; Voyado says the write returns "a link to the job")."""
    try:
        raw: Any = response.json() if response.content.strip() else {}
    except ValueError:
        raw = None
    if not isinstance(raw, dict):
        raise UnexpectedResponse(
            "body is not an order job", status=response.status_code, method=method, path=path
        )
    location = response.headers.get("Location")
    if location and not raw.get("href"):
        raw = {**raw, "href": location}
    try:
        return OrderJob.model_validate(raw)
    except ValidationError:
        raise UnexpectedResponse(
            "no jobId and no link to the job (href or Location)",
            status=response.status_code,
            method=method,
            path=path,
        ) from None
