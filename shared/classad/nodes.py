"""Syntax tree of a ClassAd expression. Nodes are immutable once built and shared via the cache."""
from __future__ import annotations

import sys

_KEYS: dict[str, str] = {}  # attribute name as spelled -> its key
_KEYS_LIMIT = 100_000


def attr_key(name: str) -> str:
    """The case-folded key of an attribute name: one shared string per name, so that 100,000
    job ads hold one copy of each key and dict lookups with a compiled name hit by identity."""
    key = _KEYS.get(name)
    if key is None:
        key = sys.intern(name.lower())
        if len(_KEYS) >= _KEYS_LIMIT:
            _KEYS.clear()
        _KEYS[name] = key
    return key


class Node:
    __slots__ = ()


class Literal(Node):
    """int, float, str, bool, Undefined, Error, AbsTime or RelTime.

    ``text`` is set when the literal is written in a form other than its value's own: HTCondor
    keeps ``relTime("1d")`` as a real that still prints as ``relTime("1+00:00:00")``."""
    __slots__ = ("value", "text")

    def __init__(self, value, text: str | None = None):
        self.value = value
        self.text = text


class AttrRef(Node):
    """A plain name (``absolute`` False) or ``.name`` (``absolute`` True)."""
    __slots__ = ("name", "key", "absolute")

    def __init__(self, name: str, absolute: bool = False):
        self.name = name
        self.key = attr_key(name)
        self.absolute = absolute


class Select(Node):
    """``base.name``"""
    __slots__ = ("base", "name", "key")

    def __init__(self, base: Node, name: str):
        self.base = base
        self.name = name
        self.key = attr_key(name)


class Subscript(Node):
    """``base[index]``"""
    __slots__ = ("base", "index")

    def __init__(self, base: Node, index: Node):
        self.base = base
        self.index = index


class Unary(Node):
    __slots__ = ("op", "operand")

    def __init__(self, op: str, operand: Node):
        self.op = op
        self.operand = operand


class Binary(Node):
    """Binary operator; ``op`` is canonical (``=?=`` is stored as ``is``)."""
    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Node, right: Node):
        self.op = op
        self.left = left
        self.right = right


class Conditional(Node):
    __slots__ = ("cond", "then", "otherwise")

    def __init__(self, cond: Node, then: Node, otherwise: Node):
        self.cond = cond
        self.then = then
        self.otherwise = otherwise


class Elvis(Node):
    """``left ?: right``"""
    __slots__ = ("left", "right")

    def __init__(self, left: Node, right: Node):
        self.left = left
        self.right = right


class Call(Node):
    __slots__ = ("name", "key", "args")

    def __init__(self, name: str, args: list[Node]):
        self.name = name
        self.key = attr_key(name)
        self.args = args


class Paren(Node):
    """Parentheses as written; kept so unparsing reproduces them."""
    __slots__ = ("inner",)

    def __init__(self, inner: Node):
        self.inner = inner


class ListLit(Node):
    __slots__ = ("items",)

    def __init__(self, items: list[Node]):
        self.items = items


class AdLit(Node):
    """``[ name = expr; ... ]``; ``attrs`` is a list of (name, node), last duplicate wins."""
    __slots__ = ("attrs",)

    def __init__(self, attrs: list[tuple[str, Node]]):
        self.attrs = attrs
