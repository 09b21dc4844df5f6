"""Each API key is its own Engage: how a key is named without showing it, and where its import files go.

Voyado gives each tenant its own Engage and its own FTP account; the simulator gives each API key its
own state (contacts, receipts, orders, stores, promotions, vouchers, bulk batches, tracking, imports).

The import folder (`--import-dir DIR`):
- `DIR/` and its upload sub-folders belong to the default key (the first `--api-key`);
- `DIR/tenants/<key id>/` and its upload sub-folders belong to that key (every key, the default too).
The upload sub-folders are the ones the relay uploads into (`fallback.outbox.REMOTE_SUBDIR_BY_KIND`;
a unit test keeps the two lists equal, since the simulator imports nothing of the relay's).
A key id is the first hex characters of the key's SHA-256: stable, and no secret in a path or a log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

KEY_ID_HEX_CHARS: Final = 12
TENANTS_FOLDER: Final = "tenants"
IMPORT_SUBDIRS: Final[tuple[str, ...]] = ("transactionImport", "contactImport", "promotionRedemptionImport")
"""Where the relay uploads transactions, contacts and promotion-redemption files under its remote folder."""


def key_id(api_key: str) -> str:
    """A stable, non-secret name for an API key."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:KEY_ID_HEX_CHARS]


def tenant_folder(api_key: str) -> Path:
    """The key's own import folder, relative to the import folder."""
    return Path(TENANTS_FOLDER) / key_id(api_key)


def import_folders(root: Path, api_keys: Sequence[str]) -> Iterator[tuple[str, Path]]:
    """Every (API key, folder) the watcher scans: the root for the default key, then each key's own,
    each with its upload sub-folders. Folders that do not exist are left out."""
    bases = [(api_keys[0], root)] if api_keys else []
    bases += [(key, root / tenant_folder(key)) for key in api_keys]
    for key, base in bases:
        for folder in (base, *(base / sub for sub in IMPORT_SUBDIRS)):
            if folder.is_dir():
                yield key, folder
