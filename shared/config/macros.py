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
_FUNC = re.compile(r"\$(ENV|INT|REAL|SUBSTR|CHOICE|RANDOM_INTEGER|RANDOM_CHOICE|BASENAME|DIRNAME|F[a-zA-Z]*)\(")
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

    def __init__(self, lookup: Lookup, env: Mapping[str, str], cwd: str | None = None):
        self.lookup = lookup
        self.env = env
        self.cwd = cwd       # what $Ff() makes a relative path absolute against (None: os.getcwd())

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
            items = parts[1:]
            if len(items) == 1:           # $CHOICE(i, LIST): the items are LIST's value
                listed = self.lookup(items[0].strip())
                if listed is None:
                    raise ConfigError(f'$CHOICE() macro: no list named "{items[0].strip()}"!')
                items = split_top(self.expand(listed, depth + 1), ",")
            if not 0 <= index < len(items):
                raise ConfigError(f"$CHOICE() config macro: index {index} is out of range!")
            return self.expand(items[index].strip(), depth + 1)
        if func == "BASENAME":
            path, *suffix = split_top(args, ",", 1)
            return file_parts("nx", self._value_of(path, depth), self.cwd,
                              suffix[0].strip() if suffix else None)
        if func == "DIRNAME":
            return file_parts("p", self._value_of(args, depth), self.cwd)
        return file_parts(func[1:], self._value_of(args, depth), self.cwd)


def file_parts(opts: str, value: str, cwd: str | None = None, kill_suffix: str | None = None) -> str:
    """$F<opts>(X) as HTCondor computes it.  Letters: p = directory (with its trailing '/'),
    d = last directory ('dd' the last two ...), n = name without extension, x = extension (with
    its '.'), b = bare (no trailing '/' on p/d, no '.' on x), f = absolute path first, w/u =
    Windows/Unix separators, q = wrap in double quotes (with a: single quotes).  No p/d/n/x
    letter: the whole value."""
    flags = opts.lower()
    parts = (1 if "x" in flags else 0) | (2 if "n" in flags else 0) | (4 if "p" in flags else 0)
    dirs = flags.count("d")
    parts |= 8 if dirs else 0
    bare = "b" in flags
    path = value.strip()
    if len(path) >= 2 and path[0] == path[-1] and path[0] in "\"'":
        path = path[1:-1]
    if "f" in flags and path and not os.path.isabs(path):
        path = os.path.normpath(os.path.join(cwd or os.getcwd(), path))
    if "w" in flags:
        path = path.replace("/", "\\")
    elif "u" in flags:
        path = path.replace("\\", "/")
    ixn = max(path.rfind("/"), path.rfind("\\")) + 1           # start of the file name
    dot = path.rfind(".", ixn)
    ixx = dot if dot > ixn else len(path)                          # start of the extension
    if kill_suffix and len(path) - len(kill_suffix) >= ixn and path.lower().endswith(kill_suffix.lower()):
        ixx, parts = len(path) - len(kill_suffix), parts & ~1
    if not ixn and parts & 3:
        parts &= ~12
    start, end = 0, len(path)
    if parts in (0, 7, 5):
        pass
    elif parts == 1:
        start = ixx + (1 if bare and ixx < end else 0)
    elif parts == 3:
        start = ixn
    elif parts == 2:
        start, end = ixn, ixx
    elif parts == 4:
        end = ixn - 1 if bare and ixn > 0 else ixn
    elif parts == 6:
        end = ixx
    elif ixn > 0:
        start = _dirs_start(path, ixn, dirs)
        if parts & 3 == 2:
            end = ixx
        elif parts & 3 == 0:
            end = ixn - 1 if bare else ixn
    else:
        start = end = 0
    out = path[start:end]
    if "q" in flags:
        quote = "'" if "a" in flags else '"'
        out = quote + out + quote
    return out


def _dirs_start(path: str, ixn: int, dirs: int) -> int:
    """Index where the last `dirs` directories before the file name begin."""
    at = ixn - 1
    for _ in range(dirs):
        found = max(path.rfind("/", 0, at), path.rfind("\\", 0, at))
        if found < 0:
            return 0
        at = found
    return at + 1
