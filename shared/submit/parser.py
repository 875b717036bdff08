"""Submit description text -> ordered statements (assignments and queue statements).

Lines are ``key = value`` (keys case-insensitive; ``+Attr``/``MY.Attr`` keys put a ClassAd
expression into the job ad), ``#`` comments and blank lines, and ``queue`` statements.  A line
ending in ``\\`` continues on the next one.  A queue statement's item list in parentheses may
span lines up to the closing ``)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SubmitError

_KEY = re.compile(r"^(\+[A-Za-z_][\w.]*|MY\.[A-Za-z_]\w*|[A-Za-z_][\w.]*)\s*=(.*)$", re.IGNORECASE | re.DOTALL)
_QUEUE = re.compile(r"^queue(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Assignment:
    key: str        # as written; "+Attr" and "MY.Attr" keep their prefix
    value: str      # raw, unexpanded
    line: int


@dataclass(frozen=True)
class QueueStatement:
    args: str       # everything after the keyword, raw (may hold a multi-line "( ... )" list)
    line: int


Statement = Assignment | QueueStatement


def parse_statements(text: str) -> list[Statement]:
    """Split a submit description into statements; raises SubmitError naming a bad line."""
    statements: list[Statement] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        first = i + 1
        logical, i = _join_continuations(lines, i)
        stripped = logical.strip()
        if not stripped or stripped.startswith("#"):
            continue
        queue = _QUEUE.match(stripped)
        if queue:
            args = (queue.group(1) or "").strip()
            if "(" in args and ")" not in args[args.index("("):]:
                args, i = _collect_item_list(args, lines, i, first)
            statements.append(QueueStatement(args, first))
            continue
        assign = _KEY.match(stripped)
        if not assign:
            raise SubmitError(f"Failed to parse command file (line {first}).", first)
        statements.append(Assignment(assign.group(1), assign.group(2).strip(), first))
    return statements


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
