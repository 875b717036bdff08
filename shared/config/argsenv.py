"""HTCondor's argument and environment string syntaxes (<NAME>_ARGS, <NAME>_ENVIRONMENT).

V2 ("quoted") syntax: the whole string is inside double quotes; items are separated by
whitespace; single quotes group text containing spaces, '' inside them is a literal single quote,
and "" anywhere is a literal double quote.  V1 syntax: arguments split on whitespace, environment
entries split on ';', no quoting.
"""
from __future__ import annotations

import re

from .errors import ConfigError


def _is_v2(text: str) -> bool:
    return text.startswith('"')


def _v2_body(text: str, what: str) -> str:
    if len(text) < 2 or not text.endswith('"') or _ends_in_escaped_quote(text):
        raise ConfigError(f"{what} {text!r}: missing the closing double quote of V2 syntax")
    return text[1:-1]


def _ends_in_escaped_quote(text: str) -> bool:
    """True when the final '"' is half of a "" escape rather than the closing quote."""
    body = text[1:]
    i, n = 0, len(body)
    while i < n:
        if body[i] == '"':
            if i + 1 < n and body[i + 1] == '"':
                i += 2
                continue
            return i != n - 1
        i += 1
    return True


# Blanks that separate V2 words (and that canonical V2 text wraps in single quotes).
V2_BLANKS = " \t\n\r"


class V2SyntaxError(ValueError):
    """A V2 value that breaks the syntax: ``kind`` is "double quote" (an unescaped '"' at
    ``position`` of the text inside the outer quotes) or "single quote" (one left open)."""

    def __init__(self, kind: str, position: int):
        super().__init__(f"{kind} at position {position}")
        self.kind = kind
        self.position = position


def split_v2(inner: str) -> list[str]:
    """Words of the text between a V2 value's outer double quotes (submit and config alike)."""
    return split_v2_raw(_unescape_double_quotes(inner))


def _unescape_double_quotes(inner: str) -> str:
    """``""`` -> ``"``; any other double quote is an error."""
    if '"' not in inner:
        return inner
    out = []
    i, n = 0, len(inner)
    while i < n:
        c = inner[i]
        if c == '"':
            if i + 1 < n and inner[i + 1] == '"':
                out.append('"')
                i += 2
                continue
            raise V2SyntaxError("double quote", i)
        out.append(c)
        i += 1
    return "".join(out)


def split_v2_raw(raw: str) -> list[str]:
    """Blank-separated words; ``'...'`` groups blanks into a word, ``''`` in it is a literal '.
    This is also how a job ad's ``Arguments`` (V2 with the ``""`` escapes already undone) splits."""
    words: list[str] = []
    word: list[str] | None = None
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c in V2_BLANKS:
            if word is not None:
                words.append("".join(word))
                word = None
            i += 1
            continue
        if word is None:
            word = []
        if c == "'":
            i += 1
            while True:
                if i >= n:
                    raise V2SyntaxError("single quote", n)
                if raw[i] == "'":
                    if i + 1 < n and raw[i + 1] == "'":
                        word.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                word.append(raw[i])
                i += 1
            continue
        word.append(c)
        i += 1
    if word is not None:
        words.append("".join(word))
    return words


def _config_split_v2(body: str, what: str) -> list[str]:
    try:
        return split_v2(body)
    except V2SyntaxError as e:
        if e.kind == "double quote":
            raise ConfigError(f"{what}: unescaped double quote at position {e.position + 1} "
                              f"(write \"\" for a literal one)") from None
        raise ConfigError(f"{what}: unterminated single quote") from None


def parse_args_string(text: str) -> list[str]:
    """Arguments from an ArgList string in V1 (plain) or V2 (double-quoted) syntax."""
    text = text.strip()
    if _is_v2(text):
        return _config_split_v2(_v2_body(text, "arguments"), "arguments")
    return text.split()


def parse_environment_string(text: str) -> dict[str, str]:
    """NAME -> value from an environment string in V1 (';'-separated) or V2 (quoted) syntax."""
    text = text.strip()
    if _is_v2(text):
        entries = _config_split_v2(_v2_body(text, "environment"), "environment")
    else:
        entries = [e for e in text.split(";") if e.strip()]
    return _environment(entries, strip_names=not _is_v2(text))


def parse_job_environment(raw: str) -> dict[str, str]:
    """NAME -> value from a job ad's ``Environment`` (V2 entries, ``""`` escapes already undone)."""
    try:
        return _environment(split_v2_raw(raw), strip_names=False)
    except V2SyntaxError:
        raise ConfigError(f"environment {raw!r}: unterminated single quote") from None


def _environment(entries: list[str], strip_names: bool) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in entries:
        name, eq, value = entry.partition("=")
        if not eq or not name.strip() or re.search(r"\s", name.strip()):
            raise ConfigError(f"environment entry {entry!r} is not NAME=VALUE")
        env[name.strip() if strip_names else name] = value
    return env
