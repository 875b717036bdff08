"""A small evaluator for the constant expressions configuration needs before any ClassAd exists.

`$INT(X)`, `$REAL(X)`, `$CHOICE(i,...)` and the typed getters evaluate values such as `2*3`,
`128*1024`, `TRUE` or `"a" == "a"`.  Only literals and operators are allowed: an attribute
reference makes the expression non-constant and evaluation fails with ValueError.
"""
from __future__ import annotations

import re

_TOKEN = re.compile(r"""\s*(?:
    (?P<num>\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<op>=\?=|=!=|==|!=|<=|>=|&&|\|\||[-+*/%<>!()?:])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
)""", re.X)

_BINARY = [  # lowest precedence first
    ("||",), ("&&",), ("==", "!=", "=?=", "=!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%"),
]


def _tokens(text: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    pos, end = 0, len(text.rstrip())
    while pos < end:
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unexpected character at position {pos}: {text[pos:pos + 10]!r}")
        pos = m.end()
        if m.group("num"):
            s = m.group("num")
            out.append(("val", float(s) if any(c in s for c in ".eE") else int(s)))
        elif m.group("str"):
            out.append(("val", m.group("str")[1:-1].replace('\\"', '"')))
        elif m.group("op"):
            out.append(("op", m.group("op")))
        else:
            word = m.group("word").lower()
            if word not in ("true", "false"):
                raise ValueError(f"{m.group('word')} is not a constant")
            out.append(("val", word == "true"))
    return out


def _apply(op: str, a: object, b: object) -> object:
    if op == "||":
        return bool(a) or bool(b)
    if op == "&&":
        return bool(a) and bool(b)
    if op in ("==", "=?="):
        return a.lower() == b.lower() if isinstance(a, str) and isinstance(b, str) and op == "==" else a == b
    if op in ("!=", "=!="):
        return not _apply("==" if op == "!=" else "=?=", a, b)
    if isinstance(a, str) or isinstance(b, str):
        raise ValueError(f"operator {op} needs numbers")
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise ValueError("division by zero")
    if op == "/":
        return a // b if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) else a / b
    return a % b


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, object] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take_op(self, *ops: str) -> str | None:
        t = self.peek()
        if t and t[0] == "op" and t[1] in ops:
            self.i += 1
            return t[1]  # type: ignore[return-value]
        return None

    def ternary(self) -> object:
        cond = self.binary(0)
        if self.take_op("?"):
            a = self.ternary()
            if not self.take_op(":"):
                raise ValueError("expected ':'")
            b = self.ternary()
            return a if cond else b
        return cond

    def binary(self, level: int) -> object:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while (op := self.take_op(*_BINARY[level])):
            left = _apply(op, left, self.binary(level + 1))
        return left

    def unary(self) -> object:
        if self.take_op("!"):
            return not self.unary()
        if self.take_op("-"):
            v = self.unary()
            if isinstance(v, str):
                raise ValueError("cannot negate a string")
            return -v
        if self.take_op("+"):
            return self.unary()
        if self.take_op("("):
            v = self.ternary()
            if not self.take_op(")"):
                raise ValueError("missing ')'")
            return v
        t = self.peek()
        if not t or t[0] != "val":
            raise ValueError("expected a value")
        self.i += 1
        return t[1]


def evaluate(text: str) -> object:
    """Value of a constant expression (int, float, bool or str); ValueError if it is not one."""
    p = _Parser(text)
    value = p.ternary()
    if p.peek() is not None:
        raise ValueError(f"unexpected {p.peek()[1]!r}")
    return value
