"""condor_drain: stop one startd taking new jobs and empty its slots, or cancel that.

    condor_drain [-graceful | -quick | -fast] [-reason TEXT] [-resume-on-completion |
                 -exit-on-completion | -restart-on-completion | -reconfig-on-completion]
                 [-start EXPR] [-verbose] MACHINE
    condor_drain -cancel [-request-id ID] MACHINE

MACHINE names one startd: its host (the startd named after the host) or a startd name such as
SHADOW_STARTD@host, found through its slot ads. Options, messages and exit codes are HTCondor's.
"""
from __future__ import annotations

import sys

from condorsim.shared.locate import query_ads
from condorsim.shared.protocol import CommunicationError, RemoteError, Client
from condorsim.shared.tool_options import ToolExit, is_arg, load_tool_config

COMPLETIONS = (("resume-on-completion", 1, "resume"), ("exit-on-completion", 2, "exit"),
               ("restart-on-completion", 4, "restart"), ("reconfig-on-completion", 3, "reconfig"))
USAGE = """Usage: condor_drain [OPTIONS] machine

OPTIONS:
-cancel           Stop draining.
-debug            Display debugging info to console
-graceful         (the default) Honor MaxVacateTime and MaxJobRetirementTime.
-quick            Honor MaxVacateTime but not MaxJobRetirementTime.
-fast             Honor neither MaxVacateTime nor MaxJobRetirementTime.
-reason <text>    While draining, advertise <text> as the reason.
-resume-on-completion    When done draining, resume normal operation.
-exit-on-completion      When done draining, STARTD should exit and not restart.
-restart-on-completion   When done draining, STARTD should restart.
-reconfig-on-completion  When done draining, STARTD should reconfig and resume.
-request-id <id>  Specific request id to cancel (optional).
-check <expr>     Must be true for all slots to be drained or request is aborted.
-start <expr>     Change START expression to this while draining.
"""


def fail(message: str, status: int = 2) -> ToolExit:
    sys.stderr.write(message)
    return ToolExit(status)


VALUED = (("reason", 3), ("request-id", 3), ("check", 2), ("start", 5))  # options taking a value


def parse(argv: list[str]) -> dict:
    opts = {"cancel": False, "how_fast": "graceful", "reason": None, "on_completion": None,
            "request_id": None, "check": None, "start": None, "verbose": False, "target": None}
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        arg = argv[i]
        completion = next((mode for name, letters, mode in COMPLETIONS if is_arg(arg, name, letters)), None)
        valued = next((name for name, letters in VALUED if is_arg(arg, name, letters)), None)
        speed = next((speed for speed in ("fast", "quick", "graceful") if is_arg(arg, speed)), None)
        if is_arg(arg, "help"):
            raise fail(USAGE, 0)
        elif completion:
            if opts["on_completion"]:
                raise fail(f"condor_drain: '{arg}' conflicts with previous use of "
                           f"'-{opts['on_completion']}-on-completion'\n", 1)
            opts["on_completion"] = completion
        elif valued:
            if i + 1 >= len(argv):
                raise fail(f"condor_drain: '{arg}' requires another argument\n", 1)
            i += 1
            opts[valued.replace("-", "_")] = argv[i]
        elif speed:
            opts["how_fast"] = speed
        elif is_arg(arg, "cancel"):
            opts["cancel"] = True
        elif is_arg(arg, "verbose", 4):
            opts["verbose"] = True
        elif not is_arg(arg, "debug", 3):
            raise fail(f"ERROR: unexpected argument: {arg}\n")
        i += 1
    if i != len(argv) - 1:
        raise fail("ERROR: must specify one target machine\n")
    opts["target"] = argv[i]
    if not opts["cancel"] and opts["request_id"]:
        raise fail("ERROR: -request-id may only be used with -cancel\n")
    if opts["cancel"]:
        for key, text in (("check", "ERROR: -check may not be used with -cancel\n"),
                          ("on_completion", "ERROR: cannot use an -on-completion option with -cancel\n"),
                          ("reason", "ERROR: cannot use -reason with -cancel\n")):
            if opts[key]:
                raise fail(text)
    return opts


def locate_startd(cfg, target: str) -> tuple[str, str]:
    """(name, address) of the startd `target` names: a startd name (the part of its slots' names
    after the first @), or a host, meaning the startd named after it."""
    startds: dict[str, str] = {}
    for ad in query_ads(cfg, "Machine", projection=["Name", "Machine", "StartdIpAddr"]):
        name, address = ad.eval("Name"), ad.eval("StartdIpAddr")
        if isinstance(name, str) and "@" in name and isinstance(address, str):
            startds[name.split("@", 1)[1]] = address
    for name, address in startds.items():
        if target.lower() in (name.lower(), name.split(".")[0].lower()):
            return name, address
    raise fail(f"ERROR: Can't find address for startd {target}\n", 1)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse(argv)
        cfg = load_tool_config("condor_drain")
        name, address = locate_startd(cfg, opts["target"])
        command = "CANCEL_DRAIN_JOBS" if opts["cancel"] else "DRAIN_JOBS"
        try:
            if opts["cancel"]:
                Client(address).call(command, request_id=opts["request_id"])
                print(f"Sent request to cancel draining on {name}")
            else:
                reply = Client(address).call(command, how_fast=opts["how_fast"], reason=opts["reason"],
                                             on_completion=opts["on_completion"], start=opts["start"],
                                             check=opts["check"])
                print(f"Sent request to drain the startd {address} with {name}. This only affects the "
                      "single startd; any other startds running on the same host will not be drained.")
                if opts["verbose"]:
                    print(f"\tRequest id: {reply['request_id']}")
        except (CommunicationError, RemoteError) as exc:
            raise fail(f"Attempt to send {command} to startd {address} failed\n{exc}\n", 1) from None
    except ToolExit as stop:
        return stop.status
    except CommunicationError as exc:
        sys.stderr.write(f"ERROR: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
