"""condor_history: the jobs that left the queue, read from the schedd's history file(s).

    condor_history [-file FILE] [C | C.P | owner ...] [-constraint EXPR] [-limit N | -match N]
                   [-long | -json | -af[:lhVr,tng] ATTR ... | -format FMT ATTR]
                   [-attributes A,B] [-forwards | -backwards]

Reads HISTORY (or -file) and its rotated copies, newest job first (-forwards: oldest first).
Without an ad output option it prints HTCondor's classic table (the one condor_history prints
on an 80-column or non-terminal output).
"""
from __future__ import annotations

import sys
import time
from typing import Any

from condorsim.daemons.history import select_history
from condorsim.scripts.condor_q import restriction_constraint
from condorsim.shared.classad import parse_expr
from condorsim.shared.columns import evaluate, int_of, number_of, string_of
from condorsim.shared.tool_options import (QueryOptions, ToolExit, UsageError, is_arg, join_constraints,
                                           load_query_config, option_value, read_query_command_line,
                                           render_ads)

USAGE = """Usage: condor_history [source] [restriction-list] [options]

   where [source] is one of
\t-file <file>\t\tRead history data from specified file
   If -file is not specified, then the local history file is used.

   and [restriction-list] is one or more of
\t<cluster>\t\tGet information about specific cluster
\t<cluster>.<proc>\tGet information about specific job
\t<owner>\t\t\tInformation about jobs owned by <owner>
\t-constraint <expr>\tInformation about jobs matching <expr>

   and [options] are one or more of
\t-help\t\t\tDisplay this screen
\t-backwards\t\tList jobs in reverse chronological order
\t-forwards\t\tList jobs in chronological order
\t-limit <number>\t\tLimit the number of jobs displayed
\t-match <number>\t\tOld name for -limit
\t-long\t\t\tDisplay entire classads
\t-json\t\t\tDisplay entire classads in JSON
\t-attributes <attr-list>\tDisplay only the given attributes with -long or -json
\t-format <fmt> <attr>\tDisplay attr using printf formatting
\t-af[:lhVr,tng] <attr> [<attr2 ...]\tDisplay attr(s) with automatic formatting
"""
STATUS_LETTERS = " IRXCH>SFBP"


class Options(QueryOptions):
    constraint_letters = 1

    def __init__(self) -> None:
        super().__init__()
        self.file: str | None = None
        self.limit = 0
        self.backwards = True
        self.restrictions: list[str] = []

    def take_word(self, arg: str) -> None:
        self.restrictions.append(arg)

    def take_own(self, argv: list[str], i: int) -> int:
        arg = argv[i]
        if is_arg(arg, "file", 2):
            self.file = option_value(argv, i)
            return i + 2
        if is_arg(arg, "match", 1) or is_arg(arg, "limit", 3):
            if i + 1 >= len(argv):
                raise UsageError("Error: Argument -match requires a number value as a parameter.")
            try:
                self.limit = int(argv[i + 1])
            except ValueError:
                self.limit = 0  # atoi: not a number means no limit
            return i + 2
        if is_arg(arg, "backwards", 1):
            self.backwards = True
        elif is_arg(arg, "forwards", 4) or is_arg(arg, "nobackwards", 3):
            self.backwards = False
        elif is_arg(arg.split(":")[0], "wide", 1):
            pass  # the classic table does not truncate beyond its own column widths
        else:
            raise UsageError(f"Error: Unknown argument {arg}\n{USAGE}")
        return i + 1


def parse_args(argv: list[str]) -> Options:
    return Options().parse(argv)


def build_constraint(opts: Options) -> str | None:
    return join_constraints(opts.constraints, restriction_constraint(opts.restrictions))


# --- the classic table (HTCondor's short_header / short_print) ---------------------------------

HEADER = " %-7s %-14s %11s %12s %-2s %11s %-15s\n" % ("ID", "OWNER", "SUBMITTED", "RUN_TIME", "ST",
                                                     "COMPLETED", "CMD")


def short_date(timestamp: int) -> str:
    if timestamp == 0:
        return " ??? "
    tm = time.localtime(timestamp)
    return "%2d/%-2d %02d:%02d" % (tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min)


def short_time(seconds: int) -> str:
    if seconds < 0:
        return "[?????]"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return "%3d+%02d:%02d:%02d" % (days, hours, rest // 60, rest % 60)


def short_line(ad: Any) -> str:
    """One job as HTCondor's classic history line; ` --- ???? --- ` when an attribute it needs
    is missing."""
    needed = {name: evaluate(ad, name) for name in ("ClusterId", "ProcId", "QDate", "CompletionDate",
                                                    "JobStatus", "JobPrio", "ImageSize")}
    owner, cmd = string_of(ad, "Owner"), string_of(ad, "Cmd")
    if any(not isinstance(v, int) or isinstance(v, bool) for v in needed.values()) or owner is None or cmd is None:
        return " --- ???? --- \n"
    wall = number_of(ad, "RemoteWallClockTime")
    if wall is None:
        wall = number_of(ad, "RemoteUserCpu") or 0
    args = string_of(ad, "Args")  # only the V1 form, as HTCondor's classic line
    if args is not None and len(cmd) < 14:
        cmd = f"{cmd} {args[:14 - len(cmd)]}"
    status = int_of(ad, "JobStatus")
    letter = STATUS_LETTERS[status] if 1 <= status < len(STATUS_LETTERS) else " "
    return "%4d.%-3d %-14s %-11s %-12s %-2s %-11s %-15s\n" % (
        needed["ClusterId"], needed["ProcId"], owner[:14], short_date(needed["QDate"]), short_time(int(wall)),
        letter, short_date(needed["CompletionDate"]), cmd[:15])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts, constraint = read_query_command_line(argv, parse_args, build_constraint, USAGE,
                                                   "Error: invalid constraint expression")
        path = opts.file
        if path is None:
            path = load_query_config().get("HISTORY")
            if not path:
                print("Error: No passed search file and configuration key HISTORY is unset.\n\nExtra Info: "
                      "The variable HISTORY is not defined in your config file. If you want Condor to keep "
                      "a history of information, you must define HISTORY in your config file", file=sys.stderr)
                raise ToolExit(1)
    except ToolExit as stop:
        return stop.status
    expr = parse_expr(constraint) if constraint else None
    ads = list(select_history(path, expr, opts.limit, opts.backwards))
    if opts.json:
        sys.stdout.write(render_ads(ads, opts) or "[\n]\n")
    elif opts.ad_output:
        sys.stdout.write(render_ads(ads, opts))
    else:
        sys.stdout.write(HEADER + "".join(short_line(ad) for ad in ads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
