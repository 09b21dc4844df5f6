"""XML text for checked values: escaping, and the markup of :data:`~fallback.xmlfiles.records.Node` trees.

The writers produce each record's markup as a string (the element API of lxml costs about a
microsecond per element, more than the whole budget of a field) and write it between the root
element's tags. The output is byte for byte what lxml's serialiser writes for the same tree:

- text: ``&``, ``<``, ``>`` and carriage return are escaped (``&amp;``, ``&lt;``, ``&gt;``, ``&#13;``);
- attribute values: the same plus ``"``, newline and tab (``&quot;``, ``&#10;``, ``&#9;``);
- an element without content is written ``<tag></tag>``.

Values reach this module already checked by :mod:`~fallback.xmlfiles.values` (no character that
XML 1.0 cannot carry); tag names come from the format specs, never from a record.
"""

from __future__ import annotations

from collections.abc import Mapping

from fallback.xmlfiles.records import Node


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
        return f"<{tag}>"
    pairs = "".join(f' {name}="{escape_attribute(value)}"' for name, value in attributes.items())
    return f"<{tag}{pairs}>"


def node_xml(node: Node) -> str:
    """The markup of one element tree (a record rendered by ``render_contact`` and the like)."""
    out: list[str] = []
    _append(node, out)
    return "".join(out)


def _append(node: Node, out: list[str]) -> None:
    tag, body, attributes = node
    start = start_tag(tag, attributes)
    if isinstance(body, str):
        out.append(f"{start}{escape_text(body)}</{tag}>")
        return
    out.append(start)
    for child in body:
        _append(child, out)
    out.append(f"</{tag}>")
