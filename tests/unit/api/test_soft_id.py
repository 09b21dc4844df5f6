"""Soft identification: tokens built with Voyado's documented procedure, decoded or refused for a reason."""

from __future__ import annotations

import base64
import contextlib
import json
import string
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.soft_id import (
    DEFAULT_MAX_AGE_S,
    IV_BYTES,
    MAX_CLOCK_SKEW_S,
    MAX_TOKEN_CHARS,
    SharedKeyInvalid,
    SoftIdentity,
    SoftIdError,
    TokenContentInvalid,
    TokenExpired,
    TokenFromFuture,
    TokenMalformed,
    TokenUndecryptable,
    decode_token,
    encode_token,
    encrypt_plaintext,
)

# Voyado's documented example key and JSON (reference/engage-api.md section 2.15, verbatim).
DOC_KEY = "DaqfT7Ys6tGqM3zbesEKpmacTJEqBCp2"
DOC_JSON = """{
"contactId": "1c9b35d6-28d8-4520-8900-a89555f7f0c5",
"email": "example@example.com",
"dateTime": "2018-07-11T11:19:54Z",
"discoveryKey" : "6iub35d6-34d8-6666-8900-e89100f7f0c5"
}"""
DOC_CONTACT_ID = "1c9b35d6-28d8-4520-8900-a89555f7f0c5"
DOC_LINKED_AT = datetime(2018, 7, 11, 11, 19, 54, tzinfo=UTC)
# The documented example token; the key that made it is not published.
DOC_TOKEN = (
    "q6KCtl2WUiWxd5UzDMcfKNuZonZ6bVx7LZm2y8ctNJVJm4Oiyz339wWMIuVAzHIwikEdtDFYllMLwMhMZ4GTn55SBGjSn2ZQsDtC"
    "EDJ-zG7ptW6hC9n2UO2NVxaijERvURtBPFIE35EZPPSk_PAZHmQp72C0N6-h1xgfok9lb-9IV_hWorlegR8sD64p3SOy"
)
OTHER_KEY = "Zq8Lm2Nx4Pv6Rt0Bw3Yc5Hd7Jf9Kg1Sa"
NOW = datetime(2026, 11, 24, 10, 15, tzinfo=UTC)
CONTACT_ID = "2e40b702-2767-4abe-ae99-aa510108e22b"
EMAIL = "jane@example.com"
FIXED_IV = bytes(range(IV_BYTES))

keys = st.text(alphabet=string.ascii_letters + string.digits, min_size=32, max_size=32)


def fresh_token(key: str = DOC_KEY, *, age: timedelta = timedelta(hours=1), iv: bytes | None = None) -> str:
    return encode_token(key, contact_id=CONTACT_ID, linked_at=NOW - age, email=EMAIL, iv=iv)


def unb64(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def flip(raw: bytes, bit: int) -> bytes:
    flipped = bytearray(raw)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


# -- the documented format ---------------------------------------------------------------------------------


def test_voyados_documented_json_decodes_to_its_contact_and_link_time() -> None:
    # Given Voyado's documented JSON, encrypted as documented with the documented example key
    token = encrypt_plaintext(DOC_KEY, DOC_JSON.encode())
    # When it is decoded on the day the link was made
    identity = decode_token(token, DOC_KEY, now=DOC_LINKED_AT + timedelta(minutes=5))
    # Then it names the documented contact, link time and e-mail
    assert identity == SoftIdentity(DOC_CONTACT_ID, DOC_LINKED_AT, email="example@example.com")


def test_the_older_lower_case_contactid_spelling_is_read() -> None:
    token = encrypt_plaintext(DOC_KEY, DOC_JSON.replace('"contactId"', '"contactid"').encode())
    assert decode_token(token, DOC_KEY, now=DOC_LINKED_AT).contact_id == DOC_CONTACT_ID


def test_a_net_style_time_with_seven_fractional_digits_is_read() -> None:
    stamp = '"dateTime": "2018-07-11T11:19:54.1234567Z"'
    token = encrypt_plaintext(DOC_KEY, DOC_JSON.replace('"dateTime": "2018-07-11T11:19:54Z"', stamp).encode())
    linked_at = decode_token(token, DOC_KEY, now=DOC_LINKED_AT).linked_at
    assert linked_at == DOC_LINKED_AT.replace(microsecond=123456)


def test_encoded_tokens_are_iv_then_whole_blocks_in_url_safe_base64_without_padding() -> None:
    # Given a token made by the documented procedure with a known IV
    token = fresh_token(iv=FIXED_IV)
    # Then it is URL-safe, unpadded, starts with the IV, and is as long as Voyado's own example
    assert set(token) <= set(string.ascii_letters + string.digits + "-_")
    raw = unb64(token)
    assert raw[:IV_BYTES] == FIXED_IV
    assert (len(raw) - IV_BYTES) % 16 == 0
    # And the documented example's fields in compact JSON make a token exactly as long as Voyado's example
    example = encode_token(
        DOC_KEY, contact_id=DOC_CONTACT_ID, linked_at=DOC_LINKED_AT, email="example@example.com"
    )
    assert len(example) == len(DOC_TOKEN)


def test_two_tokens_for_the_same_contact_differ_by_their_fresh_iv() -> None:
    assert fresh_token() != fresh_token()


def test_voyados_example_token_is_well_formed_but_not_under_the_example_key() -> None:
    # The docs do not publish the key behind their example token: it passes every format check and then
    # refuses to decrypt, as a token under another tenant's key does.
    with pytest.raises(TokenUndecryptable):
        decode_token(DOC_TOKEN, DOC_KEY, now=DOC_LINKED_AT)


# -- good, wrong key, expired, from the future -------------------------------------------------------------


def test_a_fresh_token_names_its_contact() -> None:
    identity = decode_token(fresh_token(), DOC_KEY, now=NOW)
    assert identity.contact_id == CONTACT_ID
    assert identity.linked_at == NOW - timedelta(hours=1)
    assert identity.email == EMAIL


def test_an_identity_repr_leaves_the_email_out() -> None:
    assert EMAIL not in repr(decode_token(fresh_token(), DOC_KEY, now=NOW))


def test_a_token_under_another_tenants_key_is_undecryptable() -> None:
    with pytest.raises(TokenUndecryptable):
        decode_token(fresh_token(OTHER_KEY), DOC_KEY, now=NOW)


@given(key=keys)
def test_no_other_key_yields_a_contact(key: str) -> None:
    token = fresh_token(iv=FIXED_IV)
    if key == DOC_KEY:
        return
    with pytest.raises((TokenUndecryptable, TokenContentInvalid)):
        decode_token(token, key, now=NOW)


def test_the_default_max_age_accepts_up_to_and_refuses_beyond_it() -> None:
    max_age = timedelta(seconds=DEFAULT_MAX_AGE_S)
    assert decode_token(fresh_token(age=max_age - timedelta(seconds=1)), DOC_KEY, now=NOW)
    with pytest.raises(TokenExpired) as refused:
        decode_token(fresh_token(age=max_age + timedelta(seconds=1)), DOC_KEY, now=NOW)
    assert refused.value.max_age_s == DEFAULT_MAX_AGE_S
    assert refused.value.age_s == pytest.approx(DEFAULT_MAX_AGE_S + 1)


def test_a_tenants_shorter_max_age_refuses_an_older_link() -> None:
    token = fresh_token(age=timedelta(hours=2))
    assert decode_token(token, DOC_KEY, max_age_s=3 * 3600, now=NOW)
    with pytest.raises(TokenExpired):
        decode_token(token, DOC_KEY, max_age_s=3600, now=NOW)


def test_the_real_clock_is_used_when_now_is_not_given() -> None:
    token = encode_token(DOC_KEY, contact_id=CONTACT_ID, linked_at=datetime.now(UTC))
    assert decode_token(token, DOC_KEY).contact_id == CONTACT_ID
    with pytest.raises(TokenExpired):
        decode_token(fresh_token(age=NOW - datetime(2020, 1, 1, tzinfo=UTC)), DOC_KEY)


def test_clock_skew_is_tolerated_up_to_its_bound_and_no_further() -> None:
    assert decode_token(fresh_token(age=-timedelta(seconds=MAX_CLOCK_SKEW_S)), DOC_KEY, now=NOW)
    with pytest.raises(TokenFromFuture) as refused:
        decode_token(fresh_token(age=-timedelta(seconds=MAX_CLOCK_SKEW_S + 1)), DOC_KEY, now=NOW)
    assert refused.value.ahead_s == pytest.approx(MAX_CLOCK_SKEW_S + 1)


# -- malformed and invalid content -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not base64!",
        "abc+def/ghi",  # standard, not URL-safe, base64
        "A" * 41,  # a length no base64 text has
        b64(bytes(IV_BYTES)),  # an IV and no ciphertext
        b64(bytes(IV_BYTES + 20)),  # not whole AES blocks
        "A" * (MAX_TOKEN_CHARS + 4),
        "q6KC tl2W",
        "é" * 64,
    ],
)
def test_malformed_tokens_are_refused_before_decryption(token: str) -> None:
    with pytest.raises(TokenMalformed):
        decode_token(token, DOC_KEY, now=NOW)


def test_padding_may_be_present_or_absent() -> None:
    token = fresh_token()
    padded = token + "=" * (-len(token) % 4)
    assert decode_token(padded, DOC_KEY, now=NOW).contact_id == CONTACT_ID


@pytest.mark.parametrize(
    "plaintext",
    [
        '["1c9b35d6-28d8-4520-8900-a89555f7f0c5"]',
        '{"dateTime": "2018-07-11T11:19:54Z"}',
        '{"contactId": "not-a-guid", "dateTime": "2018-07-11T11:19:54Z"}',
        '{"contactId": 42, "dateTime": "2018-07-11T11:19:54Z"}',
        '{"contactId": {"a": 1}, "dateTime": "2018-07-11T11:19:54Z"}',
        '{"contactId": "1c9b35d6-28d8-4520-8900-a89555f7f0c5"}',
        '{"contactId": "1c9b35d6-28d8-4520-8900-a89555f7f0c5", "dateTime": "2018-07-11T11:19:54"}',
        '{"contactId": "1c9b35d6-28d8-4520-8900-a89555f7f0c5", "dateTime": "yesterday"}',
        '{"contactId": "1c9b35d6-28d8-4520-8900-a89555f7f0c5", "dateTime": "0001-01-01T00:00:00+01:00"}',
        '{"contactId": "1c9b35d6-28d8-4520-8900-a89555f7f0c5", "contactid": "2e40b702-2767-4abe-ae99-'
        'aa510108e22b", "dateTime": "2018-07-11T11:19:54Z"}',
    ],
)
def test_json_without_voyados_fields_is_invalid_content(plaintext: str) -> None:
    with pytest.raises(TokenContentInvalid):
        decode_token(encrypt_plaintext(DOC_KEY, plaintext.encode()), DOC_KEY, now=DOC_LINKED_AT)


@pytest.mark.parametrize("plaintext", [b"", b"not json", b"\xff\xfe\x00 binary", b'{"contactId": '])
def test_a_plaintext_that_is_not_json_is_undecryptable(plaintext: bytes) -> None:
    with pytest.raises(TokenUndecryptable):
        decode_token(encrypt_plaintext(DOC_KEY, plaintext), DOC_KEY, now=NOW)


@pytest.mark.parametrize("key", ["", "short", DOC_KEY + "x", DOC_KEY[:-1] + "-", DOC_KEY[:-1] + "é"])
def test_a_shared_key_that_is_not_32_alphanumerics_is_a_configuration_fault(key: str) -> None:
    with pytest.raises(SharedKeyInvalid) as refused:
        decode_token(fresh_token(), key, now=NOW)
    assert not isinstance(refused.value, SoftIdError)
    assert key not in str(refused.value) or not key
    with pytest.raises(SharedKeyInvalid):
        encode_token(key, contact_id=CONTACT_ID, linked_at=NOW)


def test_naive_times_are_refused_by_the_helpers() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        encode_token(DOC_KEY, contact_id=CONTACT_ID, linked_at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        decode_token(fresh_token(), DOC_KEY, now=datetime(2026, 1, 1))


# -- tampering ---------------------------------------------------------------------------------------------


def outcomes_of_every_bit_flip(token: str, key: str, now: datetime) -> dict[int, str | type[SoftIdError]]:
    """For each bit of the token's bytes: the contact id its flipped token yields, or the refusal."""
    raw = unb64(token)
    outcomes: dict[int, str | type[SoftIdError]] = {}
    for bit in range(len(raw) * 8):
        try:
            outcomes[bit] = decode_token(b64(flip(raw, bit)), key, now=now).contact_id
        except SoftIdError as refused:
            outcomes[bit] = type(refused)
    return outcomes


def test_with_the_documented_layout_no_bit_flip_anywhere_yields_another_contact() -> None:
    # Given a token of the documented JSON, whose first 16 bytes ('{\n"contactId": "') end before the id
    token = encrypt_plaintext(DOC_KEY, DOC_JSON.encode(), iv=FIXED_IV)
    # When each of its 1,152 bits is flipped in turn
    outcomes = outcomes_of_every_bit_flip(token, DOC_KEY, DOC_LINKED_AT)
    # Then every flip is refused, but for the IV flips that change the letter case of "contactId"
    # (bytes 3 to 11), which still name the same contact
    assert set(outcomes.values()) - {DOC_CONTACT_ID} <= {TokenUndecryptable, TokenContentInvalid}
    same = {bit for bit, outcome in outcomes.items() if outcome == DOC_CONTACT_ID}
    assert same == {8 * position + 5 for position in range(3, 12)}


def test_with_compact_json_only_iv_flips_on_the_ids_first_two_characters_go_unnoticed() -> None:
    # Given a token of compact JSON: '{"contactId":"' is 14 bytes, so the IV's last two bytes lie over the
    # contact id's first two characters (AES-CBC without a MAC: an IV flip changes plaintext block 1 only)
    token = fresh_token(iv=FIXED_IV)
    # When each bit is flipped in turn
    outcomes = outcomes_of_every_bit_flip(token, DOC_KEY, NOW)
    # Then any other contact id comes only from those two IV bytes, and differs only in those two characters
    others = {bit: found for bit, found in outcomes.items() if isinstance(found, str) and found != CONTACT_ID}
    assert others
    assert {bit // 8 for bit in others} <= {14, 15}
    assert all(str(outcome)[2:] == CONTACT_ID[2:] for outcome in others.values())
    # And flips anywhere after the IV never name anyone else
    after_iv = {outcome for bit, outcome in outcomes.items() if bit >= IV_BYTES * 8}
    assert after_iv - {CONTACT_ID} <= {TokenUndecryptable, TokenContentInvalid, TokenExpired, TokenFromFuture}


@settings(max_examples=300)
@given(position=st.integers(min_value=IV_BYTES, max_value=143), value=st.integers(0, 255))
def test_no_byte_after_the_iv_can_be_replaced_to_name_another_contact(position: int, value: int) -> None:
    raw = bytearray(unb64(fresh_token(iv=FIXED_IV)))
    raw[position] = value
    with contextlib.suppress(SoftIdError):
        assert decode_token(b64(bytes(raw)), DOC_KEY, now=NOW).contact_id == CONTACT_ID


def test_truncated_or_extended_tokens_are_refused() -> None:
    raw = unb64(fresh_token())
    for tampered in (raw[:-16], raw[16:], raw + raw[-16:], raw[:IV_BYTES] + raw[32:]):
        with pytest.raises(SoftIdError):
            decode_token(b64(tampered), DOC_KEY, now=NOW)


# -- properties --------------------------------------------------------------------------------------------


@given(
    key=keys,
    contact=st.uuids(),
    age_s=st.integers(min_value=-MAX_CLOCK_SKEW_S, max_value=DEFAULT_MAX_AGE_S),
    email=st.none() | st.text(min_size=1, max_size=60),  # any text: the JSON escaping round-trips
)
def test_every_token_made_by_the_procedure_decodes_to_what_went_in(
    key: str, contact: uuid.UUID, age_s: int, email: str | None
) -> None:
    linked_at = NOW - timedelta(seconds=age_s)
    token = encode_token(key, contact_id=str(contact), linked_at=linked_at, email=email)
    assert decode_token(token, key, now=NOW) == SoftIdentity(str(contact), linked_at, email)


@given(token=st.text(max_size=300) | st.binary(min_size=0, max_size=200).map(b64))
def test_any_input_is_decoded_or_refused_with_a_soft_id_error(token: str) -> None:
    with contextlib.suppress(SoftIdError):  # any other exception fails the test
        decode_token(token, DOC_KEY, now=NOW)


def test_no_refusal_message_holds_the_key_the_token_or_what_it_decrypts_to() -> None:
    token = fresh_token()
    raw = unb64(token)
    attempts = [
        (token, OTHER_KEY, NOW),
        (token, DOC_KEY, NOW + timedelta(days=30)),
        (token, DOC_KEY, NOW - timedelta(days=1)),
        (token[:-3], DOC_KEY, NOW),
        (b64(flip(raw, 8 * 40)), DOC_KEY, NOW),
        (encrypt_plaintext(DOC_KEY, json.dumps({"contactId": EMAIL}).encode()), DOC_KEY, NOW),
    ]
    for candidate, key, now in attempts:
        with pytest.raises(SoftIdError) as refused:
            decode_token(candidate, key, now=now)
        text = f"{refused.value} {refused.value!r} {refused.value.args}"
        for secret in (key, DOC_KEY, OTHER_KEY, candidate, CONTACT_ID, EMAIL):
            assert secret not in text
        # and no chained exception carries decrypted bytes into a traceback
        assert refused.value.__cause__ is None
        assert refused.value.__context__ is None or refused.value.__suppress_context__
