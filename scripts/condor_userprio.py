"""condor_userprio: show the negotiator's accountant (priorities, usage, factors) or edit it.

    condor_userprio [-name NEGOTIATOR] [-allusers | -activefrom M D Y] [-inputfile FILE]
                    [-all | -most | -usage | -priority]
                    [-long | -af ATTR...] [-constraint EXPR] [-collector | -negotiator] [USER...]
    condor_userprio -setfactor USER F | -setprio USER P | -resetusage USER | -resetall |
                    -delete USER | -setaccum USER V | -setbegin USER T | -setlast USER T

The records are the `Accounting` ads the negotiator publishes (daemons/accountant.py), read from
the collector (or, with -negotiator, from the negotiator itself); the table, the edit commands'
messages, errors and exit codes are HTCondor's.
"""
from __future__ import annotations

import sys
import time
from typing import Any

from condorsim.shared.columns import AutoFormat, format_date, long_form, number_of, parse_autoformat_args, string_of
from condorsim.shared.tool_options import ToolExit, is_arg, load_tool_config

USAGE = """usage: condor_userprio [options] [edit-option | display-options [usernames]]
    where [options] are
\t-name <name>\t\tName of negotiator
\t-help\t\t\tThis Screen
    where [edit-option] is one of
\t-resetusage <user>\tReset usage data for <user>
\t-resetall\t\tReset all usage data
\t-delete <user>\t\tRemove a user record from the accountant
\t-setprio <user> <val>\tSet priority for <user>
\t-setfactor <user> <val>\tSet priority factor for <user>
\t-setaccum <user> <val>\tSet Accumulated usage for <user>
\t-setbegin <user> <val>\tset last first date for <user>
\t-setlast <user> <val>\tset last active date for <user>
    where [display-options] are one or more of
\t-allusers\t\tDisplay data for all users
\t-all\t\t\tDisplay all the columns
\t-most\t\t\tDisplay the most useful columns (the default)
\t-usage\t\t\tDisplay usage columns
\t-priority\t\tDisplay priority columns
\t-collector\t\tForce the query to come from the collector
\t-negotiator\t\tForce the query to come from the negotiator
\t-long\t\t\tVerbose output (entire classads)
\t-constraint <expr>\tDisplay users that match <expr>
\t-af[:jlhVr,tng] <attr> [attr2 [...]]\tPrint attr(s) with automatic formatting
   if [usernames] is specified, output will be restricted to the given names.
"""

# edit option -> (negotiator command, how many values follow the user, what its message says)
EDITS = {
    "setprio": ("SET_PRIORITY", 1, "The priority of {user} was set to {value:f}"),
    "setfactor": ("SET_PRIORITYFACTOR", 1, "The priority factor of {user} was set to {value:f}"),
    "setaccum": ("SET_ACCUMUSAGE", 1, "The Accumulated Usage of {user} was set to {value:f}"),
    "setbegin": ("SET_BEGINTIME", 1, "The Begin Usage Time of {user} was set to {value:d}"),
    "setlast": ("SET_LASTTIME", 1, "The Last Usage Time of {user} was set to {value:d}"),
    "resetusage": ("RESET_USAGE", 0, "The accumulated usage of {user} was reset"),
    "delete": ("DELETE_USER", 0, "The accountant record named {user} was deleted"),
}
# what each edit's refusal of a short user name says it wanted to do
EDIT_WHAT = {"setaccum": "update the Accumulated usage of", "setbegin": "update the begin usage time of",
             "setlast": "update the last usage time of", "delete": "delete"}

# the table's columns: key -> (width, first heading line, second heading line)
COLUMNS = {
    "priority": (12, "Effective", "Priority"), "real": (8, "Real", "Priority"),
    "factor": (9, "Priority", "Factor"), "in_use": (6, "Wghted", "In Use"),
    "usage": (12, "Total Usage", "(wghted-hrs)"), "begin": (16, "Usage", "Start Time"),
    "last": (16, "Last", "Usage Time"), "since": (10, "Time Since", "Last Usage"),
    "floor": (9, "Submitter", "Floor"), "ceiling": (9, "Submitter", "Ceiling"),
}
MOST = {"priority", "factor", "in_use", "usage", "since", "floor", "ceiling"}
DETAILS = {"most": MOST, "all": MOST | {"real", "begin", "last"}, "usage": {"in_use", "usage", "begin", "last"},
           "priority": {"priority", "real", "factor"}}


# --- the table -------------------------------------------------------------------------------

def float_cell(width: int, decimals: int, value: float) -> str:
    """A number right-justified in `width`, in %g when %f would not fit (as HTCondor's)."""
    text = "%*.*f" % (width, decimals, value)
    if len(text) > width:
        text = "%.*g" % (width - 6, value)
    return text.rjust(width)[:width]


def date_year(timestamp: float) -> str:
    tm = time.localtime(int(timestamp))
    return "%2d/%02d/%-4d %02d:%02d" % (tm.tm_mon, tm.tm_mday, tm.tm_year, tm.tm_hour, tm.tm_min)


def time_nosecs(seconds: float) -> str:
    if seconds < 0:
        return "[?????]"
    days, rest = divmod(int(seconds), 86400)
    return "%3d+%02d:%02d" % (days, rest // 3600, rest % 3600 // 60)


def _padded(text: str, width: int) -> str:
    return text.rjust(width)[:width]


class Row:
    """One accounting ad as the table reads it."""

    def __init__(self, ad: Any):
        self.name = string_of(ad, "Name") or ""
        self.priority = number_of(ad, "Priority") or 0.0
        self.factor = number_of(ad, "PriorityFactor") or 0.0
        weighted = number_of(ad, "WeightedResourcesUsed")
        self.in_use = weighted if weighted is not None else number_of(ad, "ResourcesUsed") or 0
        self.usage = number_of(ad, "WeightedAccumulatedUsage") or 0.0
        self.begin = number_of(ad, "BeginUsageTime") or 0
        self.last = number_of(ad, "LastUsageTime") or -1
        self.floor = number_of(ad, "Floor")
        self.ceiling = number_of(ad, "Ceiling")

    def cell(self, key: str, now: float) -> str:
        width = COLUMNS[key][0]
        if key == "priority":
            return float_cell(width, 2, self.priority)
        if key == "real":
            return float_cell(width, 2, self.priority / self.factor if self.factor > 0 else 0)
        if key == "factor":
            return float_cell(width, 2, self.factor) if self.factor > 0 else " " * width
        if key == "in_use":
            return float_cell(width, 0, self.in_use)
        if key == "usage":
            return float_cell(width, 2, self.usage / 3600.0)
        if key in ("begin", "last"):
            stamp = self.begin if key == "begin" else self.last
            return _padded(date_year(stamp) if stamp > 0 else "", width)
        if key == "since":
            delta = now - self.last
            return _padded("<now>" if delta <= 0 else time_nosecs(delta), width)
        if key == "floor":
            return float_cell(width, 2, self.floor) if self.floor is not None and self.floor > 0 else " " * width
        return float_cell(width, 2, self.ceiling) if self.ceiling is not None and self.ceiling > -1 else " " * width


def _centered(text: str, width: int) -> str:
    return (" " * max(0, (width - len(text)) // 2) + text).ljust(width)[:width]


def render_table(ads: list[Any], details: set[str], min_last_usage: float, now: float) -> str:
    """HTCondor's userprio table: a line per submitter used since `min_last_usage`, best
    priority first, with headings, rules and the totals line; nothing without records."""
    if not ads:
        return ""
    rows = [Row(ad) for ad in ads]
    if "priority" in details:
        rows.sort(key=lambda r: (r.priority, r.name))
    elif "usage" in details:
        rows.sort(key=lambda r: (r.usage, r.name))
    else:
        rows.sort(key=lambda r: r.name)
    shown = [r for r in rows if r.last >= min_last_usage]
    count_text = "Number of users: %d" % len(ads)
    name_width = max(len(count_text), min(99, max([10] + [len(r.name) for r in shown])))
    keys = [key for key in COLUMNS if key in details]
    last_update = number_of(ads[0], "LastUpdate") or 0

    def line(first: str, cells: list[str]) -> str:
        return first.ljust(name_width)[:name_width] + "".join(" " + cell for cell in cells) + "\n"

    out = ["Last Priority Update: %s\n" % format_date(last_update),
           line("", [_centered(COLUMNS[k][1], COLUMNS[k][0]) for k in keys]),
           line("User Name", [_centered(COLUMNS[k][2], COLUMNS[k][0]) for k in keys]),
           line("-" * name_width, ["-" * COLUMNS[k][0] for k in keys])]
    for row in shown:
        out.append(line(row.name, [row.cell(k, last_update) for k in keys]))
    out.append(line("-" * name_width, ["-" * COLUMNS[k][0] for k in keys]))
    totals = []
    for key in keys:
        width = COLUMNS[key][0]
        if key == "in_use":
            totals.append(float_cell(width, 0, sum(r.in_use for r in shown)))
        elif key == "usage":
            totals.append(float_cell(width, 2, sum(r.usage for r in shown) / 3600.0))
        elif key == "last" and min_last_usage > 0:
            totals.append(_padded(date_year(min_last_usage), width))
        elif key == "since" and min_last_usage > 0:
            delta = last_update - min_last_usage
            totals.append(_padded("<now>" if delta <= 0 else time_nosecs(delta), width))
        else:
            totals.append(" " * width)
    out.append(line("Number of users: %d" % len(shown), totals))
    return "".join(out)


# --- command line ----------------------------------------------------------------------------

def usage_exit() -> ToolExit:
    sys.stderr.write(USAGE)
    return ToolExit(1)


def parse(argv: list[str]) -> dict:
    opts: dict[str, Any] = {"edit": None, "details": set(), "allusers": False, "names": [], "long": False,
                            "autoformat": None, "constraint": None, "negotiator": None,
                            "from_negotiator": False, "resetall": False, "inputfile": None, "activefrom": None}
    i = 0
    while i < len(argv):
        arg = argv[i]
        edit = next((name for name in EDITS if is_arg(arg, name, 3 if name == "delete" else len(name))), None)
        detail = next((name for name, letters in (("all", 3), ("most", 2), ("usage", 2), ("priority", 4))
                       if is_arg(arg, name, letters)), None)
        if is_arg(arg, "help", 1):
            sys.stdout.write(USAGE)
            raise ToolExit(0)
        elif edit:
            count = EDITS[edit][1]
            if i + 1 + count >= len(argv):
                raise usage_exit()
            opts["edit"] = (edit, argv[i + 1], argv[i + 2] if count else None)
            i += 1 + count
        elif is_arg(arg, "resetall", 8):
            opts["resetall"] = True
        elif detail:
            opts["details"] |= DETAILS[detail]
        elif is_arg(arg, "allusers", 8):
            opts["allusers"] = True
        elif is_arg(arg, "activefrom", 10):
            if i + 3 >= len(argv):
                raise usage_exit()
            month, day, year = (_atoi(text) for text in argv[i + 1:i + 4])
            opts["activefrom"] = time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))
            i += 3
        elif is_arg(arg, "inputfile", 2):
            if i + 1 >= len(argv):
                raise usage_exit()
            opts["inputfile"] = argv[i + 1]
            i += 1
        elif is_arg(arg, "long", 1):
            opts["long"] = True
        elif is_arg(arg, "collector", 3):
            opts["from_negotiator"] = False
        elif is_arg(arg, "negotiator", 3):
            opts["from_negotiator"] = True
        elif is_arg(arg, "constraint", 1) or is_arg(arg, "name", 4):
            if i + 1 >= len(argv):
                sys.stderr.write(f"Error: Argument {arg} requires another parameter\n")
                raise usage_exit()
            opts["constraint" if is_arg(arg, "constraint", 1) else "negotiator"] = argv[i + 1]
            i += 1
        elif arg.split(":")[0] == "-af" or is_arg(arg.split(":")[0], "autoformat", 5):
            if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                sys.stderr.write(f"Error: Argument {arg} requires at least one attribute parameter\n"
                                 f"\t\te.g. condor_prio {arg} Name\n")
                raise usage_exit()
            opts["autoformat"], i = parse_autoformat_args(argv, i)
            continue
        elif arg[:1].isalpha() or arg == "<none>":
            opts["names"].append(arg)
        else:
            raise usage_exit()
        i += 1
    return opts


def negotiator_address(cfg: Any, name: str | None) -> str | None:
    from condorsim.shared.classad.unparse import quote_string
    from condorsim.shared.locate import query_ads
    try:
        ads = query_ads(cfg, "Negotiator", None if name is None else f"Name == {quote_string(name)}",
                        ["MyAddress"], timeout=5)
    except Exception:
        return None
    addresses = [a for a in (ad.eval("MyAddress") for ad in ads) if isinstance(a, str)]
    return addresses[0] if addresses else None


def run_edit(cfg: Any, opts: dict) -> int:
    from condorsim.shared.protocol import Client, CommunicationError, RemoteError
    if opts["resetall"]:
        command, user, value, message = "RESET_ALL_USAGE", None, None, "The accumulated usage was reset for all users"
    else:
        edit, user, text = opts["edit"]
        command, _, message = EDITS[edit]
        if "@" not in user:
            record = "record" if edit == "delete" else "submittor"
            sys.stderr.write(f"condor_userprio: You must specify the full name of the {record} you wish\n"
                             f"\tto {EDIT_WHAT.get(edit, 'update the priority of')} "
                             "(user@uid.domain or user@full.host.name)\n")
            return 1
        value = None
        if text is not None:
            value = _atof(text)
            if edit == "setfactor" and value < 1:
                sys.stderr.write("Priority factors must be greater than or equal to 1.\n")
                return 1
            if edit == "setaccum" and value < 0:
                sys.stderr.write("Usage must be greater than 0 seconds\n")
                return 1
            if edit in ("setbegin", "setlast"):
                value = int(value)
                if value < 0:
                    sys.stderr.write("Time must be greater than 0 seconds\n")
                    return 1
    address = negotiator_address(cfg, opts["negotiator"])
    if address is None:
        sys.stderr.write("condor_userprio: Can't locate negotiator '%s' in local pool\n"
                         % (opts["negotiator"] or "default"))
    try:
        if address is None:
            raise CommunicationError("no negotiator")
        Client(address, 10.0).call(command, name=user, value=value)
    except (CommunicationError, RemoteError):
        sys.stderr.write(f"failed to send {command} command to negotiator\n")
        return 1
    print(message.format(user=user, value=value))
    return 0


def _atoi(text: str) -> int:
    import re
    match = re.match(r"\s*[-+]?\d+", text)
    return int(match.group()) if match else 0


def _atof(text: str) -> float:
    import re
    match = re.match(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text)
    return float(match.group()) if match else 0.0


def fetch_ads(cfg: Any, opts: dict) -> list[Any]:
    """The accounting ads: from -inputfile (condor_userprio -long's output), the negotiator
    (-negotiator) or the collector."""
    from condorsim.shared.classad import ClassAd, parse_ads
    if opts["inputfile"]:
        try:
            with open(opts["inputfile"], encoding="utf-8") as handle:
                return parse_ads(handle.read())
        except (OSError, ValueError) as err:
            raise RuntimeError(f"Can't open file of userprio ads: {opts['inputfile']} ({err})") from None
    from condorsim.shared.locate import query_ads
    from condorsim.shared.protocol import Client
    if opts["from_negotiator"]:
        address = negotiator_address(cfg, opts["negotiator"])
        if address is None:
            raise RuntimeError("Can't query negotiator for ads: no negotiator found")
        reply = Client(address, 10.0).call("QUERY_ADS", my_type="Accounting", constraint=opts["constraint"])
        return [ClassAd.from_wire(ad) for ad in reply["ads"]]
    constraint = opts["constraint"]
    if opts["negotiator"]:
        from condorsim.shared.classad.unparse import quote_string
        by_name = f"NegotiatorName == {quote_string(opts['negotiator'])}"
        constraint = f"({constraint}) && {by_name}" if constraint else by_name
    return query_ads(cfg, "Accounting", constraint)


def wanted(ad: Any, names: list[str]) -> bool:
    """The users named on the command line: full names exactly, short ones by their user part."""
    name = string_of(ad, "Name") or ""
    return any(name == n if "@" in n or n == "<none>" else name.split("@")[0] == n for n in names)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse(argv)
        cfg = load_tool_config("condor_userprio")
    except ToolExit as stop:
        return stop.status
    if opts["edit"] or opts["resetall"]:
        return run_edit(cfg, opts)
    now = time.time()
    try:
        ads = fetch_ads(cfg, opts)
    except RuntimeError as err:
        sys.stderr.write(f"{err}\n")
        return 1
    except Exception as err:  # the collector cannot be reached or refuses the constraint
        sys.stderr.write(f"Can't query collector for ads: {err}\n")
        return 1
    if opts["names"]:
        ads = [ad for ad in ads if wanted(ad, opts["names"])]
    if opts["constraint"] and opts["inputfile"]:     # the collector and negotiator apply it themselves
        from condorsim.shared.classad import eval_constraint
        ads = [ad for ad in ads if eval_constraint(opts["constraint"], ad)]
    if opts["long"]:
        sys.stdout.write(long_form(ads))
    elif opts["autoformat"] is not None:
        autoformat: AutoFormat = opts["autoformat"]
        sys.stdout.write(autoformat.render(ads))
    else:
        min_last_usage = -1 if opts["allusers"] or opts["names"] else now - 86400
        if opts["activefrom"] is not None and not opts["names"]:
            min_last_usage = opts["activefrom"]
        sys.stdout.write(render_table(ads, opts["details"] or MOST, min_last_usage, now))
    return 0


if __name__ == "__main__":
    sys.exit(main())
