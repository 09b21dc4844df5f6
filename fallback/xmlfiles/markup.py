"""XML text for checked values: escaping, and the markup of :data:`~fallback.xmlfiles.records.Node` trees.

The writers produce each record's markup as a string (the element API of lxml costs about a
microsecond per element, more than the whole budget of a field) and write it between the root
element's tags. The output is byte for byte what lxml's serialiser writes for the same tree:

- text: ``&``, ``<``, ``>`` and carriage return are escaped (``&amp;``, ``&lt;``, ``&gt;``, ``&#13;``);
- attribute values: the same plus ``"``, newline and tab (``&quot;``, ``&#10;``, ``&#9;``);
- an element without content is written ``<tag></tag>``.

Values reach this module already checked by :mod:`~fallback.xmlfiles.values` (no character that
XML 1.0 cannot carry). Names of elements and attributes come from the format specs or, for a
tenant's contact attributes, from a record (checked by ``contacts.ATTRIBUTE_NAME_RE``); they are
checked here again, as lxml did, so that no name can ever carry markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Final

from fallback.xmlfiles.records import Node

XML_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
"""The element and attribute names we write (ASCII XML names without a namespace prefix)."""


def escape_text(text: str) -> str:
    """``text`` as element content (the common case, nothing to escape, costs four scans)."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text


def escape_attribute(text: str) -> str:
    """``text`` as a double-quoted attribute value."""
    return escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def start_tag(tag: str, attributes: Mapping[str, str] | None = None) -> str:
    if not attributes:
        return f"<{xml_name(tag)}>"
    pairs = "".join(f' {xml_name(name)}="{escape_attribute(value)}"' for name, value in attributes.items())
    return f"<{xml_name(tag)}{pairs}>"


@lru_cache(maxsize=4096)  # a few dozen names in practice; bounded whatever records hold
def xml_name(name: str) -> str:
    """``name``, or ValueError when it is not an XML name we write."""
    if XML_NAME.fullmatch(name) is None:
        raise ValueError(f"not an XML element or attribute name: {name!r}")
    return name


def node_xml(node: Node) -> str:
    """The markup of one element tree (a record rendered by ``render_contact`` and the like)."""
    out: list[str] = []
    _append(node, out)
    return "".join(out)


def _append(node: Node, out: list[str]) -> None:
    tag, body, attributes = node
    start = start_tag(tag, attributes)
    if isinstance(body, str):
        out.append(f"{start}{escape_text(body)}</{tag}>")  # tag checked by start_tag
        return
    out.append(start)
    for child in body:
        _append(child, out)
    out.append(f"</{tag}>")
