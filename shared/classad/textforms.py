"""Ad text forms: new style ``[ a = 1; ... ]``, old style ``Name = value`` lines, and JSON."""
from __future__ import annotations

from .errors import ClassAdSyntaxError
from .parser import Parser, parse_node_prefix, quick_node


def parse_new_style_ads(text: str) -> list:
    """One or more new-style ads, optionally wrapped in ``{ ..., ... }`` (condor_q -l:new)."""
    p = Parser(text)
    wrapped = p.is_op("{")
    if wrapped:
        p.i += 1
    ads = []
    while not p.at_end():
        if wrapped and p.is_op("}"):
            p.i += 1
            if not p.at_end():
                p.fail("end of input after '}'")
            break
        if ads and p.is_op(","):
            p.i += 1
        ads.append(_ad_from_node(p.ad_literal()))
    return ads


def _ad_from_node(node):
    ad = ClassAd()
    for name, item in node.attrs:
        ad[name] = Expr(item)
    return ad


_OLD_CACHE: dict[str, tuple] = {}  # old-style line -> (lower-case name, name, Expr)
_OLD_CACHE_LIMIT = 200_000


def _old_style_ads(text: str) -> list:
    ads = []
    exprs = names = None  # of the ad being read
    cache = _OLD_CACHE
    lines = text.splitlines(keepends=True)
    for lineno, line in enumerate(lines, 1):
        entry = cache.get(line)
        if entry is None:
            eq = line.find("=")
            name = line[:eq].strip() if eq > 0 else ""
            if not name or name[0] == "#":
                stripped = line.strip()
                if not stripped:
                    exprs = None
                    continue
                if stripped.startswith("#"):
                    continue
                start = sum(map(len, lines[:lineno - 1]))
                pos = start + (eq if eq >= 0 else len(line) - len(line.lstrip()))
                raise ClassAdSyntaxError(f"line {lineno}: expected 'Name = value'", pos, text)
            entry = (N.attr_key(name), name, _old_value(text, lines, lineno, name, eq))
            if len(cache) >= _OLD_CACHE_LIMIT:
                cache.clear()
            cache[line] = entry
        key, name, expr = entry
        if exprs is None:
            ad = ClassAd()
            ads.append(ad)
            exprs, names = ad._exprs, ad._names
        exprs[key] = expr
        if key not in names:
            names[key] = name
    return ads


def _old_value(text: str, lines: list, lineno: int, name: str, eq: int) -> "Expr":
    """The expression after the '=' of an old-style line (trailing junk ignored, as HTCondor)."""
    value = lines[lineno - 1][eq + 1:]
    quick = quick_node(value)
    if quick is not None:
        return Expr(*quick)
    try:
        return Expr(parse_node_prefix(value))
    except ClassAdSyntaxError as e:
        start = sum(map(len, lines[:lineno - 1]))
        raise ClassAdSyntaxError(f"line {lineno}, attribute {name}: {e.args[0].rsplit(' at position', 1)[0]}",
                                 start + eq + 1 + e.position, text) from None


def parse_ads(text: str) -> list:
    """Several ads: old style separated by blank lines, or new-style ads one after another."""
    if text.lstrip().startswith(("[", "{")):
        return parse_new_style_ads(text)
    return _old_style_ads(text)


def parse_ad(text: str):
    """One ad from new-style (``[ ... ]``) or old-style (``Name = value`` lines) text."""
    if text.lstrip().startswith("["):
        p = Parser(text)
        ad = _ad_from_node(p.ad_literal())
        if not p.at_end():
            p.fail("end of input after the ClassAd")
        return ad
    ads = _old_style_ads(text)
    if len(ads) > 1:
        raise ClassAdSyntaxError("expected one ClassAd, found a blank line between attributes", 0, text)
    return ads[0] if ads else ClassAd()


def format_old(ad) -> str:
    """Old-style text: one ``Name = value`` line per attribute, in insertion order."""
    names = ad._names
    return "".join(f"{names[key]} = {unparse_old(expr.node)}\n" for key, expr in ad._exprs.items())


def format_new(ad) -> str:
    return unparse(ad)


# --- JSON (condor_status -json) ----------------------------------------------------------------
def _json_value(expr, indent: int) -> str:
    import json
    node = expr.node if isinstance(expr, Expr) else expr
    t = type(node)
    if t is N.Literal:
        v = node.value
        if type(v) is bool:
            return "true" if v else "false"
        if type(v) is int:
            return str(v)
        if type(v) is float and math.isfinite(v):
            return format_real_old(v)
        if type(v) is str:
            return json.dumps(v)
        if v is Undefined:
            return "null"
    if t is N.ListLit:
        if not node.items:
            return "[]"
        pad = " " * (indent + 2)
        return "[\n" + ",\n".join(pad + _json_value(i, indent + 2) for i in node.items) + "\n" + " " * indent + "]"
    if t is N.AdLit:
        ad = ClassAd()
        for name, item in node.attrs:
            ad[name] = Expr(item)
        return _json_ad(ad, indent)
    return json.dumps("/Expr(" + NEW.node(node) + ")/").replace("/", "\\/")


def _json_ad(ad, indent: int) -> str:
    import json
    if not len(ad):
        return "{}"
    pad = " " * (indent + 2)
    items = sorted(ad._exprs.items(), key=lambda kv: (len(kv[0]), kv[0]))  # as HTCondor orders ads
    body = ",\n".join(f"{pad}{json.dumps(ad._names[k])}: {_json_value(e, indent + 2)}" for k, e in items)
    return "{\n" + body + "\n" + " " * indent + "}"


def format_json(ads: list) -> str:
    """HTCondor's ``-json`` output for a list of ads."""
    return "[\n" + ",\n".join(_json_ad(ad, 0) for ad in ads) + "\n]\n"


def parse_json_ads(text: str) -> list:
    """Ads from ``-json`` text (one object or an array of objects)."""
    import json
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ClassAdSyntaxError(f"invalid JSON: {e.msg}", e.pos, text) from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise ClassAdSyntaxError("expected a JSON object or an array of objects", 0, text)
    return [_ad_from_json(d) for d in data]


def _ad_from_json(d: dict):
    ad = ClassAd()
    for name, v in d.items():
        ad[name] = _expr_from_json(v)
    return ad


def _expr_from_json(v):
    if isinstance(v, str) and v.startswith("/Expr(") and v.endswith(")/"):
        return parse_expr(v[6:-2])
    if v is None:
        return Expr.literal(Undefined)
    if isinstance(v, list):
        return Expr(N.ListLit([_expr_from_json(i).node for i in v]))
    if isinstance(v, dict):
        return Expr.literal(_ad_from_json(v))
    return Expr.literal(v)


import math  # noqa: E402

from . import nodes as N  # noqa: E402
from .ad import ClassAd  # noqa: E402
from .expr import Expr, parse_expr  # noqa: E402
from .unparse import NEW, format_real_old, unparse, unparse_old  # noqa: E402
from .values import Undefined  # noqa: E402
