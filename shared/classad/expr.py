"""Expr: a parsed expression, compiled on first evaluation; parse_expr caches by text."""
from __future__ import annotations

from . import nodes as N
from .parser import parse_node, quick_node
from .scope import eval_env
from .unparse import format_real, quote_string
from .values import Error, Undefined

_CACHE: dict[str, "Expr"] = {}
_CACHE_LIMIT = 200_000


class Expr:
    """An immutable ClassAd expression. ``fn(env)`` is its compiled form (built on first use)."""
    __slots__ = ("node", "fn", "const", "value", "_text", "_old_text", "__weakref__")

    def __init__(self, node: N.Node, text: str | None = None):
        self.node = node
        self._text = text
        self._old_text: str | None = None
        if type(node) is N.Literal:
            self.const = True
            self.value = node.value
        else:
            self.const = False
            self.value = None

    def __getattr__(self, name: str):
        """``fn`` is compiled on first use (most attribute values are literals, read without it):
        until then the slot is empty, and reading it comes here."""
        if name != "fn":
            raise AttributeError(name)
        from .compiler import compile_node
        fn = self.fn = compile_node(self.node)
        return fn

    @classmethod
    def literal(cls, value) -> "Expr":
        """An expression standing for a Python value (int, float, str, bool, list, ClassAd, ...)."""
        t = type(value)
        if t is int and -0x8000000000000000 <= value <= 0x7FFFFFFFFFFFFFFF:  # the commonest: text known at once
            return cls(N.Literal(value), str(value))
        if t is str:
            return cls(N.Literal(value), quote_string(value))
        if t is float:
            return cls(N.Literal(value), format_real(value))
        if t is bool:
            return cls(N.Literal(value), "true" if value else "false")
        from .ad import ClassAd
        if isinstance(value, Expr):
            return value
        if t in (int, float, str, bool) or value is Undefined or value is Error:
            if t is int:
                from .values import wrap64
                value = wrap64(value)
            return cls(N.Literal(value))
        if t is list or t is tuple:
            return cls(N.ListLit([_item_node(v) for v in value]))
        if isinstance(value, ClassAd):
            return cls(N.AdLit([(name, value._exprs[name.lower()].node) for name in value]))
        if isinstance(value, dict):
            return cls.literal(ClassAd(value))
        from .values import AbsTime, RelTime
        if t is AbsTime or t is RelTime:
            return cls(N.Literal(value))
        raise TypeError(f"cannot store a {t.__name__} in a ClassAd")

    def eval(self, my=None, target=None):
        """Value of the expression with MY = my (a ClassAd) and TARGET = target."""
        return self.fn(eval_env(my, target))

    def external_refs(self) -> set[str]:
        """Lower-cased names this expression reads from MY, TARGET or unqualified."""
        refs: set[str] = set()
        _collect_refs(self.node, refs)
        return refs

    def __str__(self) -> str:
        if self._text is None:
            from .unparse import NEW
            self._text = NEW.node(self.node)
        return self._text

    def old_text(self) -> str:
        """Old-ClassAd text (as CEDAR and ``-long`` print it), computed once."""
        if self._old_text is None:
            from .unparse import unparse_old
            self._old_text = unparse_old(self.node)
        return self._old_text

    def __repr__(self) -> str:
        return f"Expr({str(self)!r})"

    def __eq__(self, other) -> bool:
        if isinstance(other, Expr):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))


def _item_node(v) -> N.Node:
    if isinstance(v, Expr):
        return v.node
    return Expr.literal(v).node


_SCOPE_NAMES = {"my", "target", "self", "other"}


def _collect_refs(node: N.Node, refs: set[str]) -> None:
    t = type(node)
    if t is N.AttrRef:
        if not node.absolute:
            refs.add(node.key)
        return
    if t is N.Select:
        base = node.base
        if type(base) is N.AttrRef and not base.absolute and base.key in _SCOPE_NAMES:
            refs.add(node.key)
            return
        _collect_refs(base, refs)
        return
    for child in _children(node):
        _collect_refs(child, refs)


def _children(node: N.Node):
    t = type(node)
    if t is N.Binary:
        return (node.left, node.right)
    if t is N.Unary:
        return (node.operand,)
    if t is N.Paren:
        return (node.inner,)
    if t is N.Call:
        return node.args
    if t is N.Conditional:
        return (node.cond, node.then, node.otherwise)
    if t is N.Elvis:
        return (node.left, node.right)
    if t is N.Subscript:
        return (node.base, node.index)
    if t is N.ListLit:
        return node.items
    if t is N.AdLit:
        return [n for _, n in node.attrs]
    return ()


def parse_expr(text: str) -> Expr:
    """Parse (or fetch from the cache) the expression ``text``; raises ClassAdSyntaxError."""
    expr = _CACHE.get(text)
    if expr is None:
        if not isinstance(text, str):
            raise TypeError(f"expression text must be a str, not {type(text).__name__}")
        quick = quick_node(text)
        expr = Expr(*quick) if quick is not None else Expr(parse_node(text))
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[text] = expr
    return expr
