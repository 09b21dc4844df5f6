"""Envelopes for tests: valid ones built from `examples/events`, and malformed ones of many kinds.

- `valid_envelopes()` / `valid_batch(n, seed)`: JSON-ready dicts that `parse_event` accepts.
- `malformed_envelopes(kinds=MALFORMED_KINDS)` / `malformed_batch(n, seed)`: `Malformed(kind, raw, loc)`
  that `parse_event` must reject; `raw` is bytes, text or a dict, and `loc` is where a reason must
  point (`()` for the envelope as a whole). Kinds: see `MALFORMED_KINDS`.
- `json_values()`: arbitrary JSON-ish values (nested, with big numbers, NaN, odd text).

The batch functions use a seeded `random.Random` and need no hypothesis machinery, so pipeline and
integration tests can publish a thousand malformed envelopes deterministically.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from schemas import EventType

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "events"
Loc = tuple[str | int, ...]
Raw = bytes | str | dict[str, Any]


@dataclass(frozen=True)
class Malformed:
    kind: str
    raw: Raw
    loc: Loc  # a reason's loc must start with this; () means a reason about the whole envelope


@functools.cache
def _examples() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text("utf-8")) for path in sorted(EXAMPLES_DIR.glob("*.json"))}


def load_examples() -> dict[str, dict[str, Any]]:
    """event type -> a fresh copy of its example envelope."""
    return copy.deepcopy(_examples())


def example(event_type: str) -> dict[str, Any]:
    return copy.deepcopy(_examples()[event_type])


# ----------------------------------------------------------------------------- valid


def _slug(rng: random.Random) -> str:
    alphabet = string.ascii_lowercase + string.digits
    inner = "".join(rng.choice(alphabet + "-_") for _ in range(rng.randint(0, 20)))
    return rng.choice(alphabet) + inner + rng.choice(alphabet) if inner or rng.random() < 0.5 else "default"


def _event_id(rng: random.Random) -> str:
    printable = "".join(chr(c) for c in range(0x21, 0x7F))
    return "".join(rng.choice(printable) for _ in range(rng.randint(1, 128)))


def _timestamp(rng: random.Random) -> str:
    offset_min = rng.choice([0, 60, 120, -300, 330, 840, -720])
    sign = "+" if offset_min >= 0 else "-"
    hours, minutes = divmod(abs(offset_min), 60)
    return (
        f"{rng.randint(2000, 2099)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
        f"{sign}{hours:02d}:{minutes:02d}"
    )


def make_valid(rng: random.Random, event_type: str | None = None) -> dict[str, Any]:
    """An example envelope with a fresh id, tenant, time, and with or without source and store."""
    envelope = example(event_type or rng.choice(sorted(_examples())))
    envelope["id"] = _event_id(rng)
    envelope["tenant"] = _slug(rng)
    envelope["occurred_at"] = _timestamp(rng)
    for optional in ("source", "store"):
        if rng.random() < 0.3:
            del envelope[optional]
    return envelope


def valid_envelopes(event_type: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(make_valid, st.randoms(use_true_random=False), st.just(event_type))


def valid_batch(n: int, seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [make_valid(rng) for _ in range(n)]


# ----------------------------------------------------------------------------- malformed


def _encode(rng: random.Random, envelope: dict[str, Any]) -> Raw:
    """The same envelope as a dict, JSON text or UTF-8 JSON bytes."""
    form = rng.randrange(3)
    if form == 0:
        return envelope
    text = json.dumps(envelope, ensure_ascii=rng.random() < 0.5)
    return text if form == 1 else text.encode("utf-8")


def _with_types(*keys: str) -> list[str]:
    return [t for t, env in sorted(_examples().items()) if all(k in env["data"] for k in keys)]


def _bad_json(rng: random.Random) -> Malformed:
    text = json.dumps(make_valid(rng), separators=(",", ":"))
    choices: list[str] = [
        text[: rng.randrange(0, len(text) - 1)],  # any proper prefix of an object is not JSON
        text.replace('"', "'"),
        text[:-1] + ",}",
        "not json at all",
        text + " trailing",
    ]
    raw = rng.choice(choices)
    return Malformed("bad_json", raw.encode() if rng.random() < 0.5 else raw, ())


def _wrong_encoding(rng: random.Random) -> Malformed:
    text = json.dumps(make_valid(rng, "customer.created"), ensure_ascii=False)
    encoding = rng.choice(["utf-16", "utf-16-be", "utf-32", "latin-1", "cp1252"])
    return Malformed("wrong_encoding", text.encode(encoding), ())


def _not_object(rng: random.Random) -> Malformed:
    value = rng.choice([[make_valid(rng)], "customer.created", 42, 1.5, None, True, []])
    return Malformed(
        "not_object", json.dumps(value) if rng.random() < 0.5 else json.dumps(value).encode(), ()
    )


def _empty(rng: random.Random) -> Malformed:
    choices: list[Raw] = [b"", "", "   ", b"\n"]
    return Malformed("empty", rng.choice(choices), ())


def _unknown_type(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    envelope["type"] = rng.choice(
        ["order.deliverd", "Customer.Created", "", "customer", "order.delivered.v2", 7, None, ["x"]]
    )
    return Malformed("unknown_type", _encode(rng, envelope), ("type",))


def _bad_version(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    envelope["version"] = rng.choice([0, 2, "1", 1.5, None, True, 1.0, -1, [1]])
    return Malformed("bad_version", _encode(rng, envelope), ("version",))


def _missing_envelope_field(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    key = rng.choice(["id", "type", "version", "tenant", "occurred_at", "data"])
    del envelope[key]
    return Malformed("missing_envelope_field", _encode(rng, envelope), (key,))


_REQUIRED_DATA_FIELDS = {
    "order.delivered": ["order_id", "created_at", "customer", "currency", "lines", "payments"],
    "receipt.completed": ["receipt_id", "created_at", "customer", "currency", "lines", "payments"],
    "return.created": ["return_id", "created_at", "customer", "currency", "lines", "refunds"],
    "promotion.assigned": ["customer", "promotion_id"],
    "promotion.redeemed": ["customer", "redemption_channel"],
    "voucher.redeemed": ["customer"],
    "order.placed": ["order_id", "customer", "currency", "created_at", "lines", "totals"],
    "order.shipped": ["order_id", "customer", "currency", "created_at", "lines", "totals", "delivery"],
    "order.cancelled": ["order_id", "customer", "currency", "created_at", "lines", "totals"],
    "product.viewed": ["customer", "item_id"],
    "cart.updated": ["customer", "cart_reference", "items"],
}


def _missing_data_field(rng: random.Random) -> Malformed:
    event_type = rng.choice(sorted(_REQUIRED_DATA_FIELDS))
    envelope = make_valid(rng, event_type)
    key = rng.choice(_REQUIRED_DATA_FIELDS[event_type])
    del envelope["data"][key]
    return Malformed("missing_data_field", _encode(rng, envelope), ("data", key))


def _extra_field(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    key = "x_" + "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(1, 8)))
    targets: list[tuple[Loc, dict[str, Any]]] = [((), envelope), (("data",), envelope["data"])]
    if "customer" in envelope["data"]:
        targets.append((("data", "customer"), envelope["data"]["customer"]))
    if "lines" in envelope["data"]:
        targets.append((("data", "lines", 0), envelope["data"]["lines"][0]))
    loc, target = rng.choice(targets)
    target[key] = rng.choice([1, "value", None, [], {}])
    return Malformed("extra_field", _encode(rng, envelope), (*loc, key))


def _wrong_type(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    key, value = rng.choice(
        [
            ("id", 123),
            ("id", ["evt"]),
            ("tenant", 5),
            ("occurred_at", True),
            ("occurred_at", 1_700_000_000),
            ("data", "{}"),
            ("data", []),
            ("data", None),
            ("source", 1),
            ("store", {"id": "x"}),
        ]
    )
    envelope[key] = value
    return Malformed("wrong_type", _encode(rng, envelope), (key,))


def _naive_datetime(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    naive = rng.choice(["2026-11-24T10:15:00", "2026-11-24 10:15:00", "2026-11-24T10:15:00.123456"])
    if "created_at" in envelope["data"] and rng.random() < 0.5:
        envelope["data"]["created_at"] = naive
        return Malformed("naive_datetime", _encode(rng, envelope), ("data", "created_at"))
    envelope["occurred_at"] = naive
    return Malformed("naive_datetime", _encode(rng, envelope), ("occurred_at",))


def _bad_datetime(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    envelope["occurred_at"] = rng.choice(["yesterday", "2026-13-01T00:00:00+01:00", "", "24/11/2026 10:15"])
    return Malformed("bad_datetime", _encode(rng, envelope), ("occurred_at",))


def _bad_currency(rng: random.Random) -> Malformed:
    envelope = make_valid(rng, rng.choice(_with_types("currency")))
    envelope["data"]["currency"] = rng.choice(["sek", "SEKK", "SE", "", 752, "€", None, "S K"])
    return Malformed("bad_currency", _encode(rng, envelope), ("data", "currency"))


def _negative_quantity(rng: random.Random) -> Malformed:
    event_type = rng.choice([*_with_types("lines"), "cart.updated"])
    envelope = make_valid(rng, event_type)
    field = "items" if event_type == "cart.updated" else "lines"
    envelope["data"][field][0]["quantity"] = rng.choice([-1, 0, "-2", -0.5, "0"])
    return Malformed("negative_quantity", _encode(rng, envelope), ("data", field, 0, "quantity"))


_IDENTIFIERS = (
    "contact_id",
    "email",
    "mobile_phone",
    "member_number",
    "social_security_number",
    "external_id",
)


def _missing_identity(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    data = envelope["data"]
    if "customer" in data:
        data["customer"] = {}
        loc: Loc = ("data", "customer")
    else:
        for key in _IDENTIFIERS:
            data.pop(key, None)
        data.setdefault("first_name", "Anna")
        loc = ("data",)
    return Malformed("missing_identity", _encode(rng, envelope), loc)


def _bad_identifier(rng: random.Random) -> Malformed:
    envelope = make_valid(rng, rng.choice(_with_types("customer")))
    key, value = rng.choice(
        [
            ("email", "not-an-email"),
            ("email", "anna@example"),
            ("mobile_phone", "0701234567"),
            ("mobile_phone", "+46 70 123 45 67"),
            ("contact_id", "not-a-guid"),
            ("social_security_number", "12345"),
            ("member_number", " 100 "),
        ]
    )
    envelope["data"]["customer"] = {key: value}
    return Malformed("bad_identifier", _encode(rng, envelope), ("data", "customer", key))


def _bad_id(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    envelope["id"] = rng.choice(["", "evt 1", " evt", "evt\n", "x" * 129, "évt-1", "evt\t1"])
    return Malformed("bad_id", _encode(rng, envelope), ("id",))


def _bad_tenant(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    envelope["tenant"] = rng.choice(["Default", "acme se", "", "-acme", "acme-", "acme/se", "a" * 65])
    return Malformed("bad_tenant", _encode(rng, envelope), ("tenant",))


def _money_target(rng: random.Random) -> tuple[dict[str, Any], Loc, str]:
    event_type = rng.choice(_with_types("lines"))
    envelope = make_valid(rng, event_type)
    return envelope, ("data", "lines", 0, "unit_price"), "unit_price"


def _huge_number(rng: random.Random) -> Malformed:
    envelope, loc, key = _money_target(rng)
    line = envelope["data"]["lines"][0]
    choice = rng.randrange(4)
    if choice == 0:  # more digits than Python reads from JSON text
        text = json.dumps(envelope).replace(json.dumps(line[key]), "9" * 5000, 1)
        return Malformed("huge_number", text.encode(), ())
    line[key] = [10**30, 1e308, "1e400", 12.345][choice - 1]
    return Malformed("huge_number", _encode(rng, envelope), loc)


def _nan(rng: random.Random) -> Malformed:
    envelope, loc, key = _money_target(rng)
    envelope["data"]["lines"][0][key] = rng.choice([float("nan"), float("inf"), float("-inf")])
    if rng.random() < 0.5:  # as JSON text: json.dumps writes NaN/Infinity, which is not JSON
        return Malformed("nan", json.dumps(envelope), ())
    return Malformed("nan", envelope, loc)


def _deeply_nested(rng: random.Random) -> Malformed:
    envelope = make_valid(rng)
    if rng.random() < 0.5:
        depth = rng.choice([2_000, 50_000])
        text = json.dumps(envelope).replace(
            '"data": {', '"data": {"junk": ' + "[" * depth + "]" * depth + ", ", 1
        )
        return Malformed("deeply_nested", text, ())
    junk: Any = "bottom"
    for _ in range(rng.randint(10, 200)):
        junk = {"a": junk} if rng.random() < 0.5 else [junk]
    envelope["data"]["junk"] = junk
    return Malformed("deeply_nested", envelope, ("data", "junk"))


def _total_mismatch(rng: random.Random) -> Malformed:
    envelope = make_valid(rng, rng.choice(["order.delivered", "receipt.completed", "return.created"]))
    total = float(envelope["data"]["total_gross"])
    envelope["data"]["total_gross"] = f"{total + rng.choice([0.02, 1, 100, -0.5]):.2f}"
    return Malformed("total_mismatch", _encode(rng, envelope), ("data",))


def _oversized(rng: random.Random) -> Malformed:
    envelope = make_valid(rng, "customer.created")
    envelope["data"]["attributes"]["note"] = "x" * 1_100_000
    return Malformed("oversized", json.dumps(envelope).encode(), ())


_MAKERS: dict[str, Callable[[random.Random], Malformed]] = {
    "bad_json": _bad_json,
    "wrong_encoding": _wrong_encoding,
    "not_object": _not_object,
    "empty": _empty,
    "unknown_type": _unknown_type,
    "bad_version": _bad_version,
    "missing_envelope_field": _missing_envelope_field,
    "missing_data_field": _missing_data_field,
    "extra_field": _extra_field,
    "wrong_type": _wrong_type,
    "naive_datetime": _naive_datetime,
    "bad_datetime": _bad_datetime,
    "bad_currency": _bad_currency,
    "negative_quantity": _negative_quantity,
    "missing_identity": _missing_identity,
    "bad_identifier": _bad_identifier,
    "bad_id": _bad_id,
    "bad_tenant": _bad_tenant,
    "huge_number": _huge_number,
    "nan": _nan,
    "deeply_nested": _deeply_nested,
    "total_mismatch": _total_mismatch,
    "oversized": _oversized,
}
MALFORMED_KINDS: tuple[str, ...] = tuple(_MAKERS)


def make_malformed(kind: str, rng: random.Random) -> Malformed:
    return _MAKERS[kind](rng)


def malformed_envelopes(kinds: Sequence[str] = MALFORMED_KINDS) -> st.SearchStrategy[Malformed]:
    return st.builds(make_malformed, st.sampled_from(list(kinds)), st.randoms(use_true_random=False))


def malformed_batch(n: int, seed: int = 0, kinds: Sequence[str] = MALFORMED_KINDS) -> list[Malformed]:
    """`n` malformed envelopes cycling through `kinds` (each kind about n / len(kinds) times)."""
    rng = random.Random(seed)
    return [make_malformed(kinds[i % len(kinds)], rng) for i in range(n)]


# ----------------------------------------------------------------------------- arbitrary


def json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    """JSON-ish values: scalars (big ints, NaN, odd text), nested lists and string-keyed dicts."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.integers(min_value=10**20, max_value=10**40)
        | st.floats()
        | st.text()
        | st.sampled_from([e.value for e in EventType])
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
        ),
        max_leaves=max_leaves,
    )
