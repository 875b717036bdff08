"""condor_off, condor_on, condor_restart, condor_reconfig: commands to the local condor_master.

    condor_off       [-fast | -peaceful | -graceful] [-master | -daemon NAME]
    condor_on        [-master | -daemon NAME]
    condor_restart   [-fast | -peaceful | -graceful] [-master | -daemon NAME]
    condor_reconfig  [-master | -daemon NAME]

The command is chosen by the name the program runs under, as HTCondor's one tool.cpp binary
does. Without a daemon option: condor_off stops every daemon but the master (which stays up),
condor_on starts them again, condor_restart restarts them, condor_reconfig makes the master
re-read its configuration and pass the reconfig on. `-master` with condor_off makes everything
exit. `-daemon NAME` names any daemon of DAEMON_LIST (`-startd`, `-schedd`, `-collector`,
`-negotiator` are short forms). What is printed, and on which stream, is what HTCondor prints,
e.g. `Sent "Kill-All-Daemons" command to local master`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from condorsim.shared.locate import read_address_file
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.tool_options import ToolExit, load_tool_config

# Daemon types HTCondor knows by name; any other -daemon name is a "generic" daemon.
KNOWN_DAEMONS = {"master", "schedd", "startd", "collector", "negotiator", "kbdd", "credd",
                 "gridmanager", "had", "replication", "shared_port", "defrag"}
SHORT_DAEMON_FLAGS = {"-master": "master", "-startd": "startd", "-schedd": "schedd",
                      "-collector": "collector", "-negotiator": "negotiator", "-kbdd": "kbdd"}
COMMANDS = ("_reconfig", "_restart", "_off", "_on")  # longest first: "_off" must not read as "_on"
SHUTDOWN_COMMANDS = ("_off", "_restart")


@dataclass
class Options:
    prog: str
    command: str  # one of COMMANDS
    daemon: str | None = None  # as given: -daemon STARTD → "STARTD", -startd → "startd"
    speed: str = "graceful"  # graceful | fast | peaceful

    @property
    def targets_master(self) -> bool:
        return self.daemon is None or self.daemon.lower() == "master"

    def daemon_kind(self) -> str:
        """HTCondor's word for the daemon in "local <kind>": the type name, or the name itself."""
        name = self.daemon or "master"
        return name.lower() if name.lower() in KNOWN_DAEMONS else name


def usage(opts: Options, status: int = 1) -> ToolExit:
    text = {
        "_off": "  {p} turns off the specified daemon.\n"
                "  If no daemon is given, everything except the master is shut down.\n",
        "_on": "  {p} turns on the condor daemons specified in the config file.\n",
        "_restart": "  {p} causes specified daemon to restart itself.\n"
                    "  If sent to the master, all daemons on that host will restart.\n",
        "_reconfig": "  {p} causes the specified daemon to reconfigure itself.\n"
                     "  If sent to the master, all daemons on that host will reconfigure.\n",
    }[opts.command]
    shutdown = ("    -graceful\t\tgracefully shutdown daemons (the default)\n"
                "    -fast\t\tquickly shutdown daemons\n"
                "    -peaceful\t\twait indefinitely for jobs to finish\n"
                if opts.command in SHUTDOWN_COMMANDS else "")
    sys.stderr.write(
        f"Usage: {opts.prog} [general-options] [daemon]\n"
        "where [general-options] can be zero or more of:\n"
        "    -help\t\tgives this usage information\n" + shutdown +
        "where [daemon] can be one of:\n"
        "    -daemon <name>\tspecify the target daemon by name (any DAEMON_LIST entry)\n"
        "    -master, -startd, -schedd, -collector, -negotiator\n"
        "  (condorsim's tools act on the local host only)\n\n"
        + text.format(p=opts.prog) + "\n")
    return ToolExit(status)


def short_usage() -> ToolExit:
    sys.stderr.write('Use "-help" to see usage information\n')
    return ToolExit(1)


def parse_args(opts: Options, argv: list[str]) -> None:
    i = 0
    while i < len(argv):
        arg = argv[i]
        option = arg.lower()
        if not arg.startswith("-") or len(arg) < 2:
            sys.stderr.write(f'ERROR: "{arg}": condorsim\'s {opts.prog} acts on the local host only; '
                             "host names and addresses are not supported\n")
            raise short_usage()
        if "-help".startswith(option) and len(option) >= 2:
            raise usage(opts, 0)
        if "-debug".startswith(option) and len(option) >= 3:
            pass
        elif option in ("-fast", "-peaceful", "-graceful", "-force-graceful"):
            speed = option.lstrip("-").replace("force-graceful", "graceful")
            if opts.command not in SHUTDOWN_COMMANDS and speed != "graceful" or \
                    option == "-force-graceful" and opts.command != "_off":
                sys.stderr.write(f'ERROR: "{arg}" is not valid with {opts.prog}\n')
                raise short_usage()
            opts.speed = speed
        elif option in SHORT_DAEMON_FLAGS or option in ("-daemon", "-subsystem"):
            if opts.daemon is not None:
                sys.stderr.write("ERROR: can only specify one daemon flag.\n")
                raise usage(opts)
            if option in SHORT_DAEMON_FLAGS:
                opts.daemon = SHORT_DAEMON_FLAGS[option]
            elif i + 1 < len(argv):
                opts.daemon = argv[i + 1]
                i += 1
            else:
                sys.stderr.write(f"ERROR: {option} requires another argument\n")
                raise short_usage()
        elif option in ("-name", "-addr", "-pool", "-all", "-constraint"):
            sys.stderr.write(f'ERROR: "{arg}" is not supported: condorsim\'s {opts.prog} acts on the '
                             "local host only\n")
            raise short_usage()
        else:
            sys.stderr.write(f'ERROR: invalid argument "{arg}"\n')
            raise usage(opts)
        i += 1


def send(address: str | None, who: str, command_text: str, command: str, **payload) -> int:
    """Send one command; print HTCondor's complaint and return 1 if it could not be delivered."""
    if not address:
        sys.stderr.write(f"Can't find address for {who}\nPerhaps you need to query another pool.\n")
        return 1
    try:
        Client(address, timeout=10.0).call(command, **payload)
    except CommunicationError:
        sys.stderr.write(f"Can't connect to {who}\n")
        return 1
    except RemoteError as exc:
        sys.stderr.write(f"ERROR\n{exc}\nCan't send {command_text} command to {who}\n")
        return 1
    return 0


def suffix(speed: str, fast: str, peaceful: str) -> str:
    return {"fast": fast, "peaceful": peaceful}.get(speed, "")


def run(opts: Options, master: str | None) -> int:
    """Translate the command as HTCondor's tool does, send it, and print what HTCondor prints."""
    name = None if opts.targets_master else opts.daemon.upper()  # DAEMON_LIST names
    for_daemon = f' for "{opts.daemon}"'
    who = "local master"
    if opts.command == "_off":
        if opts.daemon is None:
            text = "Kill-All-Daemons" + suffix(opts.speed, "-Fast", "-Peacefully")
            payload = {"daemon": None, "master": False}
            shown = f'Sent "{text}" command to {who}'
        else:
            text = "Kill-Daemon" + suffix(opts.speed, "-Fast", "-Peacefully")
            payload = {"daemon": name, "master": name is None}
            # HTCondor names the daemon only in the graceful and fast forms.
            shown = f'Sent "{text}" command' + ("" if opts.speed == "peaceful" else for_daemon) + f" to {who}"
        status = send(master, who, text, "DAEMONS_OFF", fast=opts.speed == "fast", **payload)
    elif opts.command == "_on":
        text = "Spawn-All-Daemons" if name is None else "Spawn-Daemon"
        shown = f'Sent "{text}" command' + ("" if name is None else for_daemon) + f" to {who}"
        status = send(master, who, text, "DAEMONS_ON", daemon=name)
    else:
        # restart and reconfig of one daemon go to that daemon in HTCondor ("local startd");
        # here the master relays them, so a daemon it does not know has no address.
        text = ("Reconfig" if opts.command == "_reconfig"
                else "Restart" + suffix(opts.speed, "-Fast", "-Peaceful"))
        if name is not None:
            who = f"local {opts.daemon_kind()}"
            if master and not known_to_master(master, name):
                master = None
        shown = f'Sent "{text}" command to {who}'
        status = send(master, who, text, "RECONFIG" if opts.command == "_reconfig" else "RESTART",
                      daemon=name)
    if status == 0:
        print(shown)
    return status


def known_to_master(master: str, name: str) -> bool:
    try:
        return name in Client(master, timeout=10.0).call("CHILDREN")["children"]
    except (CommunicationError, RemoteError):
        return True  # let the command itself report the failure


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Run as condor_off/on/restart/reconfig, chosen by `prog` (default: basename of argv[0])."""
    argv = sys.argv[1:] if argv is None else argv
    prog = prog or os.path.basename(sys.argv[0])
    tail = prog[prog.find("_"):].lower() if "_" in prog else ""
    command = next((c for c in COMMANDS if tail.startswith(c)), None)
    if command is None:
        sys.stderr.write(f"ERROR: unknown command {prog}\n")
        return 1
    opts = Options(prog, command)
    try:
        parse_args(opts, argv)
        cfg = load_tool_config(prog)
    except ToolExit as stop:
        return stop.status
    return run(opts, read_address_file(cfg.get("MASTER_ADDRESS_FILE")))


if __name__ == "__main__":
    sys.exit(main())
