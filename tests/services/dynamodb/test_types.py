"""Marshalling, checked against boto3's TypeSerializer and TypeDeserializer."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from services.dynamodb.errors import (
    EmptySetError,
    InvalidNumberError,
    UnsupportedTypeError,
)
from services.dynamodb.types import (
    deserialize,
    deserialize_item,
    serialize,
    serialize_item,
)

boto_serializer = TypeSerializer()
boto_deserializer = TypeDeserializer()

# numbers of every shape, valid or not under DynamoDB's 38-digit context
decimals = st.decimals(allow_nan=False, allow_infinity=False)
ints = st.integers() | st.integers(min_value=-(10**40), max_value=10**40)
numbers = ints | decimals
scalars = (
    st.none()
    | st.booleans()
    | numbers
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.binary(max_size=8).map(bytearray)
)
sets = (
    st.frozensets(st.text(max_size=6), min_size=1, max_size=5)
    | st.sets(st.text(max_size=6), min_size=1, max_size=5)
    | st.sets(numbers, min_size=1, max_size=5)
    | st.sets(st.binary(max_size=6), min_size=1, max_size=5)
)
values = st.recursive(
    scalars | sets,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


def canonical(av: Any) -> Any:
    """An attribute value with set members sorted, so order does not matter."""
    if isinstance(av, dict):
        return {
            k: sorted(v) if k in ("SS", "NS", "BS") else canonical(v)
            for k, v in av.items()
        }
    if isinstance(av, list):
        return [canonical(v) for v in av]
    return av


def boto_outcome(value: Any) -> Any:
    try:
        return boto_serializer.serialize(value)
    except (TypeError, decimal.DecimalException) as error:
        return error


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_serialize_agrees_with_boto3_or_both_refuse(value: Any) -> None:
    expected = boto_outcome(value)
    if isinstance(expected, Exception):
        with pytest.raises((InvalidNumberError, UnsupportedTypeError)):
            serialize(value)
        return
    assert canonical(serialize(value)) == canonical(expected)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_round_trip_agrees_with_boto3(value: Any) -> None:
    expected = boto_outcome(value)
    assume(not isinstance(expected, Exception))

    ours = deserialize(serialize(value))

    assert ours == boto_deserializer.deserialize(expected)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=6), values, max_size=6))
def test_items_agree_with_boto3(item: dict[str, Any]) -> None:
    expected = boto_outcome(item)
    assume(not isinstance(expected, Exception))

    ours = serialize_item(item)

    assert canonical(ours) == canonical(expected["M"])
    assert deserialize_item(ours) == boto_deserializer.deserialize(expected)


# Reading numbers back is where we part from boto3 on purpose. Its context
# traps Rounded, which fires when trailing zeros past 38 digits are dropped
# even though nothing is lost: DynamoDB answers a stored 1E+38 as 39 digits,
# which boto3 then cannot read (boto3 issues #2500, #4693). So where boto3
# refuses a text, the truth is the text's exact value (Python's Decimal,
# unbounded): it must be read, as that value, when boto3 reads the same value
# written without its trailing zeros, or when it lies within DynamoDB's
# documented limits (38 significant digits, magnitudes 1E-130 to
# 9.9999999999999999999999999999999999999E+125); otherwise it is refused.
EXACT = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN
)


def exact_value(text: str) -> Decimal | None:
    """The exact value of `text` if DynamoDB could hold it, else None."""
    try:
        value = EXACT.create_decimal(text)
    except decimal.DecimalException:
        return None
    if not value.is_finite():
        return None
    try:
        boto_deserializer.deserialize({"N": str(value.normalize(EXACT))})
    except decimal.DecimalException:
        pass
    else:
        return value  # boto3 reads it once the zeros are gone
    significant = "".join(map(str, value.as_tuple().digits)).strip("0")
    size = value.copy_abs()
    in_range = Decimal("1E-130") <= size <= Decimal("9" * 38 + "E+88")
    return value if len(significant) <= 38 and in_range else None


def check_number_read(text: str) -> None:
    try:
        expected = boto_deserializer.deserialize({"N": text})
    except decimal.DecimalException:
        expected = None
    assume(expected is None or expected.is_finite())  # boto3 reads junk as NaN

    if expected is not None:
        got = deserialize({"N": text})
        assert got == expected and str(got) == str(expected)
        return
    exact = exact_value(text)
    if exact is None:
        with pytest.raises(InvalidNumberError):
            deserialize({"N": text})
    else:
        # the carve-out: an exact value boto3 refuses for its zeros only
        got = deserialize({"N": text})
        assert got == exact and type(got) is Decimal


@settings(max_examples=300)
@given(st.text(min_size=1, max_size=60, alphabet="0123456789.-+eE"))
def test_number_text_deserialize_agrees_with_boto3(text: str) -> None:
    check_number_read(text)


# numbers with many trailing zeros: the case boto3 gets wrong, generated
zeros_texts = st.builds(
    lambda sign, digits, zeros, point, exponent: (
        f"{sign}{digits}{'0' * zeros}"
        + (f".{'0' * point}" if point else "")
        + (f"E{exponent}" if exponent is not None else "")
    ),
    st.sampled_from(["", "-"]),
    st.integers(1, 10**38 - 1).map(str),
    st.integers(0, 60),
    st.integers(0, 5),
    st.none() | st.integers(-200, 200),
)


@settings(max_examples=400)
@given(zeros_texts)
def test_number_with_trailing_zeros_reads_exactly_or_is_refused(text: str) -> None:
    check_number_read(text)


def test_numbers_come_back_as_decimal_and_binary_as_bytes() -> None:
    item = deserialize_item(
        {"n": {"N": "7"}, "b": {"B": b"\x00"}, "ns": {"NS": ["1", "2.5"]}}
    )

    assert item == {"n": Decimal(7), "b": b"\x00", "ns": {Decimal(1), Decimal("2.5")}}
    assert type(item["n"]) is Decimal and type(item["b"]) is bytes


def test_boto3_binary_is_accepted() -> None:
    assert serialize(Binary(b"ab")) == {"B": b"ab"}
    assert serialize({Binary(b"a"), Binary(b"b")})["BS"] in ([b"a", b"b"], [b"b", b"a"])


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        Decimal("sNaN"),
        Decimal("1" * 39),
        10**38,
        Decimal("1E+127"),
        Decimal("1E-166"),
        Decimal("0." + "1" * 39),
    ],
    ids=repr,
)
def test_numbers_that_need_rounding_or_are_not_finite_are_refused(value: Any) -> None:
    with pytest.raises((InvalidNumberError, UnsupportedTypeError)):
        serialize(value)


def test_inexact_number_error_says_what_was_wrong() -> None:
    with pytest.raises(InvalidNumberError, match="38 significant digits"):
        serialize(Decimal("1." + "1" * 40))


def test_float_is_refused_by_default_with_a_hint() -> None:
    with pytest.raises(TypeError, match="floats=True"):
        serialize({"a": [0.5]})


def test_empty_set_is_refused_and_says_so() -> None:
    # boto3 sends {"NS": []}, which DynamoDB refuses; we say why up front
    assert boto_serializer.serialize(set()) == {"NS": []}
    with pytest.raises(EmptySetError, match="no empty sets"):
        serialize_item({"tags": set()})


@pytest.mark.parametrize(
    "value", [{True, 2}, {1.5}, {"a", 1}, {b"x", "y"}, {None}], ids=repr
)
def test_mixed_or_unsupported_sets_are_refused(value: Any) -> None:
    with pytest.raises(UnsupportedTypeError, match="set"):
        serialize(value)


@pytest.mark.parametrize("value", [object(), 1j, print, range(3)], ids=repr)
def test_unsupported_types_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        boto_serializer.serialize(value)
    with pytest.raises(UnsupportedTypeError, match="cannot store"):
        serialize(value)


def test_map_keys_must_be_strings() -> None:
    with pytest.raises(UnsupportedTypeError, match="attribute names are strings"):
        serialize({1: "a"})


@pytest.mark.parametrize(
    "value", [{}, {"S": "a", "N": "1"}, {"Q": 1}, "S", {"B": "not bytes"}], ids=repr
)
def test_malformed_attribute_values_are_refused(value: Any) -> None:
    with pytest.raises(UnsupportedTypeError):
        deserialize(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_opt_in_round_trip_exactly_or_are_refused(number: float) -> None:
    try:
        av = serialize({"f": number, "l": [number], "s": {number}}, floats=True)
    except InvalidNumberError:
        # refused only when no decimal within DynamoDB's range reads back as it
        assert number != 0 and not (1e-120 <= abs(number) < 1e120)
        return

    back = deserialize(av)

    assert float(back["f"]) == number and float(back["l"][0]) == number
    assert {float(n) for n in back["s"]} == {number}
    assert math.copysign(1, float(back["f"])) == math.copysign(1, number)


def test_floats_opt_in_stores_the_shortest_exact_decimal() -> None:
    assert serialize(0.1, floats=True) == {"N": "0.1"}
    assert serialize({"a": 2.5, "b": 1, "c": Decimal("3")}, floats=True) == {
        "M": {"a": {"N": "2.5"}, "b": {"N": "1"}, "c": {"N": "3"}}
    }


@pytest.mark.parametrize("number", [math.inf, -math.inf, math.nan, 1e-300, 1e200])
def test_floats_opt_in_refuses_what_it_cannot_store_exactly(number: float) -> None:
    with pytest.raises(InvalidNumberError):
        serialize(number, floats=True)


def test_subclasses_and_other_mappings_take_the_slow_path() -> None:
    from collections import OrderedDict
    from enum import IntEnum

    class Level(IntEnum):
        HIGH = 3

    class Name(str):
        pass

    value = OrderedDict(level=Level.HIGH, name=Name("x"), flag=True)

    assert serialize(value) == boto_serializer.serialize(value)


@pytest.mark.parametrize(
    ("item", "named", "error"),
    [
        ({"ok": {"S": "x"}, "bad": {"Q": "1"}}, "attribute bad:", UnsupportedTypeError),
        (
            {"m": {"M": {"l": {"L": [{"S": "x"}, {"N": "zz"}]}}}},
            r"attribute m\.l\[1\]:",
            InvalidNumberError,
        ),
        ({"plain": 5}, "attribute plain:", UnsupportedTypeError),
    ],
)
def test_deserialize_item_error_names_the_attribute(
    item: dict[str, Any], named: str, error: type[Exception]
) -> None:
    secret = {"big": {"S": "s" * 500}}
    with pytest.raises(error, match=named) as caught:
        deserialize_item({**secret, **item})
    # the message names the attribute, not the whole item
    assert "sss" not in str(caught.value)
