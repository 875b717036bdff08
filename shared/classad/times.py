"""Text forms of absolute and relative times (absTime("..."), relTime("..."))."""
from __future__ import annotations

import functools
import time as _time

from .values import AbsTime, RelTime


def local_offset(secs: float | None = None) -> int:
    """Local zone offset in seconds east of UTC at the given time (now by default)."""
    t = _time.localtime(secs)
    return t.tm_gmtoff or 0


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date; month and day may be out of range
    (they carry over as C's mktime carries them)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468 + day - 1


def _leading_int(text: str) -> int:
    """C's atoi: the digits at the start of text, 0 if there are none."""
    n = 0
    while n < len(text) and text[n] in "0123456789":
        n += 1
    return int(text[:n] or 0)


def _zone_suffix(s: str) -> tuple[str, int | None]:
    """(s without its zone, the zone's offset in seconds) for a trailing Z, +hhmm or +hh:mm."""
    end = s.rstrip()
    if len(end) > 1 and end[-1] in "zZ":
        return end[:-1] + s[len(end):], 0
    if len(s) > 6 and s[-6] in "+-" and s[-3] == ":":
        s = s[:-3] + s[-2:]
    if len(s) > 5 and s[-5] in "+-" and s[-4:].isdigit() and s[-4:].isascii():
        sign = 1 if s[-5] == "+" else -1
        return s[:-5], sign * (int(s[-4:-2]) * 3600 + int(s[-2:]) * 60)
    return s, None


def parse_abstime(text: str) -> AbsTime | None:
    """Time of an absTime("...") literal, read as HTCondor reads it; None if malformed.

    A four-digit year and then up to five two-digit fields (month, day, hour, minute, second),
    each after any run of non-digits, so both ISO 8601 forms are read; a trailing Z, +hh:mm or
    +hhmm gives the zone (else the local zone). A digit left over makes it malformed."""
    s, offset = _zone_suffix(text)
    i = 0

    def next_digit(i: int) -> int:
        while i < len(s) and s[i] not in "0123456789":
            i += 1
        return i

    i = next_digit(i)
    if i > len(s) - 4:
        return None
    fields = [_leading_int(s[i:i + 4])]
    i += 4
    for _ in range(5):
        i = next_digit(i)
        if i <= len(s) - 2:
            fields.append(_leading_int(s[i:i + 2]))
            i += 2
        else:
            fields.append(None)
    if next_digit(i) < len(s):
        return None
    year, month, day, hh, mm, ss = (0 if f is None else f for f in fields)
    if fields[1] is None:  # C's zeroed struct tm: no month is January, no day is day 0
        month = 1
    utc_fields = days_from_civil(year, month, day) * 86400 + hh * 3600 + mm * 60 + ss
    if offset is None:
        try:
            offset = local_offset(utc_fields)
        except (OverflowError, OSError, ValueError):
            offset = 0
    return AbsTime(utc_fields - offset, offset)


def parse_reltime(text: str) -> float | None:
    """Seconds of a relTime("...") literal; None if malformed.

    Read as HTCondor reads it, from the end: seconds (a number, optionally ``s``, the only field
    that may have a fraction), minutes (``m`` or ``:``), hours (``h`` or ``:``), days (``d`` or
    ``+``), then an optional ``-``; spaces may separate fields and a field's number may be empty."""
    s = text
    i = len(s)

    def skip_space(i: int) -> int:
        while i and s[i - 1].isspace():
            i -= 1
        return i

    def digits_before(i: int) -> int:
        while i and s[i - 1] in "0123456789":
            i -= 1
        return i

    i = skip_space(i)
    secs = 0.0
    if i and s[i - 1] in "sS0123456789":
        if s[i - 1] in "sS":
            i = skip_space(i - 1)
        end = i
        i = digits_before(i)
        if i and s[i - 1] == ".":
            i = digits_before(i - 1)
        number = s[i:end]
        secs = float(number) if number.strip(".") else 0.0
    total = secs
    for markers, unit in (("mM:", 60), ("hH:", 3600), ("dD+", 86400)):
        i = skip_space(i)
        if i and s[i - 1] in markers:
            i = skip_space(i - 1)
            start = digits_before(i)
            total += int(s[start:i] or 0) * unit
            i = start
    i = skip_space(i)
    if i and s[i - 1] == "-":
        total = -total
        i = skip_space(i - 1)
    return None if i else total


def _clock_text(whole: int, last_field: str) -> str:
    days, rem = divmod(whole, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        return f"{days}+{hours:02d}:{minutes:02d}:{last_field}"
    if hours:
        return f"{hours:02d}:{minutes:02d}:{last_field}"
    if minutes:
        return f"{minutes:02d}:{last_field}"
    return last_field


def format_reltime(t: RelTime) -> str:
    """A relTime value as string() and unparse show it: whole seconds, the fraction dropped."""
    secs = int(t.secs)
    whole = abs(secs)
    return ("-" if secs < 0 else "") + _clock_text(whole, f"{whole % 60:02d}")


def format_reltime_literal(secs: float) -> str:
    """The text inside a parsed relTime("...") literal, which keeps the fraction of its seconds."""
    whole = int(abs(secs))
    frac = abs(secs) - whole
    last = f"{whole % 60 + frac:g}" if frac else f"{whole % 60:02d}"
    return ("-" if secs < 0 else "") + _clock_text(whole, last)


def format_abstime(t: AbsTime) -> str:
    shown = _time.gmtime(int(t.secs) + t.offset)
    off = abs(t.offset)
    sign = "+" if t.offset > 0 else "-"
    return _time.strftime("%Y-%m-%dT%H:%M:%S", shown) + f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"


@functools.cache
def _libc_strftime():
    """libc's strftime and its struct tm, loaded on first use: most processes never format a time."""
    import ctypes

    class CTm(ctypes.Structure):
        _fields_ = [(name, ctypes.c_int) for name in ("tm_sec", "tm_min", "tm_hour", "tm_mday", "tm_mon",
                                                      "tm_year", "tm_wday", "tm_yday", "tm_isdst")] \
            + [("tm_gmtoff", ctypes.c_long), ("tm_zone", ctypes.c_char_p)]

    strftime = ctypes.CDLL(None).strftime
    strftime.argtypes = (ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(CTm))
    strftime.restype = ctypes.c_size_t
    return strftime, CTm


def c_strftime(fmt: str, fields: tuple) -> str:
    """C's strftime of Python-style time fields (year, month, day, h, m, s, Monday-0 weekday,
    1-based day of year, isdst). Python's own refuses fields C accepts, such as day 0 of a month,
    which HTCondor shows for a time split into a ClassAd without a Day."""
    import ctypes
    strftime, CTm = _libc_strftime()
    year, month, day, hours, minutes, seconds, wday, yday, isdst = fields
    zone = _time.tzname[1 if isdst > 0 else 0].encode()
    tm = CTm(seconds, minutes, hours, day, month - 1, year - 1900, (wday + 1) % 7, yday - 1, isdst, 0, zone)
    raw = fmt.encode("utf-8", "surrogateescape")
    size = 256 + 16 * len(raw)
    buf = ctypes.create_string_buffer(size)
    n = strftime(buf, size, raw, ctypes.byref(tm))
    return buf.raw[:n].decode("utf-8", "replace")
