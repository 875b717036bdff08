"""Submit description text -> ordered statements (assignments and queue statements).

Lines are ``key = value`` (keys case-insensitive; ``+Attr``/``MY.Attr`` keys put a ClassAd
expression into the job ad), ``#`` comments and blank lines, and ``queue`` statements.  A line
ending in ``\\`` continues on the next one.  A queue statement's item list in parentheses may
span lines up to the closing ``)``.  ``key @= tag`` ... ``@tag`` gives a key a multi-line value.

The parser also runs what condor_submit runs while it reads: ``include : file``,
``include : command args |`` (and ``include ifexist :`` / ``include command :``), and
``if`` / ``elif`` / ``else`` / ``endif`` (conditions as in the config language: ``defined X``,
``version >= 9.0``, ``$(X)`` expanding to a boolean or number; comparisons of anything but
``version`` are refused as HTCondor refuses them).  Conditions and include targets are expanded
against the keys set so far, through the caller's `expand`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable

from condorsim.shared.config.errors import ConfigError
from condorsim.shared.config.parser import (evaluate_condition, freeze_self_references, read_at_block,
                                             read_source)

from .errors import SubmitError

_KEY = re.compile(r"^(\+[A-Za-z_][\w.]*|MY\.[A-Za-z_]\w*|[A-Za-z_][\w.]*)\s*(=|@=)(.*)$", re.IGNORECASE | re.DOTALL)
_QUEUE = re.compile(r"^queue(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_KEYWORD = re.compile(r"^(include|if|elif|else|endif|error|warning)\b\s*(.*)$", re.IGNORECASE | re.DOTALL)
_INCLUDE = re.compile(r"^(?:(ifexists?|command)\s*)?:\s*(.*)$", re.IGNORECASE | re.DOTALL)
MAX_INCLUDE_DEPTH = 20


@dataclass(frozen=True)
class Assignment:
    key: str        # as written; "+Attr" and "MY.Attr" keep their prefix
    value: str      # raw, unexpanded
    line: int
    source: str = ""


@dataclass(frozen=True)
class QueueStatement:
    args: str       # everything after the keyword, raw (may hold a multi-line "( ... )" list)
    line: int


Statement = Assignment | QueueStatement
# expand(text, values so far (lowercase key -> raw value), line) -> expanded text
Expand = Callable[[str, dict, int], str]


def _no_expand(text: str, values: dict, line: int) -> str:
    return text


@dataclass
class _Branch:
    outer: bool
    active: bool
    taken: bool
    else_seen: bool = False


@dataclass
class _State:
    expand: Expand
    cwd: str
    values: dict = field(default_factory=dict)
    statements: list = field(default_factory=list)
    top_source: str = ""


def parse_statements(text: str, expand: Expand = _no_expand, cwd: str | None = None,
                     source: str = "", initial: tuple[Assignment, ...] = ()) -> list[Statement]:
    """Split a submit description into statements, after the `initial` assignments (condor_submit's
    key=value arguments); raises SubmitError naming a bad line."""
    state = _State(expand, cwd or os.getcwd(), top_source=source)
    for assignment in initial:
        state.values[assignment.key.lower()] = assignment.value
        state.statements.append(assignment)
    _parse(text, state, source, 0, None)
    return state.statements


def _parse(text: str, state: _State, source: str, depth: int, include_line: int | None) -> None:
    lines = text.splitlines()
    branches: list[_Branch] = []
    i = 0
    while i < len(lines):
        first = i + 1
        where = include_line if include_line is not None else first   # lines of the main file
        logical, i = _join_continuations(lines, i)
        stripped = logical.strip()
        if not stripped or stripped.startswith("#"):
            continue
        active = all(b.active for b in branches)
        keyword = _KEYWORD.match(stripped)
        if keyword and not _KEY.match(stripped):
            word, rest = keyword.group(1).lower(), keyword.group(2).strip()
            try:
                if word in ("if", "elif", "else", "endif"):
                    _conditional(word, rest, branches, state, where)
                elif active and word == "include":
                    _include(rest, state, depth, where)
                elif active and word == "error":
                    raise SubmitError(rest.lstrip(":").strip() or "error statement", where)
            except ConfigError as exc:
                raise SubmitError(f"{exc.args[0] if exc.args else exc} (line {where})", where) from None
            continue
        queue = _QUEUE.match(stripped)
        if queue:
            args = (queue.group(1) or "").strip()
            if "(" in args and ")" not in args[args.index("("):]:
                args, i = _collect_item_list(args, lines, i, first)
            if active:
                state.statements.append(QueueStatement(args, where))
            continue
        assign = _KEY.match(stripped)
        if not assign:
            raise SubmitError(f"Failed to parse command file (line {where}).", where)
        key, op, value = assign.group(1), assign.group(2), assign.group(3).strip()
        if op == "@=":
            try:
                value, i = read_at_block(value, lines, i)
            except ConfigError as exc:
                raise SubmitError(f"Failed to parse command file (line {where}): {exc.args[0]}", where) from None
        if active:
            # `A = $(A) more` appends to the earlier A (its value is taken now, as HTCondor does)
            value = freeze_self_references(value, {key.upper(): lambda: state.values.get(key.lower())})
            state.values[key.lower()] = value
            state.statements.append(Assignment(key, value, where, source))
    if branches:
        raise SubmitError(f"endif(s) not found before end-of-file in {source or 'submit file'}",
                          include_line if include_line is not None else len(lines))


def _conditional(word: str, rest: str, branches: list[_Branch], state: _State, line: int) -> None:
    def condition() -> bool:
        return evaluate_condition(rest, lambda t: state.expand(t, state.values, line),
                                  lambda name: bool(state.expand(f"$({name})", state.values, line).strip()))
    if word == "if":
        outer = all(b.active for b in branches)
        result = outer and condition()
        branches.append(_Branch(outer, result, result))
        return
    if not branches:
        raise SubmitError(f"Failed to parse command file (line {line}): {word} without matching if", line)
    branch = branches[-1]
    if word == "endif":
        branches.pop()
    elif branch.else_seen:
        raise SubmitError(f"Failed to parse command file (line {line}): {word} after else", line)
    elif word == "else":
        branch.else_seen = True
        branch.active = branch.outer and not branch.taken
        branch.taken = True
    else:
        branch.active = branch.outer and not branch.taken and condition()
        branch.taken = branch.taken or branch.active


def _include(rest: str, state: _State, depth: int, line: int) -> None:
    m = _INCLUDE.match(rest)
    if not m or not m.group(2).strip():
        raise SubmitError(f"Failed to parse command file (line {line}): malformed include "
                          f"statement: include {rest}", line)
    if depth >= MAX_INCLUDE_DEPTH:
        raise SubmitError(f"includes nested more than {MAX_INCLUDE_DEPTH} deep (line {line})", line)
    kind = (m.group(1) or "").lower()
    target = state.expand(m.group(2).strip(), state.values, line)
    if kind == "command" and not target.rstrip().endswith("|"):
        target += " |"
    if not target.rstrip().endswith("|"):
        target = os.path.join(state.cwd, target)
        if kind.startswith("ifexist") and not os.path.isfile(target):
            return
    try:
        text = read_source(target)
    except ConfigError as exc:
        raise SubmitError(f"{exc.args[0]} (included from line {line})", line) from None
    _parse(text, state, target, depth + 1, line)


def _join_continuations(lines: list[str], i: int) -> tuple[str, int]:
    """The logical line starting at `i` (trailing backslashes join lines) and the next index."""
    parts = []
    while True:
        line = lines[i].rstrip()
        i += 1
        if line.endswith("\\") and i < len(lines):
            parts.append(line[:-1])
            continue
        parts.append(line[:-1] if line.endswith("\\") else line)
        # The backslash goes; the continued line's leading blanks go too (as condor_submit does).
        return "".join(p.lstrip() if n else p for n, p in enumerate(parts)), i


def _collect_item_list(args: str, lines: list[str], i: int, first: int) -> tuple[str, int]:
    """Append the lines of an item list that spans lines, up to the one holding ``)``."""
    collected = [args]
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.strip().startswith(")"):
            collected.append(line.strip())
            return "\n".join(collected), i
        if line.strip() and not line.strip().startswith("#"):
            collected.append(line.strip())
    raise SubmitError(f"Failed to parse command file (line {first}): the item list of this queue "
                      "statement has no closing ')'.", first)
