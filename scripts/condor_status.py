"""condor_status: query the collector and print ads as HTCondor does (tools.md §1).

Each view is a pure function from a list of ClassAds to text (`render_slots`, `render_totals`,
`render_schedds`, ...), so every byte of output is testable without a pool; `main` only parses
the command line, queries the collector and prints.
"""
from __future__ import annotations

import re
import socket
import sys
from typing import Any, Callable

from condorsim.shared.classad import unparse_old
from condorsim.shared.classad.unparse import quote_string
from condorsim.shared.config.detect import cached_host_values, canonical_hostname
from condorsim.shared.columns import (Column, NaturalKey, Table, as_number, evaluate, int_of,
                                      number_of, string_of)
from condorsim.shared.print_format import PrintFormat, parse_print_format, platform
from condorsim.shared.tool_options import (QueryOptions, ToolExit, UsageError, is_arg, join_constraints,
                                 load_query_config, option_value, read_query_command_line,
                                 render_ads, which_arg)

USAGE = """Usage: condor_status [help-opt] [query-opt] [display-opt] [name ...]
    where [query-opt] is one of
\t-any\t\t\tDisplay any resources
\t-collector\t\tDisplay collector daemons
\t-master\t\t\tDisplay daemon master attributes
\t-negotiator\t\tDisplay negotiator attributes
\t-schedd\t\t\tDisplay attributes of schedds
\t-submitters\t\tDisplay information about request submitters
\t-constraint <const>\tAdd constraint on classads
    where [display-opt] is one or more of
\t-long\t\t\tDisplay entire classads
\t-attributes X,Y,...\tAttributes to show in -long
\t-af[:opts] <attr> ...\tPrint attributes or expressions, one ad per line
\t-format <fmt> <attr>\tPrint attribute with a printf format
\t-print-format <file>\tUse <file> to set display attributes and formatting
\t-json\t\t\tDisplay entire classads in JSON
\t-total\t\t\tDisplay totals only
\t-sort <expr>\t\tSort by expression
\t-wide\t\t\tDon't truncate data to fit in 80 columns
"""


# --- cell helpers --------------------------------------------------------------------------

def _activity(ad: Any, _expr: str = "") -> str | None:
    """The slot's Activity, `OCU` for an idle slot its owner's claim holds (ACTIVITY)."""
    activity = string_of(ad, "Activity")
    if activity == "Idle" and evaluate(ad, "OCU") is True:
        return "OCU"
    return activity


# --- sorting -------------------------------------------------------------------------------

def _sort_value(value: Any) -> tuple:
    number = as_number(value)
    if number is not None:
        return (0, number)
    if isinstance(value, str):
        return (1, NaturalKey(value))
    return (2, 0)


def sort_ads(ads: list[Any], sort_exprs: list[str] | None = None) -> list[Any]:
    """Default order: Machine then Name, natural compare; `-sort` expressions replace it."""
    if sort_exprs:
        return sorted(ads, key=lambda ad: tuple(_sort_value(evaluate(ad, e)) for e in sort_exprs))
    return sorted(ads, key=lambda ad: (NaturalKey(string_of(ad, "Machine") or ""),
                                       NaturalKey(string_of(ad, "Name") or "")))


# --- slot views -----------------------------------------------------------------------------

# the constraints of the slot views (PMODE_* in HTCondor); -avail's also serves -compact -avail
AVAIL_CONSTRAINT = 'State == "Unclaimed" && Cpus > 0 && Memory > 0'
CLAIMED_CONSTRAINT = 'State == "Claimed"'
CLAIMED_COMPACT_CONSTRAINT = ('(State == "Claimed" && DynamicSlot =!= true) || '
                              '(NumDynamicSlots isnt undefined && NumDynamicSlots > 0)')


LOCAL_FUNCTIONS = {"ACTIVITY": _activity}

# --- the views, in the print-format language (shared/print_format.py) ----------------------

_NAME = "   Name                                        PRINTF %s         OR ??\n"
_SLOT = """\
SELECT
   Name                    WIDTH -34 FIT       PRINTF %s         OR ??
"""
_PLATFORM = """\
   OpSys                   WIDTH -10           PRINTF %s         OR ??
   Arch                    WIDTH -8            PRINTF %s         OR ??
"""
_LOAD = "   CondorLoadAvg AS LoadAv WIDTH 6 TRUNCATE    PRINTF %.3f       OR ??\n"
_SLOT_VIEWS = {
    "normal": _SLOT + _PLATFORM + """\
   State                                       PRINTF %s         OR ??
   Activity                WIDTH -8            PRINTAS ACTIVITY  OR ??
""" + _LOAD + """\
   Memory AS Mem           WIDTH 6             PRINTF %6d        OR ??
""",
    "claimed": _SLOT + _PLATFORM + _LOAD + """\
   RemoteUser              WIDTH -20           PRINTF %s         OR ??
   ClientMachine           WIDTH -16           PRINTF %s         OR ??
""",
    "server": _SLOT + _PLATFORM + _LOAD + """\
   Memory                  WIDTH 8             PRINTF %8d        OR ??
   Disk                    WIDTH 9             PRINTF %9d        OR ??
   Mips                    WIDTH 7             PRINTF %7d        OR ??
   KFlops                  WIDTH 9             PRINTF %9d        OR ??
""",
    "state": _SLOT + """\
   Cpus AS Cpu                                 PRINTF %s         OR ??
   Memory AS ' Mem'        WIDTH 5             PRINTF %s         OR ??
""" + _LOAD + """\
   KeyboardIdle AS '  KbdIdle' WIDTH 12 TRUNCATE PRINTAS TIME    OR ??
   State                   WIDTH -7            PRINTF %s         OR ??
   EnteredCurrentState AS '  StateTime' WIDTH 12 TRUNCATE PRINTAS ELAPSED_TIME OR ??
   Activity AS Activ                           PRINTF %s         OR ??
   EnteredCurrentActivity AS '  ActvtyTime' WIDTH 12 TRUNCATE PRINTAS ELAPSED_TIME OR -
""",
}
_ACTIVITY_TIME = ("   EnteredCurrentActivity AS '  ActvtyTime' NOPREFIX WIDTH 12 TRUNCATE "
                  "PRINTAS ACTIVITY_TIME OR -\n")
_WIDE_ACTIVITY_TIME = "   EnteredCurrentActivity AS ActivityTime RIGHT PRINTAS ACTIVITY_TIME OR -\n"


def _job_counts(prefix: str, last: str) -> str:
    """Name, Machine, RunningJobs, IdleJobs and one more count (the schedd, submitter and
    collector views); `prefix` goes before the job counts' attribute names."""
    return "SELECT\n" + _NAME + f"""\
   Machine                                     PRINTF %s         OR ??
   {prefix}RunningJobs AS RunningJobs WIDTH 11 PRINTF %11d
   {prefix}IdleJobs AS '  IdleJobs' WIDTH 10   PRINTF %10d
   {last}                  WIDTH 10            PRINTF %10d
"""


_CYCLE = "LastNegotiationCycle"
VIEWS = {
    "schedd": _job_counts("Total", "TotalHeldJobs AS '  HeldJobs'"),
    "submitters": _job_counts("", "HeldJobs AS '  HeldJobs'"),
    "collector": _job_counts("", "HostsTotal"),
    "master": "SELECT\n" + _NAME + """\
   CondorVersion AS Version WIDTH -14          PRINTAS CONDOR_VERSION OR ??
   DetectedCpus AS Cpus    WIDTH 4             PRINTF %4d
   DetectedMemory AS '  Memory' WIDTH 10       PRINTAS READABLE_MB
   DaemonStartTime AS '   Uptime' WIDTH 13     PRINTAS ACTIVITY_TIME
""",
    "negotiator": "SELECT\n" + _NAME + f"""\
   {_CYCLE}End0 AS LastCycleEnd WIDTH 12 PRINTAS DATE
   {_CYCLE}Duration0 AS (Sec) WIDTH 5 FIT PRINTF %.2f
   {_CYCLE}CandidateSlots0 AS '  Slots' WIDTH 7 PRINTF %d
   {_CYCLE}ActiveSubmitterCount0 AS Submitrs WIDTH 8 PRINTF %d
   {_CYCLE}NumSchedulers0 AS Schedds WIDTH 7 PRINTF %d
   {_CYCLE}NumIdleJobs0 AS '   Jobs' WIDTH 7 PRINTF %d
   {_CYCLE}Matches0 AS Matches WIDTH 7 PRINTF %d
   {_CYCLE}Rejections0 AS Rejections WIDTH 10 PRINTF %d
""",
    "any": """\
SELECT
   MyType                  WIDTH -18           PRINTF %s         OR ??
   TargetType ?: "None" AS TargetType WIDTH -18
   Name                    WIDTH -41 FIT       PRINTF %s         OR ??
""",
    # condor_status -run: schedds running jobs (`%Nd` columns as wide as their headings)
    "schedd-run": "SELECT\n" + _NAME + """\
   TotalJobAds AS TotalJobs WIDTH -9           PRINTF %9d
   ShadowsRunning AS Shadows WIDTH -7          PRINTF %7d
   TotalSchedulerJobsRunning AS ActiveDAGs WIDTH -10 PRINTF %10d
   TotalSchedulerJobsIdle AS IdleDAGs WIDTH -8 PRINTF %8d
   RecentJobsCompleted AS RcntDone WIDTH -8    PRINTF %8d
   RecentJobsStarted AS RcntStart WIDTH -9     PRINTF %9d
""",
}


def view_format(text: str) -> PrintFormat:
    return parse_print_format(text, "condor_status view", truncate_fixed=False,
                              functions=LOCAL_FUNCTIONS)


def slot_format(wide: bool = False, view: str = "normal") -> PrintFormat:
    """A slot view: normal (also -avail), claimed (-claimed, -slots -run), state (-state) or
    server (-server); the normal view ends with the activity time."""
    text = _SLOT_VIEWS[view]
    if view == "normal":
        text += _WIDE_ACTIVITY_TIME if wide else _ACTIVITY_TIME
    return view_format(text)


def render_view(fmt: PrintFormat, ads: list[Any]) -> str:
    """Heading, blank line, one row per ad (nothing at all without ads)."""
    return fmt.render(ads, LOCAL_FUNCTIONS, blank_after_heading=True) if ads else ""


def render_table(columns: list[Column], ads: list[Any]) -> str:
    """Heading, blank line, one row per ad (nothing at all without ads)."""
    if not ads:
        return ""
    table = Table(columns)
    rows = table.render(ads)
    return table.heading() + "\n\n" + "".join(row + "\n" for row in rows)


def render_slots(ads: list[Any], wide: bool = False, view: str = "normal") -> str:
    """A slot view (the default `condor_status` output): slot table + its totals block."""
    if not ads:
        return ""
    return render_view(slot_format(wide, view), ads) + render_totals(ads, wide, view)


# --- totals ---------------------------------------------------------------------------------

_STATE_COLUMNS = {"Owner": 1, "Claimed": 2, "Unclaimed": 3, "Matched": 4, "Preempting": 5,
                  "Drained": 6, "Backfill": 7}
_SLOT_HEADER = "%6.6s %5.5s %7.7s %9.9s %7.7s %10.10s %6.6s %8.8s %6.6s" % (
    "Total", "Owner", "Claimed", "Unclaimed", "Matched", "Preempting", "Drain", "Backfill", "BkIdle")
_SLOT_ROW = "%6d %5d %7d %9d %7d %10d %6d %8d %6d"


def state_counts(state: Any, backfill: bool = False, view: str = "normal") -> list[int] | None:
    """What one slot in `state` adds to a state-counting totals table: [Total, Owner, Claimed,
    ..., BkIdle], or in -state's column order with Total never counted (as HTCondor 25 does);
    None when the state is unknown."""
    counts = [0] * 9
    if state == "Unclaimed" and backfill:
        counts[8] = 1
    elif state in _STATE_COLUMNS:
        counts[0] = 1
        counts[_STATE_COLUMNS[state]] = 1
    else:
        return None
    if view == "state":
        counts[0] = 0
        return [counts[n] for n in _STATE_VIEW_ORDER]
    return counts


def _state_adder(view: str) -> Callable[[Any], tuple[list, bool] | None]:
    def add(ad: Any) -> tuple[list, bool] | None:
        counts = state_counts(string_of(ad, "State"), evaluate(ad, "IsBackfillSlot") is True, view)
        return None if counts is None else (counts, True)
    return add


# -state's table orders the states differently
_STATE_VIEW_ORDER = (0, 1, 3, 2, 5, 4, 6, 7, 8)
_STATE_VIEW_HEADER = "%6.6s %5.5s %9.9s %7.7s %10.10s %7.7s %6.6s %8.8s %6.6s" % (
    "Total", "Owner", "Unclaimed", "Claimed", "Preempting", "Matched", "Drain", "Backfill", "BkIdle")
_STATE_VIEW_ROW = "%6d %5d %9d %7d %10d %7d %6d %8d %6d"


def _sums(attrs: tuple[str, ...], leading: tuple[int, ...] = ()) -> Callable[[Any], tuple[list, bool]]:
    """What one slot adds to a sum of attributes: `leading` counts, then each attribute (0 when
    missing, which makes the ad malformed)."""
    def add(ad: Any) -> tuple[list, bool]:
        values = [number_of(ad, attr) for attr in attrs]
        return list(leading) + [v or 0 for v in values], None not in values
    return add


def _server_counts(ad: Any) -> tuple[list, bool] | None:
    if string_of(ad, "State") is None:
        return None
    counts, complete = _sums(("Memory", "Disk", "Mips", "KFlops"))(ad)
    return [1, int(string_of(ad, "State") in ("Claimed", "Unclaimed"))] + counts, complete


def _run_cells(row: list) -> tuple:
    machines, mips, kflops, load = row
    return machines, mips, kflops, load / machines if machines else 0.0


def _arch_opsys(ad: Any) -> str | None:
    arch, opsys = string_of(ad, "Arch"), string_of(ad, "OpSys")
    return None if arch is None or opsys is None else f"{arch}/{opsys}"


# view -> (key of an ad's row, what the ad adds and whether it is well formed (None: nothing),
#          header, row format, cells of a summed row)
TOTALS: dict[str, tuple] = {
    "normal": (_arch_opsys, _state_adder("normal"), _SLOT_HEADER, _SLOT_ROW, tuple),
    "state": (lambda ad: string_of(ad, "Activity"), _state_adder("state"),
              _STATE_VIEW_HEADER, _STATE_VIEW_ROW, tuple),
    "claimed": (_arch_opsys, _sums(("Mips", "KFlops", "LoadAvg"), leading=(1,)),
                "%9.9s  %11.11s  %11.11s  %11.11s" % ("Machines", "MIPS", "KFLOPS", "AvgLoadAvg"),
                "%9d  %11d  %11d   %-.3f", _run_cells),
    "server": (_arch_opsys, _server_counts,
               "%9.9s %5.5s %7.7s %11.11s %11.11s %11.11s" % ("Slots", "Avail", "Memory", "Disk",
                                                               "MIPS", "KFLOPS"),
               "%9d %5d %11d %11d %11d %11d", tuple),
}


def _totals_block(keyed_rows: dict[str, list], header: str, row_fmt: str, wide: bool,
                  cells: Callable[[list], tuple] = tuple, malformed: int = 0,
                  key_width: int = 14) -> str:
    """HTCondor's totals table: a row per key, then the Total row.  Keys are `key_width` wide
    (cut to it), or as wide as the longest key (at least `Total`) with -wide."""
    width = max([5] + [len(k) for k in keyed_rows]) if wide else key_width
    grand = [sum(col) for col in zip(*keyed_rows.values())] if keyed_rows else [0] * row_fmt.count("%")
    out = ["\n", " " * width + header + "\n\n"]
    for key in sorted(keyed_rows):
        out.append("%*.*s" % (width, width, key) + row_fmt % cells(keyed_rows[key]) + "\n")
    out.append(("\n" if keyed_rows else "") + "%*s" % (width, "Total") + row_fmt % cells(grand) + "\n")
    if malformed:
        out.append("\n%s(Omitted %d malformed ads in computed attribute totals)\n\n" % (" " * width, malformed))
    return "".join(out)


def render_totals(ads: list[Any], wide: bool = False, view: str = "normal") -> str:
    """The totals block of a slot view (`-total` prints only this)."""
    key_of, add, header, row_fmt, cells = TOTALS[view]
    rows: dict[str, list] = {}
    malformed = 0
    for ad in ads:
        key, added = key_of(ad), add(ad)
        if key is None or added is None:
            malformed += 1
            continue
        counts, complete = added
        malformed += not complete
        row = rows.setdefault(key, [0] * len(counts))
        for n, count in enumerate(counts):
            row[n] += count
    if not ads:
        return ""
    return _totals_block(rows, header, row_fmt, wide, cells, malformed)


# --- -compact: one row per machine and slot type ------------------------------------------

STATE_LETTERS = {"Owner": "O", "Unclaimed": "U", "Matched": "M", "Claimed": "C", "Preempting": "P",
                 "Shutdown": "S", "Delete": "X", "Backfill": "F", "Drained": "D"}
ACTIVITY_LETTERS = {"Idle": "i", "Busy": "b", "Retiring": "r", "Vacating": "v", "Suspended": "s",
                    "Benchmarking": "e", "Killing": "k", "Cleaning": "c"}
BUSY_STATES = ("Matched", "Claimed", "Preempting")


def consensus(values: list[Any], letters: dict[str, str], wins: str) -> str | None:
    """One letter for the dynamic slots' states (or activities): theirs when all agree, `#`
    when they differ (unless one is `wins`: preempting and vacating show through), None
    without dynamic slots."""
    found = {letters[v] for v in values if isinstance(v, str) and v in letters}
    if not found:
        return None
    if len(found) == 1:
        return found.pop()
    return wins if wins in found else "#"


def compact_row(ad: Any) -> dict:
    """The cells one slot ad contributes to its machine's row, before folding."""
    state, activity = string_of(ad, "State"), string_of(ad, "Activity")
    code = [STATE_LETTERS.get(state or "", " "), ACTIVITY_LETTERS.get(activity or "", " ")]
    cpus, memory = number_of(ad, "Cpus") or 0, (number_of(ad, "Memory") or 0) / 1024.0
    partitionable = evaluate(ad, "PartitionableSlot") is True
    row = {"machine": string_of(ad, "Machine") or "", "label": (string_of(ad, "Name") or "").split("@")[0],
           "platform": platform(ad), "partitionable": partitionable, "busy": state in BUSY_STATES,
           "slots": number_of(ad, "NumDynamicSlots"), "tag": {"Static": "S", "Partitionable": " "}.get(
               string_of(ad, "SlotType") or "", (string_of(ad, "SlotType") or "")[:1]),
           "cpus": number_of(ad, "TotalSlotCpus"), "gpus": number_of(ad, "TotalSlotGpus"),
           "total_gb": (number_of(ad, "TotalSlotMemory") or 0) / 1024.0, "free_cpus": int(cpus),
           "free_gb": memory, "load": number_of(ad, "TotalLoadAvg*1.0/TotalCpus"),
           "job_starts": number_of(ad, "RecentJobStarts/20.0"),
           "max_slot_gb": number_of(ad, "Max(ChildMemory)/1024.0"),
           "mips": number_of(ad, "Mips"), "kflops": number_of(ad, "KFlops"),
           "users": unique_items(evaluate(ad, "ChildRemoteUser"))}
    if partitionable:  # the state its dynamic slots share shows through
        own_state, own_activity = code
        state, activity = (consensus(evaluate(ad, "ChildState") or [], STATE_LETTERS, "P"),
                           consensus(evaluate(ad, "ChildActivity") or [], ACTIVITY_LETTERS, "v"))
        if code == ["U", "i"] and cpus < 0.1:  # exhausted: it is what its dynamic slots are
            own_state, own_activity = state or " ", activity or " "
        elif own_state == "D" and state == "C":
            own_state = state
        own_state = state if state == "P" else own_state
        own_activity = activity if activity == "v" else own_activity
        code = [own_state if state is None or state == own_state else "*",
                own_activity if activity is None or activity == own_activity else "*"]
    row["code"] = "".join(code)
    return row


def unique_items(value: Any) -> str | None:
    """HTCondor's UNIQUE: a list's distinct items (strings raw, others unparsed), sorted and
    joined by `, `; None when the value is no list."""
    if not isinstance(value, list):
        return None
    return ", ".join(sorted({item if isinstance(item, str) else unparse_old(item) for item in value}))


def fold_rows(rows: list[dict]) -> dict:
    """One machine's slots of one type as one row: slots counted, free CPUs and memory of the
    slots not busy summed, the largest slot's memory, states merged (`*` where they differ)."""
    first = dict(rows[0])
    if not first["partitionable"]:
        first["max_slot_gb"] = first["free_gb"]
        if first["busy"]:
            first["free_cpus"], first["free_gb"] = 0, 0.0
        first["slots"] = 1
    for row in rows[1:]:
        first["max_slot_gb"] = max(first["max_slot_gb"] or 0.0,
                                   (row["max_slot_gb"] if row["partitionable"] else row["free_gb"]) or 0.0)
        if row["partitionable"] or not row["busy"]:
            first["free_gb"] += row["free_gb"]
            first["free_cpus"] += row["free_cpus"]
        first["slots"] = (first["slots"] or 0) + ((row["slots"] or 0) if row["partitionable"] else 1)
        first["job_starts"] = (first["job_starts"] or 0.0) + (row["job_starts"] or 0.0)
        first["code"] = "".join(a if a == b else "*" for a, b in zip(first["code"], row["code"]))
    return first


def _printf(key: str, fmt: str, alternative: str = "") -> Callable[[dict], str | None]:
    def render(row: dict) -> str | None:
        value = row[key]
        return alternative if value is None else fmt % value
    return render


def compact_columns(view: str = "normal") -> list[Column]:
    """The columns of `-compact`, of `-compact -state` (no free resources), of `-compact
    -server` (benchmark results too) and of `-compact -claimed` (the users of the slots)."""
    head = [
        Column("Machine", lambda row: row["machine"], auto=True),
        Column("Platform", lambda row: row["platform"], auto=True),
        Column("Slot", _printf("slots", "%4d", " "), width=4, right=True),
        Column("s", lambda row: row["tag"], width=1, noprefix=True),
        Column("Cpus", _printf("cpus", "%4d"), width=4, right=True),
        Column("Gpus", _printf("gpus", "%4d"), width=4, right=True),
        Column(" TotalGb", _printf("total_gb", "%8.2f"), width=8, right=True),
    ]
    free = [Column("FreCpu", _printf("free_cpus", "%6d"), width=6, right=True),
            Column(" FreeGb ", _printf("free_gb", "%8.2f"), width=8, right=True)]
    benchmarks = [Column(" Mips  ", _printf("mips", "%7d", "-"), width=7, auto=True),
                  Column(" KFlops  ", _printf("kflops", "%9d", "-"), width=9, auto=True)]
    tail = [Column("CpuLoad", _printf("load", "%7.2f"), width=7, right=True),
            Column("ST", lambda row: row["code"], width=2),
            Column("Jobs/Min", _printf("job_starts", "%8.2f", "_"), width=8, right=True)]
    if view == "claimed":
        return head[:4] + [Column("Users", lambda row: row["users"], auto=True)]
    if view == "state":
        return head + tail
    if view == "server":
        return head + benchmarks + tail
    return head + free + tail + [Column("MaxSlotGb", _printf("max_slot_gb", "%9.2f", "*"), width=9,
                                        right=True)]


def compact_ads(ads: list[Any]) -> list[Any]:
    """The ads the compact view shows: partitionable and static slots (not dynamic ones)."""
    return [ad for ad in ads if evaluate(ad, "PartitionableSlot") is True or evaluate(ad, "DynamicSlot") is not True]


def compact_contributions(ad: Any, view: str) -> list[tuple[list, bool]]:
    """What a compact view's slot adds to its totals: a partitionable slot adds its dynamic
    slots' states (in the state-counting views; the others count the slot itself), then itself
    again while it has CPUs left -- as HTCondor totals the rows it folds."""
    add = TOTALS[view][1]
    partitionable = evaluate(ad, "PartitionableSlot") is True
    if partitionable and view in ("normal", "state"):
        children = [state_counts(s, view=view) for s in evaluate(ad, "ChildState") or [] if isinstance(s, str)]
        added = [(counts, True) for counts in children if counts is not None]
    else:
        added = [add(ad)]
    if partitionable and (number_of(ad, "Cpus") or 0) >= 0.1:
        added.append(add(ad))
    return [one for one in added if one is not None]


def render_compact(ads: list[Any], wide: bool = False, totals_only: bool = False,
                   view: str = "normal") -> str:
    """`condor_status -compact` (`view`: normal, state or server): a row per machine (and per
    slot type on it), then totals by platform (by activity for -state)."""
    ads = sorted(compact_ads(ads), key=lambda ad: (
        NaturalKey(f"{string_of(ad, 'Machine') or ''}:{int_of(ad, 'SlotTypeID')}"),
        NaturalKey(string_of(ad, "Name") or "")))
    if not ads:
        return ""
    groups: list[list[dict]] = []
    for ad in ads:
        row = compact_row(ad)
        row["type"] = int_of(ad, "SlotTypeID")
        last = groups[-1][0] if groups else None
        if last and last["machine"] == row["machine"] and last["type"] == row["type"]:
            groups[-1].append(row)
        else:
            if last and last["machine"] == row["machine"]:
                row["machine"] = "   " + row["label"]  # a further slot type of the same machine
            groups.append([row])
    _, _, header, row_fmt, cells = TOTALS[view]
    totals: dict[str, list] = {}
    malformed = 0
    for ad in ads:
        key = string_of(ad, "Activity") if view == "state" else platform(ad) or "?"
        for counts, complete in compact_contributions(ad, view):
            if key is None:
                malformed += 1
                continue
            malformed += not complete
            row = totals.setdefault(key, [0] * len(counts))
            for n, count in enumerate(counts):
                row[n] += count
    # platform keys as wide as the longest, at least 14 (HTCondor's compact subtotal keys)
    key_width = 14 if view == "state" else max([14] + [len(key) for key in totals])
    block = _totals_block(totals, header, row_fmt, wide, cells, malformed, key_width) if totals else ""
    if totals_only:
        return block
    return render_table(compact_columns(view), [fold_rows(group) for group in groups]) + block


# --- other ad types -------------------------------------------------------------------------

def render_schedd_totals(ads: list[Any]) -> str:
    header = "%18s %18s %18s" % ("TotalRunningJobs", "TotalIdleJobs", "TotalHeldJobs")
    grand = [sum(int_of(ad, a) for ad in ads)
             for a in ("TotalRunningJobs", "TotalIdleJobs", "TotalHeldJobs")]
    return ("\n" + " " * 14 + header + "\n\n" + " " * 14 + "\n\n"
            + "%14s" % "Total" + "%18d %18d %18d" % tuple(grand) + "\n")


def render_schedds(ads: list[Any], totals: bool = True) -> str:
    if not ads:
        return ""
    return render_view(view_format(VIEWS["schedd"]), ads) + (render_schedd_totals(ads) if totals else "")


def render_submitter_totals(ads: list[Any]) -> str:
    """Totals by submitter name; HTCondor sizes these keys to the longest name, -wide or not."""
    rows: dict[str, list[int]] = {}
    for ad in ads:
        row = rows.setdefault(string_of(ad, "Name") or "?", [0, 0, 0])
        for n, attr in enumerate(("RunningJobs", "IdleJobs", "HeldJobs")):
            row[n] += int_of(ad, attr)
    header = "%11s %10s %10s" % ("RunningJobs", "IdleJobs", "HeldJobs")
    return _totals_block(rows, header, "%11d %10d %10d", wide=True)


def render_submitters(ads: list[Any]) -> str:
    if not ads:
        return ""
    return render_view(view_format(VIEWS["submitters"]), ads) + render_submitter_totals(ads)


# --- command line ---------------------------------------------------------------------------

# view -> MyType asked of the collector
AD_TYPES = {
    "startd": "Machine", "schedd": "Scheduler", "submitters": "Submitter",
    "master": "DaemonMaster", "negotiator": "Negotiator", "collector": "Collector", "any": "Any",
}


# the views' options and the letters each needs (-slots is -startd)
MODE_OPTIONS = (("schedd", 2), ("submitters", 2), ("master", 2), ("negotiator", 2),
                ("collector", 2), ("any", 2), ("startd", 3), ("slots", 3))

# the ad types -direct asks a daemon for itself; the others only the collector has
DIRECT_MODES = ("startd", "schedd", "submitters", "master", "negotiator")

SCHEDD_RUN_CONSTRAINT = "(ShadowsRunning+TotalSchedulerJobsRunning) > 0"


class Options(QueryOptions):
    constraint_letters = 3
    print_functions = LOCAL_FUNCTIONS

    def __init__(self) -> None:
        super().__init__()
        self.mode = "startd"
        self.view = "normal"   # of slots: normal, avail, claimed, state, server; of schedds: run
        self.mode_arg: tuple[int, str] | None = None  # the argument that chose the mode
        self.total = False
        self.compact = False
        self.wide = False
        self.limit = 0
        self.direct: str | None = None
        self.sort: list[str] = []
        self.names: list[str] = []

    def take_word(self, arg: str) -> None:
        self.names.append(arg)

    def set_mode(self, mode: str, view: str, argv: list[str], i: int, reset: bool = False) -> None:
        """The ad type and view an argument chooses; a second, different one contradicts it
        (unless it refines the first, `reset`), as in HTCondor."""
        if self.mode_arg is not None and not reset:
            if argv[i] != self.mode_arg[1]:
                raise UsageError("Error:  Arg %d (%s) contradicts arg %d (%s)"
                                 % (i + 1, argv[i], *self.mode_arg))
            return
        self.mode, self.view, self.mode_arg = mode, view, (i + 1, argv[i])

    def take_own(self, argv: list[str], i: int) -> int:
        arg = argv[i]
        mode = which_arg(arg, MODE_OPTIONS)
        if arg == "-":  # a name, as HTCondor takes it
            self.names.append(arg)
        elif is_arg(arg, "avail", 2):
            self.set_mode("startd", "avail", argv, i)
        elif is_arg(arg, "claimed", 2):
            self.set_mode("startd", "claimed", argv, i)
        elif is_arg(arg, "run", 1):
            # bare -run shows schedds running jobs; after -slots or -claimed, claimed slots
            if self.mode_arg is not None and self.mode == "startd" and self.view in ("normal", "claimed"):
                self.set_mode("startd", "claimed", argv, i, reset=True)
            else:
                self.set_mode("schedd", "run", argv, i, reset=self.mode == "schedd")
        elif mode is not None:
            self.set_mode("startd" if mode == "slots" else mode, "normal", argv, i)
        elif is_arg(arg, "state", 4) or is_arg(arg, "server", 2):
            self.view = "state" if is_arg(arg, "state", 4) else "server"
        elif is_arg(arg, "totals", 1):
            self.total = True
        elif is_arg(arg, "compact", 3):
            self.compact = True
        elif is_arg(arg, "wide", 1):
            self.wide = True
        elif is_arg(arg, "sort", 2):
            self.sort.append(option_value(argv, i))
            return i + 2
        elif is_arg(arg, "limit", 2) or is_arg(arg, "direct", 3):
            option = "limit" if is_arg(arg, "limit", 2) else "direct"
            if i + 1 >= len(argv):
                raise UsageError(f"condor_status: -{option} requires "
                                 + ("one additional argument" if option == "limit" else "another argument")
                                 + '\nUse "condor_status -help" for details')
            if option == "limit":
                self.limit = _atoi(argv[i + 1])
            else:
                self.direct = argv[i + 1]
            return i + 2
        elif is_arg(arg, "version", 3):
            from condorsim.scripts.condor_version import version_lines
            sys.stdout.write(version_lines())
            raise ToolExit(0)
        else:
            raise UsageError(f"Error: unknown option {arg}")
        return i + 1

    @property
    def slot_view(self) -> str:
        """The slot view's columns and totals: -avail shows the normal ones."""
        return "normal" if self.view == "avail" else self.view


def _atoi(text: str) -> int:
    """C's atoi: the leading integer, 0 when there is none."""
    match = re.match(r"\s*[-+]?\d+", text)
    return int(match.group()) if match else 0


def parse_args(argv: list[str]) -> Options:
    return Options().parse(argv)


def _host_constraint(name: str) -> str:
    """`condor_status host1` -> match slots/daemons of that host by Name or Machine, the host
    name completed as the daemons complete their own (a forward lookup, never a reverse one)."""
    if "@" not in name:
        full = canonical_hostname(name)
        own = cached_host_values()["FULL_HOSTNAME"]
        if full is None and name.lower() in (socket.gethostname().lower(), own.lower()):
            full = own  # our own name, even where it does not resolve
        if full is None:
            raise UsageError(f"condor_status: unknown host {name}")
        name = full
    return f'(Name == {quote_string(name)} || Machine == {quote_string(name)})'


def view_constraint(opts: Options) -> str | None:
    """The constraint a view adds (HTCondor's PMODE_* constraints)."""
    if opts.mode == "schedd" and opts.view == "run":
        return SCHEDD_RUN_CONSTRAINT
    if opts.mode != "startd":
        return None
    if opts.view == "avail":
        return AVAIL_CONSTRAINT
    if opts.view == "claimed":
        return CLAIMED_COMPACT_CONSTRAINT if opts.compact else CLAIMED_CONSTRAINT
    return None


def build_constraint(opts: Options) -> str | None:
    hosts = " || ".join(_host_constraint(n) for n in opts.names)
    selection = [f"({part})" for part in (view_constraint(opts), hosts) if part]
    return join_constraints(opts.constraints, " && ".join(selection) or None)


def render(opts: Options, ads: list[Any]) -> str:
    """Everything condor_status prints for the already-fetched ads."""
    if opts.limit > 0:  # the first ads found, as the collector stops at the limit
        ads = ads[:opts.limit]
    if not totals_projection(opts):  # the totals' rows are sorted themselves
        ads = sort_ads(ads, opts.sort)
    if opts.ad_output:
        return render_ads(ads, opts)
    if opts.print_format is not None:
        return render_print_format(opts, ads)
    if opts.mode == "startd" and opts.compact:
        return render_compact(ads, opts.wide, opts.total, opts.slot_view)
    if opts.mode == "startd":
        if opts.total:
            return render_totals(ads, opts.wide, opts.slot_view)
        return render_slots(ads, opts.wide, opts.slot_view)
    if opts.mode == "schedd" and opts.view == "run":  # no totals
        return "" if opts.total else render_view(view_format(VIEWS["schedd-run"]), ads)
    if opts.mode == "schedd":
        if opts.total:
            return render_schedd_totals(ads) if ads else ""
        return render_schedds(ads)
    if opts.mode == "submitters":
        if opts.total:
            return render_submitter_totals(ads) if ads else ""
        return render_submitters(ads)
    return render_view(view_format(VIEWS[opts.mode]), ads)


def render_print_format(opts: Options, ads: list[Any]) -> str:
    """-print-format FILE: its columns (in its GROUP BY order), then with SUMMARY STANDARD the
    totals of the ad type shown."""
    fmt = opts.print_format
    if not ads:
        return ""
    out = fmt.render(fmt.sort(ads), LOCAL_FUNCTIONS, blank_after_heading=not fmt.noheader)
    if fmt.summary:
        if opts.mode == "startd":
            out += render_totals(ads, opts.wide, opts.slot_view)
        elif opts.mode == "schedd":
            out += render_schedd_totals(ads)
        elif opts.mode == "submitters":
            out += render_submitter_totals(ads)
    return out


# What each slot view's totals read (-total alone asks the collector for only these).
TOTALS_ATTRIBUTES = {"normal": ["Arch", "OpSys", "State", "IsBackfillSlot"],
                     "state": ["Activity", "State", "IsBackfillSlot"],
                     "claimed": ["Arch", "OpSys", "Mips", "KFlops", "LoadAvg"],
                     "server": ["Arch", "OpSys", "State", "Memory", "Disk", "Mips", "KFlops"]}


def totals_projection(opts: Options) -> list[str] | None:
    if opts.mode == "startd" and opts.total and not opts.compact and not opts.ad_output:
        return TOTALS_ATTRIBUTES.get(opts.slot_view)
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, constraint = read_query_command_line(argv, parse_args, build_constraint, USAGE,
                                                   "Error: Invalid constraint expression")
        cfg = load_query_config()
    except ToolExit as stop:
        return stop.status

    from condorsim.shared.locate import query_ads
    from condorsim.shared.protocol import CommunicationError, RemoteError
    try:
        if opts.direct is not None and opts.mode in DIRECT_MODES:
            address, who = locate_daemon(cfg, opts.mode, opts.direct)
            if address is None:
                print(f"Error: Failed to locate {who}\nCan't find address for {who}", file=sys.stderr)
                return 1
            ads = direct_query(address, AD_TYPES[opts.mode], constraint)
        else:
            ads = query_ads(cfg, AD_TYPES[opts.mode], constraint, totals_projection(opts))
    except CommunicationError as err:
        host = _collector_host(cfg)
        print("Error: communication error\n"
              f"CEDAR:6001:Failed to connect to {host} ({err})\n"
              f"Error: Couldn't contact the condor_collector on {host}.\n\n"
              "Extra Info: the condor_collector runs on the pool's central manager and keeps "
              "the ads of every daemon in the pool. It may not be running, it may refuse to "
              "talk to you, or the network between you may be at fault; ask the pool's "
              "administrator to look into it.\n", file=sys.stderr)
        return 1
    except RemoteError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    sys.stdout.write(render(opts, ads))
    return 0


def locate_daemon(cfg: Any, mode: str, name: str) -> tuple[str | None, str]:
    """-direct NAME: the address of the daemon serving `mode`'s ads, found in its ad at the
    collector (a host name is completed as HTCondor completes daemon names), and the words
    that name it in errors (`startd host1.example.com`)."""
    from condorsim.shared.locate import query_ads
    if "@" not in name:
        name = canonical_hostname(name) or name
    daemon = {"submitters": "schedd"}.get(mode, mode)
    ad_type = {"submitters": "Scheduler"}.get(mode, AD_TYPES[mode])
    match = f"Name == {quote_string(name)}"
    if mode == "startd":  # the startd's slots are named slotN@host
        match += f" || Machine == {quote_string(name)}"
    for ad in query_ads(cfg, ad_type, match, ["MyAddress"]):
        address = ad.eval("MyAddress")
        if isinstance(address, str):
            return address, f"{daemon} {name}"
    return None, f"{daemon} {name}"


def direct_query(address: str, ad_type: str, constraint: str | None) -> list[Any]:
    """The ads a daemon advertises, asked of the daemon itself (made now, not the collector's copy)."""
    from condorsim.shared.classad import ClassAd
    from condorsim.shared.protocol import Client
    reply = Client(address, 10.0).call("QUERY_ADS", my_type=ad_type, constraint=constraint)
    return [ClassAd.from_wire(ad) for ad in reply["ads"]]


def _collector_host(cfg: Any) -> str:
    """The collector as the error message names it: its address if known, else COLLECTOR_HOST."""
    from condorsim.shared.locate import collector_address
    try:
        return collector_address(cfg)
    except Exception:
        return cfg.get("COLLECTOR_HOST") or "the central manager"


if __name__ == "__main__":
    sys.exit(main())
