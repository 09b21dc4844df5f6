"""Streaming writers for the Voyado XML import files.

Lifecycle (as singer-sdk batch sinks): ``start()``, ``add(record)`` until ``is_full``,
then ``close()`` (which flushes and publishes the file and returns its path) or
``abort()``. Also a context manager: ``with TransactionsFileWriter(folder, seq=1) as w``
closes on success and aborts on an exception.

- Each record is checked and turned into its markup (a string) first and only then
  appended to the file, so a bad record raises :class:`RecordError` and leaves the file
  untouched; memory stays flat however many files are written (the file's own buffer,
  :data:`WRITE_BUFFER_BYTES`, is all a writer holds).
- Receipts go through a compiled plan (:mod:`~fallback.xmlfiles.plans`), the other kinds
  through their element tree and :func:`~fallback.xmlfiles.markup.node_xml`; both write
  what lxml's serialiser would, and every file is validated against its XSD with lxml
  before upload (``fallback.outbox``).
- A file is written under a hidden temporary name in the target folder
  (``.{final name}.{random}.part``), fsynced, then published under its final name in one
  atomic step that never overwrites an existing file.
- UTF-8 with an XML declaration, one record per line, at most ``max_records`` records
  (:data:`MAX_RECORDS_PER_FILE`, Voyado's recommendation).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar, Final, Self

from fallback.xmlfiles.contacts import render_contact
from fallback.xmlfiles.markup import node_xml
from fallback.xmlfiles.naming import FileKind, build_file_name, check_seq
from fallback.xmlfiles.plans import compile_record
from fallback.xmlfiles.records import RECEIPT, Node, render_receipt
from fallback.xmlfiles.redemptions import REDEMPTIONS_NAMESPACE, render_redemption
from fallback.xmlfiles.values import RecordError

MAX_RECORDS_PER_FILE: Final = 20_000
CONTACTS_NAMESPACE: Final = "http://eClub.Schemas.ImportContact"
TRANSACTIONS_NAMESPACE: Final = "http://voyado.Schemas.ImportReceipts"
XML_DECLARATION: Final = b'<?xml version="1.0" encoding="utf-8"?>\n'
TEMP_SUFFIX: Final = ".part"
WRITE_BUFFER_BYTES: Final = 1 << 20


class BatchFullError(RuntimeError):
    """``add`` was called on a writer that already holds ``max_records`` records."""


class XmlBatchWriter(ABC):
    """One import file, written record by record. Subclasses fix the format."""

    kind: ClassVar[FileKind]
    namespace: ClassVar[str]
    root_tag: ClassVar[str]

    def __init__(
        self,
        folder: Path,
        seq: str | int,
        *,
        max_records: int = MAX_RECORDS_PER_FILE,
        now: datetime | None = None,
    ) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.folder = Path(folder)
        self.max_records = max_records
        self.name = build_file_name(self.kind, check_seq(seq), now or datetime.now(UTC))
        self.path = self.folder / self.name
        self.temp_path = self.folder / f".{self.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        self.count = 0
        self._file: IO[bytes] | None = None

    @property
    def is_full(self) -> bool:
        return self.count >= self.max_records

    @property
    def is_open(self) -> bool:
        return self._file is not None

    @staticmethod
    @abstractmethod
    def render(record: Mapping[str, Any]) -> Node:
        """Record -> element tree; raises RecordError."""

    @staticmethod
    @abstractmethod
    def to_xml(record: Mapping[str, Any]) -> str:
        """Record -> the markup of its element, as lxml would serialise ``render(record)``; raises
        RecordError."""

    def start(self) -> None:
        """Create the temporary file and open the root element."""
        if self._file is not None:
            raise RuntimeError("writer already started")
        self.folder.mkdir(parents=True, exist_ok=True)
        file = self.temp_path.open("xb", buffering=WRITE_BUFFER_BYTES)
        try:
            file.write(XML_DECLARATION + f'<{self.root_tag} xmlns="{self.namespace}">\n'.encode())
        except BaseException:
            file.close()
            self.temp_path.unlink(missing_ok=True)
            raise
        self._file = file

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one record; RecordError leaves the file as it was."""
        if self._file is None:
            raise RuntimeError("writer not started")
        if self.count >= self.max_records:
            raise BatchFullError(f"{self.name} already holds {self.max_records} records")
        self._file.write((self.to_xml(record) + "\n").encode())
        self.count += 1

    def close(self) -> Path:
        """Finish the document, fsync, publish under the final name; returns that path."""
        if self._file is None:
            raise RuntimeError("writer not started")
        if self.count == 0:
            self.abort()
            raise RuntimeError("refusing to publish an import file without records")
        file, self._file = self._file, None
        try:
            with file:
                file.write(f"</{self.root_tag}>".encode())
                file.flush()
                os.fsync(file.fileno())
            _publish(self.temp_path, self.path)
        except BaseException:
            self.temp_path.unlink(missing_ok=True)
            raise
        return self.path

    flush = close  # singer-sdk vocabulary: a batch is flushed once, when it is done

    def abort(self) -> None:
        """Drop the temporary file; nothing is published."""
        file, self._file = self._file, None
        if file is not None:
            with contextlib.suppress(OSError):  # flushing a discarded document may fail (disk full)
                file.close()
        self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None and self.count:
            self.close()
        else:
            self.abort()


def _publish(temp: Path, final: Path) -> None:
    """Atomically give ``temp`` its final name without ever replacing an existing file."""
    try:
        os.link(temp, final)
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links: check, then rename
        if final.exists():
            raise FileExistsError(final.name) from None
        temp.replace(final)
        return
    temp.unlink()


class ContactsFileWriter(XmlBatchWriter):
    kind = "contacts"
    namespace = CONTACTS_NAMESPACE
    root_tag = "contacts"
    render = staticmethod(render_contact)

    @staticmethod
    def to_xml(record: Mapping[str, Any]) -> str:
        return node_xml(render_contact(record))


class TransactionsFileWriter(XmlBatchWriter):
    kind = "transactions"
    namespace = TRANSACTIONS_NAMESPACE
    root_tag = "transactions"
    render = staticmethod(render_receipt)
    to_xml = staticmethod(compile_record("receipt", RECEIPT))


class RedemptionsFileWriter(XmlBatchWriter):
    kind = "promotion-redemptions"
    namespace = REDEMPTIONS_NAMESPACE
    root_tag = "redemptions"
    render = staticmethod(render_redemption)

    @staticmethod
    def to_xml(record: Mapping[str, Any]) -> str:
        return node_xml(render_redemption(record))


WRITERS: Final[Mapping[FileKind, type[XmlBatchWriter]]] = {
    "contacts": ContactsFileWriter,
    "transactions": TransactionsFileWriter,
    "promotion-redemptions": RedemptionsFileWriter,
}


class BatchRecordError(RecordError):
    """A record of :func:`write_batches` failed; ``index`` is its position in the input."""

    def __init__(self, index: int, cause: RecordError, written: list[Path]) -> None:
        super().__init__(cause.field, cause.problem)
        self.index = index
        self.written = written


def write_batches(
    records: Iterable[Mapping[str, Any]],
    folder: Path,
    kind: FileKind,
    *,
    seq_prefix: str | None = None,
    max_records_per_file: int = MAX_RECORDS_PER_FILE,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_record_error: Callable[[int, RecordError], None] | None = None,
) -> list[Path]:
    """Write ``records`` to as many files as needed; returns the published paths in order.

    File ``n`` (from 1) gets the name part ``{seq_prefix}-{n}`` (or ``{n}``); a name that
    already exists in ``folder`` is skipped. A bad record goes to ``on_record_error``
    (index in ``records``, error) and the rest carry on; without a handler the file in
    progress is dropped and :class:`BatchRecordError` is raised, listing the files already
    published.
    """
    writer_cls = WRITERS[kind]
    if seq_prefix is not None:
        check_seq(seq_prefix)
    written: list[Path] = []
    seq = 0
    writer: XmlBatchWriter | None = None
    try:
        for index, record in enumerate(records):
            if writer is None:
                writer, seq = _next_writer(
                    writer_cls, Path(folder), seq, seq_prefix, max_records_per_file, clock
                )
                writer.start()
            try:
                writer.add(record)
            except RecordError as exc:
                if on_record_error is None:
                    raise BatchRecordError(index, exc, written) from exc
                on_record_error(index, exc)
                continue
            if writer.is_full:
                written.append(writer.close())
                writer = None
        if writer is not None and writer.count:
            written.append(writer.close())
            writer = None
    finally:
        if writer is not None:
            writer.abort()
    return written


def _next_writer(
    writer_cls: type[XmlBatchWriter],
    folder: Path,
    seq: int,
    prefix: str | None,
    max_records: int,
    clock: Callable[[], datetime],
) -> tuple[XmlBatchWriter, int]:
    while True:
        seq += 1
        part = f"{prefix}-{seq}" if prefix else str(seq)
        writer = writer_cls(folder, part, max_records=max_records, now=clock())
        if not writer.path.exists():
            return writer, seq
