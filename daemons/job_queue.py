"""The schedd's job queue, persisted as an append-only transaction log in SPOOL.

Log lines (text, one record per line, in the spirit of HTCondor's job_queue.log):
    105                      begin transaction
    101 C.P                  new job ad
    103 C.P Attr <expr>      set attribute (new-style expression text)
    104 C.P Attr             delete attribute
    102 C.P                  destroy job ad
    106                      commit (the log is fsync'd before the caller is answered)
A torn tail (a transaction without its 106) is ignored on replay, so nothing acknowledged is lost
and nothing half-written appears. The log is compacted at start-up.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, parse_expr

JobId = tuple[int, int]
HEADER = (0, 0)  # the ad holding NextClusterNum


def job_key(text: str) -> JobId:
    cluster, _, proc = text.partition(".")
    return int(cluster), int(proc)


class JobQueue:
    def __init__(self, spool: str, log=print, on_removed: Callable[[list[ClassAd]], None] | None = None):
        """`on_removed` gets the ads of the jobs that left the queue, once that is committed."""
        self.path = Path(spool) / "job_queue.log"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        self.jobs: dict[JobId, ClassAd] = {}
        self.next_cluster = 1
        self._pending: list[str] = []
        self._removed: list[ClassAd] = []
        self.on_removed = on_removed
        self.replay()
        self.compact()

    # -- persistence -----------------------------------------------------------------------
    def replay(self) -> None:
        if not self.path.exists():
            return
        transaction: list[str] = []
        for number, line in enumerate(self.path.read_text(errors="replace").splitlines(), start=1):
            if line == "105":
                transaction = []
            elif line == "106":
                for record in transaction:
                    self._apply(record, number)
                transaction = []
            else:
                transaction.append(line)
        if transaction:
            self.log(f"Ignoring an uncommitted transaction of {len(transaction)} record(s) at the end of {self.path}")

    def _apply(self, record: str, number: int) -> None:
        op, _, rest = record.partition(" ")
        key_text, _, rest = rest.partition(" ")
        try:
            key = job_key(key_text)
            if op == "101":
                self.jobs[key] = ClassAd()
            elif op == "102":
                self.jobs.pop(key, None)
            elif op == "103":
                name, _, text = rest.partition(" ")
                self.jobs.setdefault(key, ClassAd())[name] = parse_expr(text)
            elif op == "104":
                self.jobs.get(key, ClassAd()).pop(rest, None)
            else:
                raise ValueError(f"unknown record type {op}")
        except (ValueError, ClassAdSyntaxError) as exc:
            self.log(f"{self.path}, line {number}: skipping a bad record ({exc}): {record[:80]}")
            return
        if key == HEADER:
            value = self.jobs[HEADER].eval("NextClusterNum") if HEADER in self.jobs else None
            if isinstance(value, int):
                self.next_cluster = value

    def compact(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as handle:
            handle.write("105\n")
            handle.write(f"101 0.0\n103 0.0 NextClusterNum {self.next_cluster}\n")
            for key, ad in self.jobs.items():
                if key != HEADER:
                    handle.write("".join(self._ad_records(key, ad)))
            handle.write("106\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        self.jobs.pop(HEADER, None)

    @staticmethod
    def _ad_records(key: JobId, ad: ClassAd) -> list[str]:
        job = f"{key[0]}.{key[1]}"
        return [f"101 {job}\n"] + [f"103 {job} {name} {text}\n" for name, text in ad.to_wire().items()]

    def commit(self) -> None:
        """Write the pending records as one transaction and fsync before returning."""
        if not self._pending:
            return
        data = "105\n" + "".join(self._pending) + "106\n"
        self._pending = []
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        removed, self._removed = self._removed, []
        if removed and self.on_removed is not None:
            self.on_removed(removed)

    # -- changes (each recorded for the next commit) ------------------------------------------
    def new_cluster(self) -> int:
        cluster = self.next_cluster
        self.next_cluster += 1
        self._pending.append(f"103 0.0 NextClusterNum {self.next_cluster}\n")
        self.commit()
        return cluster

    def add(self, key: JobId, ad: ClassAd) -> None:
        self.jobs[key] = ad
        self._pending += self._ad_records(key, ad)

    def set(self, key: JobId, name: str, value) -> None:
        ad = self.jobs[key]
        ad[name] = value
        self._pending.append(f"103 {key[0]}.{key[1]} {name} {ad.lookup(name)}\n")

    def delete_attr(self, key: JobId, name: str) -> None:
        ad = self.jobs[key]
        if name in ad:
            del ad[name]
            self._pending.append(f"104 {key[0]}.{key[1]} {name}\n")

    def remove(self, key: JobId) -> None:
        ad = self.jobs.pop(key, None)
        if ad is not None:
            self._pending.append(f"102 {key[0]}.{key[1]}\n")
            self._removed.append(ad)
