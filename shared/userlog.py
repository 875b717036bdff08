"""Job event log ("user log") writer in HTCondor's text format.

Each event is a header line ``NNN (CCC.PPP.SSS) <date> <first body line>``, more body lines and
a line that is exactly ``...``.  An event is written with ONE ``write()`` on a file opened with
``O_APPEND`` (open, append, close, as HTCondor does), so concurrent writers never interleave
half events and a reader never sees a partial one.

Usage::

    log = UserLog("/home/alice/job.log", options=cfg.get("DEFAULT_USERLOG_FORMAT_OPTIONS"))
    log.submit(job_ad, schedd_address)
    log.execute(job_ad, startd_address, "slot1@host", {"Cpus": 1})
    log.terminated(job_ad, exit_code=0, usage={"remote_user_cpu": 1.5})
"""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from typing import Any, Callable, Mapping

from condorsim.shared.classad import unparse
from condorsim.shared.security import UnixUser, open_as_owner

log = logging.getLogger(__name__)

# Event numbers (ULogEventNumber) of the events this module writes.
SUBMIT, EXECUTE, EVICTED, TERMINATED, IMAGE_SIZE, ABORTED, HELD, RELEASED = 0, 1, 4, 5, 6, 9, 12, 13
DISCONNECTED, RECONNECTED, RECONNECT_FAILED = 22, 23, 24
GRID_RESOURCE_UP, GRID_RESOURCE_DOWN, GRID_SUBMIT = 25, 26, 27
FILE_TRANSFER, SUSPENDED, UNSUSPENDED = 40, 10, 11
FILE_TRANSFER_STAGES = {"input_started": "Started transferring input files",
                        "input_finished": "Finished transferring input files",
                        "output_started": "Started transferring output files",
                        "output_finished": "Finished transferring output files"}

_FORMAT_TOKENS = ("ISO_DATE", "UTC", "SUB_SECOND", "XML", "JSON")
_DEFAULT_RESOURCES = "Cpus, Disk, Memory"
# Units HTCondor appends to a resource name in the usage table.
_RESOURCE_LABELS = {"memory": " (MB)", "disk": " (KB)", "gpus": " (Average)", "gpusmemory": " (MB)",
                    "timeexecute": " (s)", "timeslotbusy": " (s)"}


@functools.lru_cache(maxsize=64)  # (a schedd makes a UserLog per event)
def parse_format_options(text: str | None) -> frozenset[str]:
    """Options of DEFAULT_USERLOG_FORMAT_OPTIONS / EVENT_LOG_FORMAT_OPTIONS as a set of names.

    Tokens are separated by blanks or commas, case-insensitive, each may be negated with ``!``.
    The start value is {ISO_DATE}; ``LEGACY`` clears ISO_DATE, UTC and SUB_SECOND; ``!LEGACY``
    sets ISO_DATE.  Unknown tokens are ignored, as HTCondor does.
    """
    opts = {"ISO_DATE"}
    for token in (text or "").replace(",", " ").split():
        negate = token.startswith("!")
        name = token.lstrip("!").upper()
        if name in _FORMAT_TOKENS:
            if negate:
                opts.discard(name)
            else:
                opts.add(name)
        elif name == "LEGACY":
            if negate:
                opts.add("ISO_DATE")
            else:
                opts -= {"ISO_DATE", "UTC", "SUB_SECOND"}
    return frozenset(opts)


def format_date(clock: float, options: frozenset[str]) -> str:
    """The date of an event header, as ULogEvent::formatHeader prints it."""
    seconds = math.floor(clock)
    millis = int((clock - seconds) * 1000)
    tm = time.gmtime(seconds) if "UTC" in options else time.localtime(seconds)
    if "ISO_DATE" in options:
        text = time.strftime("%Y-%m-%d %H:%M:%S", tm)
    else:
        text = time.strftime("%m/%d %H:%M:%S", tm)
    if "SUB_SECOND" in options:
        text += f".{millis:03d}"
    if "UTC" in options:
        text += "Z"
    return text


def format_usage(user_seconds: float, sys_seconds: float) -> str:
    """``Usr D HH:MM:SS, Sys D HH:MM:SS`` of CPU seconds (fractions dropped, as rusage secs)."""
    return f"Usr {_dhms(user_seconds)}, Sys {_dhms(sys_seconds)}"


def _dhms(seconds: float) -> str:
    secs = max(0, int(seconds))
    if secs == 0:
        return "0 00:00:00"  # (most usage lines of short jobs)
    days, secs = divmod(secs, 86400)
    hours, secs = divmod(secs, 3600)
    minutes, secs = divmod(secs, 60)
    return f"{days} {hours:02d}:{minutes:02d}:{secs:02d}"


def _one_line(text: str) -> str:
    """A reason on one line: HTCondor turns newlines into '|' and carriage returns into blanks."""
    return text.replace("\n", "|").replace("\r", " ")


def _evaluate(ad: Mapping[str, Any] | None, name: str) -> Any:
    """Attribute `name` of `ad` evaluated (ClassAd) or as stored (plain mapping); None if absent."""
    if ad is None or name not in ad:
        return None
    evaluate = getattr(ad, "eval", None)
    return evaluate(name) if evaluate is not None else ad[name]


def _scalar(ad: Mapping[str, Any] | None, name: str) -> int | float | bool | None:
    """The value of attribute `name` of `ad` if it evaluates to a number or boolean."""
    value = _evaluate(ad, name)
    return value if isinstance(value, (int, float, bool)) else None


def _job_id(job_ad: Mapping[str, Any]) -> tuple[int, int]:
    cluster, proc = _scalar(job_ad, "ClusterId"), _scalar(job_ad, "ProcId")
    if cluster is None or proc is None:
        raise ValueError("job ad has no integer ClusterId/ProcId")
    return int(cluster), int(proc)


def _table_value(value: int | float | bool) -> tuple[str, bool]:
    """Cell text and whether it shows a fraction (reals print %.2f only when fractional)."""
    if isinstance(value, float):
        if value != int(value):
            return f"{value:.2f}", True
        return str(int(value)), False
    return unparse(value), False


def format_usage_table(job_ad: Mapping[str, Any], slot_ad: Mapping[str, Any] | None) -> str:
    """The ``Partitionable Resources`` table of 004/005: Usage, Request and Allocated per resource.

    Resources come from the job's ProvisionedResources (default Cpus, Disk, Memory); Usage is
    the job's ``<Res>Usage``, Request its ``Request<Res>``, Allocated the slot's ``<Res>`` (or
    the job's ``<Res>Provisioned`` without a slot ad).  Empty when nothing is known.
    """
    provisioned = _evaluate(job_ad, "ProvisionedResources")
    resources = provisioned if isinstance(provisioned, str) else _DEFAULT_RESOURCES
    rows: dict[str, dict[str, str]] = {}
    fractional = {"use": False, "req": False, "alloc": False}
    for res in resources.replace(",", " ").split():
        res = res[:1].upper() + res[1:]
        allocated = _scalar(slot_ad, res) if slot_ad is not None else _scalar(job_ad, res + "Provisioned")
        cells = {"use": _scalar(job_ad, res + "Usage"), "req": _scalar(job_ad, "Request" + res),
                 "alloc": allocated}
        if all(v is None for v in cells.values()):
            continue
        row = rows.setdefault(res, {"use": "", "req": "", "alloc": ""})
        for column, value in cells.items():
            if value is not None:
                row[column], has_fraction = _table_value(value)
                fractional[column] |= has_fraction
    if not rows:
        return ""
    # Bare integers get three blanks so they line up with "%.2f" values of the same column.
    for row in rows.values():
        for column, has_fraction in fractional.items():
            if has_fraction and row[column].isdigit():
                row[column] += "   "
    res_width = max([len("Memory (MB)") + 1] + [len(r) for r in rows]) + 8
    use_width = max([8] + [len(r["use"]) for r in rows.values()])
    req_width = max([8] + [len(r["req"]) for r in rows.values()])
    alloc_len = max(len(r["alloc"]) for r in rows.values())
    alloc_width = max(alloc_len, 9)
    lines = [f"\tPartitionable Resources : {'Usage':>{use_width}} {'Request':>{req_width}} "
             f"{'Allocated' if alloc_len else '':>{alloc_width}} \n"]
    for res in sorted(rows, key=str.lower):
        row = rows[res]
        label = res + _RESOURCE_LABELS.get(res.lower(), "")
        lines.append(f"\t   {label:<{res_width}} : {row['use']:>{use_width}} {row['req']:>{req_width}} "
                     f"{row['alloc']:>{alloc_width}} \n")
    return "".join(lines)


def append_to_log(path: str, owner: UnixUser | None, data: bytes) -> str | None:
    """Append `data` to a log file with a single write(); the problem, or None."""
    try:
        fd = open_as_owner(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644, owner)
    except OSError as exc:
        return f"cannot open user log {path}: {exc}"
    try:
        written = os.write(fd, data)
        if written != len(data):
            return f"short write to user log {path} ({written} of {len(data)} bytes)"
    except OSError as exc:
        return f"cannot write user log {path}: {exc}"
    finally:
        os.close(fd)
    return None


class EventBatch:
    """Events gathered per log file and appended with one open and one write() per file: a
    schedd writes a batch of starter reports' events so (three events per job of a busy pool)."""

    def __init__(self) -> None:
        self.pending: dict[tuple[str, UnixUser | None], list[bytes]] = {}

    def add(self, path: str, owner: UnixUser | None, data: bytes) -> None:
        self.pending.setdefault((path, owner), []).append(data)

    def flush(self) -> list[str]:
        """Write what is pending; the problems, one per file that could not be written."""
        pending, self.pending = self.pending, {}
        problems = []
        for (path, owner), events in pending.items():
            problem = append_to_log(path, owner, b"".join(events))
            if problem:
                problems.append(f"{problem} ({len(events)} event(s) not written)")
        return problems


class UserLog:
    """Appends events of jobs to one job event log file (or, with a `batch`, hands them to it)."""

    def __init__(self, path: str, options: str | None = "ISO_DATE",
                 clock: Callable[[], float] = time.time, owner: UnixUser | None = None,
                 batch: EventBatch | None = None) -> None:
        self.path = path
        self.owner = owner  # a root writer opens the file only as this user could
        self.options = parse_format_options(options)
        self._clock = clock
        self.batch = batch

    # -- low level ----------------------------------------------------------------------------

    def format_event(self, number: int, job_ad: Mapping[str, Any], body: str) -> str:
        """Header + `body` (whose first line joins the header) + the ``...`` separator."""
        cluster, proc = _job_id(job_ad)
        date = format_date(self._clock(), self.options)
        return f"{number:03d} ({cluster:03d}.{proc:03d}.000) {date} {body}...\n"

    def write_event(self, number: int, job_ad: Mapping[str, Any], body: str) -> bool:
        """Append one event with a single write(); False (and a log message) when it fails."""
        data = self.format_event(number, job_ad, body).encode("utf-8", errors="replace")
        if self.batch is not None:
            self.batch.add(self.path, self.owner, data)
            return True
        problem = append_to_log(self.path, self.owner, data)
        if problem:
            log.error("%s", problem)
        return problem is None

    # -- events -------------------------------------------------------------------------------

    def submit(self, job_ad: Mapping[str, Any], schedd_address: str, notes: str | None = None) -> bool:
        """000: the job was queued by the schedd at `schedd_address` (a sinful string)."""
        body = f"Job submitted from host: {schedd_address}\n"
        if notes:
            body += f"    {_one_line(notes)}\n"
        return self.write_event(SUBMIT, job_ad, body)

    def execute(self, job_ad: Mapping[str, Any], startd_address: str, slot_name: str | None,
                props: Mapping[str, Any] | None = None) -> bool:
        """001: the job started on `slot_name` of the startd at `startd_address`.

        `props` (e.g. CondorScratchDir, Cpus, Disk, Memory) are printed as ``Attr = value``
        lines sorted case-insensitively; the reader returns them as ExecuteProps.
        """
        body = f"Job executing on host: {startd_address}\n"
        if slot_name:
            body += f"\tSlotName: {slot_name}\n"
        for name in sorted(props or {}, key=str.lower):
            body += f"\t{name} = {unparse(props[name])}\n"
        return self.write_event(EXECUTE, job_ad, body)

    def evicted(self, job_ad: Mapping[str, Any], reason: str | None = None,
                usage: Mapping[str, float] | None = None) -> bool:
        """004: the job left its slot and went back to Idle (vacate, preemption, shutdown)."""
        u = usage or {}
        body = ("Job was evicted.\n"
                "\t(0) CPU times\n"
                f"\t\t{format_usage(u.get('remote_user_cpu', 0), u.get('remote_sys_cpu', 0))}"
                "  -  Run Remote Usage\n"
                f"\t\t{format_usage(u.get('local_user_cpu', 0), u.get('local_sys_cpu', 0))}"
                "  -  Run Local Usage\n"
                f"\t{u.get('bytes_sent', 0):.0f}  -  Run Bytes Sent By Job\n"
                f"\t{u.get('bytes_received', 0):.0f}  -  Run Bytes Received By Job\n")
        if reason:
            body += f"\tReason: {_one_line(reason)}\n"
        return self.write_event(EVICTED, job_ad, body)

    def image_size(self, job_ad: Mapping[str, Any], size_kb: int, memory_mb: int | None = None,
                   rss_kb: int | None = None, pss_kb: int | None = None) -> bool:
        """006: the job's image size (KB) and, when known, memory (MB), RSS and PSS (KB)."""
        body = f"Image size of job updated: {int(size_kb)}\n"
        for value, label in ((memory_mb, "MemoryUsage of job (MB)"),
                             (rss_kb, "ResidentSetSize of job (KB)"),
                             (pss_kb, "ProportionalSetSize of job (KB)")):
            if value is not None and value >= 0:
                body += f"\t{int(value)}  -  {label}\n"
        return self.write_event(IMAGE_SIZE, job_ad, body)

    def terminated(self, job_ad: Mapping[str, Any], *, exit_code: int | None = None,
                   exit_signal: int | None = None, usage: Mapping[str, float] | None = None,
                   slot_ad: Mapping[str, Any] | None = None, core_file: str | None = None) -> bool:
        """005: the job exited with `exit_code`, or was killed by `exit_signal`.

        `usage` keys (all optional, default 0; the totals default to the run values):
        remote_user_cpu, remote_sys_cpu (the job's CPU seconds), local_user_cpu, local_sys_cpu
        (the shadow's), total_remote_user_cpu, total_remote_sys_cpu, total_local_user_cpu,
        total_local_sys_cpu, bytes_sent, bytes_received, total_bytes_sent, total_bytes_received.
        The resource table is built from the job ad (and `slot_ad` for Allocated).
        """
        if (exit_code is None) == (exit_signal is None):
            raise ValueError("terminated() needs exactly one of exit_code and exit_signal")
        u = usage or {}

        def run_and_total(name: str) -> tuple[float, float]:
            run = u.get(name, 0)
            return run, u.get("total_" + name, run)

        ru_user, tu_user = run_and_total("remote_user_cpu")
        ru_sys, tu_sys = run_and_total("remote_sys_cpu")
        rl_user, tl_user = run_and_total("local_user_cpu")
        rl_sys, tl_sys = run_and_total("local_sys_cpu")
        sent, total_sent = run_and_total("bytes_sent")
        received, total_received = run_and_total("bytes_received")
        if exit_signal is None:
            body = f"Job terminated.\n\t(1) Normal termination (return value {int(exit_code)})\n"
        else:
            core = f"(1) Corefile in: {core_file}" if core_file else "(0) No core file"
            body = f"Job terminated.\n\t(0) Abnormal termination (signal {int(exit_signal)})\n\t{core}\n"
        body += (f"\t\t{format_usage(ru_user, ru_sys)}  -  Run Remote Usage\n"
                 f"\t\t{format_usage(rl_user, rl_sys)}  -  Run Local Usage\n"
                 f"\t\t{format_usage(tu_user, tu_sys)}  -  Total Remote Usage\n"
                 f"\t\t{format_usage(tl_user, tl_sys)}  -  Total Local Usage\n"
                 f"\t{sent:.0f}  -  Run Bytes Sent By Job\n"
                 f"\t{received:.0f}  -  Run Bytes Received By Job\n"
                 f"\t{total_sent:.0f}  -  Total Bytes Sent By Job\n"
                 f"\t{total_received:.0f}  -  Total Bytes Received By Job\n")
        body += format_usage_table(job_ad, slot_ad)
        return self.write_event(TERMINATED, job_ad, body)

    def aborted(self, job_ad: Mapping[str, Any], reason: str | None) -> bool:
        """009: the job was removed (e.g. ``via condor_rm (by user alice)``)."""
        body = "Job was aborted.\n"
        if reason:
            body += f"\t{_one_line(reason)}\n"
        return self.write_event(ABORTED, job_ad, body)

    def held(self, job_ad: Mapping[str, Any], reason: str | None, code: int, subcode: int = 0) -> bool:
        """012: the job was put on hold with HoldReason `reason` and its code and subcode."""
        text = _one_line(reason) if reason else "Reason unspecified"
        body = f"Job was held.\n\t{text}\n\tCode {int(code)} Subcode {int(subcode)}\n"
        return self.write_event(HELD, job_ad, body)

    def suspended(self, job_ad: Mapping[str, Any], processes: int) -> bool:
        """010: condor_suspend stopped the job's `processes`."""
        body = f"Job was suspended.\n\tNumber of processes actually suspended: {int(processes)}\n"
        return self.write_event(SUSPENDED, job_ad, body)

    def unsuspended(self, job_ad: Mapping[str, Any]) -> bool:
        """011: condor_continue let the job run again."""
        return self.write_event(UNSUSPENDED, job_ad, "Job was unsuspended.\n")

    def file_transfer(self, job_ad: Mapping[str, Any], stage: str, host: str | None = None) -> bool:
        """040: a stage of the job's file transfer, one of FILE_TRANSFER_STAGES (the input start
        names the execute side's address it sends to)."""
        if stage not in FILE_TRANSFER_STAGES:
            raise ValueError(f"unknown file transfer stage {stage!r}")
        body = f"{FILE_TRANSFER_STAGES[stage]}\n"
        if host:
            body += f"\tTransferring to host: {host}\n"
        return self.write_event(FILE_TRANSFER, job_ad, body)

    def released(self, job_ad: Mapping[str, Any], reason: str | None) -> bool:
        """013: the job was released from hold."""
        body = "Job was released.\n"
        if reason:
            body += f"\t{_one_line(reason)}\n"
        return self.write_event(RELEASED, job_ad, body)

    def disconnected(self, job_ad: Mapping[str, Any], reason: str, startd_address: str,
                     startd_name: str) -> bool:
        """022: the shadow lost its job's starter and tries to find it again."""
        body = (f"Job disconnected, attempting to reconnect\n    {_one_line(reason)}\n"
                f"    Trying to reconnect to {startd_name} {startd_address}\n")
        return self.write_event(DISCONNECTED, job_ad, body)

    def reconnected(self, job_ad: Mapping[str, Any], startd_name: str, startd_address: str,
                    starter_address: str) -> bool:
        """023: the shadow found its job's starter again; the job ran on undisturbed."""
        body = (f"Job reconnected to {startd_name}\n    startd address: {startd_address}\n"
                f"    starter address: {starter_address}\n")
        return self.write_event(RECONNECTED, job_ad, body)

    def reconnect_failed(self, job_ad: Mapping[str, Any], reason: str, startd_name: str) -> bool:
        """024: the job could not be found again; it will be rescheduled."""
        body = (f"Job reconnection failed\n    {_one_line(reason)}\n"
                f"    Can not reconnect to {startd_name}, rescheduling job\n")
        return self.write_event(RECONNECT_FAILED, job_ad, body)

    def grid_submit(self, job_ad: Mapping[str, Any], resource: str, grid_job_id: str) -> bool:
        """027: the grid job was accepted by `resource` under `grid_job_id`."""
        body = (f"Job submitted to grid resource\n    GridResource: {resource}\n"
                f"    GridJobId: {grid_job_id}\n")
        return self.write_event(GRID_SUBMIT, job_ad, body)

    def grid_resource_down(self, job_ad: Mapping[str, Any], resource: str) -> bool:
        """026: the grid resource the job uses stopped answering."""
        return self.write_event(GRID_RESOURCE_DOWN, job_ad,
                                f"Detected Down Grid Resource\n    GridResource: {resource}\n")

    def grid_resource_up(self, job_ad: Mapping[str, Any], resource: str) -> bool:
        """025: the grid resource the job uses answers again."""
        return self.write_event(GRID_RESOURCE_UP, job_ad,
                                f"Grid Resource Back Up\n    GridResource: {resource}\n")
