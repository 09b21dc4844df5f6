"""The building blocks of the import-file readers: leaf converters, structure specs, an element reader,
the UTF-8 check and a streaming loop over the records under a root (pure parsing, no state).

``Reader`` reads elements of one namespace into API-shaped dicts by a spec (``Leaf``, ``Group``,
``Repeated``, ``ExtraData``), collecting problems as text; ``stream(path, namespace, root, read)``
yields one ``ParsedRecord`` per element under the root, clearing each once read so memory stays flat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from lxml import etree

_HEAD_BYTES: Final = 200
_DECLARED_ENCODING: Final = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class ImportFileError(Exception):
    """The whole file is rejected (Voyado: "a major error skips the whole file")."""


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    index: int
    data: dict[str, Any] | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ----- leaf converters: text -> value, ValueError(reason) when invalid -----
_DECIMAL_RE: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DATETIME_RE: Final = re.compile(
    r"-?[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)
Conv = Callable[[str], Any]


def text(value: str) -> str:
    return value


def decimal(value: str) -> Decimal:
    if _DECIMAL_RE.fullmatch(value) is None:
        raise ValueError("is not a decimal with '.' separator")
    return Decimal(value)


def boolean(value: str) -> bool:
    if value not in {"true", "false"}:
        raise ValueError("is not true or false")
    return value == "true"


def datetime_with_offset(value: str) -> str:
    if _DATETIME_RE.fullmatch(value) is None:
        raise ValueError("is not an ISO 8601 datetime with offset")
    datetime.fromisoformat(value)
    return value


def iso_date(value: str) -> str:
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) is None:
        raise ValueError("is not a YYYY-MM-DD date")
    date.fromisoformat(value)
    return value


def pattern(regex: str, what: str) -> Conv:
    compiled = re.compile(regex)

    def convert(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"is not {what}")
        return value

    return convert


# ----- structure specs -----
@dataclass(frozen=True, slots=True)
class Leaf:
    conv: Conv
    required: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    fields: Mapping[str, Leaf | Group | Repeated | ExtraData]
    required: bool = False


@dataclass(frozen=True, slots=True)
class Repeated:
    child_tag: str
    item: Group
    required: bool = False


@dataclass(frozen=True, slots=True)
class ExtraData:
    required: bool = False


# ----- element -> dict -----
class Reader:
    """Reads elements of one namespace, collecting problems in ``errors``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.prefix = f"{{{namespace}}}"
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def local(self, element: etree._Element, path: str) -> str | None:
        tag = element.tag
        if not isinstance(tag, str):  # comment or processing instruction
            return None
        if not tag.startswith(self.prefix):
            self.errors.append(f"{path}: element {etree.QName(tag).localname} is in another namespace")
            return None
        return tag[len(self.prefix) :]

    def leaf_text(self, element: etree._Element, path: str) -> str | None:
        if any(isinstance(child.tag, str) for child in element):
            self.errors.append(f"{path}: must hold text, not elements")
            return None
        value = (element.text or "").strip()
        if not value:
            self.errors.append(f"{path}: must not be empty")
            return None
        return value

    def group(self, element: etree._Element, spec: Group, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for child in element:
            name = self.local(child, path)
            if name is None:
                continue
            child_path = f"{path}.{name}" if path else name
            child_spec = spec.fields.get(name)
            if child_spec is None:
                self.errors.append(f"{child_path}: unknown element")
            elif name in out:
                self.errors.append(f"{child_path}: appears more than once")
            else:
                value = self.field(child, child_spec, child_path)
                if value is not None:
                    out[name] = value
        for name, child_spec in spec.fields.items():
            if child_spec.required and name not in out and not self._reported(path, name):
                self.errors.append(f"{path}.{name}: is required" if path else f"{name}: is required")
        return out

    def _reported(self, path: str, name: str) -> bool:
        prefix = f"{path}.{name}" if path else name
        return any(error.startswith(prefix) for error in self.errors)

    def field(self, element: etree._Element, spec: Leaf | Group | Repeated | ExtraData, path: str) -> Any:
        if isinstance(spec, Leaf):
            text = self.leaf_text(element, path)
            if text is None:
                return None
            try:
                return spec.conv(text)
            except ValueError as exc:
                self.errors.append(f"{path}: {exc}")
                return None
        if isinstance(spec, Group):
            return self.group(element, spec, path)
        items: list[Any] = []
        for child in element:
            name = self.local(child, path)
            if name is None:
                continue
            item_path = f"{path}[{len(items)}]"
            if isinstance(spec, Repeated) and name == spec.child_tag:
                items.append(self.group(child, spec.item, item_path))
            elif isinstance(spec, ExtraData) and name == "item":
                item_name = child.get("name", "").strip()
                text = self.leaf_text(child, item_path)
                if not item_name:
                    self.errors.append(f"{item_path}: needs a name attribute")
                elif text is not None:
                    items.append({"name": item_name, "value": text})
            else:
                self.errors.append(f"{path}: unexpected element {name}")
        if not items:
            self.errors.append(f"{path}: must not be empty")
        return items


RecordReader = Callable[[Reader, etree._Element, str], "dict[str, Any] | None"]


def stream(path: Path, namespace: str, root: str, read_record: RecordReader) -> Iterator[ParsedRecord]:
    """Generator over the records under ``<root xmlns=namespace>``: the checks run on the first
    ``next()``, records stream one by one."""
    check_encoding(Path(path))
    root_tag = f"{{{namespace}}}{root}"
    depth = 0
    index = 0
    try:
        events = etree.iterparse(
            str(path), events=("start", "end"), resolve_entities=False, no_network=True, remove_comments=True
        )
        for event, element in events:
            if event == "start":
                if depth == 0 and element.tag != root_tag:
                    raise ImportFileError(f'root element must be <{root} xmlns="{namespace}">')
                depth += 1
                continue
            depth -= 1
            if depth != 1:
                continue
            yield record(index, element, namespace, read_record)
            index += 1
            parent = element.getparent()
            element.clear()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError as exc:
        raise ImportFileError(f"not well-formed XML: {exc.msg}") from exc


def record(index: int, element: etree._Element, namespace: str, read_record: RecordReader) -> ParsedRecord:
    reader = Reader(namespace)
    name = reader.local(element, f"record {index}")
    data = read_record(reader, element, name) if name is not None else None
    if reader.errors or data is None:
        return ParsedRecord(index, None, reader.errors or ["record could not be read"], reader.warnings)
    return ParsedRecord(index, data, [], reader.warnings)


def check_encoding(path: Path) -> None:
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError("file is UTF-16; import files must be UTF-8")
    declared = _DECLARED_ENCODING.match(head.removeprefix(b"\xef\xbb\xbf"))
    if declared is not None and declared.group(1).lower().replace(b"_", b"-") not in {b"utf-8", b"utf8"}:
        raise ImportFileError("XML declaration names an encoding other than UTF-8")
