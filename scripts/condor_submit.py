"""condor_submit: queue the jobs of a submit description (a file, ``-`` or standard input).

    condor_submit [options] [file | -] [key=value ...]
      -             read standard input and print each proc's ad (verbose)
      -terse        print only "C.first - C.last" per cluster
      -append LINE  add LINE to the description (before its queue statements are run)
      -name NAME    submit to the schedd named NAME
      key=value     same as -append "key=value"

Output as HTCondor's: "Submitting job(s)" with a dot per proc, then "N job(s) submitted to
cluster C.".  Errors go to stderr as "ERROR: ..." with exit status 1, and nothing is queued.
"""

from __future__ import annotations

import getpass
import os
import sys

from condorsim.shared.classad import unparse_old
from condorsim.shared.config import load_config
from condorsim.shared.locate import schedd_address
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.submit import SubmitError, parse_submit

USAGE = "Usage: condor_submit [options] [submit-file | -] [key=value ...]\n"


class UsageError(Exception):
    pass


def parse_args(argv: list[str]) -> dict:
    opts = {"file": None, "verbose": False, "terse": False, "append": [], "name": None}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-":
            opts["file"], opts["verbose"] = "-", True
        elif arg.startswith("-") and len(arg) > 1:
            option = arg.lstrip("-").lower()
            if "terse".startswith(option) and len(option) >= 2:
                opts["terse"] = True
            elif option in ("verbose", "v"):
                opts["verbose"] = True
            elif option in ("append", "a", "name", "n"):
                if i + 1 >= len(argv):
                    raise UsageError(f"{arg} requires another argument")
                i += 1
                if option.startswith("a"):
                    opts["append"].append(argv[i])
                else:
                    opts["name"] = argv[i]
            else:
                raise UsageError(f"unknown option {arg}")
        elif "=" in arg:
            opts["append"].append(arg)
        elif opts["file"] is None:
            opts["file"] = arg
        else:
            raise UsageError(f"only one submit file may be given ({opts['file']}, {arg})")
        i += 1
    return opts


def error(message: str) -> int:
    sys.stderr.write(f"\nERROR: {message}\n")
    return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_args(argv)
    except UsageError as exc:
        sys.stderr.write(f"condor_submit: {exc}\n{USAGE}")
        return 1
    filename = opts["file"]
    try:
        if filename in (None, "-"):
            text, shown_name = sys.stdin.read(), "(stdin)"
        else:
            with open(filename, encoding="utf-8", errors="replace") as f:
                text, shown_name = f.read(), filename
    except OSError as exc:
        return error(f"Failed to open command file ({exc.strerror})")

    try:
        description = parse_submit(text, shown_name)
        if opts["append"]:
            description.insert_before_first_queue("\n".join(opts["append"]))
    except SubmitError as exc:
        return error(str(exc))
    if not description.has_queue:
        return error(f'"{shown_name}" doesn\'t contain any "queue" commands -- no jobs queued')

    try:
        cfg = load_config(subsystem="SUBMIT")
    except Exception as exc:  # a config error of any kind stops the tool with its message
        return error(f"configuration: {exc}")
    try:
        client = Client(schedd_address(cfg, opts["name"]), timeout=30.0)
    except CommunicationError as exc:
        return error(f"Can't find address of {'schedd ' + opts['name'] if opts['name'] else 'local schedd'} ({exc})")

    try:
        cluster = int(client.call("NEW_CLUSTER")["cluster"])
        jobs = description.build_jobs(cluster, owner=None, cwd=os.getcwd(), config=cfg)
    except SubmitError as exc:
        return error(str(exc))
    except (CommunicationError, RemoteError) as exc:
        return error(f"Failed to connect to local queue manager ({exc})")
    if not jobs:
        sys.stderr.write(f'\nWARNING: "{shown_name}" has only empty "queue" commands -- no jobs queued\n')
        return 0

    out = sys.stdout
    if not opts["verbose"] and not opts["terse"]:
        out.write("Submitting job(s)" + "." * len(jobs))
        out.flush()
    try:
        client.call("SUBMIT", cluster=cluster, owner=getpass.getuser(), ads=[ad.to_wire() for ad in jobs])
    except (CommunicationError, RemoteError) as exc:
        if not opts["verbose"] and not opts["terse"]:
            out.write("\n")
        return error(f"Failed to queue job. ({exc})")

    if opts["terse"]:
        out.write(f"{cluster}.0 - {cluster}.{len(jobs) - 1}\n")
    elif opts["verbose"]:
        for ad in jobs:
            text = unparse_old(ad).rstrip("\n")
            out.write(f"\n** Proc {cluster}.{ad.eval('ProcId')}:\n{text}\n")
    else:
        out.write(f"\n{len(jobs)} job(s) submitted to cluster {cluster}.\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
