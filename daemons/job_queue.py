"""The schedd's job queue, persisted as an append-only transaction log in SPOOL.

Log lines (text, one record per line, in the spirit of HTCondor's job_queue.log):
    105                      begin transaction
    101 C.P                  new job ad
    103 C.P Attr <expr>      set attribute (new-style expression text)
    104 C.P Attr             delete attribute
    102 C.P                  destroy job ad
    106 <crc32>              commit (the log is fsync'd before the caller is answered)
The commit line carries the CRC-32 (8 hex digits) of the transaction's bytes from its 105 line to
the end of its last record; logs written before the checksum existed end transactions with a bare
106, which replay still accepts. Values are ClassAd expression text, whose strings and quoted names
are written with escapes: a record is printable ASCII without a newline, so no value can forge one.
The file is mode 0600 and compacted at start-up.

Damage found on replay:
- a torn tail (the last transaction without its complete commit line: a crash while writing it,
  so nobody was told it happened) is dropped, with a log line naming the records and jobs dropped;
- anything else (a checksum that does not match, lines outside a transaction) means records
  someone was told were safe are damaged. The schedd does not guess: the original file is kept as
  job_queue.log.damaged-<time>, job_queue.log is rewritten without the damaged transactions, and
  JobQueue raises QueueLogDamaged naming them; the schedd stops and stays off until an
  administrator, having checked the jobs named, starts it again (condor_on -subsystem schedd).

Replay is quick for big queues: a job written as one block (its 101 followed only by its own 103
lines, as add() and compaction write it) is kept as that block of text and parsed on first use;
compaction copies an untouched block back unchanged.
"""
from __future__ import annotations

import os
import re
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, Expr, parse_expr
from condorsim.shared.daemon import DAEMON_NO_RESTART, DaemonStartError
from condorsim.shared.submit.grid import GRID_UNIVERSE

JobId = tuple[int, int]
HEADER = (0, 0)  # the ad holding NextClusterNum
ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_attribute_name(name: str) -> str:
    """A job attribute name as the log may hold it (a ClassAd identifier): anything else, such
    as a name with a blank or a newline, could forge records, so it is refused, naming itself."""
    if not isinstance(name, str) or not ATTRIBUTE_NAME.fullmatch(name):
        raise ValueError(f"invalid job attribute name {name!r}"[:200])
    return name


def check_ad_names(ad: ClassAd) -> None:
    for name in ad:
        check_attribute_name(name)


class QueueLogDamaged(DaemonStartError):
    """Committed records of the job queue log are damaged; the message says which, and where the
    original and the repaired log are. The schedd exits asking its master not to restart it."""
    exit_status = DAEMON_NO_RESTART


def checksum(data: bytes, crc: int = 0) -> int:
    """The CRC-32 a commit line carries (pass the running value to extend it over more data)."""
    return zlib.crc32(data, crc)


_JOB_OF_RECORD = re.compile(r"^[^\n]{0,4}?(\d+\.\d+)\b", re.MULTILINE)  # lenient: the record may be damaged


def describe_records(text: str) -> str:
    """``N record(s) touching jobs 1.0, 1.1`` for a stretch of log lines (in a log message)."""
    jobs = sorted(set(_JOB_OF_RECORD.findall(text)) - {"0.0"}, key=job_key)
    records = len([line for line in text.split("\n") if line])
    named = ", ".join(jobs[:20]) + (f" and {len(jobs) - 20} more" if len(jobs) > 20 else "")
    return f"{records} record(s)" + (f" touching job(s) {named}" if jobs else " touching no job")


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
        self.clusters: dict[int, ClassAd] = {}  # cluster ads (C.-1), shared by their procs
        self.next_cluster = 1
        self._pending: list[str] = []
        self._commits_put_off = 0  # inside one_transaction(): commit() waits for the end
        self._removed: list[ClassAd] = []
        self.on_removed = on_removed
        self.replay()
        for key in [key for key in self.jobs if key[1] < 0]:
            ad = self.clusters[key[0]] = self.jobs.pop(key)
            if type(ad) is LoggedAd:
                ad.share()
        self.compact()
        self.index = QueueIndex()
        for key, ad in self.jobs.items():
            self.index.update(key, ad)

    # -- persistence -----------------------------------------------------------------------
    def replay(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        # Latin-1 maps each byte to one character, so text positions are file offsets (+1 for the
        # leading "\n"): every line, the first included, starts after a "\n", found by search.
        text = "\n" + raw.decode("latin-1")
        pos, number = 1, 1  # start of the next line and its line number
        damaged: list[str] = []
        while pos < len(text):
            mark = text.find("\n106", pos - 1)  # the newline before the next commit line
            eol = text.find("\n", mark + 1) if mark >= 0 else -1
            if eol < 0:
                break  # no complete commit line: a torn tail
            commit = text[mark + 1:eol]
            start = text.rfind("\n105\n", pos - 1, mark + 1) + 1  # its transaction's 105 line
            lines = text.count("\n", pos, eol + 1)
            if commit == "106":  # written before checksums: the records since the last 105, or else since the last commit
                first = start + 4 if start >= pos else pos
                self._apply_records(text, first, mark + 1, number + text.count("\n", pos, first))
            elif (commit[:4] == "106 " and start >= pos
                  and commit[4:] == f"{checksum(raw[start - 1:mark]):08x}"):
                if start > pos:
                    damaged.append(self._damage(text, pos, start, number, "lines outside any transaction"))
                self._apply_records(text, start + 4, mark + 1, number + text.count("\n", pos, start + 4))
            else:
                damaged.append(self._damage(text, pos, eol + 1, number, "a transaction that fails its checksum"))
            number += lines
            pos = eol + 1
        if pos < len(text):
            self.log(f"{self.path}: dropping an uncommitted transaction at its end (line {number}, byte {pos - 1}: "
                     f"{describe_records(text[pos:])}), torn by a crash before it was committed")
        if damaged:
            self.repair(damaged)

    def _damage(self, text: str, start: int, stop: int, number: int, what: str) -> str:
        return f"{what} at line {number} (byte {start - 1}): {describe_records(text[start:stop])}"

    def repair(self, damaged: list[str]) -> None:
        """Keep the damaged log aside, write the queue without the damaged records, and stop."""
        kept = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
        os.replace(self.path, kept)
        os.chmod(kept, 0o600)  # an old log may have been readable by all
        self.compact()
        raise QueueLogDamaged(
            f"the job queue log {self.path} has damaged committed records: {'; '.join(damaged)}. "
            f"The original is kept as {kept}; {self.path} now holds the queue without those records. "
            "The schedd stops: check the jobs named, then start it again (condor_on -subsystem schedd)")

    def _apply_records(self, text: str, pos: int, stop: int, number: int) -> None:
        """Apply the records of one committed transaction, text[pos:stop]; ``number`` is the first
        one's line number."""
        while pos < stop:
            eol = text.index("\n", pos)
            if text.startswith("101 ", pos):
                job = text[pos + 4:eol]
                prefix = f"103 {job} "
                end = text.find("\n101 ", eol, stop)
                end = stop if end < 0 else end + 1
                lines = text.count("\n", eol + 1, end)
                if lines and text.count("\n" + prefix, eol, end) == lines and " " not in job:
                    try:
                        key = job_key(job)
                    except ValueError:
                        pass
                    else:
                        self.jobs[key] = LoggedAd(text[eol + 1:end], len(prefix), number + 1, self._skip_record,
                                                  self._cluster_of(key))
                        self._note_header(key)
                        number += 1 + lines
                        pos = end
                        continue
            self._apply(text[pos:eol], number)
            number += 1
            pos = eol + 1

    def _apply(self, record: str, number: int) -> None:
        op, _, rest = record.partition(" ")
        key_text, _, rest = rest.partition(" ")
        try:
            key = job_key(key_text)
            if op == "101":
                cluster = self._cluster_of(key)
                self.jobs[key] = ClassAd() if cluster is None else LoggedAd("", 0, number, self._skip_record, cluster)
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
            self._skip_record(number, record, exc)
            return
        self._note_header(key)

    def _cluster_of(self, key: JobId) -> ClassAd | None:
        """While replaying: the cluster ad a proc's attributes add to (none for the ad itself)."""
        return self.jobs.get((key[0], -1)) if key[1] >= 0 else None

    def _note_header(self, key: JobId) -> None:
        if key == HEADER:
            value = self.jobs[HEADER].eval("NextClusterNum") if HEADER in self.jobs else None
            if isinstance(value, int):
                self.next_cluster = value

    def _skip_record(self, number: int, record: str, exc: Exception) -> None:
        self.log(f"{self.path}, line {number}: skipping a bad record ({exc}): {record[:80]}")

    def compact(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when an old .tmp was left with another mode
        with open(fd, "wb") as handle:
            crc = 0
            for chunk in self._compacted():
                data = chunk.encode()
                crc = checksum(data, crc)
                handle.write(data)
            handle.write(f"106 {crc:08x}\n".encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        self.jobs.pop(HEADER, None)

    def _compacted(self):
        """The compacted log's text but for its commit line, in pieces of a few thousand jobs."""
        piece = [f"105\n101 0.0\n103 0.0 NextClusterNum {self.next_cluster}\n"]
        written: set[int] = set()  # clusters whose ad is written, before their first proc
        for key, ad in self.jobs.items():
            if key != HEADER:
                cluster = self.clusters.get(key[0])
                if cluster is not None and key[0] not in written:
                    piece += self._ad_records((key[0], -1), cluster)
                    written.add(key[0])
                piece += self._ad_records(key, ad)
                if len(piece) >= 8192:
                    yield "".join(piece)
                    piece = []
        yield "".join(piece)

    @staticmethod
    def _ad_records(key: JobId, ad: ClassAd) -> list[str]:
        job = f"{key[0]}.{key[1]}"
        if type(ad) is LoggedAd and ad.block is not None:  # never parsed: its records as they were
            return [f"101 {job}\n", ad.block]  # (a proc's: what differs from its cluster ad, written before)
        return [f"101 {job}\n"] + [f"103 {job} {name} {text}\n" for name, text in ad.to_wire().items()]

    @contextmanager
    def one_transaction(self) -> Iterator[None]:
        """The commits asked for inside are put off: what is pending goes out as one transaction
        with the next commit() after the block (e.g. a batch of starter reports, one fsync)."""
        self._commits_put_off += 1
        try:
            yield
        finally:
            self._commits_put_off -= 1

    def commit(self) -> None:
        """Write the pending records as one transaction and fsync before returning (at the end of
        a one_transaction() block when inside one)."""
        if not self._pending or self._commits_put_off:
            return
        body = ("105\n" + "".join(self._pending)).encode()
        data = body + f"106 {checksum(body):08x}\n".encode()
        self._pending = []
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
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

    def add_cluster(self, cluster: int, ad: ClassAd) -> None:
        """The cluster ad that procs added next may share (LoggedAd.cluster)."""
        check_ad_names(ad)
        self.clusters[cluster] = ad
        self._pending += self._ad_records((cluster, -1), ad)

    def add(self, key: JobId, ad: ClassAd) -> None:
        shared = ad.cluster if type(ad) is LoggedAd and ad.block is not None else None
        if shared is not None and self.clusters.get(key[0]) is not shared:
            self.add_cluster(key[0], shared)  # its procs had all left: written again for this one
        if shared is None:
            check_ad_names(ad)  # (a LoggedAd's text was checked as it was made)
        self.jobs[key] = ad
        self._pending += self._ad_records(key, ad)
        self.index.update(key, ad)

    def set(self, key: JobId, name: str, value) -> None:
        ad = self.jobs[key]
        ad[check_attribute_name(name)] = value
        self._pending.append(f"103 {key[0]}.{key[1]} {name} {ad.lookup(name)}\n")
        if (lower := name.lower()) in INDEXED:
            self.index.update(key, ad, lower)

    def delete_attr(self, key: JobId, name: str) -> None:
        ad = self.jobs[key]
        if name in ad:
            del ad[name]
            self._pending.append(f"104 {key[0]}.{key[1]} {name}\n")
            if name.lower() in INDEXED:
                self.index.update(key, ad)

    def remove(self, key: JobId) -> None:
        ad = self.jobs.pop(key, None)
        if ad is not None:
            self._pending.append(f"102 {key[0]}.{key[1]}\n")
            self._removed.append(ad)
            self.index.drop(key)
            if key[0] not in self.index.by_cluster and self.clusters.pop(key[0], None) is not None:
                self._pending.append(f"102 {key[0]}.-1\n")  # its last proc left


# Attributes whose value the index keeps: status, owner and accounting name for counts and
# queries, and the policy expressions that make the periodic policy look at a job.
POLICY = ("PeriodicHold", "PeriodicRelease", "PeriodicRemove", "PeriodicVacate", "AllowedJobDuration",
          "AllowedExecuteDuration", "LeaveJobInQueue")
INDEXED = {"jobstatus", "owner", "accountinggroup", "jobuniverse", *(name.lower() for name in POLICY)}


def peek_expr(ad: ClassAd, name: str) -> Expr | None:
    """Attribute `name` of a job ad; a LoggedAd not yet parsed is searched as text, so indexing
    a replayed queue parses no job."""
    block = ad.block if type(ad) is LoggedAd else None
    if block is None:
        return ad.lookup(name)
    needle = block[:ad._skip] + name + " "  # a whole line "103 C.P Name text"
    at = block.rfind(needle)
    if at < 0:
        return None if ad.cluster is None else ad.cluster.lookup(name)
    try:
        if at and block[at - 1] != "\n":
            raise ValueError("not at a line start")
        return parse_expr(block[at + len(needle):block.index("\n", at)])
    except (ValueError, ClassAdSyntaxError):
        return ad.lookup(name)  # parsed as replay would, bad lines reported


def peek(ad: ClassAd, name: str):
    """The value of attribute `name` (a literal's value, else evaluated in the ad)."""
    expr = peek_expr(ad, name)
    return None if expr is None else (expr.value if expr.const else ad.eval(name))


class QueueIndex:
    """What the schedd asks of every job, kept up to date on each change instead of re-read
    from every ad: the jobs by status, owner and cluster, counts by (owner, status) and
    (accounting name, status), and the jobs the periodic policy must look at."""

    def __init__(self) -> None:
        self.facts: dict[JobId, tuple] = {}  # job -> (status, owner, accounting name, has policy)
        self.by_status: dict = {}  # JobStatus -> set of jobs
        self.by_owner: dict[str, set[JobId]] = {}
        self.by_cluster: dict[int, set[JobId]] = {}
        self.owner_counts: Counter = Counter()  # (owner, status) -> jobs
        self.submitter_counts: Counter = Counter()  # (accounting name, status) -> jobs
        self.with_policy: set[JobId] = set()
        self.grid: set[JobId] = set()  # grid-universe jobs
        self._shared_facts: dict[int, tuple] = {}  # id(cluster ad) -> (the ad, its facts)

    def update(self, key: JobId, ad: ClassAd, changed: str | None = None) -> None:
        """Index the job anew; `changed` (lower-case) names the one attribute set, if that is
        all that changed."""
        old = self.facts.get(key)
        if changed == "jobstatus" and old is not None:  # the commonest change: nothing else to look at
            facts = (peek(ad, "JobStatus"), *old[1:])
        else:
            facts = self._facts_of(ad)
        if old == facts:
            return
        self.drop(key)
        self.facts[key] = facts
        status, owner, name, policy, _ = facts
        self.by_status.setdefault(status, set()).add(key)
        self.by_owner.setdefault(owner, set()).add(key)
        self.by_cluster.setdefault(key[0], set()).add(key)
        self.owner_counts[owner, status] += 1
        self.submitter_counts[name, status] += 1
        if policy:
            self.with_policy.add(key)
        if facts[4]:
            self.grid.add(key)

    def _facts_of(self, ad: ClassAd) -> tuple:
        """(status, owner, accounting name, has policy, is grid) of a job. A proc not yet parsed
        that sets none of these itself has its cluster ad's, worked out once."""
        shared = ad.cluster if type(ad) is LoggedAd and ad.block is not None else None
        if shared is not None and not ad.own_names() & INDEXED:
            memo = self._shared_facts.get(id(shared))
            if memo is None or memo[0] is not shared:
                if len(self._shared_facts) > 10_000:
                    self._shared_facts.clear()
                memo = self._shared_facts[id(shared)] = (shared, self._facts_of(shared))
            return memo[1]
        status, owner, group = peek(ad, "JobStatus"), peek(ad, "Owner"), peek(ad, "AccountingGroup")
        owner = owner if isinstance(owner, str) else None
        name = group if isinstance(group, str) and group else (owner or None)
        policy = any((expr := peek_expr(ad, attr)) is not None and not (expr.const and expr.value is False)
                     for attr in POLICY)
        return status, owner, name, policy, peek(ad, "JobUniverse") == GRID_UNIVERSE

    def drop(self, key: JobId) -> None:
        facts = self.facts.pop(key, None)
        if facts is None:
            return
        status, owner, name = facts[:3]
        for table, value in ((self.by_status, status), (self.by_owner, owner), (self.by_cluster, key[0])):
            members = table[value]
            members.discard(key)
            if not members:
                del table[value]
        for counts, value in ((self.owner_counts, owner), (self.submitter_counts, name)):
            counts[value, status] -= 1
            if not counts[value, status]:
                del counts[value, status]
        self.with_policy.discard(key)
        self.grid.discard(key)

    def status_of(self, key: JobId):
        facts = self.facts.get(key)
        return None if facts is None else facts[0]

    def owner_of(self, key: JobId) -> str | None:
        return self.facts[key][1]

    def counts(self, owner: str | None = None, submitter: str | None = None) -> Counter:
        """Jobs by status: all of them, one owner's, or one accounting name's."""
        if owner is None and submitter is None:
            return Counter({status: len(keys) for status, keys in self.by_status.items()})
        table, wanted = (self.owner_counts, owner) if owner is not None else (self.submitter_counts, submitter)
        return Counter({status: n for (who, status), n in table.items() if who == wanted})

    def submitters(self) -> set[str]:
        return {name for name, _ in self.submitter_counts if name}


class LoggedAd(ClassAd):
    """A job ad replayed from the log (or just submitted), kept as its block of
    ``103 C.P Name text`` lines until first used; then parsed as replay would have parsed it (a
    bad line is logged and skipped). A proc's block holds only what differs from its cluster ad
    (``cluster``, HTCondor's C.-1 ad), which all procs of the cluster share."""
    __slots__ = ("block", "_skip", "_number", "_report", "cluster", "_texts")

    def __init__(self, block: str, skip: int, number: int, report: Callable[[int, str, Exception], None],
                 cluster: ClassAd | None = None):
        self.block = block      # the lines, each ending in a newline; None once parsed
        self._skip = skip       # length of the "103 C.P " prefix of every line
        self._number = number   # line number of the first line in the log
        self._report = report
        self.cluster = cluster  # the cluster ad this proc inherits from, if any
        self._texts = None      # a cluster ad's texts(), kept: cluster ads do not change

    @classmethod
    def of(cls, key: JobId, wire: dict[str, str], report: Callable[[int, str, Exception], None],
           cluster: ClassAd | None = None) -> "LoggedAd":
        """An ad from wire text (each already checked to parse), as the log will hold it."""
        prefix = f"103 {key[0]}.{key[1]} "
        return cls("".join(f"{prefix}{name} {text}\n" for name, text in wire.items()), len(prefix), 0, report,
                   cluster)

    def texts(self) -> dict[str, tuple[str, str]]:
        """lower-case name -> (name, wire text) of every attribute, the cluster's included."""
        if self._texts is not None:
            return self._texts
        if self.block is None:
            names = self._names
            texts = {key: (names[key], expr._text or str(expr)) for key, expr in self._exprs.items()}
        else:
            texts = dict(self.cluster.texts()) if isinstance(self.cluster, LoggedAd) else \
                {} if self.cluster is None else {k.lower(): (k, v) for k, v in self.cluster.to_wire().items()}
            skip = self._skip
            for line in self.block.split("\n")[:-1]:
                name, _, text = line[skip:].partition(" ")
                texts[name.lower()] = (texts.get(name.lower(), (name,))[0], text)
        return texts

    def share(self) -> "LoggedAd":
        """Make this the cluster ad its procs share: parsed now (they read it often), its texts
        kept (nothing changes a cluster ad)."""
        if self.block is not None:
            self._materialize()
        self._texts = self.texts()
        return self

    def own_names(self) -> set[str]:
        """Lower-case names a proc not yet parsed sets itself (over its cluster ad's)."""
        skip = self._skip
        return {line[skip:].partition(" ")[0].lower() for line in self.block.split("\n")[:-1]}

    def to_wire(self) -> dict[str, str]:
        if self.block is None:
            return super().to_wire()
        return dict(self.texts().values())  # the block's lines hold the wire text already: nothing to parse

    def view(self) -> ClassAd:
        """The ad to read once (a constraint scan, a query): this one if parsed, else a parsed
        copy, so reading every job does not keep every job parsed."""
        if self.block is None:
            return self
        view = ClassAd()
        view._exprs, view._names = self._parse()
        return view

    def __getattr__(self, name: str):
        # Only reached while _exprs/_names are unset, i.e. before the first use.
        if name != "_exprs" and name != "_names":
            raise AttributeError(name)
        self._materialize()
        return self._exprs if name == "_exprs" else self._names

    def _materialize(self) -> None:
        self._exprs, self._names = self._parse()
        self.block = None

    def _parse(self) -> tuple[dict, dict]:
        cluster = self.cluster
        exprs: dict = {} if cluster is None else dict(cluster._exprs)
        names: dict = {} if cluster is None else dict(cluster._names)
        skip, cache = self._skip, _ATTRIBUTE_CACHE
        for offset, line in enumerate(self.block.split("\n")[:-1]):
            attribute = line[skip:]  # "Name text": the same in many jobs
            entry = cache.get(attribute)
            if entry is None:
                name_, _, text = attribute.partition(" ")
                try:
                    if not name_:
                        raise ValueError("no attribute name")
                    entry = (name_.lower(), name_, parse_expr(text))
                except (ValueError, ClassAdSyntaxError) as exc:
                    self._report(self._number + offset, line, exc)
                    continue
                if len(cache) >= _ATTRIBUTE_CACHE_LIMIT:
                    cache.clear()
                cache[attribute] = entry
            key, name_, expr = entry
            exprs[key] = expr
            if key not in names:
                names[key] = name_
        return exprs, names


_ATTRIBUTE_CACHE: dict[str, tuple] = {}  # "Name text" -> (lower-case name, name, Expr)
_ATTRIBUTE_CACHE_LIMIT = 200_000
