"""condor_qedit and condor_prio: change attributes of queued jobs (one program, chosen by name).

    condor_qedit [-name schedd] {C | C.P ... | owner | -constraint EXPR | -owner O | -jobids L}
                 ATTR VALUE | ATTR=VALUE ...
    condor_prio [-p PRIO | +N | -N] [-n schedd] {C | C.P | owner | -a} ...

condor_qedit prints `Set attribute "ATTR" for N matching jobs.` per attribute, or
`Queue transaction failed.  No attributes were set.` (exit 1) when any job is missing or a
value does not parse; condor_prio sets JobPrio silently, as HTCondor's does.
"""
from __future__ import annotations

import getpass
import os
import re
import sys

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, parse_expr
from condorsim.shared.locate import schedd_address
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.tool_options import ToolExit, load_tool_config

QEDIT_USAGE = """Usage: {prog} [help-opts] [general-opts] <restriction-list> <edit-list>

    [help-opts] are:
\t-help\t\t   Display this screen
\t-debug\t\t   Display debugging info to console

    [general-opts] are:
\t-name <name>\t   Name of Scheduler

    <restriction-list> is one or more of:
\t<cluster>\t   Edit jobs in a specific cluster
\t<cluster>.<proc>   Edit a specific job
\t<owner>\t\t   Edit jobs owned by <owner>
\t-jobids <id-list>  Edit jobs in <id-list>
\t-owner <owner>     Edit jobs owned by <owner>
\t-constraint <expr> Edit jobs that match <expr>

    <edit-list> is a set of <attr> and <value> pairs, in one of two forms
\t<attr> <value>\t   Two argument form, alternate <attr> and <value>
\t<attr>=<value>\t   Single argument form, = separates <attr> and <value>
"""
PRIO_USAGE = ("Usage: {prog} [{{+|-}}priority ] [-p priority] [ -a ] [-n schedd_name] [ -pool pool_name ] "
              "[user | cluster | cluster.proc | -a] ...\n")
ATTR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
FAILED = "Queue transaction failed.  No attributes were set.\n"


def connect(name: str | None, prog: str) -> Client:
    try:
        return Client(schedd_address(load_tool_config(prog), name), timeout=30.0)
    except CommunicationError:
        sys.stderr.write(f"{prog}: ERROR: Can't find address of local schedd\n" if not name
                         else f"{prog}: No such schedd named {name} in local pool\n")
        raise ToolExit(1) from None


def set_attributes(client: Client, attributes: dict[str, str], **selection) -> list[dict]:
    reply = client.call("SET_ATTRIBUTES", attributes=attributes, user=getpass.getuser(),
                        **{"ids": None, "constraint": None, "owner": None, **selection})
    return reply["results"]


# -- condor_qedit ---------------------------------------------------------------------------------
def qedit(prog: str, argv: list[str]) -> int:
    name = constraint = owner = None
    ids: list[str] = []
    edits: dict[str, str] = {}
    restricted = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-") and len(arg) > 1 and not restricted or arg in ("-name", "-n", "-debug"):
            option = arg.lstrip("-")
            if "help".startswith(option):
                sys.stdout.write(QEDIT_USAGE.format(prog=prog))
                return 0
            if option in ("debug", "dry-run", "forward"):
                i += 1
                continue
            if i + 1 >= len(argv):
                sys.stderr.write(f"{prog}: {arg} requires another argument\n")
                return 1
            value = argv[i + 1]
            if "name".startswith(option):
                name = value
            elif "constraint".startswith(option):
                try:
                    parse_expr(value)
                except ClassAdSyntaxError:
                    sys.stderr.write(f"{prog}: invalid constraint: {value}\n")
                    return 1
                constraint = value
            elif "owner".startswith(option):
                owner = value
            elif "jobids".startswith(option):
                ids += [v for v in re.split(r"[\s,]+", value) if v]
            else:
                sys.stderr.write(f"{prog}: {arg} is not a valid option\n")
                sys.stderr.write(QEDIT_USAGE.format(prog=prog))
                return 1
            i += 2
            continue
        if not restricted and not (ids or owner or constraint):
            restricted = True  # the first bare argument names the jobs
            if arg[0].isdigit():
                ids.append(arg)
                while i + 1 < len(argv) and argv[i + 1][:1].isdigit():
                    i += 1
                    ids.append(argv[i])
            else:
                owner = arg
            i += 1
            continue
        restricted = True
        attr, eq, value = arg.partition("=")
        if not eq:
            if i + 1 >= len(argv):
                sys.stderr.write(f"{prog} : expression required after attribute {arg}\n")
                sys.stderr.write(QEDIT_USAGE.format(prog=prog))
                return 1
            i += 1
            value = argv[i]
        attr, value = attr.strip(), value.strip()
        if not ATTR_NAME.fullmatch(attr):
            sys.stderr.write(f'Update aborted, illegal attribute-name specified for attribute "{attr}".\n')
            sys.stderr.write(FAILED)
            return 1
        try:
            parse_expr(value)
        except ClassAdSyntaxError:
            sys.stderr.write(f"Update aborted, illegal value for : {attr}\n")
            sys.stderr.write(FAILED)
            return 1
        edits[attr] = value
        i += 1
    if not (ids or owner or constraint):
        if edits:
            sys.stderr.write(f"{prog} : Error - there were no jobs specified.\n\tuse -constraint, jobid or owner "
                             "argument to indicate which jobs to edit\n")
        sys.stderr.write(QEDIT_USAGE.format(prog=prog))
        return 1
    if not edits:
        sys.stderr.write(f"{prog} : Error - no attributes specifed.\n")
        sys.stderr.write(QEDIT_USAGE.format(prog=prog))
        return 1
    parts = [f"({constraint})"] if constraint else []
    if owner:
        parts.append(f'Owner == "{owner}"')
    selection = {"ids": ids} if ids and not parts else {}
    if parts:
        if ids:
            parts.append("(" + " || ".join(_id_clause(j) for j in ids) + ")")
        selection = {"constraint": " && ".join(parts)}
    try:
        client = connect(name, prog)
        # one transaction: nothing is set unless every named job can take every edit
        probe = set_attributes(client, {}, **selection)
        missing = [r["id"] for r in probe if r["result"] != "ok"]
        if missing or not probe:
            if missing:
                sys.stderr.write(f'Failed to set attribute "{next(iter(edits))}" for job {missing[0]}.\n')
            else:
                sys.stderr.write(f'Failed to set attribute "{next(iter(edits))}" by constraint: '
                                 f'{selection.get("constraint") or " ".join(ids)}\n')
            sys.stderr.write(FAILED)
            return 1
        results = set_attributes(client, edits, **selection)
    except ToolExit as stop:
        return stop.status
    except (CommunicationError, RemoteError) as exc:
        sys.stderr.write(f"Failed to connect to queue manager: {exc}\n")
        sys.stderr.write(FAILED)
        return 1
    count = sum(1 for r in results if r["result"] == "ok")
    for attr in sorted(edits):
        print(f'Set attribute "{attr}" for {count} matching jobs.')
    return 0


def _id_clause(job: str) -> str:
    cluster, _, proc = job.partition(".")
    return f"(ClusterId == {int(cluster)} && ProcId == {int(proc)})" if proc else f"ClusterId == {int(cluster)}"


# -- condor_prio ----------------------------------------------------------------------------------
def prio(prog: str, argv: list[str]) -> int:
    if not argv:
        sys.stderr.write(PRIO_USAGE.format(prog=prog))
        return 1
    absolute: int | None = None
    adjust: int | None = None
    name = None
    targets: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg[:1] in "+-" and arg[1:2].isdigit():
            adjust = int(re.match(r"\d+", arg[1:]).group()) * (-1 if arg[0] == "-" else 1)
        elif arg == "-p":
            i += 1
            absolute = int(re.match(r"-?\d*", argv[i] if i < len(argv) else "").group() or 0)
        elif arg in ("-n", "-pool"):
            if i + 1 >= len(argv):
                sys.stderr.write(f"{prog}: {arg} requires another argument\n")
                return 1
            i += 1
            name = argv[i] if arg == "-n" else name
        else:
            targets.append(arg)
        i += 1
    if absolute is None and adjust is None:
        sys.stderr.write("You must specify a new priority or priority adjustment.\n")
        sys.stderr.write(PRIO_USAGE.format(prog=prog))
        return 1
    try:
        client = connect(name, prog)
        for target in targets:
            prio_target(client, target, absolute, adjust)
    except ToolExit as stop:
        return stop.status
    except (CommunicationError, RemoteError) as exc:
        sys.stderr.write(f"Failed to connect to queue manager: {exc}\n")
        return 1
    return 0


def prio_target(client: Client, target: str, absolute: int | None, adjust: int | None) -> None:
    """Set JobPrio of the jobs one argument names (a job, a cluster, a user, or -a)."""
    if target == "-a":
        constraint = "true"
    elif re.fullmatch(r"\d+", target):
        constraint = f"ClusterId == {int(target)}"
    elif re.fullmatch(r"\d+\.\d+", target):
        constraint = _id_clause(target)
    elif target[:1].isdigit():
        sys.stderr.write(f'Warning: unrecognized "{target}" skipped\n')
        return
    else:
        constraint = f'Owner == "{target}"'
    jobs = [ClassAd.from_wire(w) for w in client.call("QUERY_JOBS", constraint=constraint,
                                                       projection=["JobPrio"], owner=None)["jobs"]]
    if not jobs and "." in target:
        sys.stderr.write(f"Couldn't retrieve current priority for {target}.\n")
    for job in jobs:
        old = job.eval("JobPrio")
        new = absolute if absolute is not None else (old if isinstance(old, int) else 0) + adjust
        job_id = f"{job.eval('ClusterId')}.{job.eval('ProcId')}"
        results = set_attributes(client, {"JobPrio": str(new)}, ids=[job_id])
        if not results or results[0]["result"] != "ok":
            sys.stderr.write(f"Couldn't set new priority for {job_id}.\n")


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    prog = prog or os.path.basename(sys.argv[0])
    return prio(prog, argv) if prog.endswith("prio") else qedit(prog, argv)


if __name__ == "__main__":
    sys.exit(main())
