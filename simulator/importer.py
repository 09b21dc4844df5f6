"""The file-import watcher: applies `*_contacts.xml`, `*_transactions.xml` and
`*_promotion-redemptions.xml` files dropped in the import folder, then deletes them.

Files belong to an API key by folder (`simulator.tenancy`): the import folder itself and its upload
sub-folders (`transactionImport`, `contactImport`, `promotionRedemptionImport`, where the relay
uploads) are the default key's; `tenants/<key id>/` and its sub-folders are that key's.

Parsing is `simulator.import_files`' job (pure functions, run in a worker thread); applying goes
through the same functions as the API (`contacts`, `receipts.apply_receipt`, `loyalty`), on the
event loop. Each file adds one entry to its key's `state.imports`:
`{file, folder, kind, records, applied, skipped, errors: [{index, errorCode, message}], at}`
(`folder` relative to the import folder, "." for the folder itself).
A file-level error (`ImportFileError`) skips the whole file, which is still deleted, as Engage does.
Temporary names (dotfiles, `*.part`, `*.tmp`; `import_files.is_complete_name`) are left alone.
Contacts: `contactId` patches that contact; otherwise a contact with the type's key is patched,
or a new one is created (new GUID). Receipts for unknown contacts and duplicates are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import structlog

from simulator import contacts, import_files, loyalty
from simulator.context import Sim
from simulator.errors import ApiError
from simulator.import_files import ImportFileError, ImportKind, ParsedRecord, is_complete_name, kind_of
from simulator.receipts import apply_receipt
from simulator.state import SimState, now_iso
from simulator.switches import DEFAULT_SWITCHES, Switches
from simulator.tenancy import import_folders

Parser = Callable[[Path], Iterable[ParsedRecord]]
IMPORT_ORDER = ("contacts", "transactions", "promotion-redemptions")
"""One pass applies contacts files first, then receipts, then redemptions [inferred: Voyado does not say]."""

log = structlog.get_logger("simulator.import")


def file_kind(path: Path) -> ImportKind | None:
    """The import kind of a complete file name, None for anything else (temp names included)."""
    if not is_complete_name(path.name) or not path.is_file():
        return None
    return kind_of(path)


def default_parsers() -> dict[str, Parser]:
    return {
        "contacts": import_files.parse_contacts_file,
        "transactions": import_files.parse_transactions_file,
        "promotion-redemptions": import_files.parse_redemptions_file,
    }


def jsonable(value: Any) -> Any:
    """Parsed values as the API would have them: Decimals become floats."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def _apply_contact(state: SimState, record: dict[str, Any]) -> None:
    meta = {k: record.get(k) for k in ("contactId", "source", "storeExternalId", "createAsUnapproved")}
    body = {k: v for k, v in record.items() if k not in meta}
    if meta["contactId"]:
        contacts.patch_contact(state, contacts.get_contact(state, str(meta["contactId"])), body)
        return
    ctype = contacts.contact_type(state, body.get("contactType"))
    key_value = body.get(ctype.key)
    found = contacts.find_by(state, ctype.key, str(key_value), ctype.name) if key_value else []
    if len(found) == 1:
        contacts.patch_contact(state, found[0], body)
        return
    contacts.create_contact(
        state,
        body,
        source=meta["source"] or "import",
        store_external_id=meta["storeExternalId"],
        unapproved=bool(meta["createAsUnapproved"]),
    )


def _contact_of(state: SimState, match: Any) -> str:
    found = (
        contacts.find_by_match_key(state, str(match.get("matchKeyType", "")), str(match.get("matchKey", "")))
        if isinstance(match, dict)
        else []
    )
    if len(found) != 1:
        raise ApiError(404, "ContactNotFound", "The redemption's contact is not found")
    return found[0].id


def _apply_redemption(state: SimState, record: dict[str, Any]) -> None:
    if record.get("kind") == "rewardVoucher":
        voucher_id = record.get("voucherId")
        if not voucher_id:
            number = record.get("voucherNumber")
            voucher_id = next(
                (v["id"] for v in state.vouchers.values() if v.get("voucherNumber") == number), None
            )
        if not voucher_id:
            raise ApiError(404, "RewardVoucherNotFound", "No reward voucher with this number")
        loyalty.redeem_voucher(state, str(voucher_id), "OTHER")
        return
    assignment_id = record.get("assignmentId")
    if not assignment_id:
        contact_id = _contact_of(state, record.get("contact"))
        held = [
            a
            for a in loyalty.promotions_for(state, contact_id)
            if a["promotionId"] == record.get("promotionId") and not a["redeemed"]
        ]
        if not held:
            raise ApiError(404, "PromotionNotFound", "No unredeemed assignment for this contact")
        assignment_id = held[0]["id"]
    loyalty.redeem_promotion(state, str(assignment_id), record.get("redemptionChannel"))


def apply_record(
    state: SimState, kind: str, record: dict[str, Any], switches: Switches = DEFAULT_SWITCHES
) -> bool:
    """Apply one record; True when it changed the state, False when it was ignored."""
    if kind == "contacts":
        _apply_contact(state, record)
        return True
    if kind == "transactions":
        totals = switches.receipt_totals_must_add_up
        return apply_receipt(state, record, via="import", totals_must_add_up=totals) == "stored"
    _apply_redemption(state, record)
    return True


def apply_file(
    state: SimState, path: Path, kind: str, records: list[ParsedRecord], switches: Switches = DEFAULT_SWITCHES
) -> dict[str, Any]:
    """Apply parsed records; returns the import-log entry."""
    entry: dict[str, Any] = {"file": path.name, "folder": "", "kind": kind, "records": len(records)}
    entry["applied"] = 0
    errors: list[dict[str, Any]] = []
    for parsed in records:
        if parsed.errors or parsed.data is None:
            message = "; ".join(parsed.errors) or "record could not be read"
            errors.append({"index": parsed.index, "errorCode": "ParseError", "message": message})
            continue
        try:
            applied = apply_record(state, kind, jsonable(parsed.data), switches)
        except ApiError as exc:
            details = exc.details.get("errors") if exc.details else None
            message = "; ".join(f"{e['field']}: {e['message']}" for e in details) if details else exc.message
            errors.append({"index": parsed.index, "errorCode": exc.error_code, "message": message})
            continue
        entry["applied"] += 1 if applied else 0
    entry.update(skipped=len(records) - entry["applied"], errors=errors, at=now_iso())
    return entry


class ImportWatcher:
    """A periodic task that applies complete import files in name order and deletes them."""

    def __init__(
        self, sim: Sim, folder: Path, interval_s: float, parsers: Mapping[str, Parser] | None = None
    ) -> None:
        self.sim, self.folder, self.interval_s = sim, folder, interval_s
        self._parsers = parsers
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self.scan_once()
            except Exception:  # the watcher must outlive any one bad file
                log.exception("sim.import.scan_failed")
            await asyncio.sleep(self.interval_s)

    async def scan_once(self) -> list[dict[str, Any]]:
        """Apply every complete file now, key by key; returns the new import-log entries."""
        by_key: dict[str, list[tuple[str, Path]]] = {}
        for key, folder in import_folders(self.folder, self.sim.config.api_keys):
            for path in folder.iterdir():
                kind = file_kind(path)
                if kind is not None:
                    by_key.setdefault(key, []).append((kind, path))
        entries = []
        for key, found in by_key.items():
            # Contacts first: a receipt for a contact that the same pass creates must find it [inferred].
            for kind_found, path in sorted(found, key=lambda f: (IMPORT_ORDER.index(f[0]), f[1].name)):
                entries.append(await self._import(self.sim.state_for(key), path, kind_found))
        return entries

    async def _import(self, state: SimState, path: Path, kind: str) -> dict[str, Any]:
        parsers = self._parsers if self._parsers is not None else default_parsers()
        parser = parsers.get(kind)
        try:
            if parser is None:
                raise ValueError(f"no parser for {kind} files")
            records = await asyncio.to_thread(lambda: list(parser(path)))
        except (ImportFileError, ValueError, OSError) as exc:
            entry: dict[str, Any] = {
                "file": path.name,
                "folder": "",
                "kind": kind,
                "records": 0,
                "applied": 0,
                "skipped": 0,
                "errors": [{"index": None, "errorCode": "FileError", "message": str(exc)}],
                "at": now_iso(),
            }
        else:
            entry = apply_file(state, path, kind, records, self.sim.switches)
        entry["folder"] = str(path.parent.relative_to(self.folder))
        path.unlink(missing_ok=True)
        state.imports.append(entry)
        log.info(
            "sim.import.applied",
            **{k: v for k, v in entry.items() if k != "errors"},
            errors=len(entry["errors"]),
        )
        return entry
