"""Column engine shared by condor_status and condor_q (tools.md §0).

A table is a list of `Column`s; every row is rendered first so that AUTO columns can grow to
their longest cell, then the heading and rows are laid out.  The same engine serves the tools'
views (written in HTCondor's print-format language, which shared/print_format.py turns into
Columns), `-print-format` files, `-af`/`-autoformat` (with its separator options) and `-format`.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from condorsim.shared.classad import ClassAd, Error, Undefined, parse_expr, unparse_old

# Every row evaluates the same few column expressions: parse each text once.
_parse_cached = lru_cache(maxsize=512)(parse_expr)

# --- value helpers -------------------------------------------------------------------------


def _is_sentinel(value: Any, sentinel: Any) -> bool:
    return value is sentinel or (isinstance(sentinel, type) and isinstance(value, sentinel))


def is_undefined(value: Any) -> bool:
    return value is None or _is_sentinel(value, Undefined)


def is_error(value: Any) -> bool:
    return _is_sentinel(value, Error)


def as_number(value: Any) -> int | float | None:
    """The value as a number (booleans count as 0/1), or None when it is not one."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    return None


def evaluate(ad: Any, attr_or_expr: str) -> Any:
    """Evaluate an attribute name or an arbitrary expression in the context of `ad`."""
    expr = ad.lookup(attr_or_expr) if isinstance(ad, ClassAd) else None
    if expr is not None and expr.const:  # an attribute holding a literal: 10,000 slots add up
        return expr.value
    try:
        return _parse_cached(attr_or_expr).eval(my=ad)
    except Exception:  # a tool's expression that cannot be parsed shows as an error value
        return Error


def number_of(ad: Any, attr_or_expr: str) -> int | float | None:
    return as_number(evaluate(ad, attr_or_expr))


def int_of(ad: Any, attr_or_expr: str, default: int = 0) -> int:
    number = number_of(ad, attr_or_expr)
    return default if number is None else int(number)


def string_of(ad: Any, attr_or_expr: str) -> str | None:
    value = evaluate(ad, attr_or_expr)
    return value if isinstance(value, str) else None


# --- time and date formats -----------------------------------------------------------------

def format_time(seconds: float) -> str:
    """HTCondor's `%T`: days+hh:mm:ss, days right-justified in 3 (`  0+00:00:16`)."""
    secs = int(seconds)
    if secs < 0:
        return "[?????]"
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return "%3d+%02d:%02d:%02d" % (days, hours, minutes, secs)


def format_date(timestamp: float) -> str:
    """HTCondor's QDATE: month right-justified, day LEFT-justified (` 1/5  09:03`)."""
    tm = time.localtime(int(timestamp))
    return "%2d/%-2d %02d:%02d" % (tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min)


# --- natural compare -----------------------------------------------------------------------

def natural_compare(a: str, b: str) -> int:
    """HTCondor's natural string compare: digit runs compare as numbers, other characters by
    code point (`slot2` < `slot10`, `S` < `h`).  Returns -1, 0 or 1."""
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i].isdigit() and b[j].isdigit():
            ei, ej = i, j
            while ei < len(a) and a[ei].isdigit():
                ei += 1
            while ej < len(b) and b[ej].isdigit():
                ej += 1
            na, nb = int(a[i:ei]), int(b[j:ej])
            if na != nb:
                return -1 if na < nb else 1
            i, j = ei, ej
            continue
        if a[i] != b[j]:
            return -1 if a[i] < b[j] else 1
        i += 1
        j += 1
    rest_a, rest_b = len(a) - i, len(b) - j
    return (rest_a > 0) - (rest_b > 0)


class NaturalKey:
    """Sort key wrapper applying `natural_compare`."""
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __lt__(self, other: "NaturalKey") -> bool:
        return natural_compare(self.text, other.text) < 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NaturalKey) and natural_compare(self.text, other.text) == 0


# --- columns -------------------------------------------------------------------------------

@dataclass
class Column:
    """One output column.

    `render(ad)` returns the cell text, or None when the value is undefined/unusable; the cell
    then shows `undefined`: "??" fills the column with `[???…]`, a single character shows as
    itself, "" leaves it empty.
    """
    heading: str
    render: Callable[[Any], str | None]
    width: int = 0
    right: bool = False
    auto: bool = False
    truncate: bool = False
    noprefix: bool = False
    nosuffix: bool = False
    undefined: str = ""


def number_cell(attr: str, fmt: str) -> Callable[[Any], str | None]:
    """A cell renderer printing the attribute with a printf format; None when not a number."""
    def render(ad: Any) -> str | None:
        number = number_of(ad, attr)
        return None if number is None else fmt % number
    return render


def date_cell(attr: str) -> Callable[[Any], str | None]:
    """A cell renderer printing a timestamp attribute as QDATE; None when not a number."""
    def render(ad: Any) -> str | None:
        number = number_of(ad, attr)
        return None if number is None else format_date(number)
    return render


def _fill(width: int) -> str:
    if width < 3:
        return "?"
    return "[" + "?" * (width - 2) + "]"


@dataclass
class Table:
    """Lays out columns: `col_prefix` goes between cells, `col_suffix` after every cell but the
    last, `row_prefix` before each row (HTCondor's autoformat separators)."""
    columns: list[Column]
    col_prefix: str = " "
    col_suffix: str = ""
    row_prefix: str = ""
    widths: list[int] = field(default_factory=list)

    def render(self, ads: list[Any]) -> list[str]:
        """Render every ad to a row (without newline); widths of AUTO columns grow to fit."""
        self.widths = [max(c.width, len(c.heading)) if c.auto else c.width for c in self.columns]
        cells = [[col.render(ad) for col in self.columns] for ad in ads]
        for row in cells:
            for n, text in enumerate(row):
                if text is not None and self.columns[n].auto:
                    self.widths[n] = max(self.widths[n], len(text))
        return [self._line([self._cell(n, text) for n, text in enumerate(row)]) for row in cells]

    def heading(self) -> str:
        """The heading line: headings left-justified to the (final) column widths."""
        if not self.widths:
            self.widths = [c.width for c in self.columns]
        return self._line([c.heading.ljust(w) for c, w in zip(self.columns, self.widths)])

    def _cell(self, n: int, text: str | None) -> str:
        col, width = self.columns[n], self.widths[n]
        if text is None:
            if col.undefined == "??":
                text = _fill(width) if width else "?"
            else:
                text = col.undefined
        if not width:
            return text
        if len(text) > width:
            return text[:width] if col.truncate else text
        return text.rjust(width) if col.right else text.ljust(width)

    def _line(self, cells: list[str]) -> str:
        out = [self.row_prefix]
        last = len(cells) - 1
        for n, (col, cell) in enumerate(zip(self.columns, cells)):
            if n and not col.noprefix:
                out.append(self.col_prefix)
            out.append(cell)
            if n < last and not col.nosuffix:
                out.append(self.col_suffix)
        return "".join(out)


# --- printf-style conversions (-format, -af) -----------------------------------------------

_CONVERSION = re.compile(r"%([-+ #0]*)(\d*)(?:\.(\d+))?(?:hh|h|ll|l|L|q|j|z|t)?([diouxXeEfFgGcsvVrTY])")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
            "b": "\b", "f": "\f", "v": "\v"}


def collapse_escapes(text: str) -> str:
    r"""Turn `\n`, `\t`, ... in a user-given format into the characters (as HTCondor does)."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def _find_conversion(fmt: str) -> re.Match | None:
    pos = 0
    while True:
        idx = fmt.find("%", pos)
        if idx < 0:
            return None
        if fmt.startswith("%%", idx):
            pos = idx + 2
            continue
        return _CONVERSION.match(fmt, idx)


def _v_text(value: Any) -> str:
    """`%v`: strings raw, everything else unparsed (`undefined`, `error`, `1.5`, lists...)."""
    return value if isinstance(value, str) else unparse_old(value)


def printf_render(fmt: str, ad: Any, attr: str) -> str | None:
    """Render one `-format fmt attr` item; None when the value cannot be shown with the
    conversion (the whole item, literal text included, then prints nothing)."""
    match = _find_conversion(fmt)
    if match is None:
        return fmt.replace("%%", "%")
    flags, width, precision, letter = match.groups()
    if letter == "r":
        converted: Any = _raw_text(ad, attr)
    else:
        converted = _convert(letter, evaluate(ad, attr), ad, attr)
        if converted is None:
            return None
    out_letter = letter if letter in "diouxXeEfFgGc" else "s"
    spec = "%" + flags + width + ("." + precision if precision else "") + out_letter
    head = fmt[:match.start()].replace("%%", "%")
    tail = fmt[match.end():].replace("%%", "%")
    return head + spec % converted + tail


def _convert(letter: str, value: Any, ad: Any, attr: str) -> Any:
    if letter in "diouxXc":
        number = as_number(value)
        return None if number is None else int(number)
    if letter in "eEfFgG":
        number = as_number(value)
        return None if number is None else float(number)
    if letter == "T":
        number = as_number(value)
        return None if number is None else format_time(number)
    if letter == "Y":
        number = as_number(value)
        return None if number is None else format_date(number)
    if letter == "s":
        if isinstance(value, str):
            return value
        # an attribute of the ad that is not a string prints its unparsed expression
        return _raw_text(ad, attr) if _has_attr(ad, attr) else None
    if letter == "V":
        return unparse_old(value)
    return _v_text(value)  # v


def _has_attr(ad: Any, attr: str) -> bool:
    try:
        return ad.lookup(attr) is not None
    except Exception:
        return False


def _raw_text(ad: Any, attr: str) -> str:
    """`%r`: the attribute's expression unparsed; an expression argument unparsed as given;
    a missing attribute prints `undefined`."""
    if _has_attr(ad, attr):
        return unparse_old(ad.lookup(attr))
    try:
        expr = parse_expr(attr)
    except Exception:
        return "error"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", attr.strip()):
        return "undefined"
    return unparse_old(expr)


def format_items(ads: list[Any], items: list[tuple[str, str]]) -> str:
    """`-format fmt attr` repeated: items concatenated per ad, no separators, no newline."""
    out = []
    for ad in ads:
        for fmt, attr in items:
            text = printf_render(fmt, ad, attr)
            if text is not None:
                out.append(text)
    return "".join(out)


# --- -af / -autoformat ---------------------------------------------------------------------

@dataclass
class AutoFormat:
    """Parsed `-af[:opts]` request."""
    items: list[str]
    options: str = ""

    def table(self) -> tuple[Table, bool]:
        opts = self.options
        col_prefix, col_suffix, row_prefix = " ", "", ""
        for ch in opts:
            if ch == ",":
                col_suffix = ","
            elif ch == "n":
                col_suffix = "\n"
            elif ch == "g":
                col_prefix, row_prefix = "", "\n"
            elif ch == "t":
                col_prefix = "\t"
        headings = "h" in opts
        label = "l" in opts and not headings
        letter = "r" if ("r" in opts or "o" in opts) else ("V" if "V" in opts else "v")
        columns: list[Column] = []
        if "j" in opts:
            columns += _job_id_columns(headings, "l" in opts)
        for item in self.items:
            columns.append(Column(
                heading=item if headings else "",
                render=_af_renderer(item, letter, label),
                width=len(item) if headings else 0,
                auto=headings,
            ))
        return Table(columns, col_prefix, col_suffix, row_prefix), headings

    def render(self, ads: list[Any]) -> str:
        table, headings = self.table()
        rows = table.render(ads)
        lines = ([table.heading()] if headings else []) + rows
        return "".join(line + "\n" for line in lines)


def _af_renderer(item: str, letter: str, label: bool) -> Callable[[Any], str]:
    prefix = item + " = " if label else ""

    def render(ad: Any) -> str:
        if letter == "r":
            return prefix + _raw_text(ad, item)
        value = evaluate(ad, item)
        if letter == "V":
            return prefix + unparse_old(value)
        return prefix + _v_text(value)
    return render


def _job_id_columns(headings: bool, label: bool) -> list[Column]:
    def cluster(ad: Any) -> str | None:
        number = number_of(ad, "ClusterId")
        if number is None:
            return None
        return ("ID = " if label else "") + ("%4d." if headings else "%d.") % number

    def proc(ad: Any) -> str | None:
        number = number_of(ad, "ProcId")
        if number is None:
            return None
        return ("%-3d" if headings else "%d") % number

    if headings:
        return [Column(" ID", cluster, width=5, auto=True, right=True, nosuffix=True),
                Column(" ", proc, width=3, auto=True, right=True, noprefix=True)]
    return [Column("", cluster, nosuffix=True), Column("", proc, noprefix=True)]


def parse_autoformat_args(argv: list[str], index: int) -> tuple[AutoFormat, int]:
    """Parse `-af[:opts] item...` starting at argv[index]; items run until the next `-` arg.
    Returns the request and the index after it.  Raises ValueError when no item follows."""
    arg = argv[index]
    options = arg.split(":", 1)[1] if ":" in arg else ""
    items = []
    index += 1
    while index < len(argv) and not argv[index].startswith("-"):
        items.append(argv[index])
        index += 1
    if not items:
        raise ValueError(f"Error: Argument {arg} requires at least one attribute parameter")
    return AutoFormat(items, options), index


def long_form(ads: list[Any], attributes: list[str] | None = None) -> str:
    """`-long`: each ad as sorted `Attr = value` lines, a blank line after every ad."""
    wanted = {a.lower() for a in attributes} if attributes else None
    out = []
    for ad in ads:
        for name in sorted(ad.keys(), key=str.lower):
            if wanted is None or name.lower() in wanted:
                out.append(f"{name} = {unparse_old(ad.lookup(name))}\n")
        out.append("\n")
    return "".join(out)
