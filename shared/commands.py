"""Every command of condorsim's ZeroMQ protocol, in one table.

For each command: the authorization level a requester needs (see security.py), the payload
fields with their types, which daemons serve it, and what it does. The daemons' dispatcher
(Daemon._handle) refuses a command that is not in this table for the daemon's subsystem,
checks the level, then the payload fields' types, before any handler runs; a daemon whose
handlers name a command the table does not list for it refuses to start.

Field types: ``str``, ``int``, ``float`` (an int is accepted), ``bool``, ``list``, ``map`` (a
ClassAd on the wire is a map), ``any``; a trailing ``?`` marks an optional field (absent or nil).
Fields a command does not list are ignored. ``identity`` names the field the dispatcher fills
with the authenticated user's name (for a non-super user, whatever the client wrote there is
replaced): a job's Owner is who submitted it.

Reading the table top to bottom follows a job: condor_submit → schedd (NEW_CLUSTER, SUBMIT) →
collector (UPDATE_ADS: Submitter ads) → negotiator (RESCHEDULE) → schedd (NEGOTIATE, MATCHES) →
startd (REQUEST_CLAIM, ACTIVATE_CLAIM) → starter → procd (REGISTER_FAMILY) → schedd
(JOB_STARTED, JOB_USAGE, JOB_EXITED) → startd (RELEASE_CLAIM or the claim reused).
"""
from __future__ import annotations

from dataclasses import dataclass

ALL = "*"  # served by every daemon (DaemonCore's own commands)


@dataclass(frozen=True)
class Command:
    name: str
    level: str
    daemons: tuple[str, ...]
    fields: dict[str, str]
    purpose: str
    identity: str | None = None  # the payload field that names the requester

    def served_by(self, subsystem: str) -> bool:
        return ALL in self.daemons or subsystem in self.daemons


_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "list": (list, tuple),
          "map": (dict,), "any": (object,)}


def _table(*commands: Command) -> dict[tuple[str, str], Command]:
    table: dict[tuple[str, str], Command] = {}
    for command in commands:
        for daemon in command.daemons:
            assert (command.name, daemon) not in table, f"{command.name} twice for {daemon}"
            table[(command.name, daemon)] = command
    return table


COMMANDS = _table(
    # -- every daemon ----------------------------------------------------------------------------
    Command("PING", "READ", (ALL,), {"level": "str?"},
            "Is the daemon alive, and may I use commands of `level` (condor_ping)? Replies with the "
            "daemon's pid and the requester's identity; refused like the level's commands would be."),
    Command("CHILD_ALIVE", "DAEMON", (ALL,), {"pid": "int?", "address": "str?", "subsystem": "str?"},
            "A child daemon is up and listens at `address` (to its master, a starter to its startd)."),
    Command("CONFIG_VAL", "READ", (ALL,), {"names": "list?"},
            "The daemon's values of configuration variables (condor_config_val -name/-startd ...)."),
    Command("SET_CONFIG", "ADMINISTRATOR", (ALL,), {"setting": "str?", "persistent": "bool?"},
            "condor_config_val -set / -rset: change a variable at run time (ENABLE_RUNTIME_CONFIG)."),
    Command("QUERY_ADS", "READ", (ALL,), {"my_type": "str", "constraint": "str?", "projection": "list?"},
            "Ads of `my_type` matching `constraint`: the collector's store, any other daemon's own "
            "ads (condor_status -direct)."),
    # -- collector -------------------------------------------------------------------------------
    Command("UPDATE_ADS", "DAEMON", ("COLLECTOR",), {"ads": "list", "changes": "list?"},
            "Daemons advertise their ads (slots, schedd, submitters, negotiator, master); `changes` "
            "updates stored ads in place (`my_type`, `name`, `attrs`: name -> text, nil removes)."),
    Command("INVALIDATE_ADS", "DAEMON", ("COLLECTOR",), {"my_type": "str", "names": "list"},
            "A daemon withdraws its ads (shutdown, a dynamic slot gone)."),
    Command("WAIT_FOR_ADS", "READ", ("COLLECTOR",),
            {"my_type": "str", "count": "int?", "constraint": "str?", "distinct": "str?", "timeout": "float?"},
            "Answer once `count` matching ads are stored (the test harness's readiness check)."),
    # -- master ----------------------------------------------------------------------------------
    Command("DAEMONS_OFF", "ADMINISTRATOR", ("MASTER",), {"daemon": "str?", "fast": "bool?", "master": "bool?"},
            "condor_off: stop the daemons (or one, or the master itself)."),
    Command("DAEMONS_ON", "ADMINISTRATOR", ("MASTER",), {"daemon": "str?"}, "condor_on: start them again."),
    Command("RESTART", "ADMINISTRATOR", ("MASTER",), {"daemon": "str?"}, "condor_restart."),
    Command("RECONFIG", "ADMINISTRATOR", ("MASTER",), {"daemon": "str?"},
            "condor_reconfig: re-read the configuration everywhere."),
    Command("CHILDREN", "READ", ("MASTER",), {}, "The master's children and their addresses."),
    Command("WAIT_CHILDREN_ALIVE", "READ", ("MASTER",), {"timeout": "float?"},
            "Answer once every child has said CHILD_ALIVE (the harness waits on it)."),
    # -- schedd: users ---------------------------------------------------------------------------
    Command("NEW_CLUSTER", "WRITE", ("SCHEDD",), {}, "condor_submit: allocate a cluster id."),
    Command("SUBMIT", "WRITE", ("SCHEDD",),
            {"cluster": "int", "owner": "str?", "ads": "list?", "cluster_ad": "map?", "procs": "list?",
             "transaction": "str?"},
            "condor_submit: queue the cluster's jobs, owned by the submitter: whole `ads`, or the "
            "`cluster_ad` the procs share plus each proc's own attributes; a retried `transaction` "
            "is answered with its first answer.", identity="owner"),
    Command("QUERY_JOBS", "READ", ("SCHEDD",),
            {"constraint": "str?", "owner": "str?", "projection": "list?", "batch": "int?", "summary_only": "bool?"},
            "condor_q: job ads matching `constraint` (ClaimId only to the pool's daemons), projected; "
            "with `batch`, the first batch and a cursor for the rest."),
    Command("QUERY_MORE", "READ", ("SCHEDD",), {"cursor": "int"},
            "The next batch of a QUERY_JOBS, for the client that asked it; the query summary comes "
            "with the last."),
    Command("ACT_ON_JOBS", "WRITE", ("SCHEDD",),
            {"action": "str", "ids": "list?", "constraint": "str?", "owner": "str?", "all": "bool?",
             "user": "str?", "reason": "str?", "subcode": "int?"},
            "condor_rm/hold/release/vacate_job/suspend/continue; only on the requester's own jobs "
            "unless a queue super user.", identity="user"),
    Command("SET_ATTRIBUTES", "WRITE", ("SCHEDD",),
            {"attributes": "map", "ids": "list?", "constraint": "str?", "owner": "str?", "all": "bool?",
             "user": "str?"},
            "condor_qedit / condor_prio: set attributes of the requester's own jobs.", identity="user"),
    Command("RESCHEDULE", "WRITE", ("SCHEDD", "NEGOTIATOR"), {},
            "condor_reschedule (schedd) / a schedd asking for a negotiation cycle (negotiator)."),
    # -- schedd: the negotiator's side -----------------------------------------------------------
    Command("JOB_CONNECT_INFO", "READ", ("STARTD",), {"job": "str"},
            "condor_tail: the address of the starter running job `job` (cluster.proc) here."),
    Command("SET_PRIORITY", "ADMINISTRATOR", ("NEGOTIATOR",), {"name": "str?", "value": "float?"},
            "condor_userprio -setprio: set a submitter's real priority."),
    Command("SET_PRIORITYFACTOR", "ADMINISTRATOR", ("NEGOTIATOR",), {"name": "str?", "value": "float?"},
            "condor_userprio -setfactor: set a submitter's priority factor."),
    Command("RESET_USAGE", "ADMINISTRATOR", ("NEGOTIATOR",), {"name": "str?", "value": "float?"},
            "condor_userprio -resetusage: forget a submitter's accumulated usage."),
    Command("RESET_ALL_USAGE", "ADMINISTRATOR", ("NEGOTIATOR",), {"name": "str?", "value": "float?"},
            "condor_userprio -resetall: forget every submitter's usage."),
    Command("DELETE_USER", "ADMINISTRATOR", ("NEGOTIATOR",), {"name": "str?", "value": "float?"},
            "condor_userprio -delete: drop a submitter's record."),
    Command("SET_ACCUMUSAGE", "ADMINISTRATOR", ("NEGOTIATOR",), {"name": "str?", "value": "float?"},
            "condor_userprio -setaccum: set a submitter's accumulated usage."),
    Command("SET_BEGINTIME", "ADMINISTRATOR", ("NEGOTIATOR",), {"name": "str?", "value": "float?"},
            "condor_userprio -setbegin: set when a submitter's usage began."),
    Command("SET_LASTTIME", "ADMINISTRATOR", ("NEGOTIATOR",), {"name": "str?", "value": "float?"},
            "condor_userprio -setlast: set when a submitter last used a slot."),
    Command("NEGOTIATE", "NEGOTIATOR", ("SCHEDD",), {"submitter": "str?", "significant": "list?"},
            "The negotiator asks for a submitter's idle jobs, grouped into autoclusters."),
    Command("MATCHES", "NEGOTIATOR", ("SCHEDD",), {"matches": "list"},
            "The negotiator's matches: (job id, slot ad) pairs for the schedd to claim."),
    # -- startd ----------------------------------------------------------------------------------
    Command("REQUEST_CLAIM", "DAEMON", ("STARTD",),
            {"claim_id": "str", "slot": "str", "job": "map", "schedd": "str"},
            "The schedd claims a matched slot (a dynamic one carved from a partitionable slot)."),
    Command("REQUEST_CLAIMS", "DAEMON", ("STARTD",), {"claims": "list"},
            "REQUEST_CLAIM for several matches at once (a schedd claiming a negotiation cycle's "
            "matches); each is checked as REQUEST_CLAIM's payload; the reply lists each one's reply."),
    Command("ACTIVATE_CLAIM", "DAEMON", ("STARTD",), {"claim_id": "str", "job": "map"},
            "Run a job under a claim this startd holds: spawns a starter. Unknown claims are refused."),
    Command("ACTIVATE_CLAIMS", "DAEMON", ("STARTD",), {"claims": "list"},
            "ACTIVATE_CLAIM for several claims at once (a schedd reusing many claims); each "
            "activation is checked as ACTIVATE_CLAIM's payload; the reply lists each one's error."),
    Command("DEACTIVATE_CLAIM", "DAEMON", ("STARTD",), {"claim_id": "str", "fast": "bool?"},
            "Stop the claim's job, keep the claim."),
    Command("RELEASE_CLAIM", "DAEMON", ("STARTD",), {"claim_id": "str", "fast": "bool?"},
            "Give the claim back (its job is stopped first)."),
    Command("RECONNECT_CLAIMS", "DAEMON", ("STARTD",), {"schedd": "str", "claims": "list"},
            "A restarted schedd asks after its claims; their starters report to it from now on."),
    Command("CLAIMS_ALIVE", "DAEMON", ("STARTD",), {"claims": "list"},
            "The schedd still holds these claims (keep-alive)."),
    Command("DRAIN_JOBS", "ADMINISTRATOR", ("STARTD",),
            {"how_fast": "str?", "reason": "str?", "on_completion": "str?", "start": "str?", "check": "str?"},
            "condor_drain."),
    Command("CANCEL_DRAIN_JOBS", "ADMINISTRATOR", ("STARTD",), {"request_id": "str?"}, "condor_drain -cancel."),
    # -- starter ---------------------------------------------------------------------------------
    Command("PEEK", "WRITE", ("STARTER",), {"files": "list", "offsets": "list", "max_bytes": "int"},
            "condor_tail: the end of the job's stdout, stderr or listed output files, for the job's "
            "owner or a queue super user."),
    Command("SET_SHADOW", "DAEMON", ("STARTER",), {"schedd": "str"},
            "The startd: a restarted schedd now shadows this job."),
    Command("SIGNAL_JOB", "DAEMON", ("STARTER",), {"signal": "int"},
            "The schedd: SIGSTOP / SIGCONT the job (condor_suspend / condor_continue)."),
    # -- schedd: the starter's reports (the shadow's side) ----------------------------------------
    Command("STARTER_REPORTS", "DAEMON", ("SCHEDD",), {"reports": "list"},
            "A simulating startd's batch (STARTD_SIMULATE_JOBS) of what its starters would have "
            "sent: JOB_STARTED, JOB_USAGE, JOB_EXITED, STARTER_EXITED maps, each checked as that "
            "command's payload, handled as one queue transaction."),
    Command("JOB_STARTED", "DAEMON", ("SCHEDD",), {"job": "str", "claim_id": "str", "pid": "int?", "starter": "str?"},
            "The job's process is running (event 001)."),
    Command("JOB_USAGE", "DAEMON", ("SCHEDD",), {"job": "str", "claim_id": "str", "usage": "map"},
            "What the job's processes use now (event 006 when the image grows)."),
    Command("FILE_TRANSFER", "DAEMON", ("SCHEDD",),
            {"job": "str", "claim_id": "str", "stage": "str", "host": "str?", "bytes_in": "float?",
             "bytes_out": "float?"},
            "Input/output transfer started or finished (event 040)."),
    Command("JOB_EXITED", "DAEMON", ("SCHEDD",),
            {"job": "str", "claim_id": "str", "exited": "bool?", "code": "int?", "signal": "int?",
             "usage": "map?", "hold": "map?", "error": "str?", "errno": "int?"},
            "How the job ended (event 005, or a hold / requeue)."),
    Command("STARTER_EXITED", "DAEMON", ("SCHEDD",), {"job": "str", "claim_id": "str", "reusable": "bool?"},
            "The startd: the claim's starter is gone (the claim may run the user's next job)."),
    # -- schedd and gridmanager (grid universe) ---------------------------------------------------
    Command("GRID_JOBS", "DAEMON", ("SCHEDD",), {"owner": "str", "address": "str?"},
            "A gridmanager asks for its owner's grid jobs."),
    Command("GRID_UPDATE", "DAEMON", ("SCHEDD",),
            {"job": "str", "set": "map?", "status": "int?", "event": "any", "action": "str?", "reason": "str?",
             "code": "int?", "subcode": "int?"},
            "A gridmanager records a grid job's state change."),
    Command("CHECK_JOBS", "DAEMON", ("GRIDMANAGER",), {}, "The schedd: look at your jobs now."),
    # -- procd -----------------------------------------------------------------------------------
    Command("REGISTER_FAMILY", "DAEMON", ("PROCD",), {"marker": "str", "root_pid": "any"},
            "A starter registers its job's process tree."),
    Command("SIGNAL_FAMILY", "DAEMON", ("PROCD",), {"marker": "str", "signal": "any"},
            "Signal every process of a family."),
    Command("UNREGISTER_FAMILY", "DAEMON", ("PROCD",), {"marker": "str"}, "Forget a family."),
    Command("FAMILY_USAGE", "DAEMON", ("PROCD",), {"marker": "str"}, "A family's CPU and memory use."),
)


def lookup(name: object, subsystem: str) -> Command | None:
    """The command `name` as `subsystem` serves it; None if it does not."""
    if not isinstance(name, str):
        return None
    return COMMANDS.get((name, subsystem)) or COMMANDS.get((name, ALL))


def payload_error(command: Command, message: dict) -> str | None:
    """Why the message's fields do not fit the table, or None."""
    for name, spec in command.fields.items():
        optional = spec.endswith("?")
        types = _TYPES[spec.rstrip("?")]
        value = message.get(name)
        if value is None:
            if not optional and spec != "any":
                return f"field {name} is missing"
            continue
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types and types != (object,)):
            return f"field {name} must be {spec.rstrip('?')}, not {type(value).__name__}"
    return None


def markdown() -> str:
    """The README's protocol section: the table, by daemon."""
    lines = ["| Command | Served by | Level | Payload | What it does |", "|---|---|---|---|---|"]
    seen = set()
    for command in COMMANDS.values():
        key = (command.name, command.daemons)
        if key in seen:
            continue
        seen.add(key)
        daemons = "every daemon" if ALL in command.daemons else ", ".join(d.lower() for d in command.daemons)
        fields = ", ".join(f"`{name}`: {spec}" for name, spec in command.fields.items()) or "-"
        lines.append(f"| `{command.name}` | {daemons} | {command.level} | {fields} | {command.purpose} |")
    return "\n".join(lines) + "\n"
