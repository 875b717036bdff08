"""Text forms of absolute and relative times (absTime("..."), relTime("..."))."""
from __future__ import annotations

import calendar
import time as _time

from .values import AbsTime, RelTime


def local_offset(secs: float | None = None) -> int:
    """Local zone offset in seconds east of UTC at the given time (now by default)."""
    t = _time.localtime(secs)
    return t.tm_gmtoff or 0


def _digits(s: str, i: int, n: int) -> tuple[int | None, int]:
    if len(s) >= i + n and s[i:i + n].isdigit() and s[i:i + n].isascii():
        return int(s[i:i + n]), i + n
    return None, i


def parse_abstime(text: str) -> AbsTime | None:
    """ISO 8601 date[Ttime][zone] (extended or basic form); None if malformed."""
    s = text.strip()
    i = 0
    year, i = _digits(s, i, 4)
    if year is None:
        return None
    fields = []
    for _ in range(2):
        if s[i:i + 1] == "-":
            i += 1
        v, i = _digits(s, i, 2)
        if v is None:
            return None
        fields.append(v)
    month, day = fields
    hh = mm = ss = 0
    if s[i:i + 1] in ("T", "t", " "):
        i += 1
        hms = []
        for k in range(3):
            if k and s[i:i + 1] == ":":
                i += 1
            v, i = _digits(s, i, 2)
            if v is None:
                return None
            hms.append(v)
        hh, mm, ss = hms
    offset = None
    rest = s[i:]
    if rest in ("Z", "z"):
        offset = 0
    elif rest[:1] in ("+", "-"):
        sign = 1 if rest[0] == "+" else -1
        oh, j = _digits(rest, 1, 2)
        if oh is None:
            return None
        if rest[j:j + 1] == ":":
            j += 1
        om, j = _digits(rest, j, 2)
        if om is None or j != len(rest):
            return None
        offset = sign * (oh * 3600 + om * 60)
    elif rest:
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and hh <= 23 and mm <= 59 and ss <= 60):
        return None
    utc_fields = calendar.timegm((year, month, day, hh, mm, ss, 0, 0, 0))
    if offset is None:
        offset = local_offset(utc_fields)
    return AbsTime(utc_fields - offset, offset)


def parse_reltime(text: str) -> RelTime | None:
    """``[-][d+]hh:mm:ss[.fff]`` or unit form like ``1d2h3m4s``; None if malformed."""
    s = text.strip()
    if not text:
        return RelTime(0)  # HTCondor reads an empty string as no time at all
    sign = 1
    if s[:1] == "-":
        sign, s = -1, s[1:].strip()
    if not s:
        return None
    try:
        if any(u in s.lower() for u in "dhms") and ":" not in s and "+" not in s:
            total = 0.0
            num = ""
            for c in s.lower():
                if c.isdigit() or c == ".":
                    num += c
                elif c in "dhms" and num:
                    total += float(num) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[c]
                    num = ""
                elif not c.isspace():
                    return None
            if num:
                return None
        else:
            days = 0
            if "+" in s:
                d, s = s.split("+", 1)
                days = int(d)
            parts = s.split(":")
            if len(parts) > 3 or not all(p.strip().replace(".", "", 1).isdigit() for p in parts):
                return None
            total = days * 86400.0
            secs = 0.0
            for p in parts:
                secs = secs * 60 + float(p)
            total += secs
    except ValueError:
        return None
    total *= sign
    return RelTime(int(total) if total == int(total) else total)


def format_abstime(t: AbsTime) -> str:
    shown = _time.gmtime(int(t.secs) + t.offset)
    off = abs(t.offset)
    sign = "+" if t.offset > 0 else "-"
    return _time.strftime("%Y-%m-%dT%H:%M:%S", shown) + f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"


def format_reltime(t: RelTime) -> str:
    secs = t.secs
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    whole = int(secs)
    frac = secs - whole
    days, rem = divmod(whole, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    if days:
        text = f"{days}+{hours:02d}:{minutes:02d}:{seconds:02d}"
    elif hours:
        text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    elif minutes:
        text = f"{minutes:02d}:{seconds:02d}"
    else:
        text = f"{seconds:02d}"
    if frac:
        text += f".{int(round(frac * 1000)):03d}"
    return sign + text
