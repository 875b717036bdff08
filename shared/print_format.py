"""HTCondor's print-format language (`-print-format FILE`, tools.md §0).

A print format is a small text:

    SELECT [FROM x] [UNIQUE] [BARE | NOTITLE | NOHEADER | NOSUMMARY] [LABEL [SEPARATOR s]]
           [RECORDPREFIX s] [RECORDSUFFIX s] [FIELDPREFIX s] [FIELDSUFFIX s]
      <expr> [AS heading] [WIDTH [-]N | WIDTH AUTO] [FIT] [TRUNCATE] [LEFT | RIGHT]
             [NOPREFIX] [NOSUFFIX] [PRINTF fmt | PRINTAS FUNCTION] [OR c | OR cc]
      ...one line per column...
    [WHERE <constraint>]
    [GROUP BY <expr> [ASCENDING | DESCENDING]
      ...more sort keys, one a line...]
    [SUMMARY [STANDARD | NONE]]

Keywords are upper case; `#` starts a comment line; a quoted string runs to its matching
quote.  `parse_print_format` reads the text, `PrintFormat.columns` turns its column lines into
the `Column`s of the shared table engine (shared/columns.py), looking PRINTAS names up in the
global function table below and in the tool's own.  condor_q's and condor_status's built-in
views are texts in this language too, so every table goes through this one engine.

Widths as in HTCondor: `WIDTH N` right-justifies in N characters, `WIDTH -N` left-justifies;
without WIDTH (or with `WIDTH AUTO`) a column is as wide as its heading and grows to fit its
values; `FIT` makes a fixed-width column grow too.  A fixed width cuts longer values when the
tool says so (condor_q) or when the line says TRUNCATE.
"""
from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field
from typing import Any, Callable

from condorsim.shared.classad import unparse_old
from condorsim.shared.columns import (Column, Table, evaluate, format_date, format_time, int_of,
                                      is_undefined, number_of, printf_render, string_of)

# A PRINTAS function: (ad, the line's expression) -> the cell, or None when it has no value.
Function = Callable[[Any, str], "str | None"]


class PrintFormatError(Exception):
    """A print-format text that cannot be used."""


# --- the global PRINTAS functions ----------------------------------------------------------

def _value_of(ad: Any, expr: str) -> Any:
    value = evaluate(ad, expr)
    return None if is_undefined(value) else value


def _number_as(render: Callable[[float], str]) -> Function:
    def function(ad: Any, expr: str) -> str | None:
        number = number_of(ad, expr)
        return None if number is None else render(number)
    return function


def elapsed(now_attrs: tuple[str, ...], clamp: bool) -> Function:
    """`%T` of "now" (the first of `now_attrs` the ad has) minus the value."""
    def function(ad: Any, expr: str) -> str | None:
        since = number_of(ad, expr)
        now = next((n for n in (number_of(ad, a) for a in now_attrs) if n is not None), None)
        if since is None or now is None:
            return None
        return format_time(max(0, now - since) if clamp else now - since)
    return function


_BYTE_UNITS = ("B ", "KB", "MB", "GB", "TB", "PB")


def readable(value: float, units: tuple[str, ...] = _BYTE_UNITS[:5], past: bool = False) -> str:
    """A quantity of bytes scaled to the largest unit it reaches 1024 of (`15.5 GB`); with
    `past`, only a unit it goes past 1024 of (HTCondor's metric_units, condor_status)."""
    index = 0
    while (abs(value) > 1024 if past else abs(value) >= 1024) and index < len(units) - 1:
        value /= 1024.0
        index += 1
    return "%.1f %s" % (value, units[index])


def readable_mb(megabytes: float) -> str:
    """Memory in MB shown with a metric unit, as HTCondor's `metric_units` (`15.5 GB`)."""
    return readable(float(megabytes) * 1024 * 1024, _BYTE_UNITS, past=True)


def format_version(condor_version: str) -> str:
    """`$CondorVersion: 25.14.0 2026-09-24 BuildID: 0 $` -> `25.14.0.0` (version.buildid)."""
    words = condor_version.split()
    if len(words) < 2:
        return condor_version
    version, rest = words[1], words[2:]
    if rest and rest[0].count("-") == 2:       # YYYY-MM-DD date
        rest = rest[1:]
    else:                                       # old `Mon DD YYYY` date
        rest = rest[3:]
    if rest and rest[0].startswith("B"):        # BuildID:
        rest = rest[1:]
    if rest and not rest[0].startswith("$"):
        version += "." + rest[0].split("-")[0]
    return version


_STATUS_LETTER = {1: "I", 2: "R", 3: "X", 4: "C", 5: "H", 6: ">", 7: "S", 8: "F", 9: "B"}
_STATUS_NAME = {1: "Idle", 2: "Running", 3: "Removed", 4: "Completed", 5: "Held",
                6: "TransferOutput", 7: "Suspended"}
# HTCondor's universe names as its tools print them
UNIVERSE_NAMES = {1: "Standard", 2: "Pipe", 3: "Linda", 4: "PVM", 5: "Vanilla", 6: "PVMD",
                  7: "Scheduler", 8: "MPI", 9: "Grid", 10: "Java", 11: "Parallel", 12: "Local",
                  13: "VM"}


def job_status(ad: Any, _expr: str = "") -> str | None:
    """Two letters: the status, or `<`/`>` while files go in or out (`q` while queued for it)."""
    status = number_of(ad, "JobStatus")
    if status is None:
        return None
    text = [_STATUS_LETTER.get(int(status), "?"), " "]
    queued = evaluate(ad, "TransferQueued") is True
    if evaluate(ad, "TransferringInput") is True:
        text = ["<", "q" if queued else " "]
    if evaluate(ad, "TransferringOutput") is True or status == 6:
        text = ["q" if queued else " ", ">"]
    return "".join(text)


def memory_usage(ad: Any, _expr: str = "") -> str | None:
    """MemoryUsage in MB, else ImageSize (KB) in MB, with one decimal."""
    megabytes = number_of(ad, "MemoryUsage")
    if megabytes is None:
        kilobytes = number_of(ad, "ImageSize")
        if kilobytes is None:
            return None
        megabytes = kilobytes / 1024.0
    return "%.1f" % megabytes


def job_command(ad: Any, _expr: str = "") -> str | None:
    """The executable's base name and its arguments."""
    cmd = string_of(ad, "Cmd")
    if cmd is None:
        return None
    args = string_of(ad, "Arguments")
    if args is None:
        args = string_of(ad, "Args")
    text = os.path.basename(cmd)
    return f"{text} {args}" if args else text


def job_description(ad: Any, _expr: str = "") -> str | None:
    """`(description)` when the job has one (as expanded for its last slot), else the command."""
    if string_of(ad, "Cmd") is None:
        return None
    description = string_of(ad, "MATCH_EXP_JobDescription") or string_of(ad, "JobDescription")
    return f"({description})" if description else job_command(ad)


def remote_host(ad: Any, _expr: str = "") -> str | None:
    """The host a job runs on; a grid job's instance host name, else its resource."""
    if int_of(ad, "JobUniverse") == 9:
        return string_of(ad, "EC2RemoteVirtualMachineName") or string_of(ad, "GridResource")
    host = string_of(ad, "RemoteHost")
    if host is None:
        return None
    match = re.match(r"<([^:>?]+)", host)
    if match:  # a sinful string: show the host it names
        try:
            return socket.gethostbyaddr(match.group(1))[0]
        except OSError:
            return match.group(1)
    return host


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list):
        return [item if isinstance(item, str) else unparse_old(item) for item in value]
    return None


def _unique(ad: Any, expr: str) -> str | None:
    items = _strings(_value_of(ad, expr))
    return None if items is None else ", ".join(sorted(set(items)))


def platform(ad: Any, _expr: str = "") -> str | None:
    """HTCondor's platform name: `x64/Debian12` from Arch and OpSysAndVer."""
    name = string_of(ad, "OpSysShortName" if string_of(ad, "OpSys") == "WINDOWS" else "OpSysAndVer")
    if name is None:
        return None
    arch = string_of(ad, "Arch") or ""
    return f"{ {'X86_64': 'x64', 'X86': 'x86'}.get(arch, arch)}/{name}"


def _condor_platform(ad: Any, expr: str) -> str | None:
    """`$CondorPlatform: X86_64-Debian_12 $` -> `X86_64-Debian_12`."""
    text = string_of(ad, expr)
    if text is None:
        return None
    words = text.split()
    return words[1] if len(words) > 1 else text


def _batch_name(ad: Any, _expr: str = "") -> str | None:
    name = string_of(ad, "JobBatchName")
    if name is not None:
        return name
    cluster = number_of(ad, "ClusterId")
    return None if cluster is None else "ID: %d" % cluster


def _activity_code(ad: Any, _expr: str = "") -> str:
    states = {"Owner": "O", "Unclaimed": "U", "Matched": "M", "Claimed": "C", "Preempting": "P",
              "Shutdown": "S", "Delete": "X", "Backfill": "F", "Drained": "D"}
    activities = {"Idle": "i", "Busy": "b", "Retiring": "r", "Vacating": "v", "Suspended": "s",
                  "Benchmarking": "b", "Killing": "k"}

    def letter(attr: str, table: dict[str, str]) -> str:
        value = evaluate(ad, attr)
        if is_undefined(value):
            return "#"
        return table.get(value, "~") if isinstance(value, str) else "?"
    return letter("State", states) + letter("Activity", activities)


def _cpu_util(ad: Any, _expr: str = "") -> str | None:
    committed = number_of(ad, "CommittedTime")
    user = number_of(ad, "RemoteUserCpu")
    if not committed or committed <= 0 or user is None:
        return None
    return "%.1f" % (user / committed)


def _dag_owner(ad: Any, _expr: str = "") -> str | None:
    if not is_undefined(evaluate(ad, "DAGManJobId")):
        node = string_of(ad, "DAGNodeName")
        if node is not None:
            return node
    return string_of(ad, "Owner")


def _member_count(ad: Any, expr: str) -> str | None:
    items = _strings(_value_of(ad, expr))
    return None if items is None else str(len(items))


def _strings_from_list(ad: Any, expr: str) -> str | None:
    items = _strings(_value_of(ad, expr))
    return None if items is None else ",".join(items)


def _job_status_raw(ad: Any, expr: str) -> str | None:
    number = number_of(ad, expr)
    return None if number is None else _STATUS_NAME.get(int(number), "Unk")


def _job_universe(ad: Any, expr: str) -> str | None:
    number = number_of(ad, expr)
    return None if number is None else UNIVERSE_NAMES.get(int(number), "Unknown")


def _job_id(ad: Any, _expr: str = "") -> str | None:
    cluster, proc = number_of(ad, "ClusterId"), number_of(ad, "ProcId")
    return None if cluster is None or proc is None else "%d.%d" % (cluster, proc)


def _grid_status(ad: Any, expr: str) -> str | None:
    value = _value_of(ad, expr)
    if isinstance(value, str):
        return value
    number = number_of(ad, expr)
    return None if number is None else _STATUS_NAME.get(int(number), "Unk").upper()


def _grid_resource(ad: Any, _expr: str = "") -> str | None:
    resource = string_of(ad, "GridResource")
    if resource is None:
        return None
    words = resource.split()
    manager = words[0] if words else ""
    host = string_of(ad, "EC2RemoteVirtualMachineName") or (words[1] if len(words) > 1 else "")
    host = re.sub(r"^\w+://", "", host).split("/")[0]
    return f"{manager}->{host}"


def _grid_job_id(ad: Any, _expr: str = "") -> str | None:
    job_id = string_of(ad, "GridJobId")
    return None if job_id is None else job_id.split()[-1]


GLOBAL_FUNCTIONS: dict[str, Function] = {
    "ACTIVITY_CODE": _activity_code,
    "ACTIVITY_TIME": elapsed(("MyCurrentTime", "LastHeardFrom"), clamp=True),
    "BATCH_NAME": _batch_name,
    "CONDOR_PLATFORM": _condor_platform,
    "CONDOR_VERSION": lambda ad, expr: (None if string_of(ad, expr) is None
                                        else format_version(string_of(ad, expr) or "")),
    "CPU_UTIL": _cpu_util,
    "DAG_OWNER": _dag_owner,
    "DATE": _number_as(format_date),
    "DUE_DATE": lambda ad, expr: (None if number_of(ad, expr) is None
                                  else format_date((number_of(ad, expr) or 0)
                                                   + (number_of(ad, "LastHeardFrom") or 0))),
    "ELAPSED_TIME": elapsed(("LastHeardFrom",), clamp=False),
    "GRID_JOB_ID": _grid_job_id,
    "GRID_RESOURCE": _grid_resource,
    "GRID_STATUS": _grid_status,
    "JOB_COMMAND": job_command,
    "JOB_DESCRIPTION": job_description,
    "JOB_ID": _job_id,
    "JOB_STATUS": job_status,
    "JOB_STATUS_RAW": _job_status_raw,
    "JOB_UNIVERSE": _job_universe,
    "LOAD_AVG": _number_as(lambda n: "%.3f" % n),
    "MEMBER_COUNT": _member_count,
    "MEMORY_USAGE": memory_usage,
    "OWNER": lambda ad, _expr: string_of(ad, "Owner"),
    "PLATFORM": platform,
    "QDATE": _number_as(format_date),
    "READABLE_BYTES": _number_as(readable),
    "READABLE_KB": _number_as(lambda n: readable(n * 1024.0)),
    "READABLE_MB": _number_as(readable_mb),
    "REMOTE_HOST": remote_host,
    "RUNTIME": _number_as(format_time),
    "STRINGS_FROM_LIST": _strings_from_list,
    "TIME": _number_as(format_time),
    "UNIQUE": _unique,
}


# --- the language -------------------------------------------------------------------------

@dataclass
class ColumnSpec:
    """One column line of a SELECT."""
    expr: str
    heading: str
    width: int = 0            # the column's width (its minimum when `auto`)
    auto: bool = True
    right: bool = False
    truncate: bool = False
    noprefix: bool = False
    nosuffix: bool = False
    printf: str | None = None
    printas: str | None = None
    alternative: str = ""     # what an undefined value shows (OR)


@dataclass
class PrintFormat:
    columns: list[ColumnSpec] = field(default_factory=list)
    select_from: str | None = None
    unique: bool = False
    notitle: bool = False
    noheader: bool = False
    summary: bool = False          # SUMMARY STANDARD
    label: str | None = None       # LABEL's separator: `name = value` fields, no headings
    record_prefix: str = ""
    record_suffix: str = "\n"
    field_prefix: str = " "
    field_suffix: str = ""
    where: str | None = None
    group_by: list[tuple[str, bool]] = field(default_factory=list)  # (expr, descending)
    warnings: list[str] = field(default_factory=list)

    def table_columns(self, functions: dict[str, Function] | None = None) -> list[Column]:
        """The columns as the table engine's Columns; PRINTAS names are looked up in the
        tool's `functions` first, then in the global ones."""
        table = dict(GLOBAL_FUNCTIONS)
        table.update(functions or {})
        return [_column(spec, table, self.label) for spec in self.columns]

    def render(self, ads: list[Any], functions: dict[str, Function] | None = None,
               blank_after_heading: bool = False) -> str:
        """The heading (unless NOHEADER or LABEL) and one record per ad."""
        table = Table(self.table_columns(functions), self.field_prefix, self.field_suffix,
                      self.record_prefix)
        rows = table.render(ads)
        out = []
        if not self.noheader and self.label is None and self.columns:
            out.append(table.heading() + self.record_suffix + ("\n" if blank_after_heading else ""))
        out.extend(row + self.record_suffix for row in rows)
        return "".join(out)

    def sort(self, ads: list[Any]) -> list[Any]:
        """The ads in GROUP BY order (the last key first, each sort stable)."""
        from condorsim.shared.columns import NaturalKey, as_number
        for expr, descending in reversed(self.group_by):
            def key(ad: Any, expr: str = expr) -> tuple:
                value = evaluate(ad, expr)
                number = as_number(value)
                if number is not None:
                    return (0, number)
                return (1, NaturalKey(value)) if isinstance(value, str) else (2, 0)
            ads = sorted(ads, key=key, reverse=descending)
        return ads


def _column(spec: ColumnSpec, functions: dict[str, Function], label: str | None) -> Column:
    render = _renderer(spec, functions)
    if label is not None:   # a labelled field: `heading = value`, no widths
        text = spec.heading + label
        return Column("", lambda ad: text + (render(ad) or spec.alternative))
    return Column(spec.heading, render, width=spec.width, right=spec.right, auto=spec.auto,
                  truncate=spec.truncate, noprefix=spec.noprefix, nosuffix=spec.nosuffix,
                  undefined=spec.alternative)


def _renderer(spec: ColumnSpec, functions: dict[str, Function]) -> Callable[[Any], str | None]:
    """The cell of a column line: its PRINTAS function, else its PRINTF (`%v` by default) as
    HTCondor applies it -- `%v` shows an undefined value as `undefined`, while `%s`, `%d`, ...
    give no value for it (then the line's OR alternative shows)."""
    expr = spec.expr
    if spec.printas is not None:
        function = functions[spec.printas]
        return lambda ad: function(ad, expr)
    fmt = spec.printf or "%v"
    return lambda ad: printf_render(fmt, ad, expr)


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}


def _tokens(line: str) -> list[tuple[int, int, str, bool]]:
    """(start, end, text, quoted) of each blank-separated token; a quoted token runs to its
    matching quote and its text has `\\n`, `\\r`, `\\t` made the characters."""
    out = []
    i = 0
    while i < len(line):
        if line[i].isspace():
            i += 1
            continue
        start = i
        if line[i] in "'\"":
            end = line.find(line[i], i + 1)
            end = len(line) if end < 0 else end
            text = re.sub(r"\\([nrt])", lambda m: _ESCAPES[m.group(1)], line[i + 1:end])
            out.append((start, min(end + 1, len(line)), text, True))
            i = end + 1
            continue
        while i < len(line) and not line[i].isspace():
            i += 1
        out.append((start, i, line[start:i], False))
    return out


_COLUMN_KEYWORDS = {"AS", "AUTO", "PRINTF", "PRINTAS", "RENDERAS", "NOPREFIX", "NOSUFFIX",
                    "TRUNCATE", "WIDTH", "LEFT", "RIGHT", "OR", "ALWAYS", "FIT"}
_ALTERNATIVES = " ?*.-_#0"


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) with `\\` continuations joined and blanks trimmed."""
    out: list[tuple[int, str]] = []
    pending, first = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending:
            first = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        out.append((first, pending + line))
        pending = ""
    if pending:
        out.append((first, pending))
    return out


def parse_print_format(text: str, source: str = "print format",
                       truncate_fixed: bool = True,
                       functions: dict[str, Function] | None = None) -> PrintFormat:
    """Read a print-format text.  `truncate_fixed`: a fixed WIDTH cuts longer values (condor_q
    does, condor_status does not).  Problems HTCondor only warns about are collected in
    `.warnings` (in its words); a text without SELECT raises PrintFormatError."""
    known = set(GLOBAL_FUNCTIONS) | set(functions or {})
    fmt = PrintFormat()
    section = None
    for number, line in _logical_lines(text):
        tokens = _tokens(line)
        if not tokens or tokens[0][2].startswith("#") and not tokens[0][3]:
            continue
        word = tokens[0][2] if not tokens[0][3] else ""
        if word == "SELECT":
            section = "SELECT"
            _select_options(fmt, tokens[1:])
            continue
        if word == "SUMMARY":
            section = "SUMMARY"
            fmt.summary = True
            for _, _, option, _ in tokens[1:]:
                if option == "STANDARD":
                    fmt.summary = True
                elif option == "NONE":
                    fmt.summary = False
                else:
                    fmt.warnings.append(f"Unknown argument {option} for SELECT")
            continue
        if word == "WHERE":
            section = "WHERE"
            tokens = tokens[1:]
        elif word == "GROUP":
            section = "GROUP"
            tokens = tokens[2:] if len(tokens) > 1 and tokens[1][2] == "BY" else tokens[1:]
        elif word in ("JOIN", "AND"):
            section = "IGNORED"
            continue
        if not tokens or section in (None, "IGNORED", "SUMMARY"):
            if section is None:
                raise PrintFormatError(f"{source}: line {number}: expected SELECT")
            continue
        rest = line[tokens[0][0]:]
        if section == "WHERE":
            fmt.where = rest.strip()
        elif section == "GROUP":
            fmt.group_by.append(_group_key(tokens, line))
        else:
            spec = _column_line(tokens, line, number, truncate_fixed, known, fmt.warnings)
            if spec is not None:
                fmt.columns.append(spec)
    if section is None:
        raise PrintFormatError(f"{source}: no SELECT line")
    _check_expressions(fmt)
    return fmt


def _select_options(fmt: PrintFormat, tokens: list[tuple[int, int, str, bool]]) -> None:
    i = 0
    while i < len(tokens):
        word = tokens[i][2]
        value = tokens[i + 1][2] if i + 1 < len(tokens) else None
        if word == "FROM" and value is not None:
            fmt.select_from = value
            i += 1
        elif word == "UNIQUE":
            fmt.unique = True
        elif word == "BARE":
            fmt.notitle = fmt.noheader = True
            fmt.summary = False
        elif word == "NOTITLE":
            fmt.notitle = True
        elif word == "NOHEADER":
            fmt.noheader = True
        elif word == "NOSUMMARY":
            fmt.summary = False
        elif word == "LABEL":
            fmt.label = " = "
        elif word == "SEPARATOR" and fmt.label is not None and value is not None:
            fmt.label = value
            i += 1
        elif word in ("RECORDPREFIX", "RECORDSUFFIX", "FIELDPREFIX", "FIELDSUFFIX") and value is not None:
            setattr(fmt, {"RECORDPREFIX": "record_prefix", "RECORDSUFFIX": "record_suffix",
                          "FIELDPREFIX": "field_prefix", "FIELDSUFFIX": "field_suffix"}[word],
                    re.sub(r"\\([nrt])", lambda m: _ESCAPES[m.group(1)], value))
            i += 1
        else:
            fmt.warnings.append(f"Warning: Unknown header argument {word} for SELECT")
        i += 1


def _column_line(tokens: list[tuple[int, int, str, bool]], line: str, number: int,
                 truncate_fixed: bool, known: set[str], warnings: list[str]) -> ColumnSpec | None:
    first_keyword = next((n for n, t in enumerate(tokens) if not t[3] and t[2] in _COLUMN_KEYWORDS),
                         len(tokens))
    end = tokens[first_keyword][0] if first_keyword < len(tokens) else len(line)
    expr = line[tokens[0][0]:end].strip()
    if not expr or expr.startswith("#"):
        return None
    spec = ColumnSpec(expr=expr, heading=expr)
    fixed = False
    i = first_keyword
    while i < len(tokens):
        word = tokens[i][2]
        value = tokens[i + 1] if i + 1 < len(tokens) else None
        takes_value = word in ("AS", "PRINTF", "PRINTAS", "RENDERAS", "OR", "WIDTH")
        if takes_value and value is None:
            warnings.append(f"expected {_EXPECTED[word]} at line {number} offset {tokens[i][1]} in SELECT")
            break
        if word == "AS":
            spec.heading = value[2]
        elif word == "PRINTF":
            spec.printf = value[2]
        elif word in ("PRINTAS", "RENDERAS"):
            if value[2] in known:
                spec.printas = value[2]
            else:
                warnings.append(f"Unknown argument {value[2]} for {word}")
        elif word == "OR":
            if value[2] and value[2][0] in _ALTERNATIVES:
                wide = len(value[2]) > 1 and value[2][0] == value[2][1]
                spec.alternative = value[2][0] * (2 if wide else 1)
            else:
                warnings.append(f"Unknown argument {value[2]} for OR")
        elif word == "WIDTH":
            if value[2] == "AUTO":
                spec.auto = True
            else:
                width = _atoi(value[2])
                spec.width, spec.right, spec.auto, fixed = abs(width), width > 0, False, True
                spec.truncate = truncate_fixed
        elif word == "FIT":
            spec.auto, spec.truncate = True, False
        elif word == "TRUNCATE":
            spec.truncate = True
        elif word == "LEFT":
            spec.right = False
        elif word == "RIGHT":
            spec.right = True
        elif word == "NOPREFIX":
            spec.noprefix = True
        elif word == "NOSUFFIX":
            spec.nosuffix = True
        elif word not in ("ALWAYS", "AUTO"):
            warnings.append(f"{word} was unexpected at line {number} offset {tokens[i][0]} in SELECT")
        i += 2 if takes_value else 1
    if not fixed:
        spec.width = len(spec.heading)
    return spec


_EXPECTED = {"AS": "column name after AS", "PRINTF": "format after PRINTF",
             "PRINTAS": "function name after PRINTAS", "RENDERAS": "function name after RENDERAS",
             "OR": "? or ?? after OR", "WIDTH": "number or AUTO after WIDTH"}


def _atoi(text: str) -> int:
    match = re.match(r"\s*[-+]?\d+", text)
    return int(match.group()) if match else 0


def _group_key(tokens: list[tuple[int, int, str, bool]], line: str) -> tuple[str, bool]:
    """A GROUP BY line: the expression up to its first keyword, and whether it sorts down."""
    keywords = [(start, word) for start, _, word, quoted in tokens
                if not quoted and word in ("ASCENDING", "DESCENDING", "AS")]
    end = keywords[0][0] if keywords else len(line)
    orders = [word for _, word in keywords if word != "AS"]
    return line[tokens[0][0]:end].strip(), bool(orders) and orders[-1] == "DESCENDING"


def _check_expressions(fmt: PrintFormat) -> None:
    """HTCondor warns about expressions that do not parse (they then show as errors)."""
    from condorsim.shared.classad import parse_expr
    checks = [(spec.expr, "attribute or expression is not valid: %s") for spec in fmt.columns]
    checks += [(expr, "GROUP BY expression is not valid: %s") for expr, _ in fmt.group_by]
    for expr, message in checks:
        try:
            parse_expr(expr)
        except Exception:
            fmt.warnings.append(message % expr)


def read_print_format(path: str, truncate_fixed: bool = True,
                      functions: dict[str, Function] | None = None) -> PrintFormat:
    """A print-format file (`-` is standard input), as the tools read `-print-format FILE`.
    An unreadable file raises OSError."""
    import sys
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    return parse_print_format(text, path, truncate_fixed, functions)
