"""condor_who: who runs jobs on this machine, and whether its daemons are ready.

    condor_who                         the slots of this machine running jobs
    condor_who -long                   their ads
    condor_who -quick                  the master's readiness ad
    condor_who -wait:N 'expr'          wait up to N seconds for expr to be true of that ad

The readiness ad is HTCondor's: for each daemon of DAEMON_LIST, ``<NAME>_PID`` and ``<NAME>``
(``Alive`` once it has reported its address, ``Startup`` before, ``Dead`` without a process), and
``NumDaemons``, ``NumAlive``, ``NumStartup``, ``NumHung``, ``NumHold``, ``NumDead``, ``IsReady``.
It is printed one ``Attr = value`` a line; the exit status is 0 once the expression holds, 1 if
it does not within N seconds (or the master cannot be reached).
"""
from __future__ import annotations

import sys
import time

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, parse_expr
from condorsim.shared.columns import Column, Table, format_time, int_of, long_form, string_of
from condorsim.shared.locate import query_ads, read_address_file
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.tool_options import ToolExit, is_arg, load_tool_config

USAGE = """Usage: condor_who [options]
    where [options] are
\t-help\t\t\tThis screen
\t-quick\t\t\tShow the master's readiness ad
\t-wait[:<sec>] <expr>\tWait up to <sec> seconds for <expr> to be true of that ad
\t-long\t\t\tShow the ads of the slots running jobs
\t-address <addr>\t\tAsk the startd at <addr>
"""
POLL_SECONDS = 0.2


def readiness_ad(master: str, children: dict) -> ClassAd:
    """The master's readiness ad from its report of its children."""
    ad = ClassAd({"MASTER_PID": 0, "MASTER": "Alive"})
    states = ["Alive"]
    for name, child in children.items():
        pid, address = child.get("pid"), child.get("address")
        state = "Alive" if pid and address else "Startup" if pid else "Dead"
        ad[f"{name}_PID"] = pid or 0
        ad[name] = state
        states.append(state)
    ad["MASTER_PID"] = int(Client(master).call("PING").get("pid", 0))
    ad["NumDaemons"] = len(states)
    ad["NumAlive"] = states.count("Alive")
    ad["NumStartup"] = states.count("Startup")
    ad["NumHung"] = ad["NumHold"] = 0
    ad["NumDead"] = states.count("Dead")
    ad["IsReady"] = all(s == "Alive" for s in states)
    return ad


def wait_for_ready(cfg, expression: str | None, seconds: float) -> tuple[ClassAd, bool]:
    master = read_address_file(cfg.get("MASTER_ADDRESS_FILE"))
    if not master:
        raise CommunicationError("no address in MASTER_ADDRESS_FILE")
    want = parse_expr(expression) if expression else None
    deadline = time.monotonic() + seconds
    while True:
        ad = readiness_ad(master, Client(master).call("CHILDREN")["children"])
        ready = want.eval(ad) is True if want is not None else bool(ad.eval("IsReady"))
        if ready or time.monotonic() >= deadline:
            return ad, ready
        time.sleep(POLL_SECONDS)


def slot_id(ad: ClassAd) -> str:
    """SlotID, or for a dynamic slot the part of its name after "slot" (``1_3``)."""
    if ad.eval("DynamicSlot") is True:
        name = string_of(ad, "Name") or ""
        return name[4:].split("@")[0] if name.startswith("slot") else f"{int_of(ad, 'SlotID')}_?"
    return str(int_of(ad, "SlotID"))


def who_table(slots: list[ClassAd]) -> str:
    columns = [Column("OWNER", lambda ad: string_of(ad, "RemoteOwner")),
               Column("CLIENT", lambda ad: string_of(ad, "ClientMachine")),
               Column("SLOT", slot_id),
               Column("JOB", lambda ad: string_of(ad, "JobId")),
               Column("  RUNTIME", lambda ad: format_time(int_of(ad, "TotalJobRunTime"))),
               Column("PID", lambda ad: string_of(ad, "JobPid") or ""),
               Column("JOB_DIR", lambda ad: string_of(ad, "JobDir") or "")]
    table = Table(columns)
    rows = table.render(slots)
    return "".join(line + "\n" for line in [table.heading()] + rows)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    expression, seconds, quick, long_ads = None, 0.0, False, False
    i = 0
    while i < len(argv):
        arg = argv[i]
        head, _, qualifier = arg.partition(":")
        if is_arg(head, "wait-for-ready", 4) or head == "-wait":
            if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                sys.stderr.write(f"Error: Argument {arg} requires a requirements expression\n")
                return 1
            quick, expression, seconds = True, argv[i + 1], float(qualifier or 0)
            i += 1
        elif is_arg(arg, "quickdaemons", 4) or is_arg(arg, "quick", 5):
            quick = True
        elif is_arg(arg, "long", 1):
            long_ads = True
        elif is_arg(arg, "help", 1):
            sys.stdout.write(USAGE)
            return 0
        else:
            sys.stderr.write(USAGE)
            return 1
        i += 1
    try:
        cfg = load_tool_config("condor_who")
        if quick:
            if expression is not None:
                parse_expr(expression)
            ad, ready = wait_for_ready(cfg, expression, seconds)
            sys.stdout.write(long_form([ad]))
            return 0 if ready else 1
        host = cfg.get("FULL_HOSTNAME")
        slots = [s for s in query_ads(cfg, "Machine", f'Machine == "{host}"')
                 if s.lookup("RemoteOwner") is not None]
    except ToolExit as stop:
        return stop.status
    except ClassAdSyntaxError as exc:
        sys.stderr.write(f"Error: invalid expression {expression}: {exc}\n")
        return 1
    except (CommunicationError, RemoteError) as exc:
        sys.stderr.write(f"Error: cannot reach the daemons: {exc}\n")
        return 1
    slots.sort(key=lambda ad: int_of(ad, "SlotID"))
    sys.stdout.write(long_form(slots) if long_ads else who_table(slots))
    return 0


if __name__ == "__main__":
    sys.exit(main())
