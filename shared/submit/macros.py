"""Macro expansion of submit values: ``$(name)``, ``$(name:default)``, ``$ENV(NAME)``.

Names are case-insensitive.  An undefined macro without a default expands to nothing, as in
condor_submit.  ``$$(Attr)`` is left alone: the schedd substitutes it at match time.
"""

from __future__ import annotations

import os
import re
from typing import Callable

from .errors import SubmitError

# $(name) / $(name:default) with no nested "$(" inside; expansion repeats until none is left,
# so a default or a value may itself contain macros.
_MACRO = re.compile(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_.]*)(?::([^()]*))?\)")
_ENV = re.compile(r"\$ENV\(([^()]*)\)", re.IGNORECASE)
_MAX_PASSES = 64

Lookup = Callable[[str], "str | None"]


def expand(text: str, lookup: Lookup, line: int | None = None) -> str:
    """Expand every macro of `text`; `lookup(name_lowercase)` gives a raw value or None."""
    for _ in range(_MAX_PASSES):
        expanded = _ENV.sub(lambda m: os.environ.get(m.group(1).strip(), ""), text)
        expanded = _MACRO.sub(lambda m: _value(m, lookup), expanded)
        if expanded == text:
            return text
        text = expanded
    raise SubmitError(f"Macro expansion does not terminate (a macro refers to itself): {text}", line)


def _value(match: re.Match, lookup: Lookup) -> str:
    value = lookup(match.group(1).lower())
    if value is None:
        default = match.group(2)
        return default if default is not None else ""
    return value
