"""Soft identification: decode Voyado's ``eclub`` e-mail link token into a contact and its link time.

Voyado's procedure (``reference/engage-api.md`` section 2.15; e-com guide section 8), marked [doc] where
Voyado states it and [inferred] where this module had to decide:

1. build the JSON ``{"contactId": "<guid>", "email": "...", "dateTime": "2018-07-11T11:19:54Z", ...}`` [doc];
2. encrypt it with AES-256 in CBC mode under the tenant's shared key, a fresh random 16-byte IV per
   message [doc], PKCS#7 padding [inferred: Voyado does not say; it is the .NET default];
3. concatenate IV and ciphertext [doc];
4. Base64-encode and make it URL-safe: ``+`` -> ``-``, ``/`` -> ``_``, padding stripped [doc].

The shared key is 32 characters a-z, A-Z, 0-9 [doc]; its 32 ASCII bytes are the AES-256 key, no KDF
[inferred: none is mentioned]. In the JSON, ``contactId`` is also spelled ``contactid`` by older docs [doc],
so both field names are matched case-insensitively [inferred]; ``dateTime`` is the link's creation time [doc]
and must carry a UTC offset, as the documented ``Z`` does (a time without one is refused rather than
guessed) [inferred]; ``contactId`` must be a GUID, as every documented contact id is [inferred]; other
fields (``email``, ``discoveryKey``, ``id``) are optional; only ``email`` is kept.

Public API:

- ``decode_token(token, shared_key, *, max_age_s=DEFAULT_MAX_AGE_S, now=None) -> SoftIdentity``;
- ``SoftIdentity(contact_id, linked_at, email)``: frozen; its repr leaves the e-mail out;
- the error tree, one class per reason (``reason`` is a stable code for logs and metrics)::

      SoftIdError                  the token identifies nobody
      ├── TokenMalformed               not URL-safe base64, or not IV + whole AES blocks    "malformed"
      ├── TokenUndecryptable           bad padding, not UTF-8, not JSON: wrong key/tampered "undecryptable"
      ├── TokenContentInvalid          JSON, but not Voyado's fields (contactId, dateTime)  "content_invalid"
      ├── TokenExpired                 linked longer ago than ``max_age_s``                 "expired"
      └── TokenFromFuture              linked later than now + ``MAX_CLOCK_SKEW_S``         "from_future"

  and ``SharedKeyInvalid`` (a ``ValueError``, not a ``SoftIdError``): the tenant's key itself is not
  32 characters a-z, A-Z, 0-9, a configuration fault rather than a bad token. No message holds the key, the
  token, or anything decrypted from it;
- ``encode_token(shared_key, *, contact_id, linked_at, email=None, iv=None) -> str`` and
  ``encrypt_plaintext(shared_key, plaintext, *, iv=None) -> str``: Voyado's side of the procedure, for
  tests and the demo;
- constants ``SHARED_KEY_CHARS``, ``IV_BYTES``, ``DEFAULT_MAX_AGE_S``, ``MAX_CLOCK_SKEW_S``,
  ``MAX_TOKEN_CHARS``.

What AES-CBC without a MAC (Voyado's format) cannot guarantee: a bit flipped in ciphertext block *n*
garbles plaintext block *n* and flips the same bit of block *n + 1*, which padding, JSON, GUID and time
checks refuse in practice; but a bit flipped in the IV flips the same bit of plaintext block 1 and garbles
nothing, so the first 16 plaintext bytes are malleable and no decoder can notice. With the documented layout
(``{\\n"contactId": "`` is exactly 16 bytes) the contact id starts in block 2, out of reach; with compact
JSON (``{"contactId":"``, 14 bytes) its first two characters are reachable, and a flip can turn them into
other hex digits. A caller that acts on the identity beyond greeting should therefore check the token's
``email`` against the contact's. For the same reason the HTTP layer must answer every ``SoftIdError`` but
``TokenExpired`` and ``TokenFromFuture`` with one and the same answer: telling a padding error from a JSON
error would be a padding oracle, which decrypts tokens and forges new ones.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SHARED_KEY_CHARS = 32
"""Voyado's shared key: 32 characters a-z, A-Z, 0-9, whose ASCII bytes are the AES-256 key."""
IV_BYTES = 16
"""A fresh IV per token, sent before the ciphertext (AES's block size)."""
DEFAULT_MAX_AGE_S = 14 * 24 * 3600
"""Our choice, not Voyado's: a campaign gets nearly all its clicks within days; two weeks keeps late
readers, while a forwarded or leaked link stops identifying anyone after that."""
MAX_CLOCK_SKEW_S = 300
"""A link time this far ahead of our clock is tolerated as clock drift between Voyado and us."""
MAX_TOKEN_CHARS = 4096
"""Longer tokens are refused before any decoding work (Voyado's are a few hundred characters)."""

_BLOCK_BYTES = algorithms.AES.block_size // 8
_SHARED_KEY_RE = re.compile(rf"[A-Za-z0-9]{{{SHARED_KEY_CHARS}}}")
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CONTACT_ID_FIELD = "contactid"
_DATETIME_FIELD = "datetime"
_EMAIL_FIELD = "email"


class SoftIdError(Exception):
    """A token that identifies nobody. ``reason`` is a stable code; messages never hold token contents."""

    reason: ClassVar[str] = "invalid"


class TokenMalformed(SoftIdError):
    """Not URL-safe base64, or its bytes are not an IV followed by whole AES blocks."""

    reason: ClassVar[str] = "malformed"


class TokenUndecryptable(SoftIdError):
    """The bytes do not decrypt to JSON under this key: a wrong key, or a tampered token."""

    reason: ClassVar[str] = "undecryptable"


class TokenContentInvalid(SoftIdError):
    """The token decrypts to JSON, but not with Voyado's fields (a GUID ``contactId``, a ``dateTime``)."""

    reason: ClassVar[str] = "content_invalid"


class TokenExpired(SoftIdError):
    """The link was made longer ago than the tenant allows."""

    reason: ClassVar[str] = "expired"

    def __init__(self, age_s: float, max_age_s: float) -> None:
        super().__init__(f"soft-identification token is older than the max age of {max_age_s:g} s")
        self.age_s = age_s
        self.max_age_s = max_age_s


class TokenFromFuture(SoftIdError):
    """The link time lies further ahead of our clock than ``MAX_CLOCK_SKEW_S``."""

    reason: ClassVar[str] = "from_future"

    def __init__(self, ahead_s: float) -> None:
        super().__init__(f"soft-identification token is dated more than {MAX_CLOCK_SKEW_S} s in the future")
        self.ahead_s = ahead_s


class SharedKeyInvalid(ValueError):
    """The tenant's shared key is not 32 characters a-z, A-Z, 0-9 (a configuration fault)."""

    def __init__(self) -> None:
        super().__init__(f"a soft-identification shared key is {SHARED_KEY_CHARS} characters a-z, A-Z, 0-9")


@dataclass(frozen=True)
class SoftIdentity:
    """Who a valid token names, and when Voyado made the link (timezone-aware, UTC)."""

    contact_id: str
    linked_at: datetime
    email: str | None = field(default=None, repr=False)


def decode_token(
    token: str, shared_key: str, *, max_age_s: float = DEFAULT_MAX_AGE_S, now: datetime | None = None
) -> SoftIdentity:
    """The identity an ``eclub`` token carries, or a ``SoftIdError`` saying why there is none."""
    if now is not None and now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    key = _aes_key(shared_key)  # a bad key is a configuration fault, whatever the token
    raw = _unbase64(token)
    iv, ciphertext = raw[:IV_BYTES], raw[IV_BYTES:]
    decryptor = _aes_cbc(key, iv).decryptor()
    unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
    try:
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        plaintext = unpadder.update(padded) + unpadder.finalize()
        document = json.loads(plaintext.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):  # bad padding, bad UTF-8 and bad JSON are all ValueErrors
        raise TokenUndecryptable(
            "soft-identification token does not decrypt under this tenant's key (wrong key or tampered)"
        ) from None
    identity = _identity(document)
    _check_age(identity.linked_at, max_age_s, now or datetime.now(UTC))
    return identity


def encode_token(
    shared_key: str,
    *,
    contact_id: str,
    linked_at: datetime,
    email: str | None = None,
    iv: bytes | None = None,
) -> str:
    """A token as Voyado builds one: the documented JSON, encrypted, IV first, URL-safe base64."""
    if linked_at.utcoffset() is None:
        raise ValueError("linked_at must be timezone-aware")
    document: dict[str, str] = {"contactId": contact_id}
    if email is not None:
        document["email"] = email
    document["dateTime"] = linked_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return encrypt_plaintext(shared_key, json.dumps(document, separators=(",", ":")).encode(), iv=iv)


def encrypt_plaintext(shared_key: str, plaintext: bytes, *, iv: bytes | None = None) -> str:
    """Steps 2 to 4 of Voyado's procedure for any plaintext (tests use it on the documented JSON)."""
    key = _aes_key(shared_key)
    iv = os.urandom(IV_BYTES) if iv is None else iv
    if len(iv) != IV_BYTES:
        raise ValueError(f"an IV is {IV_BYTES} bytes")
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = _aes_cbc(key, iv).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    return base64.urlsafe_b64encode(iv + ciphertext).rstrip(b"=").decode("ascii")


def _aes_key(shared_key: str) -> bytes:
    if not _SHARED_KEY_RE.fullmatch(shared_key):
        raise SharedKeyInvalid
    return shared_key.encode("ascii")


def _aes_cbc(key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def _unbase64(token: str) -> bytes:
    if len(token) > MAX_TOKEN_CHARS or not _TOKEN_RE.fullmatch(token):
        raise TokenMalformed("soft-identification token is not URL-safe base64")
    unpadded = token.rstrip("=")
    if len(unpadded) % 4 == 1:
        raise TokenMalformed("soft-identification token is not URL-safe base64")
    try:
        raw = base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        raise TokenMalformed("soft-identification token is not URL-safe base64") from None
    if len(raw) < IV_BYTES + _BLOCK_BYTES or (len(raw) - IV_BYTES) % _BLOCK_BYTES:
        raise TokenMalformed("soft-identification token is not an IV followed by whole AES blocks")
    return raw


def _identity(document: object) -> SoftIdentity:
    if not isinstance(document, dict):
        raise TokenContentInvalid("soft-identification token does not hold a JSON object")
    contact_id = _field(document, _CONTACT_ID_FIELD)
    if contact_id is None or not _GUID_RE.fullmatch(contact_id):
        raise TokenContentInvalid("soft-identification token holds no GUID contactId")
    stamp = _field(document, _DATETIME_FIELD)
    linked_at = _parse_time(stamp) if stamp is not None else None
    if linked_at is None:
        raise TokenContentInvalid("soft-identification token holds no dateTime with a UTC offset")
    email = _field(document, _EMAIL_FIELD)
    return SoftIdentity(contact_id=contact_id, linked_at=linked_at, email=email or None)


def _field(document: dict[str, Any], folded_name: str) -> str | None:
    """The one string value whose key matches case-insensitively; two different values are refused."""
    values = [value for key, value in document.items() if key.casefold() == folded_name]
    if any(not isinstance(value, str) for value in values) or len(set(values)) > 1:
        raise TokenContentInvalid("soft-identification token holds conflicting or non-string fields")
    return values[0] if values else None


def _parse_time(stamp: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(stamp)
        return parsed.astimezone(UTC) if parsed.utcoffset() is not None else None
    except (ValueError, OverflowError):  # not ISO 8601, or out of datetime's range once in UTC
        return None


def _check_age(linked_at: datetime, max_age_s: float, now: datetime) -> None:
    age_s = (now - linked_at).total_seconds()
    if age_s > max_age_s:
        raise TokenExpired(age_s=age_s, max_age_s=max_age_s)
    if -age_s > MAX_CLOCK_SKEW_S:
        raise TokenFromFuture(ahead_s=-age_s)
