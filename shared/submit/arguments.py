"""``arguments`` and ``environment`` values: HTCondor's V1 and V2 syntaxes.

V2 syntax is a value wrapped in double quotes: inside, ``""`` is a literal double quote, blanks
separate words and ``'...'`` groups blanks into one word (``''`` inside a group is a literal
single quote).  Jobs store the canonical V2 text, where each blank or single quote of a word is
wrapped in single quotes (``two three`` -> ``two' 'three``).
V1 arguments (no surrounding quotes) are stored as written, with ``\\"`` meaning ``"``.
V1 environment is ``NAME=value;NAME=value`` and is stored converted to V2.
"""

from __future__ import annotations

from .errors import SubmitError

_BLANKS = " \t\n\r"


def is_v2(value: str) -> bool:
    return len(value) >= 2 and value.startswith('"') and value.endswith('"')


def split_v2(value: str, what: str, line: int | None) -> list[str]:
    """Words of a V2 value (with its surrounding double quotes)."""
    inner = _unquote_double(value, what, line)
    words: list[str] = []
    word: list[str] | None = None
    i = 0
    while i < len(inner):
        ch = inner[i]
        if ch in _BLANKS:
            if word is not None:
                words.append("".join(word))
                word = None
            i += 1
            continue
        if word is None:
            word = []
        if ch == "'":
            i += 1
            while True:
                if i >= len(inner):
                    raise SubmitError(f"Unbalanced single quote in {what}: {value}", line)
                if inner[i] == "'":
                    if inner[i + 1:i + 2] == "'":
                        word.append("'")
                        i += 2
                        continue
                    i += 1
                    break
                word.append(inner[i])
                i += 1
            continue
        word.append(ch)
        i += 1
    if word is not None:
        words.append("".join(word))
    return words


def _unquote_double(value: str, what: str, line: int | None) -> str:
    """The text between the outer double quotes, ``""`` turned into ``"``."""
    out = []
    i = 1
    end = len(value) - 1
    while i < end:
        ch = value[i]
        if ch == '"':
            if value[i + 1:i + 2] == '"' and i + 1 < end:
                out.append('"')
                i += 2
                continue
            raise SubmitError(f"Unexpected characters following double-quote in {what}. Did you "
                              f"forget to escape the double-quote by repeating it? The full "
                              f"{what} you specified were: {value}", line)
        out.append(ch)
        i += 1
    return "".join(out)


def join_v2(words: list[str]) -> str:
    """Canonical V2 text of `words` (as HTCondor's ArgList prints them)."""
    result = ""
    for word in words:
        if result:
            result += " "
        if not word:
            result += "''"
        for ch in word:
            if ch in _BLANKS or ch == "'":
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
    return "Args", value.replace('\\"', '"')


def environment_v2(value: str, line: int | None) -> str:
    """Canonical V2 ``Environment`` text of an ``environment`` value of either syntax."""
    if is_v2(value):
        entries = split_v2(value, "environment", line)
    else:
        entries = [e.lstrip() for e in value.split(";") if e.strip()]
    for entry in entries:
        if "=" not in entry or entry.startswith("="):
            raise SubmitError(f"Invalid environment entry '{entry}': expected NAME=value", line)
    return join_v2(entries)
