"""S3's XML: shape-driven parsing into boto3's dicts, and escaping for bodies.

A shape maps an element's local name to (result key, kind). A kind is one of
the scalar letters ``s`` (text), ``i`` (int), ``b`` (bool), ``t`` (ISO 8601
timestamp), a nested shape (dict), ``Flat(kind)`` for a list whose members
repeat in place (S3's "flattened" lists such as Contents), or
``Wrapped(kind)`` for a list held in a container element (Buckets/Bucket).
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from ..errors import ResponseParseError

if TYPE_CHECKING:
    from xml.etree import ElementTree

NS = "http://s3.amazonaws.com/doc/2006-03-01/"

Shape = dict[str, tuple[str, Any]]


class Flat:
    """A list whose members repeat in place under the parent."""

    __slots__ = ("kind",)

    def __init__(self, kind: Any) -> None:
        self.kind = kind


class Wrapped:
    """A list held in a container element, one child per member."""

    __slots__ = ("kind",)

    def __init__(self, kind: Any) -> None:
        self.kind = kind


def iso_timestamp(text: str) -> _dt.datetime:
    """Parse S3's ISO 8601 timestamps (2009-10-12T17:50:30.000Z) into UTC."""
    try:
        date, _, clock = text.strip().partition("T")
        offset = _dt.timedelta(0)
        if clock.endswith("Z"):
            clock = clock[:-1]
        elif len(clock) > 6 and clock[-6] in "+-":
            zone = clock[-5:]
            offset = _dt.timedelta(hours=int(zone[:2]), minutes=int(zone[3:]))
            offset = offset if clock[-6] == "+" else -offset
            clock = clock[:-6]
        whole, _, fraction = clock.partition(".")
        hour, minute, second = (int(p) for p in whole.split(":"))
        micro = int((fraction + "000000")[:6]) if fraction else 0
        year, month, day = (int(p) for p in date.split("-"))
        moment = _dt.datetime(
            year, month, day, hour, minute, second, micro, _dt.timezone.utc
        )
        return moment - offset
    except ValueError as exc:
        raise ResponseParseError(f"{text!r} is not an ISO 8601 timestamp") from exc


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag[tag.index("}") + 1 :] if tag[:1] == "{" else tag


def _value(elem: ElementTree.Element, kind: Any) -> Any:
    if kind == "s":
        return elem.text or ""
    if kind == "i":
        return int(elem.text or 0)
    if kind == "b":
        return (elem.text or "").strip() == "true"
    if kind == "t":
        return iso_timestamp(elem.text or "")
    if isinstance(kind, Wrapped):
        return [_value(child, kind.kind) for child in elem]
    return parse_struct(elem, kind)


def parse_struct(elem: ElementTree.Element, shape: Shape) -> dict[str, Any]:
    """The dict for an element according to its shape; unknown children skipped."""
    out: dict[str, Any] = {}
    for child in elem:
        entry = shape.get(local(child.tag))
        if entry is None:
            continue
        key, kind = entry
        if isinstance(kind, Flat):
            out.setdefault(key, []).append(_value(child, kind.kind))
        else:
            out[key] = _value(child, kind)
    return out


def root(body: bytes) -> ElementTree.Element:
    """The root element of an XML body."""
    # imported on first parse: a cold start that only reads objects skips it
    from xml.etree import ElementTree

    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise ResponseParseError(f"the response is not well-formed XML: {exc}") from exc


def parse(body: bytes, shape: Shape) -> dict[str, Any]:
    """Parse an XML body by its root's shape."""
    if not body.strip():
        return {}
    return parse_struct(root(body), shape)


def escape(text: str) -> str:
    """Escape text for an XML element."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def error_fields(body: bytes) -> dict[str, str] | None:
    """The children of an <Error> root as a dict, or None if it is not one."""
    stripped = body.lstrip()
    if not stripped.startswith(b"<"):
        return None
    from xml.etree import ElementTree

    try:
        elem = ElementTree.fromstring(stripped)
    except ElementTree.ParseError:
        return None
    if local(elem.tag) != "Error":
        return None
    return {local(child.tag): child.text or "" for child in elem}


OWNER: Shape = {"DisplayName": ("DisplayName", "s"), "ID": ("ID", "s")}
