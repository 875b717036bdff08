"""condor_q: show the schedd's job queue as HTCondor does (tools.md §2).

Every view is a pure function of job ads (and the schedd's summary ad) returning text:
`render_batch`, `render_nobatch`, `render_run`, `render_hold`, `render_summary`, `render_title`,
and `render_queue` for the whole output.  `main` parses the command line and asks the schedd.
"""
from __future__ import annotations

import getpass
import re
import socket
import sys
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

from condorsim.shared.columns import (Column, Table, date_cell, evaluate, format_date, format_time, int_of, is_undefined,
                            number_cell, number_of, string_of)
from condorsim.shared.print_format import Function, PrintFormat, UNIVERSE_NAMES, parse_print_format
from condorsim.shared.tool_options import (QueryOptions, ToolExit, UsageError, is_arg, join_constraints,
                                 load_query_config, option_value, read_query_command_line,
                                 render_ads as _render_ads, which_arg)

IDLE, RUNNING, REMOVED, COMPLETED, HELD, TRANSFERRING_OUTPUT, SUSPENDED = 1, 2, 3, 4, 5, 6, 7

USAGE = """Usage: condor_q [general-opts] [restriction-list] [output-opts]
    [general-opts] are
\t-allusers\t\tConsider jobs from all users
\t-constraint <expr>\tGet information about jobs that match <expr>
    [restriction-list] is a list of <cluster>, <cluster>.<proc> or <owner>
    [output-opts] are
\t-batch\t\t\tShow a line per batch of jobs (the default)
\t-nobatch\t\tShow a line per job
\t-run\t\t\tShow running jobs
\t-hold\t\t\tShow held jobs with the hold reason
\t-long\t\t\tDisplay entire classads
\t-af[:opts] <attr> ...\tPrint attributes or expressions, one job per line
\t-format <fmt> <attr>\tPrint attribute with a printf format
\t-print-format <file>\tUse <file> to set display attributes and formatting
\t-json\t\t\tDisplay entire classads in JSON
\t-cumulative-time\tShow cumulative run time
\t-currentrun\t\tShow the current run's time (the default)
\t-cputime\t\tShow CPU time instead of run time
\t-idle\t\t\tShow idle jobs with their requests
\t-io\t\t\tShow jobs transferring files
\t-hold-codes\t\tShow the oldest held job of each hold code
\t-autocluster\t\tShow the groups of jobs that match alike
\t-totals\t\t\tShow only the totals
\t-wide\t\t\tDo not cut lines to the screen width
\t-limit <num>\t\tShow at most <num> jobs
\t-global\t\t\tQuery every schedd of the pool
\t-submitter <name>\tShow the jobs of <name> in every schedd
\t-userlog <file>\t\tRead the jobs from an event log instead of a schedd
\t-unmatchable\t\tShow only jobs that match no slot
\t-version\t\tPrint the version and platform
    [analyze-opts] are
\t-analyze[:<qual>]\tExplain why jobs do not run
\t-better-analyze[:<qual>] The same, clause by clause (reverse: analyze slots)
\t-reverse-analyze\tAnalyze the slots' requirements against the jobs
\t-machine <name>\t\tThe machine or slot to analyze
"""


# --- cell helpers --------------------------------------------------------------------------

def job_id(ad: Any) -> tuple[int, int]:
    if isinstance(ad, BatchFacts):
        return ad.cluster, ad.proc
    if isinstance(ad, Batch):
        return ad.first.cluster, ad.first.proc
    if hasattr(ad, "lookup"):  # a ClassAd: its plain integer ids, read directly
        cluster, proc = ad.lookup("ClusterId"), ad.lookup("ProcId")
        if cluster is not None and proc is not None and cluster.const and proc.const \
                and type(cluster.value) is int and type(proc.value) is int:
            return cluster.value, proc.value
    return int_of(ad, "ClusterId"), int_of(ad, "ProcId")


def sort_jobs(jobs: list[Any]) -> list[Any]:
    return sorted(jobs, key=job_id)


def _run_time(cumulative: bool) -> Function:
    """CPU_TIME as condor_q shows it: the current run (ServerTime - ShadowBday) while running,
    else the last run's wall clock; blank when the ad has no RemoteUserCpu."""
    def render(ad: Any, _expr: str = "") -> str | None:
        if is_undefined(evaluate(ad, "RemoteUserCpu")):
            return None
        status = int_of(ad, "JobStatus")
        seconds = 0.0
        if status in (RUNNING, TRANSFERRING_OUTPUT, SUSPENDED):
            bday = number_of(ad, "ShadowBday")
            now = number_of(ad, "ServerTime")
            if bday is not None:
                seconds = max(0.0, (now if now is not None else time.time()) - bday)
            if cumulative:
                seconds += number_of(ad, "RemoteWallClockTime") or 0
        elif cumulative:
            seconds = number_of(ad, "RemoteWallClockTime") or 0
        else:
            seconds = number_of(ad, "LastRemoteWallClockTime") or 0
        return format_time(seconds)
    return render


def _cpu_time(ad: Any, _expr: str = "") -> str | None:
    """-cputime: user plus system CPU seconds."""
    user = number_of(ad, "RemoteUserCpu")
    if user is None:
        return None
    return format_time(user + (number_of(ad, "RemoteSysCpu") or 0))


def local_functions(cumulative: bool = False, cputime: bool = False) -> dict[str, Function]:
    """condor_q's own PRINTAS functions (CPU_TIME follows -cumulative-time and -cputime)."""
    return {"CPU_TIME": _cpu_time if cputime else _run_time(cumulative)}


# --- the table views, in the print-format language (shared/print_format.py) ---------------

_JOB_COLUMNS = """\
SELECT
   ClusterId     AS ' ID'          NOSUFFIX WIDTH 5 FIT  PRINTF '%4d.'
   ProcId        AS ' '            NOPREFIX WIDTH 3 FIT  PRINTF '%-3d'
   Owner         AS OWNER          WIDTH -14            PRINTAS OWNER
"""
_RUN_COLUMNS = _JOB_COLUMNS + """\
   QDate         AS '  SUBMITTED'  WIDTH 11             PRINTAS QDATE
   RemoteUserCpu AS '    RUN_TIME' WIDTH 12             PRINTAS CPU_TIME
"""
VIEWS = {
    "nobatch": _RUN_COLUMNS + """\
   JobStatus     AS ST                                  PRINTAS JOB_STATUS
   JobPrio       AS PRI                                 PRINTF %d
   ImageSize     AS SIZE           WIDTH 4              PRINTAS MEMORY_USAGE
   Cmd           AS CMD            WIDTH 0              PRINTAS JOB_DESCRIPTION
SUMMARY STANDARD
""",
    "run": _RUN_COLUMNS + """\
   RemoteHost    AS 'HOST(S)'      WIDTH 0              PRINTAS REMOTE_HOST
SUMMARY NONE
""",
    "idle": _JOB_COLUMNS + """\
   JobUniverse?:0 AS 'UNIVERSE '   WIDTH 0              PRINTAS JOB_UNIVERSE
   RequestCpus   AS CPUS           WIDTH 0              PRINTF %4d
   RequestMemory AS MEMORY         WIDTH 0              PRINTF %6d
   NumShadowStarts?:0 AS STARTS    WIDTH 0              PRINTF %6d
   LastRemoteHost AS LAST_HOST     WIDTH 0              PRINTF %s
SUMMARY NONE
""",
    "io": _JOB_COLUMNS + """\
   NumJobStarts  AS RUNS           WIDTH 0              PRINTF %4d
   JobStatus     AS ST                                  PRINTAS JOB_STATUS
   BytesRecvd    AS ' INPUT'       WIDTH 0              PRINTAS READABLE_BYTES
   BytesSent     AS ' OUTPUT'      WIDTH 0              PRINTAS READABLE_BYTES
   BytesRecvd + BytesSent AS ' RATE' WIDTH 10           PRINTAS READABLE_BYTES
   ""            AS MISC           WIDTH 0
SUMMARY STANDARD
""",
    "hold": _JOB_COLUMNS + """\
   EnteredCurrentStatus AS HELD_SINCE WIDTH 11          PRINTAS QDATE
   HoldReasonCode AS CODE NOSUFFIX WIDTH 4              PRINTF %4d
   HoldReasonSubCode AS '/SUB' NOPREFIX WIDTH -4        PRINTF '/%-3d'
   HoldReason    AS HOLD_REASON    WIDTH 0              PRINTF %s
SUMMARY STANDARD
""",
}


def view_format(view: str, cputime: bool = False) -> PrintFormat:
    """A built-in view as a print format; -cputime heads the time column CPU_TIME."""
    text = VIEWS[view]
    if cputime:
        text = text.replace("'    RUN_TIME'", "'    CPU_TIME'")
    return parse_print_format(text, f"condor_q {view} view", functions=local_functions())


HOLD_CODES_VIEW = """\
SELECT
   Owner          AS OWNER          WIDTH -14           PRINTAS OWNER
   HoldReasonCode AS CODE           NOSUFFIX WIDTH 0    PRINTF %4d
   HoldReasonSubCode AS '/SUB'      NOPREFIX WIDTH 0    PRINTF '/%-3d'
   JobCount       AS '   COUNT '    WIDTH 0             PRINTF %9d
   ClusterId      AS OLDEST_JOB_ID  WIDTH 0             PRINTAS JOB_ID
   EnteredCurrentStatus AS HELD_SINCE WIDTH 11          PRINTAS QDATE
   HoldReason     AS HOLD_REASON    WIDTH 0             PRINTF %s
GROUP BY
   HoldReasonCode
   HoldReasonSubCode
SUMMARY NONE
"""


def group_row(group: list[Any], number: int = 0) -> Any:
    """One row for a group of jobs: the first job's attributes, with JobCount, JobIDs (the
    jobs' ids, blank-separated) and AutoClusterId (`number`)."""
    from condorsim.shared.classad import ClassAd
    row = ClassAd({name: group[0].lookup(name) for name in group[0].keys()})
    row["AutoClusterId"] = number
    row["JobCount"] = len(group)
    row["JobIDs"] = " ".join("%d.%d" % job_id(job) for job in group)
    return row


def render_hold_codes(jobs: list[Any]) -> str:
    """`-hold-codes`: the oldest held job of each (code, subcode), with how many share it."""
    groups: dict[tuple[int, int], list[Any]] = {}
    for job in sort_jobs([j for j in jobs if int_of(j, "JobStatus") == HELD]):
        code = (int_of(job, "HoldReasonCode"), int_of(job, "HoldReasonSubCode"))
        groups.setdefault(code, []).append(job)
    fmt = parse_print_format(HOLD_CODES_VIEW, "condor_q hold-codes view")
    return fmt.render(fmt.sort([group_row(groups[key]) for key in sorted(groups)]))


_AUTOCLUSTER_ATTRS = ("JobUniverse", "RequestCpus", "RequestMemory", "RequestDisk", "Requirements")


def _unparsed(ad: Any, attr: str) -> str:
    from condorsim.shared.classad import unparse
    expr = ad.lookup(attr)
    return unparse(expr.node) if expr is not None else ""


def autoclusters(jobs: list[Any]) -> list[tuple[int, list[Any]]]:
    """Jobs grouped as the negotiator matches them alike: by the schedd's AutoClusterId when
    the ads carry one, else by the same requests and requirements (numbered from 1)."""
    groups: dict[Any, list[Any]] = {}
    for job in sort_jobs(jobs):
        key = evaluate(job, "AutoClusterId")
        if is_undefined(key):
            key = tuple(_unparsed(job, a) for a in _AUTOCLUSTER_ATTRS)
        groups.setdefault(key, []).append(job)
    return [(key if isinstance(key, int) else n, group)
            for n, (key, group) in enumerate(groups.items(), start=1)]


def render_autocluster(jobs: list[Any]) -> str:
    """`-autocluster`: one line per group of jobs that match alike."""
    columns = [
        Column("   ID", lambda g: "%5d" % g[0], width=5),
        Column("COUNT", lambda g: "%5d" % len(g[1]), width=5),
        Column("UNIVERSE", lambda g: UNIVERSE_NAMES.get(int_of(g[1][0], "JobUniverse"), "Unknown"), width=8),
        Column("CPUS", lambda g: number_cell("RequestCpus", "%4d")(g[1][0]), width=4),
        Column("MEMORY", lambda g: number_cell("RequestMemory", "%6d")(g[1][0]), width=6),
        Column("    DISK", lambda g: number_cell("RequestDisk", "%8d")(g[1][0]), width=8),
        Column("REQUIREMENTS", lambda g: _unparsed(g[1][0], "Requirements")),
    ]
    return _render_columns(columns, autoclusters(jobs))


def _render_columns(columns: list[Column], items: list[Any]) -> str:
    """Heading and one line per item (a job, or a batch)."""
    table = Table(columns)
    rows = table.render(items)
    return "".join(line + "\n" for line in [table.heading()] + rows)


def render_view(view: str, jobs: list[Any], cumulative: bool = False, cputime: bool = False) -> str:
    """A print-format view of the jobs: heading + one line per job, in job id order."""
    return view_format(view, cputime).render(sort_jobs(jobs), local_functions(cumulative, cputime))


def render_nobatch(jobs: list[Any], cumulative: bool = False) -> str:
    """`-nobatch`: heading + one line per job."""
    return render_view("nobatch", jobs, cumulative)


def render_run(jobs: list[Any], cumulative: bool = False) -> str:
    """`-run`: heading + one line per running (or suspended, or transferring) job with its slot."""
    running = [j for j in jobs if int_of(j, "JobStatus") in _STATUS_VIEWS["run"]]
    return render_view("run", running, cumulative)


def render_hold(jobs: list[Any]) -> str:
    """`-hold`: heading + one line per held job with its hold reason."""
    return render_view("hold", [j for j in jobs if int_of(j, "JobStatus") == HELD])


# --- batch view ----------------------------------------------------------------------------

EMPTY_BATCH_HEADING = ("OWNER BATCH_NAME      SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL "
                       "JOB_IDS")


class BatchFacts(NamedTuple):
    """What the batch view reads of a job."""
    cluster: int
    proc: int
    owner: str
    batch_name: str | None
    qdate: int | float | None
    status: int
    total_procs: int | float | None


def batch_facts(job: Any) -> BatchFacts:
    """A job's BatchFacts, from a job ad, or quickly from its (projected) wire form when that
    holds plain integer and string literals."""
    if type(job) is BatchFacts:
        return job
    if type(job) is dict:
        owner = job.get("Owner", "")
        if "JobBatchName" not in job and owner[:1] == '"' and owner[-1:] == '"' and "\\" not in owner:
            try:
                return BatchFacts(int(job["ClusterId"]), int(job["ProcId"]), owner[1:-1], None, int(job["QDate"]),
                                  int(job["JobStatus"]), int(job["TotalSubmitProcs"]))
            except (KeyError, ValueError):
                pass
        job = _to_ad(job)  # anything else: as the ad evaluates it
    return BatchFacts(int_of(job, "ClusterId"), int_of(job, "ProcId"), string_of(job, "Owner") or "",
                      string_of(job, "JobBatchName"), number_of(job, "QDate"), int_of(job, "JobStatus"),
                      number_of(job, "TotalSubmitProcs"))


class Batch:
    """Jobs sharing an owner and a batch name (JobBatchName, else their cluster), as the batch
    view needs them: counted as they come, so no job is kept."""

    def __init__(self, owner: str, name: str):
        self.owner, self.name = owner, name
        self.size = 0
        self.statuses: dict[int, int] = {}
        self.totals: dict[int, int | float | None] = {}  # cluster -> its TotalSubmitProcs
        self.first: BatchFacts | None = None  # the lowest job id, and the highest
        self.last: BatchFacts | None = None

    def add(self, job: BatchFacts) -> None:
        self.size += 1
        self.statuses[job.status] = self.statuses.get(job.status, 0) + 1
        self.totals.setdefault(job.cluster, job.total_procs)
        if self.first is None or job < self.first:
            self.first = job
        if self.last is None or job > self.last:
            self.last = job

    def count(self, *statuses: int) -> int:
        return sum(self.statuses.get(status, 0) for status in statuses)

    def total(self) -> int | None:
        """TotalSubmitProcs summed over the batch's clusters; None if any cluster lacks it."""
        if any(v is None for v in self.totals.values()):
            return None
        return int(sum(self.totals.values()))  # type: ignore[arg-type]

    def job_ids(self) -> str:
        first, last = (self.first.cluster, self.first.proc), (self.last.cluster, self.last.proc)
        if first == last:
            return "%d.%d" % first
        if first[0] == last[0]:
            return "%d.%d-%d" % (first[0], first[1], last[1])
        return "%d.%d ... %d.%d" % (first + last)


def batches(jobs: Iterable[Any], found: dict | None = None) -> list[Batch]:
    """The batches of `jobs` (ads, wire forms, BatchFacts, or Batches already counted), in the
    order of their lowest job id; `found` carries the batches across calls."""
    found = {} if found is None else found
    for job in jobs:
        if type(job) is Batch:
            found[job.owner, job.name] = job
            continue
        job = batch_facts(job)
        name = job.batch_name or "ID: %d" % job.cluster
        batch = found.get((job.owner, name))
        if batch is None:
            batch = found[job.owner, name] = Batch(job.owner, name)
        batch.add(job)
    return sorted(found.values(), key=lambda batch: batch.first)


def _count_cell(number: int | None) -> str:
    return "_" if not number else "%6d" % number


def render_batch(jobs: list[Any]) -> str:
    """The default batch view: heading + one line per batch."""
    if not jobs:
        return EMPTY_BATCH_HEADING + "\n"
    groups = batches(jobs)
    owners = [len(b.owner) for b in groups]
    owner_width = 8 if max(owners) < 5 else max(owners)
    name_width = max([10] + [len(b.name) for b in groups])
    show_hold = any(b.count(HELD) for b in groups)

    def done(b: Batch) -> str:
        total = b.total()
        return _count_cell(None if total is None else total - b.size)

    columns = [
        Column("OWNER", lambda b: b.owner, width=owner_width),
        Column("BATCH_NAME", lambda b: b.name, width=name_width),
        Column("   SUBMITTED", lambda b: None if b.first.qdate is None else format_date(b.first.qdate),
               width=12, right=True),
        Column("  DONE", done, width=6, right=True),
        Column("  RUN ", lambda b: _count_cell(b.count(RUNNING, TRANSFERRING_OUTPUT)), width=6,
               right=True),
        Column("  IDLE", lambda b: _count_cell(b.count(IDLE, SUSPENDED)), width=6, right=True),
    ]
    if show_hold:
        columns.append(Column("  HOLD", lambda b: _count_cell(b.count(HELD)), width=6,
                              right=True))
    columns += [
        Column(" TOTAL", lambda b: _count_cell(b.total()), width=6, right=True),
        Column("JOB_IDS", Batch.job_ids),
    ]
    return _render_columns(columns, groups)


# --- title and summary ---------------------------------------------------------------------

def address_summary(sinful: str) -> str:
    """`<127.0.0.1:9618?addrs=...>` -> `<127.0.0.1:9618?...` (as HTCondor's title shows it)."""
    if "?" in sinful:
        return sinful[:sinful.index("?")] + "?..."
    return sinful


def render_title(schedd_name: str, schedd_address: str, now: float | None = None) -> str:
    stamp = time.strftime("%m/%d/%y %H:%M:%S", time.localtime(now if now is not None else
                                                                time.time()))
    return f"\n\n-- Schedd: {schedd_name} : {address_summary(schedd_address)} @ {stamp}\n"


_COUNTS = ("Completed", "Removed", "Idle", "Running", "Held", "Suspended")


def _summary_counts(summary: Any, prefix: str) -> str:
    jobs = int_of(summary, prefix + "Jobs")
    counts = [int_of(summary, prefix + name) for name in _COUNTS]
    return ("%d jobs; %d completed, %d removed, %d idle, %d running, %d held, %d suspended"
            % (jobs, *counts))


def render_summary(summary: Any, allusers: bool = False, old_style: bool = False) -> str:
    """The lines after the jobs: query totals, the caller's totals when the schedd restricted
    the query to them, and all users' totals."""
    if old_style:
        return "\n" + _summary_counts(summary, "") + "\n"
    lines = ["Total for query: " + _summary_counts(summary, "")]
    my_name = string_of(summary, "MyName")
    if my_name and not allusers:
        lines.append(f"Total for {my_name}: " + _summary_counts(summary, "My"))
    lines.append("Total for all users: " + _summary_counts(summary, "Allusers"))
    return "\n" + " \n".join(lines) + "\n\n"


# views printed without the summary lines (HTCondor's SUMMARY NONE)
_NO_SUMMARY = {"run", "idle", "hold-codes", "autocluster"}


def render_queue(view: str, jobs: list[Any], summary: Any, schedd_name: str,
                 schedd_address: str, now: float | None = None, allusers: bool = False,
                 old_summary: bool = False, cumulative: bool = False, cputime: bool = False,
                 label: str | None = None, print_format: PrintFormat | None = None) -> str:
    """The complete output of a table view ("batch", "nobatch", "run", "hold", "idle", "io",
    "hold-codes", "autocluster", "totals") or of a -print-format file; `label` replaces the
    schedd title line."""
    title = render_title(schedd_name, schedd_address, now) if label is None else f"\n\n-- {label}\n"
    if print_format is not None:
        body = print_format.render(print_format_rows(print_format, jobs),
                                   local_functions(cumulative, cputime))
        out = ("" if print_format.notitle else title) + body
        if print_format.summary:
            out += render_summary(summary, allusers, old_summary)
        return out
    if view in VIEWS:
        if view in _STATUS_VIEWS:
            jobs = [j for j in jobs if int_of(j, "JobStatus") in _STATUS_VIEWS[view]]
        body = render_view(view, jobs, cumulative, cputime and view == "nobatch")
    else:
        body = {"batch": lambda: render_batch(jobs),
                "hold-codes": lambda: render_hold_codes(jobs),
                "autocluster": lambda: render_autocluster(jobs),
                "totals": lambda: ""}[view]()
    out = title + body
    if view == "totals":
        out += render_summary(summary, allusers, old_summary)[1:]
    elif view not in _NO_SUMMARY:
        out += render_summary(summary, allusers, old_summary)
    return out


def print_format_rows(fmt: PrintFormat, jobs: list[Any]) -> list[Any]:
    """What a print format's lines show: the jobs, or with SELECT FROM AUTOCLUSTER one ad per
    autocluster, with SELECT UNIQUE one ad per distinct set of the columns' values (the first
    job's attributes plus JobCount and JobIDs); in GROUP BY order, else in job id order."""
    jobs = sort_jobs(jobs)
    if fmt.select_from == "AUTOCLUSTER" or fmt.unique:
        if fmt.unique:
            exprs = [spec.expr for spec in fmt.columns if spec.expr not in ("JobCount", "JobIDs")]
            exprs += [expr for expr, _ in fmt.group_by]
            groups: dict[Any, list[Any]] = {}
            for job in jobs:
                key = tuple(repr(evaluate(job, expr)) for expr in exprs)
                groups.setdefault(key, []).append(job)
            numbered = list(enumerate(groups.values(), start=1))
        else:
            numbered = autoclusters(jobs)
        jobs = [group_row(group, number) for number, group in numbered]
    return fmt.sort(jobs) if fmt.group_by else jobs


def render_ads(jobs: list[Any], opts: "Options") -> str:
    """The ad-oriented outputs: -long, -json, -af, -format (no title, no summary)."""
    return _render_ads(sort_jobs(jobs), opts)


# --- command line ---------------------------------------------------------------------------

# the table views' options and the letters each needs (no other option shares their prefixes)
VIEW_OPTIONS = (("nobatch", 3), ("batch", 1), ("run", 1), ("hold", 2), ("idle", 3), ("io", 2),
                ("totals", 3), ("autocluster", 2))
# views that pick jobs by their status; -nobatch/-batch do not undo them, whatever the order
_STATUS_VIEWS = {"run": (RUNNING, TRANSFERRING_OUTPUT, SUSPENDED), "hold": (HELD,), "idle": (IDLE,),
                 "hold-codes": (HELD,)}


class Options(QueryOptions):
    print_format_missing = "Error: -print-format requires a filename argument"
    print_format_truncates = True
    print_format_aggregates = True
    print_functions = local_functions()

    def __init__(self) -> None:
        super().__init__()
        self.view = "batch"
        self.allusers = False
        self.cumulative = False
        self.restrictions: list[str] = []
        self.name: str | None = None
        self.cputime = False
        self.analyze: str | None = None     # "analyze" | "better" | "reverse"
        self.machine: str | None = None
        self.limit: int | None = None
        self.global_query = False
        self.submitter: str | None = None
        self.userlog: str | None = None
        self.unmatchable = False
        self.version = False

    def take_word(self, arg: str) -> None:
        self.restrictions.append(arg)

    def take_own(self, argv: list[str], i: int) -> int:
        arg = argv[i]
        head, _, qualifier = arg.partition(":")
        view = which_arg(arg, VIEW_OPTIONS)
        if view is not None:
            if not (view in ("batch", "nobatch") and self.view in _STATUS_VIEWS):
                self.view = view
        elif is_arg(head, "hold-codes", 6) or is_arg(head, "holdcodes", 5):
            self.view = "hold-codes"
        elif is_arg(head, "better-analyze", 2) or is_arg(head, "better-analyse", 2):
            self.analyze = "reverse" if "reverse" in qualifier.split(",") else "better"
        elif is_arg(head, "analyze", 2) or is_arg(head, "analyse", 2):
            self.analyze = "reverse" if "reverse" in qualifier.split(",") else "analyze"
        elif is_arg(head, "reverse-analyze", 3):
            self.analyze = "reverse"
        elif is_arg(arg, "machine", 2):
            self.machine = option_value(argv, i)
            return i + 2
        elif is_arg(arg, "cputime", 2):
            self.cputime = True
        elif is_arg(arg, "currentrun", 3):
            self.cumulative = False
        elif is_arg(head, "wide", 1):
            pass                  # piped output is never cut to the screen anyway
        elif is_arg(arg, "limit", 3):
            text = option_value(argv, i)
            if not text.isdigit():
                raise UsageError(f"Error: -limit requires a number, not {text}")
            self.limit = int(text)
            return i + 2
        elif is_arg(arg, "global", 1):
            self.global_query = True
        elif is_arg(arg, "submitter", 1):
            self.submitter = option_value(argv, i)
            return i + 2
        elif is_arg(arg, "userlog", 1):
            self.userlog = option_value(argv, i)
            return i + 2
        elif is_arg(head, "unmatchable", 5):
            self.unmatchable = True
        elif is_arg(arg, "version", 1):
            self.version = True
        elif is_arg(arg, "allusers", 2):
            self.allusers = True
        elif is_arg(arg, "cumulative-time", 2):
            self.cumulative = True
        elif is_arg(arg, "name", 1):
            self.name = option_value(argv, i)
            return i + 2
        else:
            raise UsageError(f"Error: unrecognized option {arg}")
        return i + 1


def parse_args(argv: list[str]) -> Options:
    return Options().parse(argv)


def restriction_constraint(restrictions: list[str]) -> str | None:
    """`42` -> cluster, `42.3` -> job, anything else -> owner.  Job ids are ORed, owners are
    ORed, and the two groups are ANDed (`condor_q alice 42` = alice's jobs of cluster 42)."""
    ids, owners = [], []
    for item in restrictions:
        if re.fullmatch(r"\d+", item):
            ids.append(f"ClusterId == {int(item)}")
        elif re.fullmatch(r"\d+\.\d+", item):
            cluster, proc = item.split(".")
            ids.append(f"(ClusterId == {int(cluster)} && ProcId == {int(proc)})")
        else:
            owners.append(f'Owner == "{_escaped(item)}"')
    groups = ["(" + " || ".join(g) + ")" for g in (owners, ids) if g]
    return " && ".join(groups) if groups else None


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def build_constraint(opts: Options) -> str | None:
    selection = restriction_constraint(opts.restrictions)
    statuses = _STATUS_VIEWS.get(opts.view)
    if statuses:       # as HTCondor, -run/-hold/-idle put the status into the query itself
        picked = " || ".join(f"JobStatus == {status}" for status in statuses)
        selection = join_constraints([picked], selection)
    if opts.submitter:
        selection = join_constraints([f'Owner == "{_escaped(opts.submitter)}"'], selection)
    return join_constraints(opts.constraints, selection)


def _to_ad(wire: Any) -> Any:
    from condorsim.shared.classad import ClassAd
    if isinstance(wire, ClassAd):
        return wire
    return ClassAd.from_wire(wire)


# what the default (batch) view reads of a job
BATCH_VIEW_ATTRIBUTES = ["ClusterId", "ProcId", "Owner", "JobBatchName", "QDate", "JobStatus", "TotalSubmitProcs"]
QUERY_BATCH = 5000     # job ads per reply: the schedd streams them, each batch asked for in turn
QUERY_TIMEOUT = 60.0   # seconds one batch may take (each is bounded work for the schedd)


def query_projection(opts: "Options") -> list[str] | None:
    """The attributes this run needs of each job (None: all): the schedd sends only those."""
    if opts.analyze is not None or opts.unmatchable or opts.print_format is not None:
        return None  # (a print-format file's columns may read anything)
    if opts.ad_output:
        if opts.long or opts.json:
            return opts.attributes
        from condorsim.shared.classad import ClassAdSyntaxError, parse_expr
        items = opts.autoformat.items if opts.autoformat is not None else [expr for _, expr in opts.formats]
        try:
            return sorted(set().union(*(parse_expr(item).external_refs() for item in items)))
        except (ValueError, ClassAdSyntaxError):
            return None
    return BATCH_VIEW_ATTRIBUTES if opts.view == "batch" and not opts.cputime else None


def fetch_jobs(client: Any, constraint: str | None, owner: str | None, opts: "Options") -> tuple[list[Any], Any]:
    """The schedd's jobs for this query (projected) and its summary ad, read in batches."""
    jobs: list[Any] = []
    summary: dict = {}
    projection = query_projection(opts)
    counted: dict | None = {} if projection is BATCH_VIEW_ATTRIBUTES and opts.limit is None else None
    for reply in client.stream("QUERY_JOBS", "QUERY_MORE", constraint=constraint, owner=owner,
                               projection=projection, batch=QUERY_BATCH,
                               summary_only=opts.view == "totals" and not opts.ad_output):
        if counted is not None:  # the batch view counts each batch as it comes: no job is kept
            batches(reply.get("jobs", []), counted)
        else:
            jobs += map(batch_facts if projection is BATCH_VIEW_ATTRIBUTES else _to_ad, reply.get("jobs", []))
        summary = reply.get("summary") or summary
    return (jobs if counted is None else batches((), counted)), _to_ad(summary)


def _schedd_name(cfg: Any, address: str, wanted: str | None) -> str:
    """The schedd's Name from its ad in the collector (falls back to the requested name)."""
    from condorsim.shared.locate import query_ads
    try:
        ads = query_ads(cfg, "Scheduler")
    except Exception:
        ads = []
    for ad in ads:
        name = string_of(ad, "Name")
        if wanted and name == wanted:
            return name
        if not wanted and string_of(ad, "MyAddress") == address:
            return name or address
    if wanted:
        return wanted
    return socket.getfqdn()


# event number -> the JobStatus it leaves a job in (condor_q -userlog)
_EVENT_STATUS = {0: IDLE, 1: RUNNING, 4: IDLE, 5: COMPLETED, 9: REMOVED, 12: HELD, 13: IDLE}
_EVENT = re.compile(r"^(\d{3}) \((\d+)\.(\d+)\.\d+\) (\S+ \S+) ")


def jobs_from_userlog(path: str) -> list[Any]:
    """Job ads rebuilt from an event log: ids, submit time and the status its events leave."""
    from condorsim.shared.classad import ClassAd
    jobs: dict[tuple[int, int], Any] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _EVENT.match(line)
            if not m:
                continue
            event, cluster, proc = int(m.group(1)), int(m.group(2)), int(m.group(3))
            ad = jobs.get((cluster, proc))
            if ad is None:
                ad = jobs[(cluster, proc)] = ClassAd({"ClusterId": cluster, "ProcId": proc,
                                                      "JobStatus": IDLE, "Owner": "",
                                                      "QDate": _event_time(m.group(4)),
                                                      "RemoteUserCpu": 0.0, "JobPrio": 0,
                                                      "ImageSize": 0, "Cmd": ""})
            if event in _EVENT_STATUS:
                ad["JobStatus"] = _EVENT_STATUS[event]
                ad["EnteredCurrentStatus"] = _event_time(m.group(4))
    return list(jobs.values())


def summary_of(jobs: list[Any]) -> Any:
    """A summary ad counted from the jobs themselves (for jobs read from an event log)."""
    from condorsim.shared.classad import ClassAd
    statuses = [int_of(j, "JobStatus") for j in jobs]
    counts = {"Jobs": len(jobs)}
    for name, status in zip(_COUNTS, (COMPLETED, REMOVED, IDLE, RUNNING, HELD, SUSPENDED)):
        counts[name] = statuses.count(status)
    return ClassAd({prefix + name: value for prefix in ("", "Allusers") for name, value in counts.items()})


def _event_time(text: str) -> int:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%m/%d %H:%M:%S"):
        try:
            stamp = time.strptime(text, fmt)
        except ValueError:
            continue
        if fmt.startswith("%m"):
            stamp = time.strptime(f"{time.localtime().tm_year}/{text}", "%Y/" + fmt)
        return int(time.mktime(stamp))
    return 0


def _matches_no_slot(job: Any, slots: list[Any]) -> bool:
    from condorsim.shared.classad import symmetric_match
    return not any(symmetric_match(job, slot) for slot in slots)


def _slots(cfg: Any, machine: str | None) -> list[Any]:
    from condorsim.shared.locate import query_ads
    constraint = None
    if machine:
        name = _escaped(machine)
        constraint = f'Name == "{name}" || Machine == "{name}"'
    return sorted(query_ads(cfg, "Machine", constraint),
                  key=lambda ad: (string_of(ad, "Machine") or "", string_of(ad, "Name") or ""))


def render_analysis(opts: Options, jobs: list[Any], slots: list[Any], label: str,
                    user: str | None) -> str:
    """-analyze / -better-analyze[:reverse] output for one source of jobs."""
    from condorsim.scripts.job_analysis import analyse_job, analyse_slot, reverse_table
    out = f"\n\n-- {label}\n"
    jobs = sort_jobs(jobs)
    if opts.analyze == "reverse":
        if len(slots) == 1:
            return out + analyse_slot(slots[0], jobs)
        return out + (reverse_table(slots, jobs) if slots else "")
    for job in jobs:
        out += analyse_job(job, slots, opts.analyze == "better", user)
    return out


def _sources(cfg: Any, opts: Options) -> list[tuple[str, str]]:
    """(schedd name, address) of each schedd to ask: one, or all of them (-global/-submitter)."""
    from condorsim.shared.locate import query_ads, schedd_address
    if not (opts.global_query or opts.submitter):
        address = schedd_address(cfg, opts.name)
        return [(_schedd_name(cfg, address, opts.name), address)]
    found = []
    for ad in query_ads(cfg, "Scheduler"):
        found.append((string_of(ad, "Name") or "", string_of(ad, "MyAddress") or ""))
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, constraint = read_query_command_line(argv, parse_args, build_constraint, USAGE,
                                                   "Error: invalid constraint expression")
        if opts.version:
            from condorsim.scripts.condor_version import version_lines
            sys.stdout.write(version_lines())
            return 0
        cfg = load_query_config()
    except ToolExit as stop:
        return stop.status

    from condorsim.shared.classad import eval_constraint
    from condorsim.shared.protocol import Client, CommunicationError, RemoteError, reachable

    only_mine = _config_bool(cfg, "CONDOR_Q_ONLY_MY_JOBS", True)
    owner = None
    if only_mine and not opts.allusers and not opts.restrictions and not opts.submitter \
            and not opts.userlog:
        owner = getpass.getuser()
    if opts.userlog:
        try:
            sources = [(f"Userlog: {opts.userlog}", jobs_from_userlog(opts.userlog), None, "")]
        except OSError as err:
            print(f"Error reading user log {opts.userlog}: {err.strerror}", file=sys.stderr)
            return 1
        label, jobs, _, _ = sources[0]
        jobs = [j for j in jobs if constraint is None or eval_constraint(constraint, j)]
        sources = [(label, jobs, summary_of(jobs), "")]
    else:
        sources = []
        try:
            for name, address in _sources(cfg, opts):
                label = (f"Submitter: {opts.submitter} : {address_summary(address)} : {name}"
                         if opts.submitter else f"Schedd: {name} : {address_summary(address)}")
                # a schedd that takes the connection gets long to answer each batch; a stale address fails soon
                timeout = QUERY_TIMEOUT if reachable(address) else 5.0
                jobs, summary = fetch_jobs(Client(address, timeout=timeout), constraint, owner, opts)
                sources.append((label, jobs, summary, address))
        except (CommunicationError, RemoteError) as err:
            where = f"schedd {opts.name}" if opts.name else "the local schedd"
            print(f"\n-- Failed to fetch ads from: {where}\n{err}", file=sys.stderr)
            return 1

    need_slots = opts.analyze is not None or opts.unmatchable
    slots = _slots(cfg, opts.machine) if need_slots else []
    for label, jobs, summary, address in sources:
        jobs = sort_jobs(jobs)
        if opts.unmatchable:
            jobs = [j for j in jobs if _matches_no_slot(j, slots)]
        if opts.limit is not None:
            jobs = jobs[:opts.limit]
        if opts.analyze is not None:
            sys.stdout.write(render_analysis(opts, jobs, slots, label, owner or getpass.getuser()))
        elif opts.ad_output:
            sys.stdout.write(render_ads(jobs, opts))
        else:
            stamp = time.strftime(" @ %m/%d/%y %H:%M:%S")
            sys.stdout.write(render_queue(
                opts.view, jobs, summary, "", address,
                allusers=opts.allusers or owner is None,
                old_summary=_config_bool(cfg, "CONDOR_Q_SHOW_OLD_SUMMARY", False),
                cumulative=opts.cumulative, cputime=opts.cputime,
                label=label + (stamp if not opts.userlog else ""), print_format=opts.print_format))
    return 0


def _config_bool(cfg: Any, name: str, default: bool) -> bool:
    try:
        value = cfg.get_bool(name)
    except Exception:
        return default
    return default if value is None else bool(value)


if __name__ == "__main__":
    sys.exit(main())
