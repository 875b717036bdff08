"""The forms of the ``queue`` statement and the items they produce.

``queue`` | ``queue N`` | ``queue [N] [vars] in [slice] (a, b c)`` | ``queue [N] [vars] from
[slice] file`` | ``... from [slice] command args |`` | ``... from [slice] ( line ... )`` |
``queue [N] [vars] matching [slice] [files|dirs] glob ...``.  N may be an expression
(``queue $(N) * 2``).  The default item variable is ``Item``.  Each item is queued N times
(``$(Step)`` 0..N-1); the item's index is ``$(Row)``/``$(ItemIndex)``.  A slice ``[start:stop:step]``
(Python's meaning) picks which items are queued; they keep their index in the whole list.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field

from condorsim.shared.classad import ClassAdSyntaxError, parse_expr
from condorsim.shared.config.errors import ConfigError
from condorsim.shared.config.parser import run_command

from .errors import SubmitError

_FORM = re.compile(r"^(?:(?P<count>\S+?)\s+)??(?:(?P<vars>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s+)?"
                   r"(?P<kind>in|from|matching)\b\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_SPLIT = re.compile(r"[\s,]+")
_SLICE = re.compile(r"^\[\s*(-?\d*)\s*(?::\s*(-?\d*)\s*)?(?::\s*(-?\d*)\s*)?\]\s*")


@dataclass
class QueueSpec:
    count: int = 1
    variables: list[str] = field(default_factory=lambda: ["Item"])
    items: list[str] | None = None      # None: no item list (plain "queue N")
    selected: range | None = None       # indexes of `items` the slice keeps (None: all)

    def rows(self) -> list[tuple[int, str]]:
        """(index, item) of each item queued."""
        if self.items is None:
            return []
        indexes = self.selected if self.selected is not None else range(len(self.items))
        return [(i, self.items[i]) for i in indexes]


def parse_queue(args: str, line: int, directory: str) -> QueueSpec:
    """Parse the (macro-expanded) text after ``queue``; `directory` (the submit directory, not
    initialdir, as condor_submit does) resolves ``from``/``matching`` paths."""
    args = args.strip()
    if not args:
        return QueueSpec()
    form = _FORM.match(args)
    if not form:
        return QueueSpec(count=_count(args, line))
    spec = QueueSpec(count=_count(form.group("count"), line) if form.group("count") else 1)
    if form.group("vars"):
        spec.variables = [v.strip() for v in form.group("vars").split(",")]
    kind, rest = form.group("kind").lower(), form.group("rest").strip()
    sliced = _SLICE.match(rest)
    if sliced:
        rest = rest[sliced.end():]
    if kind == "in":
        listed = _parenthesised(rest, line) if rest.startswith("(") else rest
        spec.items = [i for i in _SPLIT.split(listed) if i]
    elif kind == "from":
        if rest.startswith("("):
            rows = _parenthesised(rest, line).splitlines()
        elif rest.endswith("|"):
            rows = _command_rows(rest[:-1].strip(), line)
        else:
            rows = _read_rows(os.path.join(directory, rest), line)
        spec.items = [r.strip() for r in rows if r.strip() and not r.strip().startswith("#")]
    else:
        spec.items = _matching(rest, directory, line)
    if sliced:
        bounds = [int(g) if g not in (None, "") else None for g in sliced.groups()]
        spec.selected = range(len(spec.items))[slice(*bounds)]
    return spec


def _count(text: str, line: int) -> int:
    """The queue count: a number or a ClassAd expression of numbers (``3 * 2``)."""
    try:
        value = parse_expr(text).eval() if not text.strip().isdigit() else int(text)
    except (ClassAdSyntaxError, ValueError, TypeError):
        value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SubmitError(f"Failed to parse command file (line {line}): "
                          f"queue count '{text}' is not a number.", line)
    count = int(value)
    if count < 0:
        raise SubmitError(f"Failed to parse command file (line {line}): negative queue count.", line)
    return count


def _parenthesised(text: str, line: int) -> str:
    if not (text.startswith("(") and text.endswith(")")):
        raise SubmitError(f"Failed to parse command file (line {line}): expected an item list "
                          "in parentheses.", line)
    return text[1:-1]


def _read_rows(path: str, line: int) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except OSError as exc:
        raise SubmitError(f"Can't open queue item file {path}: {exc.strerror}", line) from None


def _command_rows(command: str, line: int) -> list[str]:
    try:
        return run_command(command).splitlines()
    except ConfigError as exc:
        raise SubmitError(f"Failed to parse command file (line {line}): {exc.args[0]}", line) from None


def _matching(rest: str, directory: str, line: int) -> list[str]:
    words = rest.split()
    want = None
    if words and words[0].lower() in ("files", "dirs"):
        want = words.pop(0).lower()
    if not words:
        raise SubmitError(f"Failed to parse command file (line {line}): 'matching' needs a pattern.", line)
    found: list[str] = []
    for pattern in words:
        for path in sorted(glob.glob(pattern, root_dir=directory)):
            is_dir = os.path.isdir(os.path.join(directory, path))
            if (want == "files" and is_dir) or (want == "dirs" and not is_dir):
                continue
            if want == "dirs":
                path += "/"             # condor_submit names the directories it matches so
            if path not in found:
                found.append(path)
    return found


def row_values(variables: list[str], item: str) -> dict[str, str]:
    """Values of the item variables for one row, split as condor_submit splits it: each field
    but the last ends at a blank or a comma; then a comma and the blanks after it, or a run of
    blanks, is skipped; the last variable takes the rest of the (trimmed) row."""
    rest = item.strip()
    values = {}
    for variable in variables[:-1]:
        field = re.match(r"[^\s,]*", rest).group(0)
        rest = rest[len(field):]
        rest = rest[1:].lstrip() if rest.startswith(",") else rest.lstrip()
        values[variable.lower()] = field
    values[variables[-1].lower()] = rest
    return values
