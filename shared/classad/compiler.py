"""Compile a syntax tree once into nested Python closures ``fn(env) -> value``.

Every node becomes one closure; the common cases (integer arithmetic, comparisons with
literals, attribute references found in the ad itself) take short paths inline.
"""
from __future__ import annotations

import operator
import types

from . import nodes as N
from .ad import ClassAd
from .operators import (ARITHMETIC, BITWISE, COMPARISON, arithmetic, bit_not, bitwise, compare,
                        identical, logical_and, logical_not, logical_or, negate, to_bool3, unary_plus)
from .scope import adopt, env_of, eval_attr, lookup, lookup_absolute
from .values import INT64_MAX, INT64_MIN, Error, Undefined, wrap64


def compile_node(node: N.Node):
    return _COMPILERS[type(node)](node)


def _literal(node: N.Literal):
    value = node.value

    def literal(env):
        return value
    return literal


def _attr(node: N.AttrRef):
    key = node.key
    if node.absolute:
        return lambda env: lookup_absolute(env, key)

    def attr(env):
        x = env.ad._exprs.get(key)
        if x is not None:
            return x.value if x.const else eval_attr(env, key, x)
        return lookup(env, key)
    return attr


def select_value(env, v, key: str):
    """``v.key`` for any value v."""
    if isinstance(v, ClassAd):
        e = env_of(env, v)
        x = v._exprs.get(key)
        if x is not None:
            return x.value if x.const else eval_attr(e, key, x)
        return lookup(e, key, False)
    if v is Undefined:
        return Undefined
    if type(v) is list:
        return [select_value(env, force(env, item), key) for item in v]
    return Error


def force(env, item):
    """A list element's value (elements may be unevaluated expressions)."""
    fn = getattr(item, "fn", None)
    return fn(env) if fn is not None and not isinstance(item, ClassAd) else item


def _select(node: N.Select):
    base = compile_node(node.base)
    key = node.key
    scope = node.base.key if type(node.base) is N.AttrRef and not node.base.absolute else None
    if scope == "target":
        # Short path: in a match, TARGET (when the ad has no attribute of that name) is the other ad.
        def select_target(env):
            t = env.target
            if t is None or "target" in env.ad._exprs:
                return select_value(env, base(env), key)
            x = t.ad._exprs.get(key)
            if x is not None:
                return x.value if x.const else eval_attr(t, key, x)
            return lookup(t, key, False)
        return select_target
    if scope == "my":
        def select_my(env):
            if "my" in env.ad._exprs:
                return select_value(env, base(env), key)
            x = env.ad._exprs.get(key)
            if x is not None:
                return x.value if x.const else eval_attr(env, key, x)
            return lookup(env, key, False)
        return select_my

    def select(env):
        return select_value(env, base(env), key)
    return select


def _subscript(node: N.Subscript):
    base = compile_node(node.base)
    index = compile_node(node.index)

    def subscript(env):
        v = base(env)
        i = index(env)
        if v is Error or i is Error:
            return Error
        if v is Undefined or i is Undefined:
            return Undefined
        if type(v) is list:
            if type(i) is not int or not 0 <= i < len(v):
                return Error
            return force(env, v[i])
        if isinstance(v, ClassAd):
            if type(i) is not str:
                return Error
            return subscript_ad(env, v, i.lower())
        return Error
    return subscript


def subscript_ad(env, ad: ClassAd, key: str):
    """``ad["key"]``: unlike ``ad.key``, the name is looked up in that ad alone (no enclosing
    scope), and an ad it yields is detached from every scope, as in HTCondor."""
    x = ad._exprs.get(key)
    if x is None:
        return Undefined
    v = eval_attr(env_of(env, ad), key, x)
    return v.copy() if isinstance(v, ClassAd) else v


def _unary(node: N.Unary):
    operand = compile_node(node.operand)
    op = {"-": negate, "+": unary_plus, "!": logical_not, "~": bit_not}[node.op]
    return lambda env: op(operand(env))


def _binary(node: N.Binary):
    op = node.op
    if op == "&&" or op == "||":
        return _logic_chain(node, op)
    left = compile_node(node.left)
    right = compile_node(node.right)
    if op in ("is", "isnt"):
        if op == "is":
            return lambda env: identical(left(env), right(env))
        return lambda env: logical_not(identical(left(env), right(env)))
    if op in COMPARISON:
        return _comparison(node, op, left, right)
    if op in ARITHMETIC:
        return _arithmetic(op, left, right)
    if op in BITWISE:
        return lambda env: bitwise(op, left(env), right(env))
    raise ValueError(f"unknown operator {op}")


def _logic_chain(node: N.Binary, op: str):
    """``a && b && c ...`` (or ``||``) as one generated function: the left-nested chain evaluated
    left to right, stopping at the first term that decides it. While every term is true (for
    ``||``: false) the terms run inline, own-attribute tests (see _own_test) without a call;
    a term giving anything else hands the rest to _chain_rest, the three-valued logic of
    nested pairs."""
    terms = []
    while type(node) is N.Binary and node.op == op:
        terms.append(node.right)
        node = node.left
    terms.append(node)
    terms.reverse()
    go = op == "&&"  # the value that lets the chain go on; its negation decides it
    fns = [compile_node(t) for t in terms]
    names = {"fns": fns, "rest": _chain_rest, "combine": logical_and if go else logical_or}
    body = []
    for i, term in enumerate(terms):
        test = _own_test(term)
        if test is None:
            names[f"term{i}"] = fns[i]
            body.append(f"v = term{i}(env)")
        else:
            body += _own_test_lines(i, test, names)
        body += [f"if v is not {go}:",
                 f"    return {not go} if v is {not go} else rest(env, fns, {i + 1}, v, combine)"]
    body.append(f"return {go}")
    return _generated(body, names)


def _chain_rest(env, fns, start: int, v, combine):
    """A chain's value once a term gave neither true nor false: combined pairwise with the rest."""
    acc = to_bool3(v)
    for f in fns[start:]:
        acc = combine(acc, lambda: f(env))
    return acc


_INT_COMPARE = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
                ">": operator.gt, ">=": operator.ge}


def _own_test(node: N.Node) -> "tuple[N.AttrRef, str, int | str] | None":
    """(name, op, literal) when ``node`` compares a plain attribute name with an integer literal,
    or with a string literal by == / != (the common tests of constraints and Start)."""
    while type(node) is N.Paren:
        node = node.inner
    if type(node) is not N.Binary or node.op not in _INT_COMPARE:
        return None
    left, right = node.left, node.right
    if type(left) is not N.AttrRef or left.absolute or type(right) is not N.Literal:
        return None
    literal = right.value
    if type(literal) is int or (type(literal) is str and node.op in ("==", "!=")):
        return left, node.op, literal
    return None


def _own_test_lines(i: int, test: tuple, names: dict) -> list[str]:
    """Source setting ``v`` to the value of own-attribute test number ``i``: the ad's value read
    inline when it is a literal, compared directly when of the literal's type, else through
    ``compare`` as any comparison."""
    name, op, literal = test
    names[f"key{i}"], names[f"attr{i}"] = name.key, _attr(name)
    names[f"lit{i}"], names[f"folded{i}"] = literal, literal.lower() if type(literal) is str else literal
    kind, a = ("str", "a.lower()") if type(literal) is str else ("int", "a")
    return [f"x = env.ad._exprs.get(key{i})",
            f"a = x.value if x is not None and x.const else attr{i}(env)",
            f"v = ({a} {op} folded{i}) if type(a) is {kind} else compare({op!r}, a, lit{i})"]


_CODE: dict[str, object] = {}  # generated source -> code object: the same shape compiles once


def _generated(body: list[str], names: dict):
    """The function ``def f(env): <body>`` with ``names`` (and compare) as its globals."""
    source = "def f(env):\n" + "".join(f"    {line}\n" for line in body)
    code = _CODE.get(source)
    if code is None:
        scope: dict = {}
        exec(source, scope)
        if len(_CODE) >= 1000:  # shapes repeat; many distinct ones only come from unusual input
            _CODE.clear()
        code = _CODE[source] = scope["f"].__code__
    names["compare"] = compare
    return types.FunctionType(code, names)


def _comparison(node: N.Binary, op: str, left, right):
    fast = _INT_COMPARE[op]
    test = _own_test(node)
    if test is not None:
        names: dict = {}
        return _generated(_own_test_lines(0, test, names) + ["return v"], names)
    literal = node.right.value if type(node.right) is N.Literal else None
    if type(literal) is str and op in ("==", "!="):
        folded = literal.lower()
        want = op == "=="

        def eq_str(env):
            a = left(env)
            if type(a) is str:
                return (a.lower() == folded) is want
            return compare(op, a, literal)
        return eq_str
    if type(literal) is int:
        def cmp_int(env):
            a = left(env)
            if type(a) is int:
                return fast(a, literal)
            return compare(op, a, literal)
        return cmp_int

    def comparison(env):
        a = left(env)
        b = right(env)
        if type(a) is int and type(b) is int:
            return fast(a, b)
        return compare(op, a, b)
    return comparison


def _arithmetic(op: str, left, right):
    if op == "+":
        def add(env):
            a = left(env)
            b = right(env)
            if type(a) is int and type(b) is int:
                r = a + b
                return r if INT64_MIN <= r <= INT64_MAX else wrap64(r)
            return arithmetic("+", a, b)
        return add
    if op == "-":
        def sub(env):
            a = left(env)
            b = right(env)
            if type(a) is int and type(b) is int:
                r = a - b
                return r if INT64_MIN <= r <= INT64_MAX else wrap64(r)
            return arithmetic("-", a, b)
        return sub
    if op == "*":
        def mul(env):
            a = left(env)
            b = right(env)
            if type(a) is int and type(b) is int:
                r = a * b
                return r if INT64_MIN <= r <= INT64_MAX else wrap64(r)
            return arithmetic("*", a, b)
        return mul
    return lambda env: arithmetic(op, left(env), right(env))


def _conditional(node: N.Conditional):
    cond = compile_node(node.cond)
    then = compile_node(node.then)
    otherwise = compile_node(node.otherwise)

    def conditional(env):
        c = cond(env)
        if c is True:
            return then(env)
        if c is False:
            return otherwise(env)
        c = to_bool3(c) if type(c) is not str else Error
        if c is True:
            return then(env)
        if c is False:
            return otherwise(env)
        return c
    return conditional


def _elvis(node: N.Elvis):
    left = compile_node(node.left)
    right = compile_node(node.right)

    def elvis(env):
        v = left(env)
        return right(env) if v is Undefined else v
    return elvis


def _paren(node: N.Paren):
    return compile_node(node.inner)


def _list(node: N.ListLit):
    from .expr import Expr
    template = []
    for item in node.items:
        if isinstance(item, N.Literal):
            template.append(item.value)
        else:
            template.append(Expr(item))

    def make_list(env):
        return list(template)
    return make_list


def _ad(node: N.AdLit):
    from .expr import Expr
    attrs = [(name, Expr(item)) for name, item in node.attrs]

    def make_ad(env):
        ad = ClassAd()
        for name, expr in attrs:
            ad[name] = expr
        return adopt(env, ad)
    return make_ad


def _call(node: N.Call):
    from .functions import FUNCTIONS, SPECIAL_FORMS
    if node.key in SPECIAL_FORMS:
        return SPECIAL_FORMS[node.key](node)
    impl = FUNCTIONS.get(node.key)
    if impl is None:
        return lambda env: Error
    args = [compile_node(a) for a in node.args]
    return lambda env: impl(env, args)


_COMPILERS = {
    N.Literal: _literal, N.AttrRef: _attr, N.Select: _select, N.Subscript: _subscript,
    N.Unary: _unary, N.Binary: _binary, N.Conditional: _conditional, N.Elvis: _elvis,
    N.Paren: _paren, N.ListLit: _list, N.AdLit: _ad, N.Call: _call,
}
