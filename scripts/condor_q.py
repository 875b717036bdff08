"""condor_q: show the schedd's job queue as HTCondor does (tools.md §2).

Every view is a pure function of job ads (and the schedd's summary ad) returning text:
`render_batch`, `render_nobatch`, `render_run`, `render_hold`, `render_summary`, `render_title`,
and `render_queue` for the whole output.  `main` parses the command line and asks the schedd.
"""
from __future__ import annotations

import getpass
import os
import re
import socket
import sys
import time
from typing import Any

from condorsim.shared.columns import (Column, Table, date_cell, evaluate, format_time, int_of, is_undefined,
                            number_cell, number_of, string_of)
from condorsim.shared.tool_options import (QueryOptions, ToolExit, UsageError, is_arg, join_constraints,
                                 load_query_config, option_value, read_query_command_line,
                                 render_ads as _render_ads, which_arg)

IDLE, RUNNING, REMOVED, COMPLETED, HELD, TRANSFERRING_OUTPUT, SUSPENDED = 1, 2, 3, 4, 5, 6, 7
_STATUS_LETTER = {1: "I", 2: "R", 3: "X", 4: "C", 5: "H", 6: ">", 7: "S", 8: "F", 9: "B"}

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
\t-json\t\t\tDisplay entire classads in JSON
\t-cumulative-time\tShow cumulative run time
"""


# --- cell helpers --------------------------------------------------------------------------

def job_id(ad: Any) -> tuple[int, int]:
    return int_of(ad, "ClusterId"), int_of(ad, "ProcId")


def sort_jobs(jobs: list[Any]) -> list[Any]:
    return sorted(jobs, key=job_id)


def _run_time(cumulative: bool):
    """RUN_TIME: current run (ServerTime - ShadowBday) while running, else the last run's
    wall clock; blank when the ad has no RemoteUserCpu (as HTCondor's CPU_TIME column)."""
    def render(ad: Any) -> str | None:
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


def _status_cell(ad: Any) -> str | None:
    status = number_of(ad, "JobStatus")
    if status is None:
        return None
    text = [_STATUS_LETTER.get(int(status), "?"), " "]
    queued = evaluate(ad, "TransferQueued") is True
    if evaluate(ad, "TransferringInput") is True:
        text = ["<", "q" if queued else " "]
    if evaluate(ad, "TransferringOutput") is True or status == TRANSFERRING_OUTPUT:
        text = ["q" if queued else " ", ">"]
    return "".join(text)


def _size(ad: Any) -> str | None:
    megabytes = number_of(ad, "MemoryUsage")
    if megabytes is None:
        kilobytes = number_of(ad, "ImageSize")
        if kilobytes is None:
            return None
        megabytes = kilobytes / 1024.0
    return "%.1f" % megabytes


def _command(ad: Any) -> str | None:
    cmd = string_of(ad, "Cmd")
    if cmd is None:
        return None
    description = string_of(ad, "JobDescription")
    if description:
        return f"({description})"
    args = string_of(ad, "Arguments")
    if args is None:
        args = string_of(ad, "Args")
    text = os.path.basename(cmd)
    return f"{text} {args}" if args else text


def _remote_host(ad: Any) -> str | None:
    if int_of(ad, "JobUniverse") == 9:  # a grid job: its instance's hostname, else its resource
        return string_of(ad, "EC2RemoteVirtualMachineName") or string_of(ad, "GridResource")
    host = string_of(ad, "RemoteHost")
    if host is None:
        return None
    match = re.match(r"<([^:>?]+)", host)
    if match:  # a sinful string: show the host it names
        try:
            return socket.gethostbyaddr(match.group(1))[0]
        except OSError:
            return match.group(1)
    return host


def _id_columns() -> list[Column]:
    # printf'd numbers are right-aligned when the column outgrows them (HTCondor pads them
    # on the left), so a widened proc column shows ` 0  `
    return [Column(" ID", number_cell("ClusterId", "%4d."), width=5, auto=True, right=True,
                   nosuffix=True),
            Column(" ", number_cell("ProcId", "%-3d"), width=3, auto=True, right=True,
                   noprefix=True)]


def _owner_column() -> Column:
    return Column("OWNER", lambda ad: string_of(ad, "Owner"), width=14, truncate=True)


def nobatch_columns(cumulative: bool = False) -> list[Column]:
    return _id_columns() + [
        _owner_column(),
        Column("  SUBMITTED", date_cell("QDate"), width=11, right=True, truncate=True),
        Column("    RUN_TIME", _run_time(cumulative), width=12, right=True, truncate=True),
        Column("ST", _status_cell, auto=True),
        Column("PRI", number_cell("JobPrio", "%d"), auto=True),
        Column("SIZE", _size, width=4, right=True, truncate=True),
        Column("CMD", _command),
    ]


def run_columns(cumulative: bool = False) -> list[Column]:
    return nobatch_columns(cumulative)[:5] + [Column("HOST(S)", _remote_host)]


def hold_columns() -> list[Column]:
    return _id_columns() + [
        _owner_column(),
        Column("HELD_SINCE", date_cell("EnteredCurrentStatus"), width=11, right=True,
               truncate=True),
        Column("CODE", number_cell("HoldReasonCode", "%4d"), width=4, right=True, truncate=True,
               nosuffix=True),
        Column("/SUB", number_cell("HoldReasonSubCode", "/%-3d"), width=4, truncate=True,
               noprefix=True),
        Column("HOLD_REASON", lambda ad: string_of(ad, "HoldReason")),
    ]


def _render_columns(columns: list[Column], items: list[Any]) -> str:
    """Heading and one line per item (a job, or a batch)."""
    table = Table(columns)
    rows = table.render(items)
    return "".join(line + "\n" for line in [table.heading()] + rows)


def render_nobatch(jobs: list[Any], cumulative: bool = False) -> str:
    """`-nobatch`: heading + one line per job."""
    return _render_columns(nobatch_columns(cumulative), sort_jobs(jobs))


def render_run(jobs: list[Any], cumulative: bool = False) -> str:
    """`-run`: heading + one line per running job with its slot."""
    running = [j for j in jobs if int_of(j, "JobStatus") == RUNNING]
    return _render_columns(run_columns(cumulative), sort_jobs(running))


def render_hold(jobs: list[Any]) -> str:
    """`-hold`: heading + one line per held job with its hold reason."""
    held = [j for j in jobs if int_of(j, "JobStatus") == HELD]
    return _render_columns(hold_columns(), sort_jobs(held))


# --- batch view ----------------------------------------------------------------------------

EMPTY_BATCH_HEADING = ("OWNER BATCH_NAME      SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL "
                       "JOB_IDS")


class Batch:
    """Jobs sharing an owner and a batch name (JobBatchName, else their cluster)."""

    def __init__(self, owner: str, name: str):
        self.owner, self.name = owner, name
        self.jobs: list[Any] = []

    def count(self, *statuses: int) -> int:
        return sum(1 for j in self.jobs if int_of(j, "JobStatus") in statuses)

    def total(self) -> int | None:
        """TotalSubmitProcs summed over the batch's clusters; None if any cluster lacks it."""
        per_cluster: dict[int, int | float | None] = {}
        for job in self.jobs:
            per_cluster.setdefault(int_of(job, "ClusterId"), number_of(job, "TotalSubmitProcs"))
        if any(v is None for v in per_cluster.values()):
            return None
        return int(sum(per_cluster.values()))  # type: ignore[arg-type]

    def job_ids(self) -> str:
        ids = sorted(job_id(j) for j in self.jobs)
        first, last = ids[0], ids[-1]
        if first == last:
            return "%d.%d" % first
        if first[0] == last[0]:
            return "%d.%d-%d" % (first[0], first[1], last[1])
        return "%d.%d ... %d.%d" % (first + last)


def batches(jobs: list[Any]) -> list[Batch]:
    found: dict[tuple[str, str], Batch] = {}
    for job in sort_jobs(jobs):
        owner = string_of(job, "Owner") or ""
        name = string_of(job, "JobBatchName") or "ID: %d" % int_of(job, "ClusterId")
        found.setdefault((owner, name), Batch(owner, name)).jobs.append(job)
    return list(found.values())


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
        return _count_cell(None if total is None else total - len(b.jobs))

    columns = [
        Column("OWNER", lambda b: b.owner, width=owner_width),
        Column("BATCH_NAME", lambda b: b.name, width=name_width),
        Column("   SUBMITTED", lambda b: date_cell("QDate")(b.jobs[0]), width=12, right=True),
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


def render_queue(view: str, jobs: list[Any], summary: Any, schedd_name: str,
                 schedd_address: str, now: float | None = None, allusers: bool = False,
                 old_summary: bool = False, cumulative: bool = False) -> str:
    """The complete output of a table view ("batch", "nobatch", "run", "hold")."""
    body = {"batch": lambda: render_batch(jobs),
            "nobatch": lambda: render_nobatch(jobs, cumulative),
            "run": lambda: render_run(jobs, cumulative),
            "hold": lambda: render_hold(jobs)}[view]()
    out = render_title(schedd_name, schedd_address, now) + body
    if view != "run":
        out += render_summary(summary, allusers, old_summary)
    return out


def render_ads(jobs: list[Any], opts: "Options") -> str:
    """The ad-oriented outputs: -long, -json, -af, -format (no title, no summary)."""
    return _render_ads(sort_jobs(jobs), opts)


# --- command line ---------------------------------------------------------------------------

# the table views' options and the letters each needs (no other option shares their prefixes)
VIEW_OPTIONS = (("nobatch", 3), ("batch", 1), ("run", 1), ("hold", 2))


class Options(QueryOptions):
    def __init__(self) -> None:
        super().__init__()
        self.view = "batch"
        self.allusers = False
        self.cumulative = False
        self.restrictions: list[str] = []
        self.name: str | None = None

    def take_word(self, arg: str) -> None:
        self.restrictions.append(arg)

    def take_own(self, argv: list[str], i: int) -> int:
        arg = argv[i]
        view = which_arg(arg, VIEW_OPTIONS)
        if view is not None:
            self.view = view
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
    """`42` -> cluster, `42.3` -> job, anything else -> owner; alternatives are ORed."""
    parts = []
    for item in restrictions:
        if re.fullmatch(r"\d+", item):
            parts.append(f"ClusterId == {int(item)}")
        elif re.fullmatch(r"\d+\.\d+", item):
            cluster, proc = item.split(".")
            parts.append(f"(ClusterId == {int(cluster)} && ProcId == {int(proc)})")
        else:
            escaped = item.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'Owner == "{escaped}"')
    return "(" + " || ".join(parts) + ")" if parts else None


def build_constraint(opts: Options) -> str | None:
    return join_constraints(opts.constraints, restriction_constraint(opts.restrictions))


def _to_ad(wire: Any) -> Any:
    from condorsim.shared.classad import ClassAd
    if isinstance(wire, ClassAd):
        return wire
    return ClassAd.from_wire(wire)


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, constraint = read_query_command_line(argv, parse_args, build_constraint, USAGE,
                                                   "Error: invalid constraint expression")
        cfg = load_query_config()
    except ToolExit as stop:
        return stop.status

    from condorsim.shared.locate import schedd_address
    from condorsim.shared.protocol import Client, CommunicationError, RemoteError

    only_mine = _config_bool(cfg, "CONDOR_Q_ONLY_MY_JOBS", True)
    owner = None
    if only_mine and not opts.allusers and not opts.restrictions:
        owner = getpass.getuser()
    try:
        address = schedd_address(cfg, opts.name)
        reply = Client(address).call("QUERY_JOBS", constraint=constraint, projection=None,
                                     owner=owner)
    except (CommunicationError, RemoteError) as err:
        where = f"schedd {opts.name}" if opts.name else "the local schedd"
        print(f"\n-- Failed to fetch ads from: {where}\n{err}", file=sys.stderr)
        return 1
    jobs = [_to_ad(w) for w in reply.get("jobs", [])]

    if opts.ad_output:
        sys.stdout.write(render_ads(jobs, opts))
        return 0
    summary = _to_ad(reply.get("summary") or {})
    sys.stdout.write(render_queue(
        opts.view, jobs, summary, _schedd_name(cfg, address, opts.name), address,
        allusers=opts.allusers or owner is None,
        old_summary=_config_bool(cfg, "CONDOR_Q_SHOW_OLD_SUMMARY", False),
        cumulative=opts.cumulative))
    return 0


def _config_bool(cfg: Any, name: str, default: bool) -> bool:
    try:
        value = cfg.get_bool(name)
    except Exception:
        return default
    return default if value is None else bool(value)


if __name__ == "__main__":
    sys.exit(main())
