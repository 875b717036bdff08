"""Built-in functions. Each takes (env, argument closures) and evaluates arguments as it needs."""
from __future__ import annotations

import math
import random as _random
import time as _time

from .operators import compare, identical, to_bool3
from .scope import env_of
from .times import c_strftime, days_from_civil, format_abstime, format_reltime, local_offset
from .unparse import NEW, format_real, pretty
from .values import INT64_MAX, INT64_MIN, AbsTime, Error, RelTime, Undefined, wrap64

FUNCTIONS: dict = {}


def _is_ad(v) -> bool:
    return hasattr(v, "_exprs")


def _force(env, item):
    fn = getattr(item, "fn", None)
    return fn(env) if fn is not None and not _is_ad(item) else item


def builtin(*names: str, args: tuple[int, int] | None = None, lazy: bool = False):
    """Register a function. Strict (default): arguments evaluated, count checked, f(env, *values).
    Lazy: f(env, argument closures)."""
    def register(f):
        if lazy:
            impl = f
        else:
            lo, hi = args

            def impl(env, fns, f=f, lo=lo, hi=hi):
                if not lo <= len(fns) <= hi:
                    return Error
                return f(env, *[fn(env) for fn in fns])
        for name in names:
            FUNCTIONS[name.lower()] = impl
        return f
    return register


# --- conversions -------------------------------------------------------------------------------
def to_string(v):
    """Value as ``string()`` converts it; Undefined/Error pass through."""
    t = type(v)
    if t is str:
        return v
    if v is Undefined or v is Error:
        return v
    if t is int:
        return str(v)
    if t is float:
        return format_real(v)
    if t is bool:
        return "true" if v else "false"
    if t is AbsTime:
        return format_abstime(v)
    if t is RelTime:
        return format_reltime(v)
    return NEW.value(v)


def strtod_prefix(s: str):
    """C strtod of the leading number of s (after blanks), or None if there is none."""
    s = s.lstrip(" \t\n\r\f\v")
    i, n = 0, len(s)
    if i < n and s[i] in "+-":
        i += 1
    low = s[i:i + 8].lower()
    if low.startswith("infinity"):
        return float(s[:i] + "inf")
    if low.startswith("inf"):
        return float(s[:i] + "inf")
    if low.startswith("nan"):
        return math.nan
    if low.startswith("0x"):
        j = i + 2
        while j < n and s[j] in "0123456789abcdefABCDEF":
            j += 1
        if j > i + 2:
            v = float(int(s[i + 2:j], 16))
            return -v if s[:1] == "-" else v
    j = i
    while j < n and s[j].isdigit() and s[j].isascii():
        j += 1
    digits = j - i
    if j < n and s[j] == ".":
        j += 1
        k = j
        while j < n and s[j].isdigit() and s[j].isascii():
            j += 1
        digits += j - k
    if digits == 0:
        return None
    if j < n and s[j] in "eE":
        k = j + 1
        if k < n and s[k] in "+-":
            k += 1
        m = k
        while m < n and s[m].isdigit() and s[m].isascii():
            m += 1
        if m > k:
            j = m
    return float(s[:j])


def _real_to_int(x: float) -> int:
    if math.isnan(x) or not -9.3e18 < x < 9.3e18:
        return INT64_MIN
    i = int(x)
    return i if INT64_MIN <= i <= INT64_MAX else INT64_MIN


def to_real(v):
    t = type(v)
    if t is float:
        return v
    if t is int or t is bool:
        return float(v)
    if t is str:
        x = strtod_prefix(v)
        return Error if x is None else x
    if t is RelTime:
        return float(int(v.secs))
    if t is AbsTime:
        return float(v.secs)
    if v is Undefined:
        return Undefined
    return Error


@builtin("int", args=(1, 1))
def _int(env, v):
    t = type(v)
    if t is int:
        return v
    if t is bool:
        return int(v)
    if t is AbsTime or t is RelTime:
        return int(v.secs)
    x = to_real(v)
    if type(x) is not float:
        return x
    return _real_to_int(x)


@builtin("real", args=(1, 1))
def _real(env, v):
    return to_real(v)


@builtin("string", args=(1, 1))
def _string(env, v):
    return to_string(v)


@builtin("bool", args=(1, 1))
def _bool(env, v):
    t = type(v)
    if t is bool:
        return v
    if t is int or t is float:
        return v != 0
    if t is str:
        low = v.lower()
        return True if low == "true" else False if low == "false" else Undefined
    if t is RelTime:
        return v.secs != 0
    if v is Undefined:
        return Undefined
    return Error


def _rounding(f):
    def impl(env, v):
        if type(v) is int:
            return v
        x = to_real(v) if v is not Undefined else Error
        if type(x) is not float:
            return Error
        if math.isnan(x) or math.isinf(x):
            return INT64_MIN
        return _real_to_int(float(f(x)))
    return impl


builtin("floor", args=(1, 1))(_rounding(math.floor))
builtin("ceiling", "ceil", args=(1, 1))(_rounding(math.ceil))
builtin("round", args=(1, 1))(_rounding(round))


@builtin("pow", args=(2, 2))
def _pow(env, a, b):
    ta, tb = type(a), type(b)
    if ta is int and tb is int and b >= 0:
        try:
            r = math.pow(a, b)
        except OverflowError:
            return INT64_MIN
        return _real_to_int(math.trunc(r + 0.5)) if math.isfinite(r) else INT64_MIN
    a, b = to_real(a), to_real(b)
    if type(a) is not float or type(b) is not float:
        return Error
    try:
        r = math.pow(a, b)
    except OverflowError:
        r = math.inf
    except (ValueError, ZeroDivisionError):
        r = math.nan if not (a == 0 and b < 0) else math.inf
    return r


def _ceil(q: float) -> float:
    """C's ceil: keeps infinities, NaN and the sign of a zero."""
    if not math.isfinite(q):
        return q
    c = float(math.ceil(q))
    return math.copysign(c, q) if c == 0 else c


@builtin("quantize", args=(2, 2))
def _quantize(env, a, b):
    """Round a up to a multiple of b; a list b gives the first element >= a (else its last
    element is the step). A zero step hands a back unchanged, whatever its type."""
    x = to_real(a)
    if type(x) is not float:
        return Error
    if type(b) is list:
        step, rstep = 0.0, 0.0
        for item in b:
            step = _force(env, item)
            rstep = to_real(step)
            if type(rstep) is not float:
                return Error
            if rstep >= x:
                return step
        b = step
    else:
        rstep = to_real(b)
        if type(rstep) is not float:
            return Error
    if type(b) is int:
        if b == 0:
            return a
        if type(a) is int:
            n = wrap64(a + b - 1)  # C: ((a + b - 1) / b) * b, truncating and wrapping
            q = abs(n) // abs(b)
            return wrap64((q if (n < 0) == (b < 0) else -q) * b)
        return _ceil(x / b) * b
    if -1e-8 <= rstep <= 1e-8:
        return a
    return _ceil(x / rstep) * rstep


# --- type tests and control --------------------------------------------------------------------
def _type_test(pred):
    def impl(env, v):
        return pred(v)
    return impl


for _name, _pred in {
    "isUndefined": lambda v: v is Undefined, "isError": lambda v: v is Error,
    "isString": lambda v: type(v) is str, "isInteger": lambda v: type(v) is int,
    "isReal": lambda v: type(v) is float, "isBoolean": lambda v: type(v) is bool,
    "isList": lambda v: type(v) is list, "isClassAd": _is_ad,
    "isAbstime": lambda v: type(v) is AbsTime, "isReltime": lambda v: type(v) is RelTime,
}.items():
    builtin(_name, args=(1, 1))(_type_test(_pred))


@builtin("ifThenElse", lazy=True)
def _if_then_else(env, fns):
    if len(fns) != 3:
        return Error
    c = fns[0](env)
    if type(c) is str:
        return Error
    c = to_bool3(c)
    if c is True:
        return fns[1](env)
    if c is False:
        return fns[2](env)
    return c


# --- strings -----------------------------------------------------------------------------------
def _strings(values):
    """Convert each value to a string; any Undefined wins, then any Error (as strcmp and
    versioncmp have it: strcmp(error, undefined) is undefined)."""
    out = [to_string(v) for v in values]
    if any(v is Undefined for v in out):
        return Undefined
    if any(v is Error for v in out):
        return Error
    return out


@builtin("strcat", lazy=True)
def _strcat(env, fns):
    """The first argument that is undefined or error decides, left to right."""
    parts = []
    for fn in fns:
        part = to_string(fn(env))
        if part is Undefined or part is Error:
            return part
        parts.append(part)
    return "".join(parts)


@builtin("join", lazy=True)
def _join(env, fns):
    """join(sep, items...) or join(sep, list) or join(list). Undefined items are skipped (an
    undefined separator is ""); the result is undefined only if something was undefined and no
    item was joined. Error anywhere wins."""
    values = [fn(env) for fn in fns]
    if values and len(values) <= 2 and type(values[-1]) is list:
        values = (values[:1] if len(values) == 2 else [""]) + [_force(env, i) for i in values[-1]]
    sep, out, joined, saw_undefined = "", "", False, False
    for i, v in enumerate(values):
        s = to_string(v)
        if s is Error:
            return Error
        if s is Undefined:
            saw_undefined = True
        elif i == 0:
            sep = s
        else:
            out = out + sep + s if out else s  # no separator until something non-empty is out
            joined = True
    return Undefined if saw_undefined and not joined else out


@builtin("substr", args=(2, 3))
def _substr(env, s, off, length=None):
    vals = (s, off) if length is None else (s, off, length)
    if any(v is Undefined for v in vals):
        return Undefined
    if type(s) is not str or type(off) is not int or (length is not None and type(length) is not int):
        return Error
    n = len(s)
    if off < 0:
        off = max(0, n + off)
    off = min(off, n)
    if length is None:
        return s[off:]
    if length < 0:
        return s[off:max(off, n + length)]
    return s[off:off + length]


@builtin("size", args=(1, 1))
def _size(env, v):
    t = type(v)
    if t is str:
        return len(v) if v.isascii() else len(v.encode("utf-8", "surrogateescape"))
    if t is list or _is_ad(v):
        return len(v)
    if v is Undefined:
        return Undefined
    return Error


def _ascii_map(table):
    def impl(env, v):
        s = to_string(v)
        return s.translate(table) if type(s) is str else s
    return impl


_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
builtin("toUpper", args=(1, 1))(_ascii_map(_UPPER))
builtin("toLower", args=(1, 1))(_ascii_map(_LOWER))


def _cmp(a, b) -> int:
    return (a > b) - (a < b)


def _strcmp_like(fold):
    def impl(env, a, b):
        parts = _strings([a, b])
        if not isinstance(parts, list):
            return parts
        a, b = parts
        if fold:
            a, b = a.translate(_LOWER), b.translate(_LOWER)
        return _cmp(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))
    return impl


builtin("strcmp", args=(2, 2))(_strcmp_like(False))
builtin("stricmp", args=(2, 2))(_strcmp_like(True))


def _isdigit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def _schar(c: int) -> int:
    return c - 256 if c >= 128 else c  # C's char is signed


def version_compare(a: str, b: str) -> int:
    """HTCondor's natural_cmp: digit runs compare as numbers, more leading zeros sort first.
    Returns a difference (not just its sign) as the C function does."""
    s1 = a.encode("utf-8", "surrogateescape") + b"\0"
    s2 = b.encode("utf-8", "surrogateescape") + b"\0"
    i = 0
    while s1[i] and s1[i] == s2[i]:
        i += 1
    if s1[i] == s2[i]:
        return 0
    diff = _schar(s1[i]) - _schar(s2[i])
    n = i  # start of the digit run (same offset in both) that leads up to the mismatch
    while n > 0 and _isdigit(s1[n - 1]):
        n -= 1
    if n == i and not (_isdigit(s1[i]) and _isdigit(s2[i])):
        return diff
    z1, z2 = n, n
    while s1[z1] == 0x30:
        z1 += 1
    while s2[z2] == 0x30:
        z2 += 1
    if z1 > n and not _isdigit(s1[z1]):  # a lone final zero is a number, not a leading zero
        z1 -= 1
    if z2 > n and not _isdigit(s2[z2]):
        z2 -= 1
    if z1 != z2:
        return z2 - z1
    if z1 > n:
        return diff
    e1, e2 = z1, z2
    while _isdigit(s1[e1]):
        e1 += 1
    while _isdigit(s2[e2]):
        e2 += 1
    return e1 - e2 if e1 != e2 else diff


def _version_fn(test):
    def impl(env, *values):
        parts = _strings(values)
        if not isinstance(parts, list):
            return parts
        return test(*parts)
    return impl


builtin("versioncmp", args=(2, 2))(_version_fn(version_compare))
builtin("versionLT", args=(2, 2))(_version_fn(lambda a, b: version_compare(a, b) < 0))
builtin("versionLE", args=(2, 2))(_version_fn(lambda a, b: version_compare(a, b) <= 0))
builtin("versionGT", args=(2, 2))(_version_fn(lambda a, b: version_compare(a, b) > 0))
builtin("versionGE", args=(2, 2))(_version_fn(lambda a, b: version_compare(a, b) >= 0))
builtin("versionEQ", args=(2, 2))(_version_fn(lambda a, b: version_compare(a, b) == 0))


@builtin("version_in_range", args=(3, 3))
def _version_in_range(env, v, lo, hi):
    if lo is Undefined or hi is Undefined:  # only the bounds may be undefined
        return Undefined
    v, lo, hi = (to_string(x) for x in (v, lo, hi))
    if type(v) is not str or type(lo) is not str or type(hi) is not str:
        return Error
    return version_compare(lo, v) <= 0 and version_compare(v, hi) <= 0


# --- lists -------------------------------------------------------------------------------------
def _member(test, identical_mode):
    def impl(env, x, items):
        if items is Undefined or (x is Undefined and not identical_mode):
            return Undefined
        if type(items) is not list or type(x) is list or _is_ad(x):
            return Error
        if x is Error and not identical_mode:
            return Error
        for item in items:
            if test(_force(env, item), x) is True:
                return True
        return False
    return impl


builtin("member", args=(2, 2))(_member(lambda a, b: compare("==", a, b), False))
builtin("identicalMember", args=(2, 2))(_member(identical, True))


def _numbers(env, items):
    """Elements of a list as numbers, skipping undefined; None if one is not a number."""
    out = []
    for item in items:
        v = _force(env, item)
        if v is Undefined:
            continue
        if type(v) not in (int, float, bool):
            return None
        out.append(v)
    return out


def _list_arg(f):
    def impl(env, items):
        if items is Undefined:
            return Undefined
        if type(items) is not list:
            return Error
        nums = _numbers(env, items)
        return Error if nums is None else f(nums)
    return impl


def _sum(nums):
    if not nums:
        return 0
    total = nums[0]
    for x in nums[1:]:
        if type(total) is float or type(x) is float:
            total = float(total) + float(x)
        else:
            total = wrap64(int(total) + int(x))
    return total


def _min_max(pick):
    def f(nums):
        if not nums:
            return Undefined
        if len(nums) > 1:
            nums = [int(x) if type(x) is bool else x for x in nums]
        best = nums[0]
        for x in nums[1:]:
            if pick(float(x), float(best)):
                best = x
        if any(type(x) is float for x in nums):
            return float(best)
        return best
    return f


builtin("sum", args=(1, 1))(_list_arg(_sum))
builtin("avg", args=(1, 1))(_list_arg(lambda nums: float(sum(float(x) for x in nums)) / len(nums) if nums else 0))
builtin("min", args=(1, 1))(_list_arg(_min_max(lambda x, best: x < best)))
builtin("max", args=(1, 1))(_list_arg(_min_max(lambda x, best: x > best)))

_COMPARE_OPS = {"<", "<=", "==", "!=", ">=", ">", "is", "isnt"}  # case matters


def _any_all(want_any):
    def impl(env, op, items, x):
        if op is Undefined:
            return Undefined
        if type(op) is not str or op not in _COMPARE_OPS:
            return Error
        if items is Undefined:
            return Undefined
        if type(items) is not list:
            return Error
        for item in items:
            v = _force(env, item)
            if op == "is":
                r = identical(v, x)
            elif op == "isnt":
                r = identical(v, x)
                r = (not r) if type(r) is bool else r
            else:
                r = compare(op, v, x)
            if r is Error:
                return Error
            if r is Undefined:
                return False  # an undefined comparison ends either search unmatched
            if r is want_any:
                return want_any
        return not want_any
    return impl


builtin("anyCompare", args=(3, 3))(_any_all(True))
builtin("allCompare", args=(3, 3))(_any_all(False))


# --- string lists ------------------------------------------------------------------------------
def string_list_items(s: str, delims: str) -> list[str]:
    """The items of a string list: split at any delimiter, trimmed, empty ones dropped."""
    return [item for item in (token.strip() for token in _raw_tokens(s, delims)) if item]


_DEFAULT_DELIMS = ", \t\r\n"


def _string_list_args(x, lst, delims):
    """Check stringListMember-style arguments: each a string or undefined (else error); both
    lists undefined -> undefined; otherwise undefined reads as "" (delims: the default)."""
    for v in (x, lst, delims):
        if v is not None and v is not Undefined and type(v) is not str:
            return Error
    if x is Undefined and lst is Undefined:
        return Undefined
    return ("" if x is Undefined else x, "" if lst is Undefined else lst,
            _DEFAULT_DELIMS if delims is None or delims is Undefined else delims)


def _sl_member(fold):
    def impl(env, x, lst, delims=None):
        args = _string_list_args(x, lst, delims)
        if type(args) is not tuple:
            return args
        x, lst, delims = args
        items = string_list_items(lst, delims)
        if fold:
            x = x.lower()
            return any(i.lower() == x for i in items)
        return x in items
    return impl


builtin("stringListMember", args=(2, 3))(_sl_member(False))
builtin("stringListIMember", args=(2, 3))(_sl_member(True))


def _sl_subset(fold):
    def impl(env, sub, lst, delims=None):
        args = _string_list_args(sub, lst, delims)
        if type(args) is not tuple:
            return args
        sub, lst, delims = args
        if sub == "":
            return True
        a, b = string_list_items(sub, delims), string_list_items(lst, delims)
        if fold:
            a, b = [x.lower() for x in a], [x.lower() for x in b]
        return bool(a) and set(a) <= set(b)
    return impl


builtin("stringListSubsetMatch", args=(2, 3))(_sl_subset(False))
builtin("stringListISubsetMatch", args=(2, 3))(_sl_subset(True))


def _raw_tokens(s: str, delims: str) -> list[str]:
    """Runs of non-delimiter characters, untrimmed (the core library's own splitting)."""
    out, cur = [], []
    for c in s:
        if c in delims:
            if cur:
                out.append("".join(cur))
                cur = []
        else:
            cur.append(c)
    if cur:
        out.append("".join(cur))
    return out


@builtin("stringListsIntersect", args=(2, 3))
def _sl_intersect(env, a, b, delims=None):
    if a is Error or b is Error or delims is Error:
        return Error
    if a is Undefined or b is Undefined or delims is Undefined:
        return Undefined
    if (delims is not None and type(delims) is not str) or type(a) is not str or type(b) is not str:
        return Error
    delims = delims or " ,"
    return bool(set(_raw_tokens(a, delims)) & set(_raw_tokens(b, delims)))


@builtin("stringListSize", args=(1, 2))
def _sl_size(env, lst, delims=", "):
    if lst is Undefined or type(lst) is not str or type(delims) is not str:
        return Error
    return len(string_list_items(lst, delims))


_FLT_MAX = 3.4028234663852886e38
_FLT_MIN = 1.1754943508222875e-38


def _sl_numeric(kind):
    def impl(env, lst, delims=", "):
        if lst is Undefined or type(lst) is not str or type(delims) is not str:
            return Error
        items = string_list_items(lst, delims)
        nums = []
        is_int = True
        for item in items:
            if any(c not in "+-0123456789" for c in item):
                is_int = False
            x = strtod_prefix(item)
            if x is None:
                return Error
            nums.append(x)
        if not nums:
            return 0.0 if kind in ("sum", "avg") else Undefined
        if kind == "sum":
            r = sum(nums)
        elif kind == "avg":
            r = sum(nums) / len(nums)
        elif kind == "min":
            r = min([_FLT_MAX] + nums)
        else:
            r = max([_FLT_MIN] + nums)
        return int(r) if is_int else float(r)
    return impl


builtin("stringListSum", args=(1, 2))(_sl_numeric("sum"))
builtin("stringListAvg", args=(1, 2))(_sl_numeric("avg"))
builtin("stringListMin", args=(1, 2))(_sl_numeric("min"))
builtin("stringListMax", args=(1, 2))(_sl_numeric("max"))


@builtin("split", args=(1, 2))
def _split(env, s, seps=", \t"):
    """Split at separator characters, dropping empty pieces, except that a non-blank separator
    repeated (blanks between allowed) yields an empty item: "a,,b" -> a, "", b."""
    if type(s) is not str or type(seps) is not str:
        return Error
    items, last, prev = [], 0, None
    for ix, c in enumerate(s):
        if c not in seps:
            continue
        if ix > last:
            items.append(s[last:ix])
        elif prev == c:
            items.append("")
        if not c.isspace():
            prev = c
        last = ix + 1
    if len(s) > last:
        items.append(s[last:])
    return items


def _split_at(default_first):
    def impl(env, s):
        if type(s) is not str:
            return Error
        if "@" in s:
            a, b = s.split("@", 1)
            return [a, b]
        return [s, ""] if default_first else ["", s]
    return impl


builtin("splitUserName", args=(1, 1))(_split_at(True))
builtin("splitSlotName", args=(1, 1))(_split_at(False))


# --- regular expressions (Python's re stands in for PCRE2) --------------------------------------
def _regex(pattern: str, opts: str):
    import re
    flags = 0
    for o in opts:
        flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}.get(o, 0)
    try:
        return re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError):
        return None


def _regex_args(values):
    if any(v is Error for v in values):
        return Error
    if any(v is Undefined for v in values):
        return Undefined
    if any(type(v) is not str for v in values):
        return Error
    return None


@builtin("regexp", args=(2, 3))
def _regexp(env, pat, s, opts=""):
    bad = _regex_args((pat, s, opts))
    if bad is not None:
        return bad
    rx = _regex(pat, opts)
    return Error if rx is None else rx.search(s) is not None


def _substitute(m, repl: str):
    out, i = [], 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl) and repl[i + 1].isdigit():
            g = int(repl[i + 1])
            if g > (m.lastindex or 0):
                return None
            out.append(m.group(g) or "")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _regexps_impl(env, pat, s, repl, opts=""):
    bad = _regex_args((pat, s, repl, opts))
    if bad is not None:
        return bad
    rx = _regex(pat, opts)
    if rx is None:
        return Error
    if "g" in opts:
        matches = list(rx.finditer(s))
        if any(m.end() == m.start() for m in matches):
            return Error  # HTCondor refuses a global substitution of an empty match
    else:
        m = rx.search(s)
        matches = [m] if m is not None else []
    subs = [_substitute(m, repl) for m in matches]
    if None in subs:
        return Error
    if "f" not in opts:  # the substitutions alone, without the rest of the target
        return "".join(subs)
    out, pos = [], 0
    for m, r in zip(matches, subs):
        out += (s[pos:m.start()], r)
        pos = m.end()
    out.append(s[pos:])
    return "".join(out)


builtin("regexps", args=(3, 4))(_regexps_impl)
builtin("replace", args=(3, 4))(lambda env, p, s, r, o="": _regexps_impl(env, p, s, r, o + "f") if type(o) is str else Error)
builtin("replaceAll", args=(3, 4))(lambda env, p, s, r, o="": _regexps_impl(env, p, s, r, o + "fg") if type(o) is str else Error)


@builtin("regexpMember", args=(2, 3))
def _regexp_member(env, pat, items, opts=""):
    """True if a string element matches; undefined elements make a miss undefined; any other
    element is an error. A pattern that does not compile matches nothing."""
    if pat is Error or items is Error or opts is Error:
        return Error
    if pat is Undefined or items is Undefined or opts is Undefined:
        return Undefined
    if type(opts) is not str or type(pat) is not str or type(items) is not list:
        return Error
    rx = _regex(pat, opts)
    saw_undefined = False
    for item in items:
        v = _force(env, item)
        if v is Undefined:
            saw_undefined = True
            continue
        if type(v) is not str:
            return Error
        if rx is not None and rx.search(v):
            return True
    return Undefined if saw_undefined else False


@builtin("stringList_regexpMember", args=(2, 4))
def _sl_regexp_member(env, pat, lst, delims=", ", opts=""):
    if type(pat) is not str or type(lst) is not str or type(delims) is not str or type(opts) is not str:
        return Error
    rx = _regex(pat, opts.lower())
    if rx is None:
        return Error
    items = string_list_items(lst, delims)
    if not items:
        return Undefined
    return any(rx.search(i) for i in items)


# --- evaluation in other scopes ----------------------------------------------------------------
@builtin("eval", args=(1, 1))
def _eval(env, v):
    from .errors import ClassAdSyntaxError
    from .expr import parse_expr
    s = to_string(v)
    if type(s) is not str:
        return Error
    try:
        expr = parse_expr(s)
    except ClassAdSyntaxError:
        return Error
    return expr.fn(env)


def _each_context(env, fns):
    """Values of fns[0] evaluated in each ad of the list fns[1] (undefined for an undefined
    element, error for any other non-ad), or (None, the call's own undefined/error)."""
    if len(fns) != 2:
        return None, Error
    ads = fns[1](env)
    if ads is Undefined:
        return None, Undefined
    if type(ads) is not list:
        return None, Error
    results = []
    for item in ads:
        ad = _force(env, item)
        if _is_ad(ad):
            results.append(fns[0](env_of(env, ad)))
        else:
            results.append(Undefined if ad is Undefined else Error)
    return results, None


@builtin("evalInEachContext", lazy=True)
def _eval_in_each(env, fns):
    results, bad = _each_context(env, fns)
    return bad if results is None else results


def _truthy(v) -> bool:
    t = type(v)
    return v is True or ((t is int or t is float) and v != 0)


@builtin("countMatches", lazy=True)
def _count_matches(env, fns):
    """How many ads the expression is true (or a non-zero number) in; an undefined list counts 0."""
    results, bad = _each_context(env, fns)
    if results is None:
        return 0 if bad is Undefined else bad
    return sum(1 for r in results if _truthy(r))


# --- time --------------------------------------------------------------------------------------
@builtin("time", args=(0, 0))
def _time_fn(env):
    return int(_time.time())


@builtin("random", args=(0, 1))
def _random_fn(env, n=1.0):
    if type(n) is int:
        return _random.randrange(n) if n > 0 else Error
    if type(n) is float:
        return _random.random() * n
    return Error


@builtin("interval", args=(1, 1))
def _interval(env, v):
    if v is Undefined:
        return Error
    secs = _int(env, v) if type(v) is not int else v
    if type(secs) is not int:
        return Error
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    if days:
        return f"{sign}{days}+{hours:02d}:{minutes:02d}:{seconds:02d}"
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    if minutes:
        return f"{sign}{minutes}:{seconds:02d}"
    return f"{sign}{seconds}"


def _time_fields(t):
    """The broken-down time formatTime shows: a struct_time, or None if t is no time."""
    if type(t) is float and math.isfinite(t):
        t = int(t)
    if type(t) is int:
        t = AbsTime(t, local_offset(t))
    if type(t) is AbsTime:
        try:
            return tuple(_time.gmtime(int(t.secs) + t.offset))  # no zone name: the local one shows
        except (ValueError, OverflowError, OSError):
            return None
    if _is_ad(t):  # an ad as splitTime makes it, with missing fields taken as zero
        def field(name, default=0):
            v = t._exprs.get(name.lower())
            v = v.eval() if v is not None else default
            return v if type(v) is int else default
        year, month, day = field("Year", 1900), field("Month", 1), field("Day")
        days = days_from_civil(year, month, day)
        return (year, month, day, field("Hours"), field("Minutes"), field("Seconds"),
                (days + 3) % 7, days - days_from_civil(year, 1, 1) + 1, 0)  # 1970-01-01 was a Thursday
    return None


@builtin("formatTime", args=(0, 2))
def _format_time(env, t=None, fmt="%c"):
    if t is None:
        t = int(_time.time())
    if type(fmt) is not str or type(t) is RelTime:
        return Error
    fields = _time_fields(t)
    if fields is None:
        return Error
    return c_strftime(fmt, fields)


def _split_reltime(secs) -> dict:
    """Days/Hours/Minutes/Seconds of a duration; a negative one negates only its largest part."""
    r = abs(secs)
    whole = int(r)
    days, hours, minutes = whole // 86400, whole % 86400 // 3600, whole % 3600 // 60
    seconds = float(whole % 60) + (r - math.floor(r))
    if secs < 0:
        if days:
            days = -days
        elif hours:
            hours = -hours
        elif minutes:
            minutes = -minutes
        else:
            seconds = -seconds
    return {"Days": days, "Hours": hours, "Minutes": minutes, "Seconds": seconds}


@builtin("splitTime", args=(0, 1))
def _split_time(env, t=None):
    from .ad import ClassAd
    if t is None:
        t = int(_time.time())
    if t is Undefined:
        return Undefined
    ad = ClassAd()
    if type(t) is RelTime:
        ad["Type"] = "RelativeTime"
        for name, v in _split_reltime(t.secs).items():
            ad[name] = v
        return ad
    if type(t) is float and math.isfinite(t):
        t = int(t)
    if type(t) is int:
        t = AbsTime(t, local_offset(t))
    if type(t) is not AbsTime:
        return Error
    shown = _time.gmtime(int(t.secs) + t.offset)
    ad["Type"] = "AbsoluteTime"
    ad["Year"] = shown.tm_year
    ad["Month"] = shown.tm_mon
    ad["Day"] = shown.tm_mday
    ad["Hours"] = shown.tm_hour
    ad["Minutes"] = shown.tm_min
    ad["Seconds"] = shown.tm_sec
    ad["Offset"] = t.offset
    return ad


def _time_offset(v):
    """absTime's second argument: seconds east of UTC as an int, or None if unusable."""
    t = type(v)
    if t is int:
        return v
    if t is float and math.isfinite(v):
        return int(v)
    if t is RelTime:
        return int(v.secs)
    return None


@builtin("absTime", args=(0, 2))
def _abstime(env, v=None, *offset):
    if v is None:
        now = int(_time.time())
        return AbsTime(now, local_offset(now))
    off = None
    if offset:
        off = _time_offset(offset[0])
        if off is None:
            return Error
    t = type(v)
    if v is Undefined:
        return Undefined
    if t is str:  # HTCondor parses only a literal string, at parse time; at run time it hands it back
        return v
    if t is AbsTime:
        return v
    if t is RelTime or t is int or t is float:
        secs = v.secs if t is RelTime else v
        return AbsTime(secs, local_offset(secs) if off is None else off)
    return Error


@builtin("relTime", args=(1, 1))
def _reltime(env, v):
    t = type(v)
    if v is Undefined:
        return Undefined
    if t is str:  # as in HTCondor, only a literal string is parsed (at parse time); any other is 0
        return RelTime(0)
    if t is int or t is float:
        return RelTime(v)
    if t is RelTime:
        return v
    if t is AbsTime:
        return RelTime(v.secs)
    return Error


def unparse_special(call_node):
    """``unparse(attr)`` needs the argument's syntax, not its value."""
    from . import nodes as N
    args = call_node.args
    if len(args) != 1 or type(args[0]) is not N.AttrRef:
        return lambda env: Error
    key = args[0].key

    def impl(env):
        e = env
        while e is not None:
            x = e.ad._exprs.get(key)
            if x is not None:
                return pretty(x.node)
            e = e.parent
        return ""
    return impl


SPECIAL_FORMS = {"unparse": unparse_special}

