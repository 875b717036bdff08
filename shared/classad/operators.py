"""Operator semantics on values: strictness, int/real arithmetic, comparisons, three-valued logic."""
from __future__ import annotations

import math

from .values import INT64_MAX, INT64_MIN, AbsTime, Error, RelTime, Undefined, wrap64

_NUMBER = (int, float, bool)
_INF = math.inf


def is_number(v) -> bool:
    t = type(v)
    return t is int or t is float or t is bool


def to_bool3(v):
    """Value as used by && || ! ?: -> True, False, Undefined or Error."""
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0  # NaN counts as true
    if v is Undefined:
        return Undefined
    return Error


def _real_result(x: float):
    return Error if x == _INF else x


def _int_div(a: int, b: int):
    if b == 0:
        return Error
    if a == INT64_MIN and b == -1:
        return INT64_MAX
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _int_mod(a: int, b: int):
    if b == 0:
        return Error
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _real_div(a: float, b: float):
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        neg = (a < 0) != (math.copysign(1.0, b) < 0)
        return -_INF if neg else Error
    return _real_result(a / b)


def arithmetic(op: str, a, b):
    """Strict + - * / % on any two values."""
    if a is Error or b is Error:
        return Error
    if a is Undefined or b is Undefined:
        return Undefined
    ta, tb = type(a), type(b)
    if ta in _NUMBER and tb in _NUMBER:
        if ta is not float and tb is not float:
            a, b = int(a), int(b)
            if op == "+":
                return wrap64(a + b)
            if op == "-":
                return wrap64(a - b)
            if op == "*":
                return wrap64(a * b)
            if op == "/":
                return _int_div(a, b)
            return _int_mod(a, b)
        if op == "%":
            return Error
        a, b = float(a), float(b)
        if op == "+":
            return _real_result(a + b)
        if op == "-":
            return _real_result(a - b)
        if op == "*":
            return _real_result(a * b)
        return _real_div(a, b)
    return _time_arithmetic(op, a, b)


def _time_arithmetic(op: str, a, b):
    ta, tb = type(a), type(b)
    if ta is AbsTime:
        if tb is RelTime and op in "+-":
            return AbsTime(a.secs + b.secs if op == "+" else a.secs - b.secs, a.offset)
        if tb is AbsTime and op == "-":
            return RelTime(a.secs - b.secs)
        return Error
    if ta is RelTime:
        if tb is RelTime and op in "+-":
            return RelTime(a.secs + b.secs if op == "+" else a.secs - b.secs)
        if tb is AbsTime and op == "+":
            return AbsTime(a.secs + b.secs, b.offset)
        if tb in (int, float) and op in "*/":
            if op == "*":
                return RelTime(a.secs * b)
            return RelTime(a.secs / b) if b else Error
        return Error
    if tb is RelTime and ta in (int, float) and op == "*":
        return RelTime(a * b.secs)
    return Error


def negate(v):
    t = type(v)
    if t is int:
        return wrap64(-v)
    if t is float:
        return -v
    if t is RelTime:
        return RelTime(-v.secs)
    if v is Undefined:
        return Undefined
    return Error


def unary_plus(v):
    t = type(v)
    if t is int or t is float or t is RelTime or v is Undefined:
        return v
    return Error


def bit_not(v):
    if type(v) is int:
        return ~v
    if v is Undefined:
        return Undefined
    return Error


def bitwise(op: str, a, b):
    if a is Error or b is Error:
        return Error
    if a is Undefined or b is Undefined:
        return Undefined
    if type(a) is not int or type(b) is not int:
        return Error
    if op == "&":
        return a & b
    if op == "|":
        return a | b
    if op == "^":
        return a ^ b
    if op == "<<":
        return wrap64(a << (b & 63))
    if op == ">>":
        if a >= 0:
            return a >> (b & 63)
        return a if b <= 0 else a >> min(b, 64)
    # >>> logical shift, copying x86 behaviour
    if a >= 0:
        return a >> (b & 63)
    return ((a >> 1) & INT64_MAX) >> ((b - 1) & 63)


def compare(op: str, a, b):
    """Strict == != < <= > >=: numbers numerically, strings case-insensitively, times by time."""
    if a is Error or b is Error:
        return Error
    if a is Undefined or b is Undefined:
        return Undefined
    ta, tb = type(a), type(b)
    if ta in _NUMBER and tb in _NUMBER:
        pass
    elif ta is str and tb is str:
        a, b = a.lower(), b.lower()
    elif (ta is AbsTime and tb is AbsTime) or (ta is RelTime and tb is RelTime):
        a, b = a.secs, b.secs
    else:
        return Error
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def identical(a, b):
    """``is``: same type and same value; strings case-sensitively; two lists or two ads -> error."""
    ta, tb = type(a), type(b)
    if ta is not tb:
        return False
    if ta is list or hasattr(a, "_exprs"):
        return Error
    if a is Undefined or a is Error or b is Undefined or b is Error:
        return a is b
    if ta is AbsTime or ta is RelTime:
        return a.secs == b.secs
    return a == b


def logical_and(a, b_thunk):
    a = to_bool3(a)
    if a is False:
        return False
    if a is Error:
        return Error
    b = to_bool3(b_thunk())
    if b is Error:
        return Error
    if a is True:
        return b
    return False if b is False else Undefined


def logical_or(a, b_thunk):
    a = to_bool3(a)
    if a is True:
        return True
    if a is Error:
        return Error
    b = to_bool3(b_thunk())
    if b is Error:
        return Error
    if a is False:
        return b
    return True if b is True else Undefined


def logical_not(v):
    v = to_bool3(v)
    if v is True:
        return False
    if v is False:
        return True
    return v


ARITHMETIC = {"+", "-", "*", "/", "%"}
BITWISE = {"&", "|", "^", "<<", ">>", ">>>"}
COMPARISON = {"==", "!=", "<", "<=", ">", ">="}
