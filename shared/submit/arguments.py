"""``arguments`` and ``environment`` values: HTCondor's V1 and V2 syntaxes.

V2 syntax is a value wrapped in double quotes: inside, ``""`` is a literal double quote, blanks
separate words and ``'...'`` groups blanks into one word (``''`` inside a group is a literal
single quote).  Jobs store the canonical V2 text, where each blank or single quote of a word is
wrapped in single quotes (``two three`` -> ``two' 'three``).
V1 arguments (no surrounding quotes) are stored as written, with ``\\"`` meaning ``"``.
V1 environment is ``NAME=value;NAME=value`` and is stored converted to V2.
"""

from __future__ import annotations

import fnmatch
import os
import re

from condorsim.shared.config.argsenv import V2_BLANKS, V2SyntaxError, split_v2 as split_v2_words

from .errors import SubmitError


def is_v2(value: str) -> bool:
    return len(value) >= 2 and value.startswith('"') and value.endswith('"')


def split_v2(value: str, what: str, line: int | None) -> list[str]:
    """Words of a V2 value (with its surrounding double quotes)."""
    try:
        return split_v2_words(value[1:-1])
    except V2SyntaxError as e:
        if e.kind == "double quote":
            inner = value[1:-1]
            at = _closing_quote(inner)
            raise SubmitError("Unexpected characters following double-quote.  Did you forget to "
                              "escape the double-quote by repeating it?  Here is the quote and "
                              f"trailing characters: {value[1 + at:]}\n\nThe full {what} you "
                              f"specified were: {value}", line) from None
        raise SubmitError(f"Unbalanced quote starting here: {_open_quote(value[1:-1])}\n"
                          f"The full {what} you specified were: {value}", line) from None


def _closing_quote(inner: str) -> int:
    """Index of the first double quote that is not doubled (``""`` is a literal quote)."""
    i = 0
    while i < len(inner):
        if inner[i] == '"':
            if inner[i + 1:i + 2] != '"':
                return i
            i += 1
        i += 1
    return len(inner)


def _open_quote(inner: str) -> str:
    """The text from the single quote that is never closed."""
    start, i = -1, 0
    while i < len(inner):
        if inner[i] == "'":
            if start < 0:
                start = i
            elif inner[i + 1:i + 2] == "'":
                i += 1                  # '' inside a quoted group is a literal quote
            else:
                start = -1
        i += 1
    return inner[start:] if start >= 0 else inner


def join_v2(words: list[str]) -> str:
    """Canonical V2 text of `words` (as HTCondor's ArgList prints them)."""
    result = ""
    for word in words:
        if result:
            result += " "
        if not word:
            result += "''"
        for ch in word:
            if ch in V2_BLANKS or ch == "'":
                # Quote the character, merging with a quoted section that ends right here.
                if result.endswith("'"):
                    result = result[:-1]
                else:
                    result += "'"
                if ch == "'":
                    result += "'"
                result += ch + "'"
            else:
                result += ch
    return result


def arguments_attribute(value: str, line: int | None) -> tuple[str, str]:
    """(attribute, string value) for an ``arguments`` value: ``Arguments`` (V2) or ``Args`` (V1)."""
    if is_v2(value):
        return "Arguments", join_v2(split_v2(value, "arguments", line))
    quote = re.search(r'(?<!\\)"', value)
    if quote:
        raise SubmitError(f"Found illegal unescaped double-quote: {value[quote.start():]}\n"
                          f"The full arguments you specified were: {value}", line)
    # V1 words are separated by blanks; HTCondor stores them joined by one space
    return "Args", " ".join(value.split()).replace('\\"', '"')


def environment_v2(value: str | None, line: int | None, getenv: str | None = None,
                   getenv_line: int | None = None) -> str:
    """Canonical V2 ``Environment`` text of an ``environment`` value of either syntax, over the
    submitter's variables that ``getenv`` (true, or names with ``*`` wildcards) imports; sorted
    by name as HTCondor prints it."""
    variables = _imported_environment(getenv, getenv_line) if getenv else {}
    value = value or ""
    if is_v2(value):
        entries = split_v2(value, "environment", line)
    else:
        entries = [e.lstrip() for e in value.split(";") if e.strip()]
    for entry in entries:
        if "=" not in entry or entry.startswith("="):
            raise SubmitError(f"Missing '=' after environment variable '{entry}'.\n"
                              f"The environment you specified was: '{value}'", line)
        name, _, text = entry.partition("=")
        variables[name] = text
    return join_v2([f"{name}={variables[name]}" for name in sorted(variables)])


def _imported_environment(getenv: str, line: int | None) -> dict[str, str]:
    """The submitter's variables ``getenv`` selects: all for true, none for false, else those
    whose names match one of its comma/blank separated patterns (case-insensitive)."""
    word = getenv.strip().lower()
    if word in ("true", "t", "yes", "y", "1"):
        return dict(os.environ)
    if word in ("false", "f", "no", "n", "0", ""):
        return {}
    patterns = [p.lower() for p in re.split(r"[\s,]+", getenv.strip()) if p]
    for pattern in patterns:
        if not re.fullmatch(r"[\w*?.\-]+", pattern):
            raise SubmitError(f"getenv: '{pattern}' is not a variable name or pattern", line)
    return {name: value for name, value in os.environ.items()
            if any(fnmatch.fnmatchcase(name.lower(), p) for p in patterns)}
