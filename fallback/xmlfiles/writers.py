"""Streaming writers for the Voyado XML import files (lxml incremental writer).

Lifecycle (as singer-sdk batch sinks): ``start()``, ``add(record)`` until ``is_full``,
then ``close()`` (which flushes and publishes the file and returns its path) or
``abort()``. Also a context manager: ``with TransactionsFileWriter(folder, seq=1) as w``
closes on success and aborts on an exception.

- Each record is rendered to a small element tree first and only then streamed out, so
  a bad record raises :class:`RecordError` and leaves the file untouched; memory stays
  flat however many files are written.
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

from lxml import etree

from fallback.xmlfiles.contacts import render_contact
from fallback.xmlfiles.naming import FileKind, build_file_name, check_seq
from fallback.xmlfiles.records import Node, render_receipt
from fallback.xmlfiles.redemptions import REDEMPTIONS_NAMESPACE, render_redemption
from fallback.xmlfiles.values import RecordError

MAX_RECORDS_PER_FILE: Final = 20_000
CONTACTS_NAMESPACE: Final = "http://eClub.Schemas.ImportContact"
TRANSACTIONS_NAMESPACE: Final = "http://voyado.Schemas.ImportReceipts"
XML_DECLARATION: Final = b'<?xml version="1.0" encoding="utf-8"?>\n'
TEMP_SUFFIX: Final = ".part"


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
        self._stack: contextlib.ExitStack | None = None
        self._file: IO[bytes] | None = None
        self._xf: Any = None  # lxml's incremental writer (untyped in lxml-stubs)
        self._tags: dict[str, str] = {}

    @property
    def is_full(self) -> bool:
        return self.count >= self.max_records

    @property
    def is_open(self) -> bool:
        return self._stack is not None

    @staticmethod
    @abstractmethod
    def render(record: Mapping[str, Any]) -> Node:
        """Record -> element tree; raises RecordError."""

    def start(self) -> None:
        """Create the temporary file and open the root element."""
        if self._stack is not None:
            raise RuntimeError("writer already started")
        self.folder.mkdir(parents=True, exist_ok=True)
        stack = contextlib.ExitStack()
        try:
            self._file = stack.enter_context(self.temp_path.open("xb"))
            self._file.write(XML_DECLARATION)
            self._xf = stack.enter_context(etree.xmlfile(self._file, encoding="utf-8"))
            stack.enter_context(self._xf.element(self._tag(self.root_tag), nsmap={None: self.namespace}))
            self._xf.write("\n")
        except BaseException:
            stack.close()
            self.temp_path.unlink(missing_ok=True)
            raise
        self._stack = stack

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one record; RecordError leaves the file as it was."""
        if self._stack is None:
            raise RuntimeError("writer not started")
        if self.is_full:
            raise BatchFullError(f"{self.name} already holds {self.max_records} records")
        node = self.render(record)
        self._emit(node)
        self._xf.write("\n")
        self.count += 1

    def close(self) -> Path:
        """Finish the document, fsync, publish under the final name; returns that path."""
        if self._stack is None or self._file is None:
            raise RuntimeError("writer not started")
        if self.count == 0:
            self.abort()
            raise RuntimeError("refusing to publish an import file without records")
        stack, file = self._stack, self._file
        self._stack = None
        try:
            stack.close()  # closes the root element, flushes lxml's buffer, closes the file
            fd = os.open(self.temp_path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            _publish(self.temp_path, self.path)
        except BaseException:
            file.close()
            self.temp_path.unlink(missing_ok=True)
            raise
        return self.path

    flush = close  # singer-sdk vocabulary: a batch is flushed once, when it is done

    def abort(self) -> None:
        """Drop the temporary file; nothing is published."""
        stack, self._stack = self._stack, None
        if stack is not None:
            with contextlib.suppress(Exception):  # the document is discarded anyway
                stack.close()
        if self._file is not None:
            self._file.close()
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

    def _tag(self, local: str) -> str:
        tag = self._tags.get(local)
        if tag is None:
            tag = self._tags[local] = f"{{{self.namespace}}}{local}"
        return tag

    def _emit(self, node: Node) -> None:
        xf, qualify = self._xf, self._tag
        tag, body, attributes = node
        with xf.element(qualify(tag), attributes or {}):
            if isinstance(body, str):
                xf.write(body)
                return
            for child in body:
                child_tag, child_body, child_attributes = child
                if isinstance(child_body, str):  # leaf: no recursion on the hot path
                    with xf.element(qualify(child_tag), child_attributes or {}):
                        xf.write(child_body)
                else:
                    self._emit(child)


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


class TransactionsFileWriter(XmlBatchWriter):
    kind = "transactions"
    namespace = TRANSACTIONS_NAMESPACE
    root_tag = "transactions"
    render = staticmethod(render_receipt)


class RedemptionsFileWriter(XmlBatchWriter):
    kind = "promotion-redemptions"
    namespace = REDEMPTIONS_NAMESPACE
    root_tag = "redemptions"
    render = staticmethod(render_redemption)


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
