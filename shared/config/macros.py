"""Macro expansion: $(X), $(X:default), $ENV(), $$ pass-through and the $FUNC() family.

Expansion is lazy (done at lookup) and resolves names through a caller-supplied `lookup`, which
applies the local-name / subsystem precedence of the process that asks.
"""
from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterator, Mapping

from .errors import ConfigError
from .simple_expr import evaluate

Lookup = Callable[[str], "str | None"]   # raw value of a name in the lookup context, None if unset

MAX_DEPTH = 64
_NAME = re.compile(r"[A-Za-z0-9_.]+\Z")
_FUNC = re.compile(r"\$(ENV|INT|REAL|SUBSTR|CHOICE|RANDOM_INTEGER|RANDOM_CHOICE|F[a-zA-Z]*)\(")
RANDOM_FUNCS = ("RANDOM_INTEGER", "RANDOM_CHOICE")


def matching_paren(text: str, open_pos: int) -> int:
    """Index of the ')' closing the '(' at open_pos, or -1."""
    depth = 0
    for i in range(open_pos, len(text)):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def split_top(text: str, sep: str, maxsplit: int = -1) -> list[str]:
    """Split on sep outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == sep and depth == 0 and maxsplit != 0:
            parts.append(text[start:i])
            start = i + 1
            maxsplit -= 1
    parts.append(text[start:])
    return parts


def iter_references(text: str) -> Iterator[tuple[int, int, str, str | None]]:
    """Plain `$(NAME)` / `$(NAME:default)` references: (start, end, name, default or None)."""
    pos = 0
    while (i := text.find("$", pos)) >= 0:
        if text.startswith("$$", i):
            pos = i + 2
            continue
        if not text.startswith("$(", i):
            pos = i + 1
            continue
        j = matching_paren(text, i + 1)
        if j < 0:
            return
        name, *default = split_top(text[i + 2:j], ":", 1)
        if _NAME.match(name):
            yield i, j + 1, name, default[0] if default else None
        pos = i + 2


def _number(text: str, what: str) -> float | int | bool:
    try:
        value = evaluate(text)
    except ValueError as e:
        raise ConfigError(f"{what}: {text!r} does not evaluate to a number ({e})") from None
    if isinstance(value, str):
        raise ConfigError(f"{what}: {text!r} does not evaluate to a number")
    return value


def random_value(func: str, args: str) -> str:
    """$RANDOM_INTEGER(lo, hi[, step]) or $RANDOM_CHOICE(a, b, ...), chosen once."""
    items = [a.strip() for a in args.split(",")]
    if func == "RANDOM_CHOICE":
        return random.choice(items)
    try:
        lo, hi, *rest = (int(_number(a, "$RANDOM_INTEGER")) for a in items)
    except ValueError:
        raise ConfigError(f"$RANDOM_INTEGER({args}) needs low and high bounds") from None
    step = rest[0] if rest else 1
    return str(random.randrange(lo, hi + 1, max(step, 1)))


class Expander:
    """Expands text against a lookup function and an environment."""

    def __init__(self, lookup: Lookup, env: Mapping[str, str]):
        self.lookup = lookup
        self.env = env

    def expand(self, text: str, depth: int = 0) -> str:
        if "$" not in text:
            return text
        if depth > MAX_DEPTH:
            raise ConfigError(f"macro expansion nested more than {MAX_DEPTH} deep (circular reference?)"
                              f" near {text[:60]!r}")
        out: list[str] = []
        pos = 0
        while (i := text.find("$", pos)) >= 0:
            out.append(text[pos:i])
            pos = self._expand_at(text, i, out, depth)
        out.append(text[pos:])
        return "".join(out)

    def _expand_at(self, text: str, i: int, out: list[str], depth: int) -> int:
        """Expand the macro starting at text[i] == '$' into out; return the position after it."""
        if text.startswith("$$", i):                     # match-time macro: keep verbatim
            if text.startswith("$$(", i) and (j := matching_paren(text, i + 2)) >= 0:
                out.append(text[i:j + 1])
                return j + 1
            out.append("$$")
            return i + 2
        if text.startswith("$(", i):
            j = matching_paren(text, i + 1)
            if j < 0:
                out.append("$")
                return i + 1
            out.append(self._reference(text[i + 2:j], text[i:j + 1], depth))
            return j + 1
        m = _FUNC.match(text, i)
        if m and (j := matching_paren(text, m.end() - 1)) >= 0:
            out.append(self._function(m.group(1), text[m.end():j], depth))
            return j + 1
        out.append("$")
        return i + 1

    def _reference(self, body: str, whole: str, depth: int) -> str:
        name, *default = split_top(body, ":", 1)
        if "$" in name:                                  # $($(X)): expand the inner name first
            name = self.expand(name, depth + 1)
        if not _NAME.match(name):
            return whole
        if name.upper() == "DOLLAR":
            return "$"
        raw = self.lookup(name)
        if raw:
            return self.expand(raw, depth + 1)
        return self.expand(default[0], depth + 1) if default else ""

    def _value_of(self, arg: str, depth: int) -> str:
        """A function argument `NAME[:default]`: the expanded value of NAME if it is defined,
        else the default; an argument that is not a name is used as (expanded) text."""
        name, *default = split_top(arg.strip(), ":", 1)
        name = self.expand(name.strip(), depth + 1)
        raw = self.lookup(name) if _NAME.match(name) else None
        if raw:
            return self.expand(raw, depth + 1)
        if default:
            return self.expand(default[0], depth + 1)
        return name

    def _function(self, func: str, args: str, depth: int) -> str:
        if func == "ENV":
            name, *default = args.split(":", 1)
            value = self.env.get(self.expand(name.strip(), depth + 1))
            if value is not None:
                return value
            return self.expand(default[0], depth + 1) if default else "UNDEFINED"
        if func in RANDOM_FUNCS:
            return random_value(func, self.expand(args, depth + 1))
        parts = split_top(args, ",")
        if func in ("INT", "REAL"):
            value = _number(self._value_of(parts[0], depth), f"${func}({args})")
            fmt = parts[1].strip() if len(parts) > 1 else None
            number = int(value) if func == "INT" else float(value)
            if fmt:
                return fmt % number
            return str(number) if func == "INT" else f"{number:g}" if number != int(number) else f"{number:.6g}"
        if func == "SUBSTR":
            value = self._value_of(parts[0], depth)
            start = int(_number(self.expand(parts[1], depth + 1), "$SUBSTR")) if len(parts) > 1 else 0
            if start < 0:
                start = max(len(value) + start, 0)
            if len(parts) > 2:
                length = int(_number(self.expand(parts[2], depth + 1), "$SUBSTR"))
                return value[start:start + length] if length >= 0 else value[start:length]
            return value[start:]
        if func == "CHOICE":
            index = int(_number(self._value_of(parts[0], depth), "$CHOICE"))
            if not 0 <= index < len(parts) - 1:
                raise ConfigError(f"$CHOICE({args}): index {index} out of range")
            return self.expand(parts[index + 1].strip(), depth + 1)
        return _file_parts(func[1:], self._value_of(args, depth))


def _file_parts(opts: str, path: str) -> str:
    """$F<opts>(X): p = directory with trailing '/', n = name without extension, x = extension,
    d = parent directory name with trailing '/', q = quote the result."""
    directory, base = os.path.split(path)
    stem, ext = os.path.splitext(base)
    picks = "".join(c for c in opts.lower() if c in "pdnx") or "pnx"
    out = ""
    if "p" in picks:
        out += directory + "/" if directory else ""
    elif "d" in picks and directory:
        out += os.path.basename(directory) + "/"
    if "n" in picks:
        out += stem
    if "x" in picks:
        out += ext
    return f'"{out}"' if "q" in opts.lower() else out
