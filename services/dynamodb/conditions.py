"""Condition, key-condition and update expressions built from Python.

Conditions read like boto3's::

    Key("pk").eq("user#1") & Key("sk").begins_with("order#")
    Attr("n").gt(3) | ~Attr("gone").exists()
    Attr("tags").size().between(1, 5)

Updates are built the same way; boto3 has no builder for them::

    Set("visits", Attr("visits") + 1)
        .set("first_seen", if_not_exists("first_seen", now))
        .set("log", list_append(Attr("log"), ["login"]))
        .remove("temp")
        .add("tags", {"new"})
        .delete("old_tags", {"stale"})

`Placeholders` turns them into expression text with generated ``#n0``
name and ``:v0`` value placeholders. Several expressions of one request
(a key condition and a filter, an update and its condition) share one
`Placeholders`, so placeholders never collide with each other nor with
the ``ExpressionAttributeNames`` / ``ExpressionAttributeValues`` the
caller wrote by hand. A name used twice gets one placeholder.

Attribute paths follow DynamoDB's document-path syntax: ``"a.b[2].c"`` is
attribute ``a``, its map key ``b``, element 2 of that list, map key ``c``.
A name that really contains a dot cannot be spelled this way; write that
expression by hand with your own placeholder.

Values stay Python values here; the `Table` marshals them with the
request (`Placeholders.values`), so builders work with native values.
What DynamoDB's grammar cannot say is refused when it is built: a condition
as a compared value or as a SET value, ``size()`` or arithmetic outside
where they belong, an expression where ADD or DELETE take a value.

As boto3's, attributes and conditions compare equal by value (``Attr("a")
== Attr("a")``; a `Key` never equals an `Attr`), and so are not hashable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ExpressionError

__all__ = [
    "Add",
    "Attr",
    "Condition",
    "Delete",
    "Key",
    "Placeholders",
    "Remove",
    "Set",
    "Update",
    "if_not_exists",
    "list_append",
]


# operands: things that render to expression text


class Operand:
    """Something that can stand on either side of a comparison."""

    def render(self, places: Placeholders) -> str:
        """The expression text for this operand."""
        raise NotImplementedError

    def _compare(self, operator: str, other: Any) -> Condition:
        return Condition(operator, (self, _compared(other)))

    def eq(self, value: Any) -> Condition:
        """``=``"""
        return self._compare("=", value)

    def ne(self, value: Any) -> Condition:
        """``<>``"""
        return self._compare("<>", value)

    def lt(self, value: Any) -> Condition:
        """``<``"""
        return self._compare("<", value)

    def lte(self, value: Any) -> Condition:
        """``<=``"""
        return self._compare("<=", value)

    def gt(self, value: Any) -> Condition:
        """``>``"""
        return self._compare(">", value)

    def gte(self, value: Any) -> Condition:
        """``>=``"""
        return self._compare(">=", value)

    def between(self, low: Any, high: Any) -> Condition:
        """``BETWEEN low AND high``, both ends included."""
        return Condition("BETWEEN", (self, _compared(low), _compared(high)))

    def is_in(self, values: Iterable[Any]) -> Condition:
        """``IN (...)``: equal to one of up to 100 values."""
        members = tuple(map(_compared, values))
        if not members:
            raise ExpressionError("is_in needs at least one value")
        if len(members) > 100:
            raise ExpressionError(f"is_in takes at most 100 values, not {len(members)}")
        return Condition("IN", (self, *members))


class Attr(Operand):
    """An attribute path in a condition, filter or update: ``Attr("a.b[0]")``."""

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ExpressionError(f"an attribute path is a non-empty str: {name!r}")
        self.name = name
        self.segments = _parse_path(name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.name == self.name

    def render(self, places: Placeholders) -> str:
        return places.path(self.segments)

    def begins_with(self, prefix: Any) -> Condition:
        """``begins_with(path, prefix)`` for strings and binary."""
        return Condition("begins_with", (self, _compared(prefix)))

    def contains(self, value: Any) -> Condition:
        """``contains(path, value)``: a substring, or a member of a set or list."""
        return Condition("contains", (self, _compared(value)))

    def exists(self) -> Condition:
        """``attribute_exists(path)``"""
        return Condition("attribute_exists", (self,))

    def not_exists(self) -> Condition:
        """``attribute_not_exists(path)``"""
        return Condition("attribute_not_exists", (self,))

    def attribute_type(self, kind: str) -> Condition:
        """``attribute_type(path, kind)``, kind one of S N B BOOL NULL M L SS NS BS."""
        if kind not in _TYPES:
            raise ExpressionError(
                f"attribute_type takes one of {' '.join(sorted(_TYPES))}, not {kind!r}"
            )
        return Condition("attribute_type", (self, kind))

    def size(self) -> Size:
        """``size(path)``, to compare: ``Attr("tags").size().gt(2)``."""
        return Size(self)

    def __add__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "+", other)

    def __radd__(self, other: Any) -> Arithmetic:
        return Arithmetic(other, "+", self)

    def __sub__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "-", other)

    def __rsub__(self, other: Any) -> Arithmetic:
        return Arithmetic(other, "-", self)


class Key(Attr):
    """A key attribute, for ``KeyConditionExpression``: ``Key("pk").eq(1)``."""


class Size(Operand):
    """``size(path)``: the length of a string, binary, set, list or map."""

    def __init__(self, path: Attr) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"{self.path!r}.size()"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.path == self.path

    def render(self, places: Placeholders) -> str:
        return f"size({self.path.render(places)})"


_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


# update operands


class _UpdateOperand:
    """A value computed in an update's SET: arithmetic and the two functions."""

    def render(self, places: Placeholders) -> str:
        raise NotImplementedError

    def __add__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "+", other)

    def __radd__(self, other: Any) -> Arithmetic:
        return Arithmetic(other, "+", self)

    def __sub__(self, other: Any) -> Arithmetic:
        return Arithmetic(self, "-", other)

    def __rsub__(self, other: Any) -> Arithmetic:
        return Arithmetic(other, "-", self)


class Arithmetic(_UpdateOperand):
    """``left + right`` or ``left - right`` in a SET action."""

    def __init__(self, left: Any, operator: str, right: Any) -> None:
        if isinstance(left, Arithmetic) or isinstance(right, Arithmetic):
            raise ExpressionError(
                "DynamoDB allows one + or - per SET value (a + b), not a chain"
            )
        self.left = _set_value(left, f"{operator} in a SET value")
        self.operator = operator
        self.right = _set_value(right, f"{operator} in a SET value")

    def __repr__(self) -> str:
        return f"({self.left!r} {self.operator} {self.right!r})"

    def render(self, places: Placeholders) -> str:
        left = places.operand(self.left)
        right = places.operand(self.right)
        return f"{left} {self.operator} {right}"


class _Function(_UpdateOperand):
    def __init__(self, name: str, *arguments: Any) -> None:
        self.name, self.arguments = name, arguments

    def __repr__(self) -> str:
        return f"{self.name}{self.arguments!r}"

    def render(self, places: Placeholders) -> str:
        rendered = ", ".join(places.operand(a) for a in self.arguments)
        return f"{self.name}({rendered})"


def if_not_exists(path: str | Attr, default: Any) -> _UpdateOperand:
    """``if_not_exists(path, default)``: the attribute, or ``default`` if absent."""
    default = _set_value(default, "if_not_exists in a SET value")
    return _Function("if_not_exists", _as_attr(path), default)


def list_append(first: Any, second: Any) -> _UpdateOperand:
    """``list_append(a, b)``: ``a`` then ``b``; each an `Attr` or a list value."""
    where = "list_append in a SET value"
    return _Function("list_append", _set_value(first, where), _set_value(second, where))


# conditions


class Condition:
    """A condition; combine with ``&`` (AND), ``|`` (OR) and ``~`` (NOT)."""

    def __init__(self, operator: str, operands: tuple[Any, ...]) -> None:
        self.operator = operator
        self.operands = operands

    def __repr__(self) -> str:
        return f"Condition({self.operator!r}, {self.operands!r})"

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other.operator == self.operator
            and other.operands == self.operands
        )

    def __and__(self, other: Condition) -> Condition:
        return Condition("AND", (self, _need_condition(other, "&")))

    def __or__(self, other: Condition) -> Condition:
        return Condition("OR", (self, _need_condition(other, "|")))

    def __invert__(self) -> Condition:
        return Condition("NOT", (self,))

    def __bool__(self) -> bool:
        raise ExpressionError(
            "a Condition has no truth value: combine conditions with & | ~, "
            "not and / or / not"
        )

    def render(self, places: Placeholders) -> str:
        """The expression text, placeholders registered in ``places``."""
        op, operands = self.operator, self.operands
        if op in ("AND", "OR"):
            left, right = (c.render(places) for c in operands)
            return f"({left} {op} {right})"
        if op == "NOT":
            return f"(NOT {operands[0].render(places)})"
        if op == "BETWEEN":
            subject, low, high = (places.operand(o) for o in operands)
            return f"{subject} BETWEEN {low} AND {high}"
        if op == "IN":
            subject, *members = (places.operand(o) for o in operands)
            return f"{subject} IN ({', '.join(members)})"
        if op in _FUNCTIONS:
            rendered = [places.operand(operands[0])]
            if op == "attribute_type":
                rendered.append(places.value(operands[1]))
            else:
                rendered.extend(places.operand(o) for o in operands[1:])
            return f"{op}({', '.join(rendered)})"
        left, right = (places.operand(o) for o in operands)
        return f"{left} {op} {right}"

    def render_key(self, places: Placeholders) -> str:
        """As `render`, checked for ``KeyConditionExpression``'s narrower rules."""
        self._check_key()
        return self.render(places)

    def _check_key(self) -> None:
        if self.operator == "AND":
            for operand in self.operands:
                operand._check_key()
            return
        if self.operator not in _KEY_OPERATORS:
            raise ExpressionError(
                f"a key condition cannot use {self.operator}: only = < <= > >= "
                "BETWEEN begins_with, joined by &"
            )
        subject = self.operands[0]
        if not isinstance(subject, Key):
            raise ExpressionError(
                f"a key condition names its attributes with Key, not {subject!r}"
            )


_FUNCTIONS = frozenset(
    {
        "begins_with",
        "contains",
        "attribute_exists",
        "attribute_not_exists",
        "attribute_type",
    }
)
_KEY_OPERATORS = frozenset({"=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"})


def _need_condition(other: Any, operator: str) -> Condition:
    if not isinstance(other, Condition):
        _refuse_boto3(other)
        raise ExpressionError(
            f"{operator} joins two conditions, not a {type(other).__name__}"
        )
    return other


def _refuse_boto3(value: Any) -> None:
    # boto3's condition objects look alike but render differently: say so
    if type(value).__module__.startswith("boto3."):
        raise ExpressionError(
            f"{type(value).__name__} is a boto3 condition; build conditions with "
            "services.dynamodb.conditions (Key, Attr: the same methods)"
        )


def _expression(value: Any, what: str) -> Condition:
    if not isinstance(value, Condition):
        _refuse_boto3(value)
        raise ExpressionError(
            f"{what} is a Condition or its text, not {type(value).__name__}"
        )
    return value


def _expression_kind(value: Any) -> str | None:
    # what a value is, if it is an expression rather than a value
    if isinstance(value, Condition):
        return "a Condition"
    if isinstance(value, Update):
        return "an Update"
    if isinstance(value, Size):
        return "size()"
    if isinstance(value, Arithmetic):
        return "arithmetic"
    if type(value).__module__ == "boto3.dynamodb.conditions":
        return f"boto3's {type(value).__name__} (use services.dynamodb.conditions)"
    return None


def _compared(value: Any) -> Any:
    # a compared value: a value, an attribute or size(); not a condition
    kind = _expression_kind(value)
    if kind is not None and kind != "size()":
        raise ExpressionError(
            f"a condition can compare values, attributes and size(), not {kind} "
            f"({value!r:.60})"
        )
    return value


def _set_value(value: Any, where: str) -> Any:
    # what SET can compute: a value, an attribute, if_not_exists, list_append
    kind = _expression_kind(value)
    if kind is not None and not (kind == "arithmetic" and where == "SET"):
        raise ExpressionError(
            f"{where} is a value, an Attr, if_not_exists or list_append, "
            f"not {kind} ({value!r:.60})"
        )
    return value


def _plain_value(value: Any, clause: str) -> Any:
    # ADD and DELETE take one value: a number or a set
    kind = _expression_kind(value)
    if kind is None and isinstance(value, (Operand, _UpdateOperand)):
        kind = type(value).__name__
    if kind is not None:
        raise ExpressionError(
            f"{clause} takes a value (a number or a set), not {kind} ({value!r:.60})"
        )
    return value


# updates


class Update:
    """An update expression, built by chaining; each step returns a new Update.

    ``Update().set("a", 1).remove("b")``, or start from `Set`, `Remove`,
    `Add` or `Delete`: ``Set("a", 1).remove("b")``.
    """

    def __init__(self) -> None:
        self._actions: dict[str, tuple[tuple[Attr, Any], ...]] = {
            "SET": (),
            "REMOVE": (),
            "ADD": (),
            "DELETE": (),
        }

    def __repr__(self) -> str:
        steps = [
            f"{clause.lower()}{(a.name, v)!r}"
            for clause, actions in self._actions.items()
            for a, v in actions
        ]
        return "Update()." + ".".join(steps) if steps else "Update()"

    def _with(self, clause: str, path: str | Attr, value: Any) -> Update:
        value = _checked(clause, value)
        new = Update()
        new._actions = dict(self._actions)
        new._actions[clause] = (*self._actions[clause], (_as_attr(path), value))
        return new

    def set(self, path: str | Attr, value: Any) -> Update:
        """``SET path = value``; value may be ``Attr("x") + 1``, `if_not_exists`..."""
        return self._with("SET", path, value)

    def remove(self, *paths: str | Attr) -> Update:
        """``REMOVE path, ...``: drop attributes or list elements."""
        new = self
        for path in paths:
            new = new._with("REMOVE", path, None)
        return new

    def add(self, path: str | Attr, value: Any) -> Update:
        """``ADD path value``: add to a number, or add members to a set."""
        return self._with("ADD", path, value)

    def delete(self, path: str | Attr, members: Any) -> Update:
        """``DELETE path members``: take members out of a set."""
        return self._with("DELETE", path, members)

    def render(self, places: Placeholders) -> str:
        """The expression text, placeholders registered in ``places``."""
        self._check()
        clauses = []
        for clause, actions in self._actions.items():
            if not actions:
                continue
            if clause == "SET":
                parts = [
                    f"{a.render(places)} = {places.operand(v)}" for a, v in actions
                ]
            elif clause == "REMOVE":
                parts = [a.render(places) for a, _ in actions]
            else:
                parts = [f"{a.render(places)} {places.value(v)}" for a, v in actions]
            clauses.append(f"{clause} {', '.join(parts)}")
        return " ".join(clauses)

    def _check(self) -> None:
        seen: dict[tuple[str | int, ...], str] = {}
        for clause, actions in self._actions.items():
            for path, _ in actions:
                if path.segments in seen:
                    raise ExpressionError(
                        f"{path.name!r} appears twice in one update "
                        f"({seen[path.segments]} and {clause}); "
                        "DynamoDB refuses overlapping paths"
                    )
                seen[path.segments] = clause
        if not seen:
            raise ExpressionError("an update needs at least one action")


def _checked(clause: str, value: Any) -> Any:
    if clause == "SET":
        return _set_value(value, "SET")
    if clause in ("ADD", "DELETE"):
        return _plain_value(value, clause)
    return value


class Set(Update):
    """Start an update with ``SET path = value``."""

    def __init__(self, path: str | Attr, value: Any) -> None:
        super().__init__()
        self._actions["SET"] = ((_as_attr(path), _set_value(value, "SET")),)


class Remove(Update):
    """Start an update with ``REMOVE path, ...``."""

    def __init__(self, *paths: str | Attr) -> None:
        super().__init__()
        self._actions["REMOVE"] = tuple((_as_attr(p), None) for p in paths)


class Add(Update):
    """Start an update with ``ADD path value``."""

    def __init__(self, path: str | Attr, value: Any) -> None:
        super().__init__()
        self._actions["ADD"] = ((_as_attr(path), _plain_value(value, "ADD")),)


class Delete(Update):
    """Start an update with ``DELETE path members``."""

    def __init__(self, path: str | Attr, members: Any) -> None:
        super().__init__()
        self._actions["DELETE"] = ((_as_attr(path), _plain_value(members, "DELETE")),)


# placeholders


class Placeholders:
    """Name and value placeholders shared by the expressions of one request.

    Pass the request's own ``ExpressionAttributeNames`` and
    ``ExpressionAttributeValues`` so generated placeholders avoid theirs;
    `names` and `values` then hold both, ready to send.
    """

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        self.names: dict[str, str] = dict(names or {})
        self.values: dict[str, Any] = dict(values or {})
        self._placeholder_of: dict[str, str] = {}
        self._next_name = 0
        self._next_value = 0

    def name(self, name: str) -> str:
        """The ``#n`` placeholder for one attribute name (reused if seen)."""
        placeholder = self._placeholder_of.get(name)
        if placeholder is None:
            placeholder = f"#n{self._next_name}"
            self._next_name += 1
            while placeholder in self.names:
                placeholder = f"#n{self._next_name}"
                self._next_name += 1
            self._placeholder_of[name] = placeholder
            self.names[placeholder] = name
        return placeholder

    def value(self, value: Any) -> str:
        """A fresh ``:v`` placeholder holding ``value``."""
        placeholder = f":v{self._next_value}"
        self._next_value += 1
        while placeholder in self.values:
            placeholder = f":v{self._next_value}"
            self._next_value += 1
        self.values[placeholder] = value
        return placeholder

    def path(self, segments: tuple[str | int, ...]) -> str:
        """A document path with each name replaced by its placeholder."""
        text = []
        for segment in segments:
            if isinstance(segment, int):
                text.append(f"[{segment}]")
            else:
                if text:
                    text.append(".")
                text.append(self.name(segment))
        return "".join(text)

    def operand(self, operand: Any) -> str:
        """An `Attr`, size, arithmetic or function as text; anything else a value."""
        if isinstance(operand, (Operand, _UpdateOperand)):
            return operand.render(self)
        return self.value(operand)

    def condition(self, condition: Condition | str) -> str:
        """A condition or filter expression (text passes through)."""
        if isinstance(condition, str):
            return condition
        return _expression(condition, "a condition expression").render(self)

    def key_condition(self, condition: Condition | str) -> str:
        """A key condition expression (text passes through)."""
        if isinstance(condition, str):
            return condition
        return _expression(condition, "a key condition").render_key(self)

    def update(self, update: Update | str) -> str:
        """An update expression (text passes through)."""
        if isinstance(update, str):
            return update
        if not isinstance(update, Update):
            _refuse_boto3(update)
            raise ExpressionError(
                f"an update is an Update or its text, not {type(update).__name__}"
            )
        return update.render(self)

    def projection(self, paths: str | Iterable[str]) -> str:
        """A projection: text passes through, a list of paths gets placeholders."""
        if isinstance(paths, str):
            return paths
        rendered = [self.path(_parse_path(p)) for p in paths]
        if not rendered:
            raise ExpressionError("a projection needs at least one attribute")
        return ", ".join(rendered)


# document paths

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]|(\.)")


def _parse_path(path: str) -> tuple[str | int, ...]:
    segments: list[str | int] = []
    position, expect_name = 0, True
    for match in _SEGMENT.finditer(path):
        if match.start() != position:
            break
        position = match.end()
        name, index, dot = match.groups()
        if name is not None and expect_name:
            segments.append(name)
            expect_name = False
        elif index is not None and not expect_name:
            segments.append(int(index))
        elif dot is not None and not expect_name:
            expect_name = True
        else:
            position = -1
            break
    if position != len(path) or expect_name:
        raise ExpressionError(
            f"{path!r} is not a document path (name, name.key, name[0], ...)"
        )
    return tuple(segments)


def _as_attr(path: str | Attr) -> Attr:
    if isinstance(path, Attr):
        return path
    if isinstance(path, str):
        return Attr(path)
    raise ExpressionError(f"an attribute path is a str or Attr, not {path!r}")
