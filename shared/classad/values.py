"""ClassAd value types beyond Python's own: Undefined, Error, absolute and relative times."""
from __future__ import annotations

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


class _Special:
    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __repr__(self) -> str:
        return self._name

    def __reduce__(self):
        return self._name  # pickles as the module-level singleton

    def __bool__(self) -> bool:
        raise TypeError(f"ClassAd {self._name} has no truth value; compare with 'is'")


Undefined = _Special("Undefined")
Error = _Special("Error")


def wrap64(n: int) -> int:
    """Two's-complement wrap of an unbounded Python int to int64."""
    if INT64_MIN <= n <= INT64_MAX:
        return n
    return ((n + (1 << 63)) & 0xFFFFFFFFFFFFFFFF) - (1 << 63)


class AbsTime:
    """Seconds since the epoch plus the zone offset (seconds east of UTC) it is shown in."""
    __slots__ = ("secs", "offset")

    def __init__(self, secs: int | float, offset: int = 0):
        self.secs = secs
        self.offset = offset

    def __eq__(self, other):
        return isinstance(other, AbsTime) and self.secs == other.secs

    def __hash__(self):
        return hash(self.secs)

    def __repr__(self) -> str:
        from .unparse import unparse_value
        return unparse_value(self)


class RelTime:
    """A duration in seconds."""
    __slots__ = ("secs",)

    def __init__(self, secs: int | float):
        self.secs = secs

    def __eq__(self, other):
        return isinstance(other, RelTime) and self.secs == other.secs

    def __hash__(self):
        return hash(self.secs)

    def __repr__(self) -> str:
        from .unparse import unparse_value
        return unparse_value(self)


def type_name(v) -> str:
    """Name of a value's ClassAd type (for messages)."""
    if v is Undefined:
        return "undefined"
    if v is Error:
        return "error"
    return {bool: "boolean", int: "integer", float: "real", str: "string", list: "list",
            AbsTime: "abstime", RelTime: "reltime"}.get(type(v), "classad")
