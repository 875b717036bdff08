"""The macro table: every definition seen so far, keyed by upper-cased name."""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SOURCE = "<Default>"
ENVIRONMENT_SOURCE = "<Environment>"
DETECTED_SOURCE = "<Detected>"


@dataclass
class Entry:
    name: str            # spelling of the first definition (HTCondor keeps it for display)
    raw: str             # unexpanded value
    source: str          # file path, or one of the <...> pseudo sources
    line: int = 0        # line of the statement ("at" line = last physical line)
    use: str = ""        # "ROLE:Personal+2" when the statement came from a metaknob

    def location(self) -> str:
        if self.source.startswith("<"):
            return self.source
        where = f"{self.source}, line {self.line}"
        return f"{where}, use {self.use}" if self.use else where


class MacroTable:
    """Case-insensitive name -> Entry; a redefinition replaces the value but keeps the first spelling."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def set(self, name: str, raw: str, source: str, line: int = 0, use: str = "") -> None:
        key = name.upper()
        old = self.entries.get(key)
        self.entries[key] = Entry(old.name if old else name, raw, source, line, use)

    def get(self, name: str) -> Entry | None:
        return self.entries.get(name.upper())

    def remove(self, name: str) -> None:
        self.entries.pop(name.upper(), None)
