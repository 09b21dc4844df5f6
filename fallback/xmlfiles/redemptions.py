"""Redemption records -> elements of our promotion-redemptions format (v1).

Voyado has no file format for redemptions; ``fallback/xsd/promotion_redemptions.xsd``
documents ours. Records:

- ``{"kind": "promotion", "assignmentId": ..., "redemptionChannel": "ECOM"|"POS"|"OTHER",
  "redeemedAt": ...}``, or the same with ``"contact": {"matchKey", "matchKeyType"}`` and
  ``"promotionId"`` instead of ``assignmentId``;
- ``{"kind": "rewardVoucher", "voucherId" | "voucherNumber": ..., "redeemedAt": ...}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from fallback.xmlfiles import values as v
from fallback.xmlfiles.records import CONTACT_MATCH, Group, Leaf, Node, as_mapping, render_fields
from fallback.xmlfiles.values import RecordError

REDEMPTIONS_NAMESPACE: Final = "urn:engage-relay:promotion-redemptions:v1"

_CHANNEL: Final = Leaf(v.pattern_text(re.compile("ECOM|POS|OTHER"), "ECOM, POS or OTHER"), required=True)
_REDEEMED_AT: Final = Leaf(v.datetime_with_offset, required=True)
PROMOTION_BY_ASSIGNMENT: Final = Group(
    (("assignmentId", Leaf(v.text, True)), ("redemptionChannel", _CHANNEL), ("redeemedAt", _REDEEMED_AT))
)
PROMOTION_BY_CONTACT: Final = Group(
    (
        ("contact", CONTACT_MATCH),
        ("promotionId", Leaf(v.text, True)),
        ("redemptionChannel", _CHANNEL),
        ("redeemedAt", _REDEEMED_AT),
    )
)
VOUCHER_BY_ID: Final = Group((("voucherId", Leaf(v.text, True)), ("redeemedAt", _REDEEMED_AT)))
VOUCHER_BY_NUMBER: Final = Group((("voucherNumber", Leaf(v.text, True)), ("redeemedAt", _REDEEMED_AT)))


def render_redemption(record: Mapping[str, Any]) -> Node:
    """``<promotionRedemption>`` or ``<rewardVoucherRedemption>`` for one record."""
    data = dict(as_mapping(record, ""))
    kind = data.pop("kind", None)
    if kind == "promotion":
        by_assignment = not v.is_absent(data.get("assignmentId"))
        if by_assignment == any(not v.is_absent(data.get(k)) for k in ("contact", "promotionId")):
            raise RecordError(
                "", "a promotion redemption needs assignmentId or contact+promotionId, not both"
            )
        spec = PROMOTION_BY_ASSIGNMENT if by_assignment else PROMOTION_BY_CONTACT
        return ("promotionRedemption", render_fields(spec, data, ""), None)
    if kind == "rewardVoucher":
        has_id = not v.is_absent(data.get("voucherId"))
        if has_id == (not v.is_absent(data.get("voucherNumber"))):
            raise RecordError("", "a voucher redemption needs exactly one of voucherId and voucherNumber")
        spec = VOUCHER_BY_ID if has_id else VOUCHER_BY_NUMBER
        return ("rewardVoucherRedemption", render_fields(spec, data, ""), None)
    raise RecordError("kind", "must be 'promotion' or 'rewardVoucher'")
