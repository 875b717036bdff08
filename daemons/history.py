"""The schedd's job history file (HISTORY), written and read as HTCondor does.

Each job that leaves the queue is appended as its ad in old ClassAd text followed by a banner
line ``*** Offset = N ClusterId = C ProcId = P Owner = "o" CompletionDate = T CurrentTime = T``
(Offset: where the previous record's banner starts). The whole record goes out in one write()
on an O_APPEND descriptor, so a schedd killed at any moment leaves either all of a record or
none of it; a reader ignores text after the last banner all the same.

Before a record would make the file bigger than MAX_HISTORY_LOG bytes, the file is renamed to
``<HISTORY>.<YYYYMMDDTHHMMSS>`` (local time) and a new one started; at most
MAX_HISTORY_ROTATIONS such backups are kept (the oldest go first).
"""
from __future__ import annotations

import os
import re
import time
from typing import Callable, Iterator

from condorsim.shared.classad import ClassAd, Expr, eval_constraint, parse_ad

DEFAULT_MAX_HISTORY_LOG = 20 * 1024 * 1024
DEFAULT_MAX_HISTORY_ROTATIONS = 2
BANNER = "*** "
_BACKUP = re.compile(r"\.(\d{8}T\d{6})(?:\.\d+)?$")


def format_record(ad: ClassAd, offset: int, now: int) -> str:
    """The ad's text (attributes sorted by name) and its banner line."""
    return format_body(ad) + format_banner(ad, offset, now)


def format_body(ad: ClassAd) -> str:
    lines = sorted((name.lower(), name, expr) for name, expr in ad.named_exprs())
    return "".join(f"{name} = {expr.old_text()}\n" for _, name, expr in lines)  # (texts kept by shared exprs)


def format_banner(ad: ClassAd, offset: int, now: int) -> str:
    def number(attr: str) -> int:
        value = ad.eval(attr)
        return value if isinstance(value, int) and not isinstance(value, bool) else -1
    owner = ad.eval("Owner")
    owner = owner if isinstance(owner, str) else "?"
    return (f"{BANNER}Offset = {offset} ClusterId = {number('ClusterId')} ProcId = {number('ProcId')} "
            f'Owner = "{owner}" CompletionDate = {number("CompletionDate")} CurrentTime = {now}\n')


class HistoryWriter:
    def __init__(self, path: str, max_size: int = DEFAULT_MAX_HISTORY_LOG,
                 rotations: int = DEFAULT_MAX_HISTORY_ROTATIONS, log: Callable[[str], None] = print) -> None:
        self.path = path
        self.max_size = max_size
        self.rotations = max(1, rotations)
        self.log = log

    def append(self, ad: ClassAd) -> None:
        self.append_all([ad])

    def append_all(self, ads: list[ClassAd]) -> None:
        """The ads' records at the end of the file, each banner pointing at the one before; the
        file is rotated first when a record would take it past max_size."""
        try:
            size = os.path.getsize(self.path)
        except FileNotFoundError:
            size = 0
        previous = self.last_line_offset(size)  # where the last banner starts
        now = int(time.time())
        records: list[bytes] = []
        for ad in ads:
            body = format_body(ad).encode()
            record = body + format_banner(ad, previous, now).encode()
            if size and size + len(record) > self.max_size:
                self.write(b"".join(records))
                records, size, previous = [], 0, 0
                self.rotate()
                record = body + format_banner(ad, previous, now).encode()
            records.append(record)
            previous = size + len(body)
            size += len(record)
        self.write(b"".join(records))

    def write(self, data: bytes) -> None:
        if not data:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, data)  # one write: a kill -9 cannot leave half a record
            if written != len(data):
                self.log(f"ERROR: short write to the history file {self.path} ({written} of {len(data)} bytes)")
        finally:
            os.close(fd)

    def last_line_offset(self, size: int) -> int:
        """Where the file's last line (the previous banner) starts; 0 for an empty file."""
        if size == 0:
            return 0
        with open(self.path, "rb") as handle:
            start = max(0, size - 4096)
            handle.seek(start)
            tail = handle.read(size - start)
        cut = tail.rstrip(b"\n").rfind(b"\n")
        return start + cut + 1 if cut >= 0 else start

    def rotate(self) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime())
        existing = backups(self.path)
        same_second = [_backup_order(name)[1] for name in existing if _backup_order(name)[0] == stamp]
        # a second rotation within the same second sorts after the first
        target = f"{self.path}.{stamp}" + (f".{max(same_second) + 1}" if same_second else "")
        for old in existing[: max(0, len(existing) - self.rotations + 1)]:  # room for the new one
            self.log(f"Before rotation, deleting old history file {old}")
            os.unlink(old)
        os.rename(self.path, target)
        self.log(f"Rotated the history file to {target}")


def backups(path: str) -> list[str]:
    """The rotated copies of history file `path`, oldest first."""
    directory, base = os.path.split(path)
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    found = [name for name in names if name.startswith(base + ".") and _BACKUP.search(name[len(base):])]
    return [os.path.join(directory, name) for name in sorted(found, key=_backup_order)]


def _backup_order(name: str) -> tuple[str, int]:
    """(time stamp, serial) of ``history.20261206T042200`` / ``history.20261206T042200.1``."""
    match = _BACKUP.search(name)
    serial = match.group(0).split(".")[2:] if match else []
    return (match.group(1) if match else "", int(serial[0]) if serial else 0)


def read_records(path: str) -> list[ClassAd]:
    """The complete records of one history file, oldest first (a torn tail is ignored)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return []
    ads, lines = [], []
    for line in text.splitlines(keepends=True):
        if line.startswith(BANNER):
            if line.endswith("\n"):
                ads.append(parse_ad("".join(lines)))
            lines = []
        else:
            lines.append(line)
    return ads


def history_files(path: str) -> list[str]:
    """The current file first, then its backups newest first (the order records are read in)."""
    return [path] + list(reversed(backups(path)))


def read_history(path: str, backwards: bool = True) -> Iterator[ClassAd]:
    """Every record of the history at `path` and its rotated backups, newest first by default."""
    files = history_files(path)
    if not backwards:
        for name in reversed(files):
            yield from read_records(name)
        return
    for name in files:
        yield from reversed(read_records(name))


def select_history(path: str, constraint: Expr | None = None, limit: int = 0, backwards: bool = True,
                   since: Expr | None = None) -> Iterator[ClassAd]:
    """The records matching `constraint`, newest first by default, at most `limit` of them (0 or
    less: all). With `since`, the scan stops at the first record it is true for, which is left
    out (HTCondor's ``-since``)."""
    found = 0
    for ad in read_history(path, backwards):
        if since is not None and eval_constraint(since, ad):
            return
        if constraint is not None and not eval_constraint(constraint, ad):
            continue
        yield ad
        found += 1
        if 0 < limit <= found:
            return
