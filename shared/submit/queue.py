"""The forms of the ``queue`` statement and the items they produce.

``queue`` | ``queue N`` | ``queue [N] [vars] in (a, b c)`` | ``queue [N] [vars] from file``
| ``queue [N] [vars] from ( line ... )`` | ``queue [N] [vars] matching [files|dirs] glob ...``.
The default item variable is ``Item``.  Each item is queued N times (``$(Step)`` 0..N-1); the
item's index is ``$(Row)``/``$(ItemIndex)``.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field

from .errors import SubmitError

_FORM = re.compile(r"^(?:(?P<count>\S+?)\s+)??(?:(?P<vars>[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s+)?"
                   r"(?P<kind>in|from|matching)\b\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_SPLIT = re.compile(r"[\s,]+")


@dataclass
class QueueSpec:
    count: int = 1
    variables: list[str] = field(default_factory=lambda: ["Item"])
    items: list[str] | None = None      # None: no item list (plain "queue N")


def parse_queue(args: str, line: int, iwd: str) -> QueueSpec:
    """Parse the (macro-expanded) text after ``queue``; `iwd` resolves ``from``/``matching`` paths."""
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
    if kind == "in":
        spec.items = [i for i in _SPLIT.split(_parenthesised(rest, line)) if i]
    elif kind == "from":
        if rest.startswith("("):
            rows = _parenthesised(rest, line).splitlines()
        else:
            rows = _read_rows(os.path.join(iwd, rest), line)
        spec.items = [r.strip() for r in rows if r.strip() and not r.strip().startswith("#")]
    else:
        spec.items = _matching(rest, iwd, line)
    return spec


def _count(text: str, line: int) -> int:
    try:
        count = int(text)
    except ValueError:
        raise SubmitError(f"Failed to parse command file (line {line}): "
                          f"queue count '{text}' is not a number.", line) from None
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


def _matching(rest: str, iwd: str, line: int) -> list[str]:
    words = rest.split()
    want = None
    if words and words[0].lower() in ("files", "dirs"):
        want = words.pop(0).lower()
    if not words:
        raise SubmitError(f"Failed to parse command file (line {line}): 'matching' needs a pattern.", line)
    found: list[str] = []
    for pattern in words:
        for path in sorted(glob.glob(pattern, root_dir=iwd)):
            is_dir = os.path.isdir(os.path.join(iwd, path))
            if (want == "files" and is_dir) or (want == "dirs" and not is_dir):
                continue
            if path not in found:
                found.append(path)
    return found


def row_values(variables: list[str], item: str) -> dict[str, str]:
    """Values of the item variables for one item: fields split on commas/blanks, the last
    variable takes the rest of the row."""
    if len(variables) == 1:
        return {variables[0].lower(): item}
    fields = _SPLIT.split(item.strip(), maxsplit=len(variables) - 1)
    fields += [""] * (len(variables) - len(fields))
    return {v.lower(): f for v, f in zip(variables, fields)}
