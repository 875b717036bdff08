"""condor_rm, condor_hold, condor_release, condor_suspend, condor_continue, condor_vacate_job: act
on jobs in the schedd's queue.

    condor_rm|condor_hold|... [options] [C | C.P | user ...] [-constraint expr] [-all]
      -reason text    the RemoveReason / HoldReason / ReleaseReason
      -subcode N      HoldReasonSubCode (condor_hold)
      -name schedd    act on the named schedd (found through the collector)
      -addr <sinful>  act on the schedd at that address
      -long           print the schedd's result ad
      -totals         print success/failure totals
      -forcex         (condor_rm) jobs already being removed (X) leave the queue at once
      -fast           (condor_vacate_job) hard-kill instead of the job's soft kill

The program is chosen by the name it is called under (the part after the first "_"), as
HTCondor's one rm.cpp binary does. `C.P` arguments are acted on one by one, with one message
per job (stdout on success, stderr otherwise); clusters, users and -constraint are folded
into ONE constraint, acted on at once and reported in one line. Exit status 1 if anything
failed, else 0. condor_release then asks the local schedd to reschedule.
"""
from __future__ import annotations

import getpass
import os
import re
import sys
from dataclasses import dataclass, field

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, format_old, parse_expr
from condorsim.shared.locate import schedd_address
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.tool_options import ToolExit, load_tool_config


@dataclass(frozen=True)
class Mode:
    action: str  # what the schedd's ACT_ON_JOBS calls it
    verb: str  # "Couldn't find/<verb> all jobs..."
    done: str  # "Job 1.0 <done>"
    job_action: int  # HTCondor's JobAction number, shown in the -long result ad
    reason_attr: str


MODES = {
    "_rm": Mode("remove", "remove", "marked for removal", 3, "RemoveReason"),
    "_hold": Mode("hold", "hold", "held", 1, "HoldReason"),
    "_release": Mode("release", "release", "released", 2, "ReleaseReason"),
    "_suspend": Mode("suspend", "suspend", "suspended", 8, ""),
    "_continue": Mode("continue", "continue", "continued", 9, ""),
    "_vacate_job": Mode("vacate", "vacate", "vacated", 5, ""),
}
# What an option turns a mode into: condor_rm -forcex, condor_vacate_job -fast.
FORCEX = Mode("remove_x", "remove", "removed locally (remote state unknown)", 4, "RemoveReason")
FAST = Mode("vacate_fast", "fast-vacate", "fast-vacated", 6, "")
# HTCondor's words for a job it could not act on, by action (dc_schedd.cpp).
DENIED = {"remove_x": "force removal of"}
BAD_STATUS = {"release": "not held to be released", "remove_x": "not in `X' state to be forcibly removed",
              "vacate": "not running to be vacated", "vacate_fast": "not running to be fast-vacated",
              "suspend": "not running to be suspended", "continue": "not running to be continued"}
ALREADY_DONE = {"hold": "already held", "remove": "already marked for removal", "suspend": "already suspended",
                "continue": "already running", "remove_x": "already marked for forced removal"}

# HTCondor's action_result_t numbers and the schedd's names for them.
AR_ERROR, AR_SUCCESS, AR_NOT_FOUND, AR_BAD_STATUS, AR_ALREADY_DONE, AR_PERMISSION_DENIED = range(6)
RESULT_CODES = {"ok": AR_SUCCESS, "not_found": AR_NOT_FOUND, "not_held": AR_BAD_STATUS,
                "bad_status": AR_BAD_STATUS, "already_held": AR_ALREADY_DONE,
                "already_removed": AR_ALREADY_DONE, "already_done": AR_ALREADY_DONE,
                "permission": AR_PERMISSION_DENIED}
AR_LONG, AR_TOTALS = 1, 2

# How the folded constraint reads in the final message, as HTCondor classifies it.
CT_NONE, CT_ALL, CT_CLUSTER, CT_USER, CT_SIMPLE, CT_COMPLEX = range(6)

JOB_NUMBER = re.compile(r"\d+(\.\d+)?|\.\d+")


@dataclass
class Request:
    prog: str
    mode: Mode
    job_ids: list[str] = field(default_factory=list)
    constraint: str = ""
    constraint_type: int = CT_NONE
    user_cluster: str = ""
    user_cluster_type: int = CT_NONE
    reason: str | None = None
    subcode: int | None = None
    name: str | None = None
    addr: str | None = None
    long: bool = False
    totals: bool = False
    had_error: bool = False

    def add_constraint(self, text: str, kind: int) -> None:
        """AND a constraint in, wrapping earlier ones in parentheses the way HTCondor does."""
        if self.constraint_type in (CT_NONE, CT_ALL):
            self.constraint, self.constraint_type = text, kind
        elif self.constraint_type == CT_COMPLEX:
            self.constraint += f" && ({text})"
        else:
            self.constraint = f"({self.constraint}) && ({text})"
            self.constraint_type = CT_COMPLEX

    def add_user_or_cluster(self, text: str, kind: int) -> None:
        """OR a cluster or user selection into the others of its kind."""
        if self.user_cluster_type == CT_NONE:
            self.user_cluster, self.user_cluster_type = text, kind
        else:
            self.user_cluster += f" || {text}"
            self.user_cluster_type = CT_COMPLEX


def usage(req: Request, status: int = 1) -> ToolExit:
    word = req.mode.verb
    sys.stderr.write(
        f"Usage: {req.prog} [options] [constraints]\n"
        " where [options] is zero or more of:\n"
        "  -help               Display this message and exit\n"
        "  -long               Display full result classad\n"
        "  -totals             Display success/failure totals\n"
        "  -name schedd_name   Connect to the given schedd\n"
        "  -addr <ip:port>     Connect directly to the given \"sinful string\"\n"
        + (f"  -reason reason      Use the given {req.mode.reason_attr}\n" if req.mode.reason_attr else "")
        + ("  -subcode number     Set HoldReasonSubCode\n" if req.mode.action == "hold" else "")
        + ("  -forcex             Force the immediate local removal of jobs in the X state\n"
           "                      (only affects jobs already being removed)\n"
           if req.mode.action in ("remove", "remove_x") else "")
        + ("  -fast               Use a fast vacate (hardkill)\n" if req.mode.action.startswith("vacate") else "")
        + " and where [constraints] is one of:\n"
        f"  cluster.proc        {word} the given job\n"
        f"  cluster             {word} the given cluster of jobs\n"
        f"  user                {word} all jobs owned by user\n"
        f"  -constraint expr    {word} all jobs matching the boolean expression\n"
        f"  -all                {word} all jobs (cannot be used with other constraints)\n")
    return ToolExit(status)


def is_option(arg: str, name: str, least: int) -> bool:
    """`-na`, `-name`, `--name` all name -name; at least `least` letters must be given."""
    text = arg[2:] if arg.startswith("--") else arg[1:]
    return len(text) >= least and name.startswith(text)


def next_value(req: Request, argv: list[str], i: int, option: str, dash_ok: bool = True) -> str:
    if i + 1 >= len(argv) or (not dash_ok and argv[i + 1].startswith("-")):
        sys.stderr.write(f"{req.prog}: -{option} requires another argument\n")
        raise ToolExit(1)
    return argv[i + 1]


def parse_args(req: Request, argv: list[str]) -> None:
    if not argv:
        sys.stderr.write("You did not specify any jobs\n")
        raise usage(req)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-") and len(arg) > 1:
            if is_option(arg, "debug", 1):
                pass
            elif is_option(arg, "long", 1):
                req.long = True
            elif is_option(arg, "totals", 3):
                req.totals = True
            elif is_option(arg, "constraint", 1):
                text = next_value(req, argv, i, "constraint", dash_ok=False)
                try:
                    parse_expr(text)
                except ClassAdSyntaxError as exc:
                    sys.stderr.write(f"{req.prog}: invalid -constraint {text!r}: {exc}\n")
                    raise ToolExit(1) from None
                req.add_constraint(text, CT_SIMPLE)
                i += 1
            elif is_option(arg, "all", 1):
                if req.constraint_type or req.user_cluster_type:
                    sys.stderr.write(f"{req.prog}: can't mix -all with other constraints\n")
                    raise ToolExit(1)
                req.add_constraint("ClusterId >= 0", CT_ALL)
            elif is_option(arg, "addr", 2):
                req.addr = next_value(req, argv, i, "addr", dash_ok=False)
                if not re.fullmatch(r"<[^<>]+:\d+(\?[^<>]*)?>", req.addr):
                    sys.stderr.write(f'{req.prog}: "{req.addr}" is not a valid address\n'
                                     "Should be of the form <ip.address.here:port>\n"
                                     "For example: <123.456.789.123:6789>\n")
                    raise ToolExit(1)
                i += 1
            elif is_option(arg, "reason", 1):
                req.reason = next_value(req, argv, i, "reason")
                i += 1
            elif is_option(arg, "subcode", 1):
                text = next_value(req, argv, i, "subcode")
                if not re.fullmatch(r"[+-]?\d+", text.strip()):
                    sys.stderr.write(f"Invalid -subcode {text}!\n")
                    raise ToolExit(1)
                req.subcode = int(text)
                i += 1
            elif is_option(arg, "forcex", 1 if req.mode.action == "remove" else 2):
                if req.mode.action != "remove":
                    sys.stderr.write("-forcex is only valid with condor_rm\n")
                    raise usage(req)
                req.mode = FORCEX
            elif is_option(arg, "fast", 1 if req.mode.action == "vacate" else 2):
                if req.mode.action != "vacate":
                    sys.stderr.write("-fast is only valid with condor_vacate_job\n")
                    raise usage(req)
                req.mode = FAST
            elif is_option(arg, "name", 1):
                req.name = next_value(req, argv, i, "name")
                i += 1
            elif is_option(arg, "help", 1):
                raise usage(req, 0)
            else:
                sys.stderr.write(f"Unrecognized option: {arg}\n")
                raise usage(req)
        elif req.constraint_type == CT_ALL:
            raise usage(req)  # -all takes no other selection
        else:
            add_job_argument(req, arg)
        i += 1
    if not req.constraint_type and not req.user_cluster_type and not req.job_ids:
        sys.stderr.write("You did not specify any jobs\n")
        raise usage(req)


def add_job_argument(req: Request, arg: str) -> None:
    """`C.P` → one job; `C` → its cluster; anything not a number → a user."""
    if not JOB_NUMBER.fullmatch(arg):
        req.add_user_or_cluster(f'Owner == "{arg}"', CT_USER)
        return
    cluster_text, _, proc_text = arg.partition(".")
    cluster = int(cluster_text or 0)
    if cluster <= 0:
        sys.stderr.write(f"Invalid cluster # from {arg}.\n")
        req.had_error = True
    elif not proc_text:
        req.add_user_or_cluster(f"ClusterId == {cluster}", CT_CLUSTER)
    else:
        req.job_ids.append(f"{cluster}.{int(proc_text)}")


# -- talking to the schedd ------------------------------------------------------------------
def result_ad(req: Request, results: list[dict], success: bool, result_type: int) -> ClassAd:
    """The reply as HTCondor's schedd would put it in its result ad (for -long and -totals)."""
    ad = ClassAd()
    ad["JobAction"] = req.mode.job_action
    if result_type == AR_LONG:
        for result in results:
            ad["job_" + result["id"].replace(".", "_")] = RESULT_CODES.get(result["result"], AR_ERROR)
    else:
        counts = [0] * 6
        for result in results:
            counts[RESULT_CODES.get(result["result"], AR_ERROR)] += 1
        for code, count in enumerate(counts):
            ad[f"result_total_{code}"] = count
    ad["ActionResultType"] = result_type
    ad["ActionResult"] = int(success)
    return ad


def print_result_ad(req: Request, ad: ClassAd, results: list[dict]) -> None:
    if req.long:
        sys.stdout.write(format_old(ad) + "\n")
    elif req.totals:
        counts = {code: 0 for code in range(6)}
        for result in results:
            counts[RESULT_CODES.get(result["result"], AR_ERROR)] += 1
        sys.stdout.write(f"{counts[AR_SUCCESS]} Succeeded, {counts[AR_ERROR]} Failed, "
                         f"{counts[AR_NOT_FOUND]} Not Found, {counts[AR_BAD_STATUS]} Bad Status, "
                         f"{counts[AR_ALREADY_DONE]} Already Done, "
                         f"{counts[AR_PERMISSION_DENIED]} Permission Denied\n")


def act(req: Request, client: Client, **selection) -> dict:
    payload = {"ids": None, "constraint": None, "owner": None, "all": False, **selection}
    return client.call("ACT_ON_JOBS", action=req.mode.action, reason=req.reason, subcode=req.subcode,
                       user=getpass.getuser(), **payload)


def job_message(req: Request, job_id: str, result: str | None) -> tuple[bool, str]:
    code = RESULT_CODES.get(result, AR_ERROR)
    if code == AR_SUCCESS:
        return True, f"Job {job_id} {req.mode.done}"
    if code == AR_NOT_FOUND:
        return False, f"Job {job_id} not found"
    action = req.mode.action
    if code == AR_PERMISSION_DENIED:
        return False, f"Permission denied to {DENIED.get(action, req.mode.verb)} job {job_id}"
    if code == AR_BAD_STATUS and action in BAD_STATUS:
        return False, f"Job {job_id} {BAD_STATUS[action]}"
    if code == AR_ALREADY_DONE and action in ALREADY_DONE:
        return False, f"Job {job_id} {ALREADY_DONE[action]}"
    if code == AR_ERROR:
        return False, f"No result found for job {job_id}"
    return False, f"Invalid result for job {job_id}"


def connection_error(exc: Exception) -> str:
    return f"DCSchedd::actOnJobs:6001:Failed to connect to schedd ({exc})"


def do_job_ids(req: Request, client: Client) -> None:
    if req.constraint_type:
        sys.stderr.write("Warning, -constraint is ignored for fully qualified job ids\n")
    try:
        reply = act(req, client, ids=req.job_ids)
    except (CommunicationError, RemoteError) as exc:
        req.had_error = True
        sys.stderr.write(connection_error(exc) + "\n")
        by_id = {}
    else:
        by_id = {r["id"]: r["result"] for r in reply["results"]}
        results = [{"id": job_id, "result": by_id.get(job_id)} for job_id in req.job_ids]
        success = all(r["result"] == "ok" for r in results)
        print_result_ad(req, result_ad(req, results, success, AR_LONG), results)
        if not success:
            req.had_error = True
            sys.stderr.write("\n")  # HTCondor prints its (here empty) error stack first
    for job_id in req.job_ids:
        ok, message = job_message(req, job_id, by_id.get(job_id))
        (sys.stdout if ok else sys.stderr).write(message + "\n")


def do_constraint(req: Request, client: Client) -> None:
    if req.user_cluster_type:
        req.add_constraint(req.user_cluster, req.user_cluster_type)
    if not req.constraint_type:
        return
    if req.constraint_type == CT_USER:
        what = " of user " + req.constraint.split(" == ", 1)[1]
    elif req.constraint_type == CT_CLUSTER:
        what = " in cluster " + req.constraint.split(" == ", 1)[1]
    elif req.constraint_type == CT_ALL:
        what = ""
    else:
        what = f" matching constraint ({req.constraint})"
    try:
        reply = act(req, client, constraint=req.constraint)
    except (CommunicationError, RemoteError) as exc:
        req.had_error = True
        sys.stderr.write(connection_error(exc) + "\n")
    else:
        results = reply["results"]
        success = any(r["result"] == "ok" for r in results)
        print_result_ad(req, result_ad(req, results, success, AR_LONG if req.long and not req.totals
                                       else AR_TOTALS), results)
        if success:
            sys.stdout.write(f"All jobs{what} have been {req.mode.done}\n")
            return
        if reply.get("queue_empty"):
            # Nothing to act on is not an error when the queue is empty.
            sys.stderr.write(f"{req.prog}:0:There are no jobs in the queue\n")
            return
        req.had_error = True
        sys.stderr.write("\n")
    sys.stderr.write(f"Couldn't find/{req.mode.verb} all jobs{what}\n")


def locate_schedd(req: Request, cfg) -> str:
    if req.addr:
        return req.addr
    try:
        return schedd_address(cfg, req.name)
    except CommunicationError:
        if req.name:
            sys.stderr.write(f"Error: cannot get address of schedd {req.name}\n")
        else:
            sys.stderr.write(f"{req.prog}: Can't find address for local schedd\n")
        raise ToolExit(1) from None


def reschedule(req: Request, cfg) -> None:
    """After a successful release, ask the local schedd for a negotiation cycle (as HTCondor does)."""
    try:
        Client(schedd_address(cfg), timeout=5).send("RESCHEDULE")
    except CommunicationError as exc:
        sys.stderr.write(f"{req.prog}: can't send RESCHEDULE to the local schedd: {exc}\n")


def main(argv: list[str] | None = None, *, prog: str | None = None) -> int:
    """Run as condor_rm/condor_hold/condor_release, chosen by `prog` (default: basename of argv[0])."""
    argv = sys.argv[1:] if argv is None else argv
    prog = prog or os.path.basename(sys.argv[0])
    tail = prog[prog.find("_"):] if "_" in prog else ""
    mode = next((m for suffix, m in MODES.items() if tail.lower().startswith(suffix)), None)
    if mode is None:
        sys.stderr.write(f'Unrecognized command name, "{prog}"\n')
        return usage(Request(prog, MODES["_rm"])).status
    req = Request(prog, mode)
    try:
        parse_args(req, argv)
        cfg = load_tool_config(prog)
        client = Client(locate_schedd(req, cfg), timeout=30.0)
        if req.job_ids:
            do_job_ids(req, client)
        do_constraint(req, client)
        if mode.action == "release" and not req.had_error:
            reschedule(req, cfg)
    except ToolExit as stop:
        return stop.status
    sys.stdout.flush()
    return 1 if req.had_error else 0


if __name__ == "__main__":
    sys.exit(main())
