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


def _split_v2(body: str, what: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    in_item = False
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        if c.isspace():
            if in_item:
                items.append("".join(current))
                current, in_item = [], False
            i += 1
            continue
        in_item = True
        if c == '"':
            if body.startswith('""', i):
                current.append('"')
                i += 2
                continue
            raise ConfigError(f"{what}: unescaped double quote at position {i + 1} (write \"\" for a literal one)")
        if c == "'":
            i += 1
            while True:
                if i >= n:
                    raise ConfigError(f"{what}: unterminated single quote")
                if body[i] == "'":
                    if body.startswith("''", i):
                        current.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                if body.startswith('""', i):
                    current.append('"')
                    i += 2
                    continue
                current.append(body[i])
                i += 1
            continue
        current.append(c)
        i += 1
    if in_item:
        items.append("".join(current))
    return items


def parse_args_string(text: str) -> list[str]:
    """Arguments from an ArgList string in V1 (plain) or V2 (double-quoted) syntax."""
    text = text.strip()
    if _is_v2(text):
        return _split_v2(_v2_body(text, "arguments"), "arguments")
    return text.split()


def parse_environment_string(text: str) -> dict[str, str]:
    """NAME -> value from an environment string in V1 (';'-separated) or V2 (quoted) syntax."""
    text = text.strip()
    if _is_v2(text):
        entries = _split_v2(_v2_body(text, "environment"), "environment")
    else:
        entries = [e for e in text.split(";") if e.strip()]
    env: dict[str, str] = {}
    for entry in entries:
        name, eq, value = entry.partition("=")
        if not eq or not name.strip() or re.search(r"\s", name.strip()):
            raise ConfigError(f"environment entry {entry!r} is not NAME=VALUE")
        env[name.strip() if not _is_v2(text) else name] = value
    return env
