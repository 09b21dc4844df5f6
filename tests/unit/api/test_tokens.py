"""API tokens, one body for the in-memory store and for Redis: created, listed, revoked, checked."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from api.tokens import (
    DEFAULT_KEY_PREFIX,
    LAST_USED_RESOLUTION_S,
    MAX_NAME_CHARS,
    TOKEN_PATTERN,
    ApiTokens,
    MemoryTokenStore,
    RedisTokenStore,
    StoredToken,
    TokenIdTaken,
    TokenInfo,
    TokenScope,
    TokenStore,
    token_id_of,
)

START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tokens(token_store: TokenStore, clock: FakeClock) -> ApiTokens:
    return ApiTokens(token_store, clock=clock)


# -- creation and the token's form -------------------------------------------------------------------------


def test_a_new_token_is_recognisable_and_names_its_id(tokens: ApiTokens) -> None:
    # When a tenant token is created
    new = tokens.create_for_tenant("acme-se checkout", "acme-se")
    # Then its raw form matches the published pattern and carries its id
    assert re.fullmatch(TOKEN_PATTERN, new.raw)
    assert new.raw.startswith(f"er_{new.info.token_id}_")
    assert token_id_of(new.raw) == new.info.token_id
    assert new.info == TokenInfo(new.info.token_id, "acme-se checkout", "acme-se", created_at=START)


def test_a_new_tokens_repr_and_str_show_only_its_id(tokens: ApiTokens) -> None:
    new = tokens.create_operator("ops")
    secret = new.raw.rsplit("_", 1)[1]
    for shown in (repr(new), str(new), f"{new}", repr([new])):
        assert secret not in shown
        assert new.info.token_id in shown


def test_every_token_is_different(tokens: ApiTokens) -> None:
    raws = {tokens.create_for_tenant(f"till {n}", "acme-se").raw for n in range(20)}
    assert len(raws) == 20


def test_the_store_keeps_a_sha256_digest_and_never_the_token(
    tokens: ApiTokens, token_store: TokenStore
) -> None:
    new = tokens.create_for_tenant("erp", "acme-se")
    stored = token_store.get(new.info.token_id)
    assert stored is not None
    assert stored.digest == hashlib.sha256(new.raw.encode()).hexdigest()
    secret = new.raw.rsplit("_", 1)[1]
    assert secret not in repr(token_store.all())
    assert secret not in repr(tokens.list())


@pytest.mark.parametrize("name", ["", "   ", "x" * (MAX_NAME_CHARS + 1), "tab\there", "new\nline"])
def test_a_token_needs_a_short_printable_name(tokens: ApiTokens, name: str) -> None:
    with pytest.raises(ValueError, match="token name"):
        tokens.create_for_tenant(name, "acme-se")


@pytest.mark.parametrize("tenant", ["", "acme se", " acme-se", "acme\x00se"])
def test_a_tenant_token_needs_a_tenant_name(tokens: ApiTokens, tenant: str) -> None:
    with pytest.raises(ValueError, match="tenant name"):
        tokens.create_for_tenant("erp", tenant)


def test_a_taken_id_is_refused_by_the_store(token_store: TokenStore) -> None:
    info = TokenInfo("0123456789abcdef", "one", "acme-se", created_at=START)
    token_store.add(StoredToken(info, "a" * 64))
    with pytest.raises(TokenIdTaken):
        token_store.add(StoredToken(TokenInfo("0123456789abcdef", "two", None, created_at=START), "b" * 64))
    assert token_store.get("0123456789abcdef") == StoredToken(info, "a" * 64)


# -- authentication ----------------------------------------------------------------------------------------


def test_a_tenant_token_sees_only_its_tenant(tokens: ApiTokens) -> None:
    new = tokens.create_for_tenant("checkout", "acme-se")
    scope = tokens.authenticate(new.raw)
    assert scope == TokenScope(new.info.token_id, "acme-se")
    assert not scope.is_operator
    assert scope.allows("acme-se")
    assert not scope.allows("acme-no")


def test_an_operator_token_sees_every_tenant(tokens: ApiTokens) -> None:
    scope = tokens.authenticate(tokens.create_operator("on-call").raw)
    assert scope is not None
    assert scope.is_operator
    assert scope.allows("acme-se")
    assert scope.allows("acme-no")


def test_anything_but_a_valid_token_is_refused(tokens: ApiTokens) -> None:
    new = tokens.create_for_tenant("checkout", "acme-se")
    other = tokens.create_for_tenant("pos", "acme-no")
    token_id, secret = new.raw[3:].split("_")
    other_id = other.info.token_id
    last = "A" if secret[-1] != "A" else "B"
    for candidate in [
        "",
        "er_",
        new.raw + "x",
        new.raw[:-1],
        " " + new.raw,
        new.raw.upper(),
        f"er_{token_id}_{secret[:-1]}{last}",  # the right id, a wrong secret
        f"er_{other_id}_{secret}",  # another token's id with this secret
        f"er_{'f' * 16}_{secret}",  # an unknown id
        f"Bearer {new.raw}",
    ]:
        assert tokens.authenticate(candidate) is None, candidate


def test_unknown_ids_are_compared_in_constant_time_too(
    tokens: ApiTokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a spy on the digest comparison
    compared: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr("api.tokens.hmac.compare_digest", spy)
    new = tokens.create_for_tenant("checkout", "acme-se")
    # When a known token, a wrong secret and an unknown id are presented
    tokens.authenticate(new.raw)
    tokens.authenticate(new.raw[:-1] + ("A" if new.raw[-1] != "A" else "B"))
    tokens.authenticate(f"er_{'f' * 16}_{new.raw[-43:]}")
    # Then each went through one constant-time comparison of two full digests
    assert len(compared) == 3
    assert all(len(a) == len(b) == 64 for a, b in compared)


@given(position=st.integers(min_value=0, max_value=62), replacement=st.characters(codec="ascii"))
def test_changing_any_one_character_refuses_the_token(position: int, replacement: str) -> None:
    tokens = ApiTokens(MemoryTokenStore())
    new = tokens.create_for_tenant("checkout", "acme-se")
    if new.raw[position] == replacement:
        return
    tampered = new.raw[:position] + replacement + new.raw[position + 1 :]
    assert tokens.authenticate(tampered) is None


def test_a_revoked_token_is_refused_at_its_next_request(tokens: ApiTokens) -> None:
    # Given a token that works
    new = tokens.create_for_tenant("checkout", "acme-se")
    assert tokens.authenticate(new.raw) is not None
    # When it is revoked
    assert tokens.revoke(new.info.token_id) is True
    # Then it is refused, and listed as revoked
    assert tokens.authenticate(new.raw) is None
    info = tokens.get(new.info.token_id)
    assert info is not None
    assert info.revoked


def test_revoking_an_unknown_id_says_so_and_creates_nothing(
    tokens: ApiTokens, token_store: TokenStore
) -> None:
    assert tokens.revoke("0123456789abcdef") is False
    token_store.touch("0123456789abcdef", START)
    assert tokens.get("0123456789abcdef") is None
    assert tokens.list() == []


def test_last_used_is_written_at_most_once_per_resolution(tokens: ApiTokens, clock: FakeClock) -> None:
    # Given a token never used
    new = tokens.create_for_tenant("checkout", "acme-se")
    assert tokens.list()[0].last_used_at is None
    # When it is used, then used again within the resolution
    tokens.authenticate(new.raw)
    clock.advance(LAST_USED_RESOLUTION_S - 1)
    tokens.authenticate(new.raw)
    # Then the first use is what is recorded
    assert tokens.list()[0].last_used_at == START
    # And a use after the resolution is recorded
    clock.advance(1)
    tokens.authenticate(new.raw)
    assert tokens.list()[0].last_used_at == START + timedelta(seconds=LAST_USED_RESOLUTION_S)


def test_a_refused_token_is_not_marked_used(tokens: ApiTokens) -> None:
    new = tokens.create_for_tenant("checkout", "acme-se")
    tokens.revoke(new.info.token_id)
    tokens.authenticate(new.raw)
    assert tokens.list()[0].last_used_at is None


# -- listing -----------------------------------------------------------------------------------------------


def test_listing_is_oldest_first_and_filters_by_tenant(tokens: ApiTokens, clock: FakeClock) -> None:
    # Given tokens of two tenants and an operator, one revoked
    a = tokens.create_for_tenant("checkout", "acme-se")
    clock.advance(1)
    ops = tokens.create_operator("on-call")
    clock.advance(1)
    b = tokens.create_for_tenant("pos", "acme-no")
    clock.advance(1)
    c = tokens.create_for_tenant("erp", "acme-se")
    tokens.revoke(a.info.token_id)
    # Then every token is listed oldest first, revoked ones flagged
    listed = tokens.list()
    assert [info.token_id for info in listed] == [t.info.token_id for t in (a, ops, b, c)]
    assert [info.revoked for info in listed] == [True, False, False, False]
    assert listed[1].tenant is None
    assert listed[1].scope.is_operator
    # And one tenant's listing holds only its tokens
    assert [info.name for info in tokens.list(tenant="acme-se")] == ["checkout", "erp"]
    assert [info.name for info in tokens.list(tenant="acme-dk")] == []


# -- Redis specifics ---------------------------------------------------------------------------------------


def test_redis_keys_live_under_the_api_prefix_and_hold_no_secret(redis_client: redis.Redis) -> None:
    tokens = ApiTokens(RedisTokenStore(redis_client))
    new = tokens.create_for_tenant("checkout", "acme-se")
    tokens.authenticate(new.raw)
    keys = sorted(key.decode() for key in redis_client.scan_iter("*"))
    assert keys == [f"{DEFAULT_KEY_PREFIX}:{new.info.token_id}", f"{DEFAULT_KEY_PREFIX}:ids"]
    assert DEFAULT_KEY_PREFIX.startswith("engage:api:")
    values: dict[bytes, bytes] = redis_client.hgetall(f"{DEFAULT_KEY_PREFIX}:{new.info.token_id}")  # type: ignore[assignment]
    secret = new.raw.rsplit("_", 1)[1].encode()
    assert all(secret not in value for value in values.values())


def test_redis_ignores_a_hash_it_did_not_write(redis_client: redis.Redis) -> None:
    store = RedisTokenStore(redis_client)
    redis_client.hset(f"{DEFAULT_KEY_PREFIX}:0123456789abcdef", mapping={"name": "half"})
    redis_client.sadd(f"{DEFAULT_KEY_PREFIX}:ids", "0123456789abcdef")
    assert store.get("0123456789abcdef") is None
    assert store.all() == []
