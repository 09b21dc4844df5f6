"""Validate an import file against the XSD that ships with engage-relay.

:func:`validate_file` streams: lxml validates while it parses (``iterparse(schema=...)``)
and each record element is cleared once it has been read, so memory stays flat for any
file size. The price of streaming is that libxml2 reports no line numbers; messages name
the element and the problem instead. The XSD documents are read once per process; each
validation compiles its own ``XMLSchema`` (a fraction of a millisecond) because lxml keeps
errors in the schema object, which would otherwise leak between files and threads.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Final

from lxml import etree

from fallback.xmlfiles.naming import FILE_KINDS, FileKind

XSD_FILES: Final[dict[FileKind, str]] = {
    "contacts": "contacts.xsd",
    "transactions": "transactions.xsd",
    "promotion-redemptions": "promotion_redemptions.xsd",
}
MAX_REPORTED_ERRORS: Final = 100
_DECLARED_ENCODING: Final = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_HEAD_BYTES: Final = 200


@cache
def _xsd_document(kind: FileKind) -> etree._ElementTree:
    xsd = resources.files("fallback.xsd").joinpath(XSD_FILES[kind])
    with resources.as_file(xsd) as path:
        return etree.parse(str(path))


def schema_for(kind: FileKind) -> etree.XMLSchema:
    """A fresh XMLSchema for ``kind``, compiled from the XSD read once per process."""
    if kind not in FILE_KINDS:
        raise ValueError(f"unknown import file kind {kind!r}")
    return etree.XMLSchema(_xsd_document(kind))


def validate_file(path: Path, kind: FileKind) -> list[str]:
    """Problems found in ``path`` as an import file of ``kind``; empty when it is valid."""
    schema = schema_for(kind)
    errors = _encoding_errors(path)
    if errors:
        return errors
    etree.clear_error_log()  # iterparse reports through lxml's thread-local log
    try:
        for _event, element in etree.iterparse(str(path), events=("end",), schema=schema):
            parent = element.getparent()
            if parent is not None and parent.getparent() is None:  # a record under the root
                element.clear()
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        entries: list[etree._LogEntry] = list(exc.error_log)  # type: ignore[call-overload]  # iterable at runtime
        messages = [_describe(entry) for entry in entries] or [str(exc.msg)]
        return list(dict.fromkeys(messages))[:MAX_REPORTED_ERRORS]
    return []


def _encoding_errors(path: Path) -> list[str]:
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ["file is UTF-16; import files must be UTF-8"]
    declared = _DECLARED_ENCODING.match(head.removeprefix(b"\xef\xbb\xbf"))
    if declared is not None and declared.group(1).lower().replace(b"_", b"-") not in {b"utf-8", b"utf8"}:
        return ["XML declaration names an encoding other than UTF-8"]
    return []


def _describe(entry: etree._LogEntry) -> str:
    return f"line {entry.line}: {entry.message}" if entry.line else entry.message
