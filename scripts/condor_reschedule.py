"""condor_reschedule: ask the schedd to advertise itself and start a negotiation cycle.

    condor_reschedule [-name schedd]

Prints `Sent "Reschedule" command to local schedd` (or `... to schedd NAME`), as HTCondor does.
"""
from __future__ import annotations

import sys

from condorsim.shared.locate import schedd_address
from condorsim.shared.protocol import CommunicationError
from condorsim.shared.tool_options import ToolExit, load_tool_config
from condorsim.scripts.condor_admin import send

USAGE = ("Usage: condor_reschedule [-help] [-name schedd_name]\n\n"
         "  condor_reschedule causes the condor_schedd to update the central manager\n"
         "  and initiate a new negotiation cycle.\n\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    name = None
    if argv and argv[0].lower() in ("-name", "-n") and len(argv) == 2:
        name = argv[1]
    elif argv and "-help".startswith(argv[0].lower()) and len(argv[0]) >= 2:
        sys.stderr.write(USAGE)
        return 0
    elif argv:
        sys.stderr.write(f'ERROR: invalid argument "{argv[0]}"\n{USAGE}')
        return 1
    try:
        cfg = load_tool_config("condor_reschedule")
    except ToolExit as stop:
        return stop.status
    who = "local schedd" if name is None else f"schedd {name}"
    try:
        address = schedd_address(cfg, name)
    except CommunicationError:
        address = None
    status = send(address, who, "Reschedule", "RESCHEDULE")
    if status == 0:
        print(f'Sent "Reschedule" command to {who}')
    return status


if __name__ == "__main__":
    sys.exit(main())
