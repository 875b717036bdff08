"""condor_tail: print the end of a running job's stdout, stderr or output files.

    condor_tail [-name SCHEDD] [-maxbytes N] [-auto-retry] [-f | -follow] [-no-stdout] [-stderr]
                JOB-ID [FILE ...]

The job's ad at the schedd names the startd running it; the startd names the job's starter
(JOB_CONNECT_INFO), and the starter reads the files (PEEK): at most -maxbytes (1024) a time,
the file's last bytes first, then with -follow what was written since, every 2 seconds until
the job ends.  Messages and exit codes are HTCondor's.
"""
from __future__ import annotations

import re
import sys
import time
from typing import Any

from condorsim.shared.tool_options import ToolExit, load_tool_config

USAGE = """Usage: condor_tail [options] <job-id> [filename1[, filename2[, ...]]]
Print the end of a file of a running job.
The options are:
    -help             Print these options
    -version          Print the HTCondor version
    -name <name>      Ask this schedd
    -maxbytes         At most this many bytes a read (default 1024)
    -auto-retry       Wait for the job to start running
    -f,-follow        Keep printing what the job writes
By default the job's stdout is printed; a filename must be in its transfer_output_files.
    -no-stdout        Leave out the job's stdout
    -stderr           Print the job's stderr instead of its stdout

"""
RETRY_SECONDS = 2.0


class TailError(Exception):
    """Why the tail failed; `retry`: whether waiting could help (the job has not started)."""

    def __init__(self, message: str, retry: bool = False):
        super().__init__(message)
        self.retry = retry


def usage_error(message: str) -> ToolExit:
    sys.stderr.write(message + USAGE)
    return ToolExit(1)


def parse(argv: list[str]) -> dict:
    opts: dict[str, Any] = {"name": None, "max_bytes": 1024, "auto_retry": False, "follow": False,
                            "stdout": True, "stderr": False, "job": None, "files": []}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-help":
            sys.stderr.write(USAGE)
            raise ToolExit(0)
        if arg in ("-pool", "-name", "-maxbytes"):
            i += 1
            if i == len(argv) or (arg == "-maxbytes" and argv[i].startswith("-")):
                raise usage_error(f"{arg} requires an argument.\n\n")
            if arg == "-maxbytes":
                if not re.fullmatch(r"\s*[-+]?\d+\s*", argv[i]):
                    raise usage_error(f"Error: maxbytes ({argv[i]}) is not valid\n\n")
                opts["max_bytes"] = int(argv[i])
            elif arg == "-name":
                opts["name"] = argv[i]
        elif arg == "-version":
            from condorsim.scripts.condor_version import version_lines
            sys.stdout.write(version_lines())
            raise ToolExit(0)
        elif arg == "-no-stdout":
            opts["stdout"] = False
        elif arg == "-stderr":
            opts["stderr"], opts["stdout"] = True, False
        elif arg in ("-f", "-follow"):
            opts["follow"] = True
        elif arg == "-auto-retry":
            opts["auto_retry"] = True
        elif arg == "-debug":
            pass          # no tool writes a debug log
        elif opts["job"] is None:
            opts["job"] = arg
        else:
            opts["files"].append(arg)
        i += 1
    if not opts["stdout"] and not opts["stderr"] and not opts["files"]:
        raise usage_error("No file transfer specified.\n\n")
    if opts["job"] is None:
        raise usage_error("Job ID not specified.\n")
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?", opts["job"])
    if not match:
        raise usage_error(f"Invalid Job ID: {opts['job']}\n")
    opts["job"] = f"{int(match.group(1))}.{int(match.group(2) or 0)}"
    return opts


def starter_address(cfg: Any, opts: dict) -> str:
    """Ask the schedd for the job, then its startd for the job's starter."""
    from condorsim.shared.locate import schedd_address
    from condorsim.shared.protocol import Client, CommunicationError, RemoteError
    cluster, proc = opts["job"].split(".")
    try:
        address = schedd_address(cfg, opts["name"])
    except CommunicationError:
        raise TailError(f"No such schedd named {opts['name']} in local pool" if opts["name"]
                        else "Can't find address of local schedd") from None
    try:
        reply = Client(address, 10.0).call("QUERY_JOBS", constraint=f"ClusterId == {cluster} && ProcId == {proc}",
                                           projection=None, owner=None)
    except (CommunicationError, RemoteError) as err:
        raise TailError(f"Failed to get the job from the schedd: {err}") from None
    jobs = reply.get("jobs") or []
    if not jobs:
        raise TailError(f"No such job: {opts['job']}")
    from condorsim.shared.classad import ClassAd
    job = ClassAd.from_wire(jobs[0])
    startd = job.eval("StartdIpAddr")
    if job.eval("JobStatus") != 2 or not isinstance(startd, str):
        raise TailError(f"Job {opts['job']} is not running.", retry=job.eval("JobStatus") == 1)
    try:
        return str(Client(startd, 10.0).call("JOB_CONNECT_INFO", job=opts["job"])["starter"])
    except (CommunicationError, RemoteError, KeyError):
        raise TailError("Failed to get address of starter for this job", retry=True) from None


def peek(address: str, files: list[str], offsets: list[int | None], max_bytes: int) -> list[dict]:
    from condorsim.shared.protocol import Client, CommunicationError, RemoteError
    try:
        reply = Client(address, 5.0).call("PEEK", files=files, offsets=offsets, max_bytes=max_bytes)
    except (CommunicationError, RemoteError) as err:
        raise TailError(str(err)) from None
    if "error" in reply:
        raise TailError(str(reply["error"]), retry=bool(reply.get("retry")))
    return list(reply["files"])


def tail(cfg: Any, opts: dict) -> int:
    files = (["stdout"] if opts["stdout"] else []) + (["stderr"] if opts["stderr"] else []) + opts["files"]
    offsets: list[int | None] = [None] * len(files)
    address, printed = None, False
    while True:
        try:
            address = address or starter_address(cfg, opts)
            for n, found in enumerate(peek(address, files, offsets, opts["max_bytes"])):
                sys.stdout.buffer.write(found["data"])
                offsets[n] = int(found["offset"])
            sys.stdout.flush()
            printed = True
            if not opts["follow"]:
                return 0
        except TailError as err:
            if printed:      # the job ended while we followed it: done
                return 0
            if not (err.retry and opts["auto_retry"]):
                where = "" if address is None else "Failed to peek at file from starter: "
                sys.stderr.write(f"{where}{err}\n")
                return 1
            address = None
        time.sleep(RETRY_SECONDS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse(argv)
        cfg = load_tool_config("condor_tail")
    except ToolExit as stop:
        return stop.status
    try:
        return tail(cfg, opts)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
