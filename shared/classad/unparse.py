"""Canonical text of expressions and values: new style (repr, classad_eval), old style, JSON."""
from __future__ import annotations

import math

from . import nodes as N
from .values import AbsTime, Error, RelTime, Undefined

_RESERVED_NAMES = {"error", "false", "is", "isnt", "parent", "true", "undefined"}
_ESCAPES = {0x5C: "\\\\", 0x22: '\\"', 0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x08: "\\b",
            0x0C: "\\f", 0x0B: "\\v", 0x07: "\\a"}
# in '...' names a double quote stands as itself and a single quote is escaped
_NAME_ESCAPES = {b: esc for b, esc in _ESCAPES.items() if b != 0x22} | {0x27: "\\'"}
_IDENT_START = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_IDENT_CHARS = _IDENT_START | set("0123456789")


def _quote(text: str, quote: str, escapes: dict[int, str]) -> str:
    """``text`` between ``quote`` characters, its UTF-8 bytes escaped per ``escapes`` or in octal."""
    out = [quote]
    for b in text.encode("utf-8", "surrogateescape"):
        esc = escapes.get(b)
        if esc is not None:
            out.append(esc)
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")
    out.append(quote)
    return "".join(out)


def quote_string(s: str) -> str:
    """A string literal in HTCondor's canonical escaped form."""
    if s.isascii() and s.isprintable() and "\\" not in s and '"' not in s:
        return '"' + s + '"'
    return _quote(s, '"', _ESCAPES)


def quote_name(name: str) -> str:
    """An attribute name, quoted with '...' when it is not a plain identifier or is reserved."""
    if name and name[0] in _IDENT_START and all(c in _IDENT_CHARS for c in name) \
            and name.lower() not in _RESERVED_NAMES:
        return name
    return _quote(name, "'", _NAME_ESCAPES)


def format_real(x: float) -> str:
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if math.isinf(x):
        return 'real("INF")' if x > 0 else 'real("-INF")'
    if math.isnan(x):
        return 'real("NaN")'
    return "%.15E" % x


def format_real_old(x: float) -> str:
    if math.isinf(x) or math.isnan(x):
        return format_real(x)
    text = "%.16G" % x
    if "." not in text and "E" not in text:
        text += ".0"
    return text


class Unparser:
    """Renders nodes and values; ``old`` selects old-style reals, raw strings and =?=/=!=."""

    def __init__(self, old: bool = False):
        self.old = old

    def node(self, n: N.Node) -> str:
        t = type(n)
        if t is N.Literal:
            return n.text or self.value(n.value)
        if t is N.AttrRef:
            return ("." if n.absolute else "") + quote_name(n.name)
        if t is N.Binary:
            op = n.op
            if self.old and op in ("is", "isnt"):
                op = "=?=" if op == "is" else "=!="
            return f"{self.node(n.left)} {op} {self.node(n.right)}"
        if t is N.Select:
            return f"{self.node(n.base)}.{n.name}"
        if t is N.Call:
            return n.name + "(" + ",".join(self.node(a) for a in n.args) + ")"
        if t is N.Paren:
            return "(" + self.node(n.inner) + ")"
        if t is N.Unary:
            return " " + n.op + self.node(n.operand)
        if t is N.Subscript:
            return f"{self.node(n.base)}[{self.node(n.index)}]"
        if t is N.Conditional:
            return f"{self.node(n.cond)} ? {self.node(n.then)} : {self.node(n.otherwise)}"
        if t is N.Elvis:
            return f"{self.node(n.left)} ?: {self.node(n.right)}"
        if t is N.ListLit:
            return "{ " + ",".join(self.node(i) for i in n.items) + " }"
        if t is N.AdLit:
            last = {}
            for name, node in n.attrs:
                key = name.lower()
                last[key] = (last[key][0] if key in last else name, node)
            return self.attrs(last.values())
        raise TypeError(f"not an expression node: {n!r}")

    def attrs(self, pairs) -> str:
        items = sorted(pairs, key=lambda p: (len(p[0]), p[0].lower()))
        return "[ " + "; ".join(f"{quote_name(name)} = {self.item(x)}" for name, x in items) + " ]"

    def item(self, x) -> str:
        """A list element or ad attribute: a node, an Expr or a plain value."""
        if isinstance(x, N.Node):
            return self.node(x)
        node = getattr(x, "node", None)
        if node is not None:
            return self.node(node)
        return self.value(x)

    def value(self, v) -> str:
        t = type(v)
        if t is int:
            return str(v)
        if t is str:
            if self.old:
                return '"' + v.replace('"', '\\"') + '"'
            return quote_string(v)
        if t is float:
            return format_real_old(v) if self.old else format_real(v)
        if t is bool:
            return "true" if v else "false"
        if v is Undefined:
            return "undefined"
        if v is Error:
            return "error"
        if t is list:
            return "{ " + ",".join(self.item(i) for i in v) + " }"
        if t is AbsTime:
            from .times import format_abstime
            return f'absTime("{format_abstime(v)}")'
        if t is RelTime:
            from .times import format_reltime
            return f'relTime("{format_reltime(v)}")'
        exprs = getattr(v, "_exprs", None)
        if exprs is not None:  # a ClassAd
            return self.attrs((v._names[k], e) for k, e in exprs.items())
        node = getattr(v, "node", None)
        if node is not None:  # an Expr
            return self.node(node)
        raise TypeError(f"not a ClassAd value: {v!r}")


def pretty(node: N.Node, base: int = 0) -> str:
    """Multi-line form of lists and ads that the ClassAd function unparse() returns."""
    t = type(node)
    if t is N.AdLit:
        pad = " " * (base + 4)
        last = {}
        for name, item in node.attrs:
            key = name.lower()
            last[key] = (last[key][0] if key in last else name, item)
        items = sorted(last.values(), key=lambda p: (len(p[0]), p[0].lower()))
        body = "; \n".join(f"{pad}    {quote_name(name)} = {pretty(item, base + 8)}" for name, item in items)
        return f"\n{pad}[\n" + (body + "\n" if items else "") + pad + "]"
    if t is N.ListLit:
        pad = " " * (base + 3)
        body = ",\n".join(f"{pad}   {pretty(item, base + 6)}" for item in node.items)
        return f"\n{pad}{{\n" + (body + "\n" if node.items else "") + pad + "}"
    return NEW.node(node)


NEW = Unparser()
OLD = Unparser(old=True)


def unparse_value(v) -> str:
    return NEW.value(v)


def unparse(x) -> str:
    """Canonical (new-style) text of an Expr, a syntax node or a value."""
    if isinstance(x, N.Node):
        return NEW.node(x)
    return NEW.value(x)


def unparse_old(x) -> str:
    """One value or expression as old-style ad text (as ``condor_status -long`` prints it)."""
    if isinstance(x, N.Node):
        return OLD.node(x)
    return OLD.value(x)
