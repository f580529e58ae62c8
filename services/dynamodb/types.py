"""Python values to DynamoDB attribute values and back.

The mapping is boto3's (``TypeSerializer`` / ``TypeDeserializer``):

=====================================  ===========================
Python                                 attribute value
=====================================  ===========================
``None``                               ``{"NULL": True}``
``bool``                               ``{"BOOL": ...}``
``int``, ``Decimal``                   ``{"N": "..."}``
``str``                                ``{"S": ...}``
``bytes``, ``bytearray``               ``{"B": ...}``
set of str / numbers / bytes           ``{"SS"|"NS"|"BS": [...]}``
``list``, ``tuple``                    ``{"L": [...]}``
``dict`` (any ``Mapping``)             ``{"M": {...}}``
=====================================  ===========================

Numbers come back as ``Decimal`` and binary as ``bytes``. Numbers written are
checked under DynamoDB's context (38 significant digits, exponents -128 to
126): a value that would need rounding is refused, never rounded, as boto3
does. Numbers read are more forgiving than boto3's: DynamoDB answers
``1E+38`` as 39 digits, ``"100...0"``, which that context refuses because
dropping the trailing zeros counts as rounding. So a number is read exactly
when, without its trailing zeros, that context takes it or DynamoDB's own
limits hold it (38 significant digits, magnitudes 1E-130 to 9.99...E+125); it
comes back in that shortest form (``Decimal("1E+38")``), which can be written
again (except the rare value of 38 digits near 1E-130, below the context's
reach). Only a number that would lose digits is refused. Magnitude and NaN
are left as boto3 leaves them: its context takes ``1E+126``, ``1E-131`` and
``NaN`` when read, and the server checks its own range (1E-130 to
9.99...E+125) when a number is written.

Where we are stricter than boto3, on purpose: an empty set is refused (boto3
sends ``{"NS": []}``, which DynamoDB then refuses), ``-Infinity`` and ``-NaN``
are refused like their positive forms, ``True`` and ``False`` do not count as
numbers inside a number set, map keys must be strings, and a ``BOOL`` read
back must hold a JSON boolean (boto3 hands back whatever it holds).

Floats are refused unless asked for with ``floats=True``; then a float becomes
the shortest decimal that reads back as the very same float (``0.1`` becomes
``Decimal("0.1")``), and a float that has no such decimal within DynamoDB's
range is refused. Nothing is ever silently rounded.

Speed matters here (every item of every call passes through): dispatch is a
dict lookup on ``type(value)``, with ``isinstance`` only for subclasses and
other mappings or sets, and one shared decimal context.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping, Set
from decimal import Decimal
from typing import Any

from .errors import (
    DynamoDBValueError,
    EmptySetError,
    InvalidNumberError,
    UnsupportedTypeError,
)

__all__ = [
    "DYNAMODB_CONTEXT",
    "deserialize",
    "deserialize_item",
    "serialize",
    "serialize_item",
]

AttributeValue = dict[str, Any]

DYNAMODB_CONTEXT = decimal.Context(
    Emin=-128,
    Emax=126,
    prec=38,
    traps=[
        decimal.Clamped,
        decimal.Overflow,
        decimal.Inexact,
        decimal.Rounded,
        decimal.Underflow,
        decimal.InvalidOperation,
    ],
)
_create_decimal = DYNAMODB_CONTEXT.create_decimal
_INT_LIMIT = 10**38  # ints below this in magnitude are exact N values as they are


# numbers


def number_text(value: int | Decimal) -> str:
    """The ``N`` string for a number, refused if DynamoDB cannot hold it exactly."""
    if type(value) is int and -_INT_LIMIT < value < _INT_LIMIT:
        return str(value)  # up to 38 digits an int is exact and in range
    try:
        number = _create_decimal(value)
    except decimal.DecimalException as error:
        raise InvalidNumberError(
            f"{_shown(value)} cannot be stored exactly as a DynamoDB number "
            "(38 significant digits, exponents within DynamoDB's context)"
        ) from error
    if not number.is_finite():
        raise InvalidNumberError(f"DynamoDB numbers are finite, not {value!r}")
    return str(number)


def _shown(value: object) -> str:
    # an int past 4300 digits has no str() (Python's limit): describe it
    if isinstance(value, int) and value.bit_length() > 14_000:
        return f"an integer of about {value.bit_length() * 30103 // 100000} digits"
    return f"{value!r:.80}"


def float_text(value: float) -> str:
    """The ``N`` string for a float: its shortest exact round-trip decimal."""
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidNumberError(f"DynamoDB numbers are finite, not {value!r}")
    return number_text(Decimal(repr(value)))


# serialize


def _null(value: None) -> AttributeValue:
    return {"NULL": True}


def _bool(value: bool) -> AttributeValue:
    return {"BOOL": value}


def _str(value: str) -> AttributeValue:
    return {"S": value}


def _int(value: int) -> AttributeValue:
    if -_INT_LIMIT < value < _INT_LIMIT:
        return {"N": str(value)}
    return {"N": number_text(value)}


def _decimal(value: Decimal) -> AttributeValue:
    return {"N": number_text(value)}


def _bytes(value: bytes) -> AttributeValue:
    return {"B": value}


def _list(value: list[Any] | tuple[Any, ...]) -> AttributeValue:
    out = []
    get = _SERIALIZERS.get
    for member in value:
        convert = get(type(member))
        out.append(_other(member) if convert is None else convert(member))
    return {"L": out}


def _map(value: Mapping[Any, Any]) -> AttributeValue:
    return {"M": serialize_item(value)}


def _set(value: Set[Any]) -> AttributeValue:
    if not value:
        raise EmptySetError(
            "DynamoDB has no empty sets: drop the attribute or store a list instead"
        )
    kinds = {_SET_KIND.get(type(member)) or _set_kind(member) for member in value}
    if len(kinds) != 1:
        raise UnsupportedTypeError(
            "a set must hold only strings, only numbers or only bytes, "
            f"not {sorted(type(m).__name__ for m in value)}"
        )
    kind = kinds.pop()
    if kind == "SS":
        return {"SS": list(value)}
    if kind == "NS":
        return {"NS": [number_text(member) for member in value]}
    return {"BS": [_binary_value(member) for member in value]}


_SET_KIND: dict[type, str] = {
    str: "SS",
    int: "NS",
    Decimal: "NS",
    bytes: "BS",
    bytearray: "BS",
}


def _set_kind(member: object) -> str:
    if isinstance(member, (bool, float)):
        raise UnsupportedTypeError(
            f"a DynamoDB set cannot hold {type(member).__name__} values"
        )
    if isinstance(member, str):
        return "SS"
    if isinstance(member, (int, Decimal)):
        return "NS"
    if isinstance(member, (bytes, bytearray)) or _is_boto3_binary(member):
        return "BS"
    raise UnsupportedTypeError(
        f"a DynamoDB set cannot hold {type(member).__name__} values"
    )


def _float_refused(value: float) -> AttributeValue:
    raise UnsupportedTypeError(
        "floats are not stored by default, since most cannot be stored exactly: "
        "use Decimal, or pass floats=True to store a float's shortest exact decimal"
    )


_SERIALIZERS: dict[type, Callable[[Any], AttributeValue]] = {
    str: _str,
    int: _int,
    bool: _bool,
    type(None): _null,
    Decimal: _decimal,
    dict: _map,
    list: _list,
    tuple: _list,
    set: _set,
    frozenset: _set,
    bytes: _bytes,
    bytearray: _bytes,
    float: _float_refused,
}


def _is_boto3_binary(value: object) -> bool:
    kind = type(value)
    return kind.__name__ == "Binary" and kind.__module__ == "boto3.dynamodb.types"


def _binary_value(value: Any) -> bytes | bytearray:
    if _is_boto3_binary(value):
        return value.value  # type: ignore[no-any-return]
    return value  # type: ignore[no-any-return]


def _other(value: Any) -> AttributeValue:
    """The slow path: subclasses, other mappings and sets, boto3's Binary."""
    if isinstance(value, bool):
        return {"BOOL": bool(value)}
    if isinstance(value, float):
        return _float_refused(value)
    if isinstance(value, (int, Decimal)):
        return {"N": number_text(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": value}
    if _is_boto3_binary(value):
        return {"B": value.value}
    if isinstance(value, Set):
        return _set(value)
    if isinstance(value, Mapping):
        return _map(value)
    if isinstance(value, (list, tuple)):
        return _list(value)
    raise UnsupportedTypeError(
        f"cannot store a {type(value).__name__} in DynamoDB "
        "(use str, int, Decimal, bool, None, bytes, list, dict or a set)"
    )


def serialize(value: Any, *, floats: bool = False) -> AttributeValue:
    """One Python value as an attribute value (``{"S": "x"}``, ``{"N": "1"}``...)."""
    if floats:
        return _FloatSerializer().value(value)
    convert = _SERIALIZERS.get(type(value))
    if convert is None:
        return _other(value)
    return convert(value)


def serialize_item(item: Mapping[Any, Any], *, floats: bool = False) -> dict[str, Any]:
    """A Python mapping as an item: ``{"name": {"S": "x"}, ...}``."""
    if floats:
        return _FloatSerializer().item(item)
    if type(item) is not dict and not isinstance(item, Mapping):
        raise _not_an_item(item)
    out = {}
    get = _SERIALIZERS.get
    for name, member in item.items():
        if type(name) is not str and not isinstance(name, str):
            raise _not_a_name(name)
        kind = type(member)
        if kind is str:
            out[name] = {"S": member}
        elif kind is int and -_INT_LIMIT < member < _INT_LIMIT:
            out[name] = {"N": str(member)}
        else:
            convert = get(kind)
            out[name] = _other(member) if convert is None else convert(member)
    return out


class _FloatSerializer:
    """The opt-in path that also stores floats (exactly, or not at all)."""

    def value(self, value: Any) -> AttributeValue:
        if isinstance(value, float):
            return {"N": float_text(value)}
        if isinstance(value, Mapping):
            return {"M": self.item(value)}
        if isinstance(value, (list, tuple)):
            return {"L": [self.value(member) for member in value]}
        if isinstance(value, Set) and any(isinstance(m, float) for m in value):
            if not all(isinstance(m, (int, float, Decimal)) for m in value) or any(
                isinstance(m, bool) for m in value
            ):
                return _set(value)  # mixed: let the plain path explain
            texts = {
                float_text(m) if isinstance(m, float) else number_text(m) for m in value
            }
            return {"NS": sorted(texts)}
        return serialize(value)

    def item(self, item: Mapping[Any, Any]) -> dict[str, Any]:
        if not isinstance(item, Mapping):
            raise _not_an_item(item)
        out = {}
        for name, member in item.items():
            if not isinstance(name, str):
                raise _not_a_name(name)
            out[name] = self.value(member)
        return out


def _not_an_item(item: object) -> UnsupportedTypeError:
    return UnsupportedTypeError(
        "an item (or key) is a dict of attribute names to values, "
        f"not {type(item).__name__}"
    )


def _not_a_name(name: object) -> UnsupportedTypeError:
    return UnsupportedTypeError(
        f"attribute names are strings, not {type(name).__name__} ({name!r:.40})"
    )


# deserialize

# reads a number exactly, whatever its length: the same syntax as the
# DynamoDB context, without its limits, for the slow path of `_n`
_EXACT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[decimal.InvalidOperation],
)


def _n(text: str) -> Decimal:
    """A number read back: exact, or refused; never rounded."""
    try:
        return _create_decimal(text)
    except decimal.DecimalException:
        pass
    # the context refused it: often only for trailing zeros past 38 digits
    # ("1E+38" comes back as 39 digits), which lose nothing when dropped; so
    # read it without them, under the context or within DynamoDB's own limits
    try:
        number = _EXACT.create_decimal(text).normalize(_EXACT)
    except decimal.DecimalException:
        number = None
    if number is not None and number.is_finite():
        try:
            return _create_decimal(number)
        except decimal.DecimalException:
            if _fits(number):
                return number
    raise InvalidNumberError(
        f"{text!r:.60} is not a DynamoDB number (at most 38 significant digits, "
        "magnitudes 1E-130 to 9.9E+125, finite)"
    )


def _same(value: Any) -> Any:
    return value


def _b(value: Any) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise UnsupportedTypeError(
        f"a B attribute value holds bytes, not {type(value).__name__}"
    )


def _null_value(value: Any) -> None:
    return None


def _fits(number: Decimal) -> bool:
    # DynamoDB's limits, for a normalized number: 38 digits, 1E-130..9.9E+125
    digits = len(number.as_tuple().digits)
    return not number or (digits <= 38 and -130 <= number.adjusted() <= 125)


def _bool_value(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise _not_bool(value)


def _not_bool(value: Any) -> UnsupportedTypeError:
    return UnsupportedTypeError(
        f"a BOOL attribute value holds true or false, not {value!r:.40}"
    )


def _ns(values: list[str]) -> set[Decimal]:
    try:
        return set(map(_create_decimal, values))
    except decimal.DecimalException:
        return set(map(_n, values))


def _bs(values: list[Any]) -> set[bytes]:
    return {_b(value) for value in values}


def _l(values: list[AttributeValue]) -> list[Any]:
    out = []
    table = _DESERIALIZERS
    for value in values:
        (tag,) = value
        raw = value[tag]
        if tag == "S":
            out.append(raw)
        elif tag == "N":
            try:
                out.append(_create_decimal(raw))
            except decimal.DecimalException:
                out.append(_n(raw))
        elif tag == "M":
            out.append(_items(raw))
        else:
            out.append(table[tag](raw))
    return out


def _items(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    out = {}
    table = _DESERIALIZERS
    for name, value in item.items():
        (tag,) = value
        raw = value[tag]
        if tag == "S":
            out[name] = raw
        elif tag == "N":
            try:
                out[name] = _create_decimal(raw)
            except decimal.DecimalException:
                out[name] = _n(raw)
        elif tag == "M":
            out[name] = _items(raw)
        elif tag == "BOOL":
            if raw is not True and raw is not False:
                raise _not_bool(raw)
            out[name] = raw
        else:
            out[name] = table[tag](raw)
    return out


_DESERIALIZERS: dict[str, Callable[[Any], Any]] = {
    "S": _same,
    "N": _n,
    "BOOL": _bool_value,
    "NULL": _null_value,
    "M": _items,
    "L": _l,
    "SS": set,
    "NS": _ns,
    "B": _b,
    "BS": _bs,
}


def _unreadable(value: Any, error: Exception) -> DynamoDBValueError:
    if isinstance(error, decimal.DecimalException):
        return InvalidNumberError(f"a number in {value!r:.80} is not a DynamoDB number")
    if isinstance(error, DynamoDBValueError):
        return error
    if isinstance(value, Mapping) and len(value) == 1:
        (tag,) = value
        if tag not in _DESERIALIZERS:
            return UnsupportedTypeError(
                f"unknown attribute value type {tag!r:.40}; "
                f"valid types are {', '.join(_DESERIALIZERS)}"
            )
    return UnsupportedTypeError(
        "an attribute value is a one-key dict such as {'S': 'text'}, "
        f"not {value!r:.80}"
    )


_MALFORMED = (
    AttributeError,
    ValueError,
    KeyError,
    TypeError,
    decimal.DecimalException,
)


def deserialize(value: AttributeValue) -> Any:
    """One attribute value as a Python value (numbers as ``Decimal``)."""
    try:
        ((tag, raw),) = value.items()
        return _DESERIALIZERS[tag](raw)
    except _MALFORMED as error:
        raise _unreadable(value, error) from error


def deserialize_item(item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """An item (``{"name": {"S": "x"}}``) as a dict of Python values."""
    try:
        return _items(item)
    except _MALFORMED as error:
        # the slow path: find which attribute it was, to name it
        found = _culprit(item) if isinstance(item, Mapping) else None
        if found is None:
            raise _unreadable(item, error) from error
        path, value, cause = found
        unreadable = _unreadable(value, cause)
        raise type(unreadable)(f"attribute {path}: {unreadable}") from error


def _culprit(
    item: Mapping[Any, Any], prefix: str = ""
) -> tuple[str, Any, Exception] | None:
    """The path, value and error of the first attribute that cannot be read."""
    for name, value in item.items():
        path = f"{prefix}{name}"
        try:
            deserialize(value)
        except DynamoDBValueError as error:
            raw = value.get("M", value.get("L")) if isinstance(value, Mapping) else None
            inner = None
            if isinstance(raw, Mapping):
                inner = _culprit(raw, f"{path}.")
            elif isinstance(raw, list):
                inner = _culprit({f"[{i}]": v for i, v in enumerate(raw)}, path)
            cause = error.__cause__
            return inner or (
                path,
                value,
                cause if isinstance(cause, Exception) else error,
            )
    return None
