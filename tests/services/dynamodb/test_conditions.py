"""Condition builders against boto3's ConditionExpressionBuilder, and updates.

Both builders turn the same condition into text with placeholders; with the
placeholders put back (names for ``#..``, values for ``:..``) the two texts
must say the same thing, character for character.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from boto3.dynamodb import conditions as boto
from hypothesis import given
from hypothesis import strategies as st

from services.dynamodb import conditions as ours
from services.dynamodb.conditions import (
    Add,
    Attr,
    Delete,
    Key,
    Placeholders,
    Remove,
    Set,
    Update,
    if_not_exists,
    list_append,
)
from services.dynamodb.errors import ExpressionError

paths = st.sampled_from(["a", "b.c", "d[0]", "e.f[1].g", "pk", "Name With Space"])
plain = st.integers(-5, 5) | st.text(max_size=3)


def leaf(lib: Any, kind: str, path: str, args: tuple[Any, ...]) -> Any:
    attr = lib.Attr(path)
    if kind in ("eq", "ne", "lt", "lte", "gt", "gte", "begins_with", "contains"):
        return getattr(attr, kind)(args[0])
    if kind == "between":
        return attr.between(args[0], args[1])
    if kind == "is_in":
        return attr.is_in(list(args))
    if kind in ("exists", "not_exists"):
        return getattr(attr, kind)()
    if kind == "attribute_type":
        return attr.attribute_type("S")
    if kind == "size":
        return attr.size().gt(args[0])
    raise AssertionError(kind)


leaves = st.tuples(
    st.sampled_from(
        [
            "eq",
            "ne",
            "lt",
            "lte",
            "gt",
            "gte",
            "begins_with",
            "contains",
            "between",
            "is_in",
            "exists",
            "not_exists",
            "attribute_type",
            "size",
        ]
    ),
    paths,
    st.lists(plain, min_size=2, max_size=4).map(tuple),
)
trees = st.recursive(
    leaves,
    lambda inner: (
        st.tuples(st.just("and"), inner, inner)
        | st.tuples(st.just("or"), inner, inner)
        | st.tuples(st.just("not"), inner)
    ),
    max_leaves=6,
)


def realize(lib: Any, tree: tuple[Any, ...]) -> Any:
    if tree[0] == "and":
        return realize(lib, tree[1]) & realize(lib, tree[2])
    if tree[0] == "or":
        return realize(lib, tree[1]) | realize(lib, tree[2])
    if tree[0] == "not":
        return ~realize(lib, tree[1])
    return leaf(lib, *tree)


def substituted(text: str, names: dict[str, str], values: dict[str, Any]) -> str:
    def back(match: re.Match[str]) -> str:
        token = match.group(0)
        return names[token] if token.startswith("#") else repr(values[token])

    return re.sub(r"[#:][A-Za-z0-9_]+", back, text)


def boto_text(condition: Any, *, key: bool = False) -> str:
    built = boto.ConditionExpressionBuilder().build_expression(
        condition, is_key_condition=key
    )
    return substituted(
        built.condition_expression,
        built.attribute_name_placeholders,
        built.attribute_value_placeholders,
    )


def our_text(condition: Any, *, key: bool = False) -> str:
    places = Placeholders()
    text = places.key_condition(condition) if key else places.condition(condition)
    return substituted(text, places.names, places.values)


@given(trees)
def test_conditions_say_what_boto3_says(tree: tuple[Any, ...]) -> None:
    assert our_text(realize(ours, tree)) == boto_text(realize(boto, tree))


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.Key("pk").eq("u#1"),
        lambda lib: lib.Key("pk").eq(1) & lib.Key("sk").begins_with("o#"),
        lambda lib: lib.Key("pk").eq(1) & lib.Key("sk").between(2, 9),
        lambda lib: lib.Key("pk").eq(1) & lib.Key("sk").lte(3),
    ],
)
def test_key_conditions_say_what_boto3_says(build: Any) -> None:
    assert our_text(build(ours), key=True) == boto_text(build(boto), key=True)


def test_placeholders_avoid_the_callers_own() -> None:
    places = Placeholders({"#n0": "mine", "#n1": "also"}, {":v0": 5})

    text = places.condition(Attr("a").eq(1) & Attr("mine").gt(2))

    assert text == "(#n2 = :v1 AND #n3 > :v2)"
    assert places.names == {"#n0": "mine", "#n1": "also", "#n2": "a", "#n3": "mine"}
    assert places.values == {":v0": 5, ":v1": 1, ":v2": 2}


def test_one_name_gets_one_placeholder_across_expressions() -> None:
    places = Placeholders()

    key = places.key_condition(Key("pk").eq("x"))
    filter_ = places.condition(Attr("pk").begins_with("x") & Attr("n").gt(1))

    assert key == "#n0 = :v0"
    assert filter_ == "(begins_with(#n0, :v1) AND #n1 > :v2)"


def test_key_condition_refuses_what_dynamodb_refuses() -> None:
    with pytest.raises(ExpressionError, match="Key"):
        Placeholders().key_condition(Key("pk").eq(1) & Attr("sk").eq(2))
    with pytest.raises(ExpressionError, match="cannot use OR"):
        Placeholders().key_condition(Key("pk").eq(1) | Key("pk").eq(2))
    with pytest.raises(ExpressionError, match="cannot use contains"):
        Placeholders().key_condition(Key("pk").contains(1))


def test_python_boolean_operators_are_refused() -> None:
    with pytest.raises(ExpressionError, match="no truth value"):
        bool(Attr("a").eq(1))


@pytest.mark.parametrize("path", ["", "a..b", "a[x]", "[0]", "a.", "a[1", ".a"])
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(ExpressionError):
        Attr(path)


def test_is_in_bounds() -> None:
    with pytest.raises(ExpressionError, match="at least one"):
        Attr("a").is_in([])
    with pytest.raises(ExpressionError, match="at most 100"):
        Attr("a").is_in(range(101))


# updates: expected texts follow the UpdateExpression grammar in the
# DynamoDB developer guide ("Update expressions")


def test_update_renders_every_clause_in_order() -> None:
    update = (
        Set("visits", Attr("visits") + 1)
        .set("first", if_not_exists("first", 10))
        .set("log", list_append(Attr("log"), ["x"]))
        .set("m.k[2]", "v")
        .remove("tmp", "arr[0]")
        .add("count", 1)
        .delete("tags", {"old"})
    )
    places = Placeholders()

    text = places.update(update)

    assert text == (
        "SET #n0 = #n0 + :v0, #n1 = if_not_exists(#n1, :v1), "
        "#n2 = list_append(#n2, :v2), #n3.#n4[2] = :v3 "
        "REMOVE #n5, #n6[0] ADD #n7 :v4 DELETE #n8 :v5"
    )
    assert places.names == {
        "#n0": "visits",
        "#n1": "first",
        "#n2": "log",
        "#n3": "m",
        "#n4": "k",
        "#n5": "tmp",
        "#n6": "arr",
        "#n7": "count",
        "#n8": "tags",
    }
    assert places.values == {
        ":v0": 1,
        ":v1": 10,
        ":v2": ["x"],
        ":v3": "v",
        ":v4": 1,
        ":v5": {"old"},
    }


def test_update_starting_points_and_arithmetic_on_either_side() -> None:
    assert Placeholders().update(Remove("a", "b")) == "REMOVE #n0, #n1"
    assert Placeholders().update(Add("n", 2)) == "ADD #n0 :v0"
    assert Placeholders().update(Delete("s", {1})) == "DELETE #n0 :v0"
    assert Placeholders().update(Set("n", 100 - Attr("m"))) == "SET #n0 = :v0 - #n1"
    assert (
        Placeholders().update(Set("n", if_not_exists("n", 0) + 1))
        == "SET #n0 = if_not_exists(#n0, :v0) + :v1"
    )


def test_updates_are_immutable_steps() -> None:
    base = Set("a", 1)
    longer = base.remove("b")

    assert Placeholders().update(base) == "SET #n0 = :v0"
    assert Placeholders().update(longer) == "SET #n0 = :v0 REMOVE #n1"


def test_update_refuses_overlaps_chains_and_emptiness() -> None:
    with pytest.raises(ExpressionError, match="twice"):
        Placeholders().update(Set("a", 1).remove("a"))
    with pytest.raises(ExpressionError, match="one \\+ or -"):
        Set("a", Attr("a") + 1 + 2)
    with pytest.raises(ExpressionError, match="at least one action"):
        Placeholders().update(Update())


def test_module_exports_what_it_documents() -> None:
    for name in ours.__all__:
        assert getattr(ours, name).__doc__


def test_a_boto3_condition_says_to_use_ours() -> None:
    from services.dynamodb.conditions import Placeholders

    places = Placeholders()
    with pytest.raises(ExpressionError, match=r"services\.dynamodb\.conditions"):
        places.key_condition(boto.Key("pk").eq("a"))
    with pytest.raises(ExpressionError, match=r"services\.dynamodb\.conditions"):
        places.condition(boto.Attr("n").gt(1) & boto.Attr("m").exists())


# equality: boto3's conditions compare by value, and are not hashable


@given(trees, trees)
def test_conditions_compare_equal_as_boto3s_do(
    first: tuple[Any, ...], second: tuple[Any, ...]
) -> None:
    boto_same = realize(boto, first) == realize(boto, second)

    assert (realize(ours, first) == realize(ours, second)) is boto_same
    assert (realize(ours, first) != realize(ours, second)) is not boto_same
    assert realize(ours, first) == realize(ours, first)


@pytest.mark.parametrize(
    "pair",
    [
        lambda lib: (lib.Attr("a"), lib.Attr("a")),
        lambda lib: (lib.Attr("a"), lib.Attr("b")),
        lambda lib: (lib.Key("a"), lib.Key("a")),
        lambda lib: (lib.Key("a"), lib.Attr("a")),
        lambda lib: (lib.Attr("a"), lib.Key("a")),
        lambda lib: (lib.Attr("a"), "a"),
        lambda lib: (lib.Attr("a").size(), lib.Attr("a").size()),
        lambda lib: (lib.Attr("a").size(), lib.Attr("b").size()),
        lambda lib: (lib.Attr("a").size(), lib.Attr("a")),
        lambda lib: (lib.Key("a").eq(1), lib.Key("a").eq(1)),
        lambda lib: (lib.Key("a").eq(1), lib.Attr("a").eq(1)),
        lambda lib: (lib.Attr("a").eq(1), lib.Attr("a").ne(1)),
        lambda lib: (lib.Attr("a").eq(1), lib.Attr("a").eq(True)),
        lambda lib: (lib.Attr("a").exists(), lib.Attr("a").exists()),
        lambda lib: (lib.Attr("a").size().gt(1), lib.Attr("a").size().gt(1)),
    ],
)
def test_attributes_compare_equal_as_boto3s_do(pair: Any) -> None:
    boto_left, boto_right = pair(boto)
    left, right = pair(ours)

    assert (left == right) is (boto_left == boto_right)
    assert (left != right) is (boto_left != boto_right)
    assert (right == left) is (boto_right == boto_left)


@pytest.mark.parametrize(
    "build",
    [
        lambda lib: lib.Attr("a"),
        lambda lib: lib.Key("a"),
        lambda lib: lib.Attr("a").size(),
        lambda lib: lib.Attr("a").eq(1),
        lambda lib: lib.Attr("a").eq(1) & lib.Attr("b").exists(),
        lambda lib: ~lib.Attr("a").exists(),
    ],
)
def test_hashable_or_not_as_boto3s_are(build: Any) -> None:
    with pytest.raises(TypeError):
        hash(build(boto))
    with pytest.raises(TypeError):
        hash(build(ours))


# updates that could not be sent are refused when built


@pytest.mark.parametrize(
    "build",
    [
        lambda: Add("n", Attr("m")),
        lambda: Update().add("n", Attr("m")),
        lambda: Delete("tags", Attr("old")),
        lambda: Update().delete("tags", Attr("m").size()),
        lambda: Add("n", Attr("m") + 1),
        lambda: Add("n", Attr("m").eq(1)),
    ],
)
def test_add_and_delete_take_values_not_expressions(build: Any) -> None:
    # DynamoDB's grammar: ADD path value, DELETE path value (a placeholder)
    with pytest.raises(ExpressionError, match="takes a value"):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Set("n", Attr("m").eq(1)),
        lambda: Update().set("n", Attr("m").exists() & Attr("k").exists()),
        lambda: Set("n", Set("m", 1)),
        lambda: Set("n", Attr("m").size()),
        lambda: Set("n", Attr("m") + Attr("k").eq(1)),
        lambda: Set("n", if_not_exists("n", Attr("m").eq(1))),
        lambda: Set("n", list_append(Attr("l"), Attr("m").eq(1))),
        lambda: Set("n", boto.Attr("m")),
    ],
)
def test_set_refuses_conditions_and_what_set_cannot_compute(build: Any) -> None:
    with pytest.raises(ExpressionError, match="SET"):
        build()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Attr("a").eq(Attr("b").eq(1)),
        lambda: Attr("a").between(1, Attr("b").exists()),
        lambda: Attr("a").is_in([1, Attr("b").eq(2)]),
        lambda: Attr("a").contains(Set("b", 1)),
        lambda: Attr("a").eq(Attr("b") + 1),
    ],
)
def test_comparisons_refuse_conditions_as_operands(build: Any) -> None:
    with pytest.raises(ExpressionError, match="compare"):
        build()


def test_what_set_add_and_delete_do_take_still_renders() -> None:
    update = (
        Set("a", Attr("b"))
        .set("c", if_not_exists("c", 0) + 1)
        .set("d", list_append(Attr("d"), [1]))
        .add("n", 1)
        .delete("s", {"x"})
    )
    places = Placeholders()

    assert update.render(places) == (
        "SET #n0 = #n1, #n2 = if_not_exists(#n2, :v0) + :v1, "
        "#n3 = list_append(#n3, :v2) ADD #n4 :v3 DELETE #n5 :v4"
    )
