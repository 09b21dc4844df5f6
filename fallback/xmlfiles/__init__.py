"""Voyado XML import files: naming, streaming writers, XSD validation.

Public:
- ``naming``: ``FileKind``, ``build_file_name(kind, seq, at=None)``, ``parse_file_name(name)``,
  ``ImportFileName``.
- ``writers``: ``XmlBatchWriter`` (start / add / is_full / close / abort),
  ``ContactsFileWriter``, ``TransactionsFileWriter``, ``RedemptionsFileWriter``,
  ``write_batches(records, folder, kind, ...) -> list[Path]``, ``MAX_RECORDS_PER_FILE``,
  ``BatchFullError``, ``BatchRecordError``.
- ``values.RecordError``: a record that cannot be written (nothing of it reached a file).
- ``validate``: ``validate_file(path, kind) -> list[str]``.

Records are ``Mapping[str, Any]`` in the Engage API wire shape (see ``records``,
``contacts``, ``redemptions`` for each format). The XSDs live in ``fallback/xsd``.
"""

from __future__ import annotations

from fallback.xmlfiles.naming import FileKind, ImportFileName, build_file_name, parse_file_name
from fallback.xmlfiles.validate import validate_file
from fallback.xmlfiles.values import RecordError
from fallback.xmlfiles.writers import (
    MAX_RECORDS_PER_FILE,
    BatchFullError,
    BatchRecordError,
    ContactsFileWriter,
    RedemptionsFileWriter,
    TransactionsFileWriter,
    XmlBatchWriter,
    write_batches,
)

__all__ = [
    "MAX_RECORDS_PER_FILE",
    "BatchFullError",
    "BatchRecordError",
    "ContactsFileWriter",
    "FileKind",
    "ImportFileName",
    "RecordError",
    "RedemptionsFileWriter",
    "TransactionsFileWriter",
    "XmlBatchWriter",
    "build_file_name",
    "parse_file_name",
    "validate_file",
    "write_batches",
]
