"""condor_ping: may I use commands of an authorization level (or a command) at a daemon?

    condor_ping [-address <sinful>] [-name NAME] [-type SUBSYSTEM] [-quiet|-table|-verbose]
                TOKEN [TOKEN ...]

A TOKEN is ALL, an authorization level (READ, WRITE, ADMINISTRATOR, DAEMON, NEGOTIATOR, and
HTCondor's CONFIG, OWNER, ADVERTISE_* and ALLOW), a command name from condorsim's command table,
or a DC_NOP_<LEVEL> command number. For each, the daemon (default: the local schedd) is asked
whether the requester may use that level; output as HTCondor's condor_ping prints it. Exit 0 if
every token succeeded, else 1. The connection is the daemon's Unix-domain socket, so the
requester is authenticated by the kernel (method FS); an -address without one is plain TCP,
unauthenticated.
"""
from __future__ import annotations

import platform
import sys
import time

from condorsim.shared.commands import COMMANDS
from condorsim.shared.daemon import CONDOR_VERSION
from condorsim.shared.locate import collector_address, query_ads, schedd_address
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.security import LEVEL_ALIASES, METHOD
from condorsim.shared.tool_options import ToolExit, load_tool_config

# HTCondor's DC_NOP_<LEVEL> command numbers (what condor_ping sends for a level).
NOP_COMMANDS = {"ALLOW": 60011, "READ": 60020, "WRITE": 60021, "NEGOTIATOR": 60022, "ADMINISTRATOR": 60023,
                "OWNER": 60024, "CONFIG": 60025, "DAEMON": 60026, "ADVERTISE_STARTD": 60027,
                "ADVERTISE_SCHEDD": 60028, "ADVERTISE_MASTER": 60029}
ALL_TOKENS = ["ALLOW", "READ", "WRITE", "NEGOTIATOR", "ADMINISTRATOR", "OWNER", "CONFIG", "DAEMON",
              "ADVERTISE_STARTD", "ADVERTISE_SCHEDD", "ADVERTISE_MASTER"]
# -type SUBSYSTEM: the MyType of its ads and the subsystem its commands are tabled under.
TYPES = {"SCHEDD": ("Scheduler", "SCHEDD"), "COLLECTOR": ("Collector", "COLLECTOR"),
         "NEGOTIATOR": ("Negotiator", "NEGOTIATOR"), "STARTD": ("Machine", "STARTD"),
         "MASTER": ("DaemonMaster", "MASTER")}

USAGE = """Usage: condor_ping [options] TOKEN [TOKEN [TOKEN [...]]]

where TOKEN is ( ALL | <authorization-level> | <command-name> | <command-int> )

general options:
    -help                           Display this output
    -version                        Display Condor version

specifying target options:
    -address <sinful>               Use this sinful string
    -name    <name>                 Find a daemon with this name
    -type    <subsystem>            Type of daemon to contact (default: SCHEDD)

output options (specify only one):
    -quiet                          No output, only sets status
    -table                          Print one result per line
    -verbose                        Print all available information

Example:
    condor_ping -addr "<127.0.0.1:9618>" -table READ WRITE DAEMON

"""


def fail(message: str) -> ToolExit:
    sys.stderr.write(f"ERROR: {message}\n\n{USAGE}")
    return ToolExit(1)


def parse(argv: list[str]) -> dict:
    opts = {"address": None, "name": None, "type": None, "mode": None, "tokens": []}
    args = iter(argv)
    for arg in args:
        word = arg.lstrip("-").lower()
        if not arg.startswith("-") or arg == "-":
            opts["tokens"] += ALL_TOKENS if arg.upper() == "ALL" else [arg]
        elif word in ("help", "h"):
            sys.stdout.write(USAGE)
            raise ToolExit(0)
        elif len(word) >= 4 and "version".startswith(word):
            from condorsim.scripts.condor_version import version_lines
            sys.stdout.write(version_lines())
            raise ToolExit(0)
        elif word in ("quiet", "table", "verbose"):
            if opts["mode"] not in (None, word):
                raise fail("only one output mode may be specified.")
            opts["mode"] = word
        elif word in ("name", "address", "addr") or (len(word) >= 4 and "type".startswith(word)) \
                or (len(word) >= 3 and "subsystem".startswith(word)):
            key = "address" if word.startswith("addr") else "type" if word[0] in "ts" else "name"
            value = next(args, None)
            if value is None:
                raise fail(f"-{key} requires an argument.")
            if key == "type" and value.upper() not in TYPES:
                raise fail(f"unrecognized daemon type: {value}")
            opts[key] = value.upper() if key == "type" else value
            if opts["address"] and opts["name"]:
                raise fail("-address cannot be used with -pool or -name.")
        else:
            raise fail(f"Unknown argument: {arg}")
    return opts


def level_of(token: str, subsystem: str) -> tuple[str, int] | None:
    """(the level a token asks about, its command number), or None if it means nothing."""
    upper = token.upper()
    if upper in NOP_COMMANDS:
        return upper, NOP_COMMANDS[upper]
    if token.isdigit():
        number = int(token)
        return next(((level, n) for level, n in NOP_COMMANDS.items() if n == number), None)
    command = COMMANDS.get((upper, subsystem)) or COMMANDS.get((upper, "*"))
    return (command.level, 0) if command else None


def locate(opts: dict, cfg) -> tuple[str, str]:
    """(address, how HTCondor names the daemon in its messages)."""
    subsystem = opts["type"] or "SCHEDD"
    if opts["address"]:
        return opts["address"], f"daemon at {opts['address'].split('?')[0].rstrip('>')}>"
    name = opts["name"]
    shown = f"{subsystem.lower()} {name}" if name else f"local {subsystem.lower()}"
    if subsystem == "SCHEDD":
        return schedd_address(cfg, name), shown
    if subsystem == "COLLECTOR" and not name:
        return collector_address(cfg), shown
    constraint = None if not name else f'Name == "{name}" || Machine == "{name}"'
    for ad in query_ads(cfg, TYPES[subsystem][0], constraint, ["MyAddress"]):
        address = ad.eval("MyAddress")
        if isinstance(address, str):
            return address, shown
    raise CommunicationError(f"no {subsystem.lower()} found")


def report(mode: str, token: str, number: int, shown: str, reply: dict | None, error: str) -> None:
    """One token's outcome, in the output mode's layout."""
    user = (reply or {}).get("user", "")
    method = (reply or {}).get("method") or ""
    if mode == "quiet":
        return
    if mode == "table":
        if reply is None:
            print(f"{token:>20}           FAIL       FAIL      FAIL     FAIL FAIL  (use -verbose for more info)")
        else:
            print(f"{token:>20}{method or 'none':>15}{'none':>11}{'none':>10}    ALLOW {user}")
    elif mode == "verbose":
        if reply is None:
            print(f"{token} failed!\n{error}\n")
            return
        print(f"Destination:                 {shown}")
        print(f"Remote Version:              {reply.get('version', '')}")
        print(f"Local  Version:              {CONDOR_VERSION}")
        print(f"Session ID:                  {platform.node()}:{reply.get('pid')}:{int(time.time())}:0")
        print(f"Instruction:                 {token}")
        print(f"Command:                     {number}")
        print("Encryption:                  none")
        print("Integrity:                   none")
        if method:
            print(f"Authenticated using:         {method}")
            print(f"All authentication methods:  {METHOD}")
        else:
            print("Authentication:              none")
        print(f"Remote Mapping:              {user}")
        print("Authorized:                  TRUE\n")
    elif reply is None:
        print(f"{token} failed!  Use -verbose for more information.")
    else:
        print(f"{token} command using (no encryption, no integrity, and {method or 'no authentication'}) "
              f"succeeded as {user} to {shown}.")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse(argv)
        mode = opts["mode"] or "normal"
        subsystem = TYPES[opts["type"] or "SCHEDD"][1]
        tokens = opts["tokens"] or ["WRITE"]
        levels = []
        for token in tokens:
            level = level_of(token, subsystem)
            if level is None:
                if mode != "quiet":
                    sys.stderr.write(f'ERROR: Could not understand TOKEN "{token}".\n')
                raise ToolExit(1)
            levels.append(level)
        cfg = load_tool_config("condor_ping")
        try:
            address, shown = locate(opts, cfg)
        except (CommunicationError, RemoteError):
            if mode != "quiet":
                sys.stderr.write(f"ERROR: couldn't locate {opts['address'] or opts['name'] or 'local ' + subsystem.lower()}!\n")
            raise ToolExit(1) from None
    except ToolExit as exc:
        return exc.status
    if mode == "table":
        print("         Instruction Authentication Encryption Integrity Decision Identity")
    status = 0
    client = Client(address, timeout=10.0)
    for token, (level, number) in zip(tokens, levels):
        try:
            reply, error = client.call("PING", level=LEVEL_ALIASES.get(level, level)), ""
        except (CommunicationError, RemoteError) as exc:
            reply, error, status = None, str(exc), 1
        report(mode, token.upper() if token.upper() in NOP_COMMANDS else token, number, shown, reply, error)
    return status


if __name__ == "__main__":
    sys.exit(main())
