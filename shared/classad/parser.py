"""Recursive-descent parser: text -> syntax tree (nodes.py), with HTCondor's precedence."""
from __future__ import annotations

import re

from . import nodes as N
from .errors import ClassAdSyntaxError
from .lexer import EOF, INT, INVALID, NAME, OP, QNAME, REAL, STR, Token, tokenize
from .values import INT64_MAX, INT64_MIN, Error, Undefined

# Binary precedence levels, lowest first (the conditional ?: sits below all of them).
_LEVELS = [
    {"||"}, {"&&"}, {"|"}, {"^"}, {"&"},
    {"==", "!=", "=?=", "=!=", "is", "isnt"},
    {"<", "<=", ">", ">="},
    {"<<", ">>", ">>>"},
    {"+", "-"},
    {"*", "/", "%"},
]
_CANONICAL = {"=?=": "is", "=!=": "isnt"}
_CONSTANTS = {"true": True, "false": False, "undefined": Undefined, "error": Error}
_UNARY = {"-", "+", "!", "~"}


class Parser:
    def __init__(self, text: str, old_strings: bool = False):
        self.text = text
        self.tokens = tokenize(text, old_strings)
        self.i = 0

    # -- token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, expected: str, tok: Token | None = None):
        tok = tok or self.tok
        if tok.kind == INVALID:
            raise tok.value
        raise ClassAdSyntaxError(f"expected {expected}, found {tok.describe()}", tok.pos, self.text)

    def is_op(self, *ops: str) -> bool:
        t = self.tokens[self.i]
        return t.kind == OP and t.value in ops

    def expect(self, op: str, expected: str | None = None) -> Token:
        t = self.tokens[self.i]
        if t.kind != OP or t.value != op:
            self.fail(expected or f"'{op}'")
        self.i += 1
        return t

    def at_end(self) -> bool:
        return self.tok.kind == EOF

    # -- grammar
    def expression(self) -> N.Node:
        cond = self.binary(0)
        if self.is_op("?"):
            self.i += 1
            then = self.expression()
            self.expect(":", "':' of a conditional expression")
            otherwise = self.expression()
            return N.Conditional(cond, then, otherwise)
        return cond

    def binary(self, level: int) -> N.Node:
        if level == len(_LEVELS):
            return self.unary()
        ops = _LEVELS[level]
        left = self.binary(level + 1)
        while True:
            t = self.tokens[self.i]
            if t.kind != OP or t.value not in ops:
                return left
            self.i += 1
            right = self.binary(level + 1)
            left = N.Binary(_CANONICAL.get(t.value, t.value), left, right)

    def unary(self) -> N.Node:
        t = self.tok
        if t.kind == OP and t.value in _UNARY:
            self.i += 1
            return N.Unary(t.value, self.unary())
        return self.postfix()

    def postfix(self) -> N.Node:
        node = self.primary()
        while True:
            t = self.tok
            if t.kind != OP:
                return node
            if t.value == "[":
                self.i += 1
                index = self.expression()
                self.expect("]", "']' after a subscript")
                node = N.Subscript(node, index)
            elif t.value == ".":
                self.i += 1
                node = N.Select(node, self.attribute_name("an attribute name after '.'"))
            elif t.value == "?:":
                self.i += 1
                return N.Elvis(node, self.postfix())
            else:
                return node

    def attribute_name(self, expected: str) -> str:
        t = self.tok
        if t.kind == QNAME or (t.kind == NAME and t.value.lower() not in _CONSTANTS):
            self.i += 1
            return t.value
        self.fail(expected)

    def primary(self) -> N.Node:
        t = self.tok
        kind = t.kind
        if kind in (INT, REAL, STR):
            self.i += 1
            return N.Literal(t.value)
        if kind == NAME:
            self.i += 1
            low = t.value.lower()
            if low in _CONSTANTS:
                return N.Literal(_CONSTANTS[low])
            if self.is_op("("):
                return self.call(t)
            return N.AttrRef(t.value)
        if kind == QNAME:
            self.i += 1
            return N.AttrRef(t.value)
        if kind == OP:
            v = t.value
            if v == "(":
                self.i += 1
                inner = self.expression()
                self.expect(")", "')'")
                return N.Paren(inner)
            if v == "{":
                return self.list_literal()
            if v == "[":
                return self.ad_literal()
            if v == ".":
                self.i += 1
                return N.AttrRef(self.attribute_name("an attribute name after '.'"), absolute=True)
        self.fail("an expression")

    def call(self, name_tok: Token) -> N.Node:
        self.expect("(")
        args: list[N.Node] = []
        if not self.is_op(")"):
            while True:
                args.append(self.expression())
                if self.is_op(",", ";"):  # old ClassAds accept ';' between arguments
                    self.i += 1
                    continue
                self.expect(")", "',' or ')' in a function call")
                break
        else:
            self.i += 1
        low = name_tok.value.lower()
        if low in ("abstime", "reltime") and len(args) == 1 and isinstance(args[0], N.Literal) \
                and isinstance(args[0].value, str):
            return self.time_literal(low, args[0].value, name_tok)
        return N.Call(name_tok.value, args)

    def time_literal(self, kind: str, text: str, name_tok: Token) -> N.Node:
        from .times import format_reltime_literal, parse_abstime, parse_reltime
        value = parse_abstime(text) if kind == "abstime" else parse_reltime(text)
        if value is None:
            raise ClassAdSyntaxError(f"invalid {name_tok.value} string {text!r}", name_tok.pos, self.text)
        if kind == "abstime":
            return N.Literal(value)
        # HTCondor's parsed relTime literal is a real number that keeps its relTime("...") form
        return N.Literal(value, text=f'relTime("{format_reltime_literal(value)}")')

    def list_literal(self) -> N.Node:
        self.expect("{")
        items: list[N.Node] = []
        if self.is_op("}"):
            self.i += 1
            return N.ListLit(items)
        while True:
            items.append(self.expression())
            if self.is_op(","):
                self.i += 1
                continue
            self.expect("}", "',' or '}' in a list")
            return N.ListLit(items)

    def ad_literal(self) -> N.AdLit:
        self.expect("[")
        attrs: list[tuple[str, N.Node]] = []
        while True:
            if self.is_op(";"):
                self.i += 1
                continue
            if self.is_op("]"):
                self.i += 1
                return N.AdLit(attrs)
            name = self.attribute_name("an attribute name or ']' in a ClassAd")
            self.expect("=", f"'=' after attribute name {name!r}")
            attrs.append((name, self.expression()))
            if not self.is_op(";", "]"):
                self.fail("';' or ']' in a ClassAd")


def parse_node(text: str) -> N.Node:
    """Parse a whole expression; trailing tokens are an error."""
    p = Parser(text)
    node = p.expression()
    # Like HTCondor, a ';' and/or a ']' may follow the expression; after ']' nothing is read.
    if p.is_op(";"):
        p.i += 1
    if not p.at_end() and not p.is_op("]"):
        p.fail("end of expression (an operator or nothing)")
    return node


def parse_node_prefix(text: str) -> N.Node:
    """Parse the longest leading expression of an old-style ad line value, ignoring trailing junk."""
    p = Parser(text, old_strings=True)
    return p.expression()


# One literal or name and nothing else (the lexer's whitespace around it): most attribute values
# of job and machine ads. Strings without escapes read the same in old and new style; surrogates
# are left to the full lexer, which rejects those that are not escaped bytes.
_QUICK = re.compile(r'[ \t\r\n\f\v]*(?:(-?(?:0|[1-9][0-9]*))|"([^"\\\ud800-\udfff]*)"'
                    r'|(-?[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?)|([A-Za-z_][A-Za-z0-9_]*))[ \t\r\n\f\v]*')


def quick_node(text: str) -> tuple[N.Node, str | None] | None:
    """(node, canonical text or None) for text that is a single literal or attribute name, as the
    full parser would read it (old or new style alike); None for anything else."""
    m = _QUICK.fullmatch(text)
    if m is None:
        return None
    kind = m.lastindex  # the one alternative that matched
    if kind == 1:
        value = int(m.group(1))
        if not INT64_MIN <= value <= INT64_MAX:
            value = 0  # as the lexer reads an out-of-range integer
        return N.Literal(value), str(value)
    if kind == 2:
        string = m.group(2)
        return N.Literal(string), f'"{string}"' if string.isascii() and string.isprintable() else None
    if kind == 3:
        return N.Literal(float(m.group(3))), None
    name = m.group(4)
    low = name.lower()
    if low in _CONSTANTS:
        return N.Literal(_CONSTANTS[low]), None
    if low == "is" or low == "isnt":
        return None  # operators: the full parser reports the error
    return N.AttrRef(name), None
