"""The configuration file language: statements, continuations, @= blocks, include, if/else, use.

Statements take effect in order against a `ConfigBuilder` (the Config being loaded), because
`if defined X`, self references and include paths depend on what was defined before them.
"""
from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError
from .macros import iter_references
from .metaknobs import find_template, parse_use, substitute_args

if TYPE_CHECKING:
    from .loader import Config

VERSION = (25, 14, 1)
MAX_INCLUDE_DEPTH = 20
_ASSIGN = re.compile(r"([A-Za-z0-9_.]+)\s*(=|@=)\s*(.*)\Z", re.S)
_KEYWORD = re.compile(r"(include|use|if|elif|else|endif|error|warning)\b\s*(.*)\Z", re.S | re.I)
_INCLUDE = re.compile(r"(?:(ifexist|ifexists|command)\s*)?:\s*(.*)\Z", re.S | re.I)
_VERSION = re.compile(r"version\s*(>=|<=|==|!=|>|<)\s*(\S*)\Z", re.I)
_VERSION_LITERAL = re.compile(r"\d+\.\d+(?:\.\d+)?\Z")
_TRUE = {"true", "yes", "t", "y"}
_FALSE = {"false", "no", "f", "n", ""}


@dataclass
class _Branch:
    outer_active: bool        # was the enclosing block active
    active: bool              # is the current branch active
    taken: bool               # has any branch of this if been taken
    else_seen: bool = False


@dataclass
class _Position:
    source: str
    use: str = ""             # "ROLE:Personal" inside a metaknob
    base_line: int = 0        # line of the `use` statement when inside a metaknob
    branches: list[_Branch] = field(default_factory=list)

    def active(self) -> bool:
        return all(b.active for b in self.branches)


def is_piped(source: str) -> bool:
    return source.rstrip().endswith("|")


def run_command(command: str, where: tuple[str, int] | None = None) -> str:
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=60)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        raise ConfigError(f"cannot run command {command!r}: {e}", *(where or (None, None))) from None
    if done.returncode != 0:
        raise ConfigError(f"command {command!r} exited with status {done.returncode}",
                          *(where or (None, None)))
    return done.stdout


def read_source(path: str, where: tuple[str, int] | None = None) -> str:
    """Text of a config file, or stdout of `cmd args |`."""
    if is_piped(path):
        return run_command(path.rstrip()[:-1], where)
    try:
        return Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}", *(where or (None, None))) from None


class Parser:
    def __init__(self, config: "Config"):
        self.config = config

    def parse_file(self, path: str, depth: int = 0, where: tuple[str, int] | None = None) -> None:
        if self.config.record is not None:
            self.config.record.note_source(path)
        self.parse_text(read_source(path, where), _Position(path), depth)

    def parse_text(self, text: str, pos: _Position, depth: int) -> None:
        lines = text.splitlines()
        i, n = 0, len(lines)
        while i < n:
            line = lines[i].rstrip()
            i += 1
            # continuation: a trailing backslash joins the next physical line, whose leading
            # blanks are dropped; an empty line ends the statement, a comment line is skipped
            continued = line.endswith("\\")
            if continued:
                line = line[:-1]
            while continued and i < n:
                nxt = lines[i].strip()
                i += 1
                continued = nxt.endswith("\\")
                if continued:
                    nxt = nxt[:-1]
                if not nxt and not continued:
                    break
                if not nxt.startswith("#"):
                    line += nxt
            stmt = line.lstrip()
            if not stmt or stmt.startswith("#"):
                continue
            lineno = i
            try:
                i = self._statement(stmt, lines, i, pos, depth, lineno)
            except ConfigError as e:
                if e.line is not None or e.source is not None:
                    raise
                raise ConfigError(str(e), pos.source, pos.base_line if pos.use else lineno) from None
        if pos.branches:
            raise ConfigError("endif(s) not found before end-of-file", pos.source, pos.base_line if pos.use else n)

    def _statement(self, stmt: str, lines: list[str], i: int, pos: _Position, depth: int, lineno: int) -> int:
        m = _ASSIGN.match(stmt)
        if m:
            name, op, value = m.groups()
            if op == "@=":
                value, i = read_at_block(value.strip(), lines, i)
                lineno = i                 # HTCondor reports the line of the closing @tag
            if pos.active():
                self._assign(name, value, pos, lineno)
            return i
        k = _KEYWORD.match(stmt)
        if not k:
            raise ConfigError(f"malformed line (expected NAME = value): {stmt}")
        word, rest = k.group(1).lower(), k.group(2).strip()
        if word in ("if", "elif", "else", "endif"):
            self._conditional(word, rest, pos)
        elif not pos.active():
            pass
        elif word == "include":
            self._include(rest, pos, depth, lineno)
        elif word == "use":
            self._use(rest, pos, depth, lineno)
        elif word == "error":
            raise ConfigError(rest.lstrip(":").strip() or "error statement")
        # `warning : text` only informs; HTCondor prints it and carries on
        return i

    def _assign(self, name: str, value: str, pos: _Position, lineno: int) -> None:
        use = f"{pos.use}+{lineno - 1}" if pos.use else ""
        self.config.define(name, value, pos.source, pos.base_line if pos.use else lineno, use)

    def _conditional(self, word: str, rest: str, pos: _Position) -> None:
        if word == "if":
            outer = pos.active()
            result = outer and self._condition(rest)
            pos.branches.append(_Branch(outer, result, result))
            return
        if not pos.branches:
            raise ConfigError(f"{word} without matching if")
        b = pos.branches[-1]
        if word == "endif":
            pos.branches.pop()
        elif word == "else":
            if b.else_seen:
                raise ConfigError("else after else")
            b.else_seen = True
            b.active = b.outer_active and not b.taken
            b.taken = True
        else:  # elif
            if b.else_seen:
                raise ConfigError("elif after else")
            b.active = b.outer_active and not b.taken and self._condition(rest)
            b.taken = b.taken or b.active

    def _condition(self, text: str) -> bool:
        return evaluate_condition(text, self.config.expand, lambda name: bool(self.config.get(name)))

    def _include(self, rest: str, pos: _Position, depth: int, lineno: int) -> None:
        m = _INCLUDE.match(rest)
        if not m or not m.group(2).strip():
            raise ConfigError(f"malformed include statement: include {rest}")
        if depth >= MAX_INCLUDE_DEPTH:
            raise ConfigError(f"includes nested more than {MAX_INCLUDE_DEPTH} deep")
        kind = (m.group(1) or "").lower()
        target = self.config.expand(m.group(2).strip())
        where = (pos.source, lineno)
        if kind == "command":
            if self.config.record is not None:
                self.config.record.note_source(target + " |")
            self.parse_text(run_command(target, where), _Position(target + " |"), depth + 1)
            return
        if kind.startswith("ifexist") and self.config.record is not None:
            self.config.record.note_source(target)
        if kind.startswith("ifexist") and not Path(target).is_file():
            return
        self.parse_file(target, depth + 1, where)

    def _use(self, rest: str, pos: _Position, depth: int, lineno: int) -> None:
        if depth >= MAX_INCLUDE_DEPTH:
            raise ConfigError(f"use statements nested more than {MAX_INCLUDE_DEPTH} deep")
        for category, name, args in parse_use(rest):
            cat, tname, text = find_template(category, name)
            inner = _Position(pos.source, f"{cat}:{tname}", pos.base_line if pos.use else lineno)
            self.parse_text(substitute_args(text, args), inner, depth + 1)


def read_at_block(tag: str, lines: list[str], i: int) -> tuple[str, int]:
    """The lines of a ``NAME @=tag`` value from lines[i] up to ``@tag``, and the next index."""
    if not tag:
        raise ConfigError("@= needs a tag, e.g. NAME @=end")
    body = []
    while i < len(lines):
        text = lines[i].strip()
        i += 1
        if text == "@" + tag:
            return "\n".join(body), i
        body.append(text)
    raise ConfigError(f"end-of-file while scanning for '@{tag}'")


def evaluate_condition(text: str, expand: Callable[[str], str], defined: Callable[[str], bool]) -> bool:
    """The value of an ``if``/``elif`` condition (config files and submit descriptions alike):
    ``[!]defined NAME``, ``version OP x.y.z``, or text that expands to a boolean or a number."""
    text = text.strip()
    if not text.lstrip("!").strip():
        raise ConfigError(f"{text} is not a valid if condition because expression is not a conditional")
    if text.startswith("!"):
        return not evaluate_condition(text[1:], expand, defined)
    words = text.split(None, 1)
    if words[0].lower() == "defined":
        return len(words) > 1 and defined(expand(words[1].strip()))
    if words[0].lower() == "version" or text.lower().startswith("version"):
        m = _VERSION.match(text)
        if not m or not _VERSION_LITERAL.match(m.group(2)):
            raise ConfigError(f"{text} is not a valid if condition because the version literal is invalid")
        want = tuple(int(x) for x in m.group(2).split("."))
        have = VERSION[:len(want)]
        return {">=": have >= want, "<=": have <= want, "==": have == want, "!=": have != want,
                ">": have > want, "<": have < want}[m.group(1)]
    value = expand(text).strip()
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    try:
        return float(value) != 0
    except ValueError:
        pass
    if re.search(r"[<>=!&|+*/()-]", value) or len(value.split()) > 1:
        raise ConfigError(f"{text} is not a valid if condition because complex conditionals are not supported")
    raise ConfigError(f"{text} is not a valid if condition")


def freeze_self_references(value: str, targets: dict[str, Callable[[], "str | None"]]) -> str:
    """Replace `$(T)` / `$(T:dflt)` for each self-reference target T by T's current raw value
    (HTCondor does this when the line is read, so `X = $(X) more` appends to the earlier X)."""
    if "$(" not in value:
        return value
    out, pos = [], 0
    for start, end, name, default in iter_references(value):
        current = targets.get(name.upper())
        if current is None:
            continue
        raw = current()
        out.append(value[pos:start])
        out.append(raw if raw else (default or ""))
        pos = end
    if not out:
        return value
    out.append(value[pos:])
    return "".join(out)
