"""Canonical text of values from HTCondor's own engine (classad2) and from ours, for comparison."""
from __future__ import annotations

import datetime

import htcondor2  # noqa: F401  (must come first: switches classad2 to the semantics daemons use)
import classad2

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, Expr, RelTime, parse_ad, parse_expr, unparse
from condorsim.shared.classad.unparse import format_real

PARSE_ERROR = "<parse error>"
EVAL_EXCEPTION = "<classad2 raised>"


def ref_text(v) -> str:
    """classad2 value -> our canonical text (reltimes come back as float seconds)."""
    if isinstance(v, classad2.Value):
        return "undefined" if v == classad2.Value.Undefined else "error"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_real(v)
    if isinstance(v, str):
        return unparse(v)
    if isinstance(v, list):
        return "{ " + ",".join(repr(e) if isinstance(e, classad2.ExprTree) else ref_text(e) for e in v) + " }"
    if isinstance(v, classad2.ClassAd):
        return repr(v)
    if isinstance(v, datetime.datetime):
        return f"abstime:{int(v.timestamp())}"
    raise TypeError(f"unexpected classad2 value {v!r}")


def our_text(v) -> str:
    if isinstance(v, RelTime):
        return format_real(float(v.secs))
    if type(v).__name__ == "AbsTime":
        return f"abstime:{int(v.secs)}"
    return unparse(v)


def reference(text: str, my: str | None = None, target: str | None = None) -> tuple[str, str]:
    """(unparsed text, value text) of an expression as classad2 gives them."""
    try:
        tree = classad2.ExprTree(text)
    except Exception:
        return PARSE_ERROR, PARSE_ERROR
    my_ad = classad2.ClassAd(my) if my else None
    target_ad = classad2.ClassAd(target) if target else None
    try:
        return repr(tree), ref_text(tree.eval(my_ad, target_ad))
    except Exception:  # classad2 cannot hand some values (e.g. non-UTF-8 strings) to Python
        return repr(tree), EVAL_EXCEPTION


def ours(text: str, my: str | None = None, target: str | None = None) -> tuple[str, str]:
    try:
        expr = parse_expr(text)
    except ClassAdSyntaxError:
        return PARSE_ERROR, PARSE_ERROR
    my_ad = parse_ad(my) if my else None
    target_ad = parse_ad(target) if target else None
    return str(expr), our_text(expr.eval(my_ad, target_ad))


__all__ = ["ClassAd", "Expr", "classad2", "ours", "reference", "PARSE_ERROR"]
