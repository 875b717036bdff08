"""A parsed submit description and the job ads it makes (condor_submit's submit_utils).

Keys between queue statements apply to the procs of later queue statements only; macros are
expanded per proc, at queue time.  Every proc gets the attributes and defaults HTCondor gives a
vanilla job (see ``_base_ad``).
"""

from __future__ import annotations

import getpass
import math
import os
import re
import socket
import time
from dataclasses import dataclass
from typing import Any

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError
from condorsim.shared.daemon import CONDOR_PLATFORM, CONDOR_VERSION

from .arguments import arguments_attribute, environment_v2
from .errors import SubmitError
from .grid import is_grid_job, set_grid_attributes, submit_keys
from .keys import is_known_key
from .macros import expand, submit_defaults
from .parser import Assignment, QueueStatement, Statement, parse_statements
from .queue import parse_queue, row_values

UNIVERSES = {"vanilla": 5, "scheduler": 7, "grid": 9, "java": 10, "parallel": 11,
             "local": 12, "vm": 13, "docker": 5, "container": 5}
# Universes whose jobs a restarted schedd can reconnect to (they get a JobLeaseDuration).
_CAN_RECONNECT = {5, 10, 11, 13}
# Universes whose jobs may move files, so their Requirements get a file-transfer clause.
_MIGHT_TRANSFER = {5, 10, 11, 13}
# Universes HTCondor still knows by name but no longer runs (9.0 dropped the standard universe).
UNSUPPORTED_UNIVERSES = {"standard": "Standard", "pvm": "PVM", "mpi": "MPI", "pvmd": "PVMD"}
# condor_submit's JobSubmitMethod (0 = condor_submit; the Python bindings say 2).
SUBMIT_METHOD_CONDOR_SUBMIT = 0
HOLD_CODE_SUBMITTED_ON_HOLD = 15
NOTIFICATIONS = {"never": 0, "always": 1, "complete": 2, "error": 3}
DEFAULT_REQUEST_DISK = "MAX({1024, (TransferInputSizeMB+1) * 1.25}) * 1024"

# Submit keys (lowercase, with aliases) whose value is a ClassAd expression stored as is.
_EXPRESSION_KEYS = {
    "periodic_hold": "PeriodicHold", "periodic_release": "PeriodicRelease",
    "periodic_remove": "PeriodicRemove", "periodic_hold_reason": "PeriodicHoldReason",
    "periodic_hold_subcode": "PeriodicHoldSubCode", "on_exit_hold": "OnExitHold",
    "on_exit_remove": "OnExitRemove", "on_exit_hold_reason": "OnExitHoldReason",
    "on_exit_hold_subcode": "OnExitHoldSubCode", "periodic_vacate": "PeriodicVacate",
    "leave_in_queue": "LeaveJobInQueue",
}
_ALIASES = {"cmd": "executable", "args": "arguments", "env": "environment", "stdin": "input",
            "stdout": "output", "stderr": "error", "initial_dir": "initialdir",
            "requestcpus": "request_cpus", "requestmemory": "request_memory",
            "requestdisk": "request_disk", "prio": "priority"}
_STREAM_KEYS = {"output": "stream_output", "error": "stream_error"}
# Size suffixes of request_memory / request_disk, as powers of 1024 of a byte.
_UNITS = {"": None, "k": 1, "kb": 1, "m": 2, "mb": 2, "g": 3, "gb": 3, "t": 4, "tb": 4}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*$")
_IDENT = re.compile(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*)([A-Za-z_]\w*)(\s*\()?")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_KEYWORDS = {"true", "false", "undefined", "error", "is", "isnt"}
_OPSYS_ATTRS = {"opsys", "opsysandver", "opsysmajorver", "opsysname", "opsyslongname",
                "opsysshortname", "opsyslegacy"}


@dataclass
class _Settings:
    """The configuration values submit reads (JOB_DEFAULT_*, FILESYSTEM_DOMAIN)."""
    request_memory: str = "128"
    request_disk: str = DEFAULT_REQUEST_DISK
    request_cpus: str = "1"
    filesystem_domain: str = ""

    @classmethod
    def from_config(cls, config: Any) -> "_Settings":
        def param(name: str, default: str) -> str:
            value = config.get(name) if config is not None else None
            return str(value) if value not in (None, "") else default
        return cls(request_memory=param("JOB_DEFAULT_REQUESTMEMORY", "128"),
                   request_disk=param("JOB_DEFAULT_REQUESTDISK", DEFAULT_REQUEST_DISK),
                   request_cpus=param("JOB_DEFAULT_REQUESTCPUS", "1"),
                   filesystem_domain=param("FILESYSTEM_DOMAIN", "") or socket.getfqdn())


class SubmitDescription:
    """The statements of one submit description, ready to make job ads.

    `used` collects the (lowercase) names macros referred to, for ``unused_warnings``."""

    def __init__(self, statements: list[Statement], filename: str,
                 defaults: dict[str, str] | None = None, used: set[str] | None = None) -> None:
        self.statements = statements
        self.filename = filename
        self.defaults = defaults or {}
        self.used: set[str] = used if used is not None else set()
        self.queue_variables: list[str] = []

    def insert_before_first_queue(self, text: str) -> None:
        """Add the statements of `text` (condor_submit -append) just before the first queue."""
        extra = parse_statements(text)
        at = next((i for i, s in enumerate(self.statements) if isinstance(s, QueueStatement)),
                  len(self.statements))
        self.statements[at:at] = extra

    def set_queue(self, args: str) -> None:
        """condor_submit -queue ARGS: the description's queue statement (it must have none)."""
        if self.has_queue:
            raise SubmitError("-queue argument conflicts with queue statement in submit file")
        self.statements.append(QueueStatement(args, 0))

    def unused_warnings(self) -> list[str]:
        """condor_submit's warnings (without "WARNING: ") for keys nothing read or referred to,
        and for queue variables no value referred to; call after build_jobs."""
        last: dict[str, Assignment] = {}
        for statement in self.statements:
            if isinstance(statement, Assignment):
                last.setdefault(statement.key.lower(), statement)
                last[statement.key.lower()] = Assignment(last[statement.key.lower()].key,
                                                         statement.value, statement.line)
        warnings = []
        for low in sorted(last, key=str.lower):
            assignment = last[low]
            if low.startswith("+") or "." in low or is_known_key(low) or low in self.used:
                continue
            warnings.append(f"the line '{assignment.key} = {assignment.value}' was unused by "
                            f"condor_submit. Is it a typo?")
        for name in self.queue_variables:
            if name.lower() not in self.used | last.keys() and not is_known_key(name):
                warnings.append(f"the Queue variable '{name}' was unused by condor_submit. Is it a typo?")
        return warnings

    @property
    def has_queue(self) -> bool:
        return any(isinstance(s, QueueStatement) for s in self.statements)

    def build_jobs(self, cluster_id: int, owner: str | None = None, qdate: int | None = None,
                   cwd: str | None = None, config: Any = None) -> list[ClassAd]:
        """One proc ad per queued job (ProcId 0..N-1) of cluster `cluster_id`."""
        if not self.has_queue:
            raise SubmitError(f'"{self.filename}" doesn\'t contain any "queue" commands -- no jobs queued')
        settings = _Settings.from_config(config)
        qdate = int(time.time()) if qdate is None else qdate
        cwd = cwd or os.getcwd()
        variables: dict[str, Assignment] = {}    # by key meaning (aliases resolved)
        macros: dict[str, Assignment] = {}       # by name as written: what $(name) finds
        jobs: list[ClassAd] = []
        self.queue_variables = []
        for statement in self.statements:
            if isinstance(statement, Assignment):
                variables[_canonical_key(statement.key)] = statement
                macros[_macro_name(statement.key)] = statement
                continue
            proc_maker = _ProcMaker(variables, macros, cluster_id, owner, qdate, cwd, settings,
                                    self.defaults, self.used)
            proc_maker.builtins = {"cluster": str(cluster_id), "clusterid": str(cluster_id)}
            queue_args = expand(statement.args, proc_maker.lookup_static, statement.line, cwd)
            # item files and globs are relative to the submit directory, not initialdir
            spec = parse_queue(queue_args, statement.line, cwd)
            if spec.items is not None:
                self.queue_variables += [v for v in spec.variables if v not in self.queue_variables]
            rows = spec.rows() if spec.items is not None else [(0, None)]
            for row, item in rows:
                item_values = row_values(spec.variables, item) if item is not None else {}
                for step in range(spec.count):
                    jobs.append(proc_maker.make(len(jobs), row, step, item_values))
        return jobs


# What the per-proc macros are while the description is read (before any proc exists).
_UNLIVE = {"cluster": "1", "clusterid": "1", "process": "0", "procid": "0", "step": "0", "row": "0",
           "itemindex": "0"}


def parse_submit(text: str, filename: str = "(stdin)", cwd: str | None = None,
                 submit_time: int | None = None, keys: tuple[str, ...] = ()) -> SubmitDescription:
    """Parse submit description `text`; raises SubmitError naming the bad line.  `cwd` is where
    ``include`` paths are relative to; `submit_time` sets $(SUBMIT_TIME), $(Year) ...; `keys`
    (``key=value``) are set before the description is read."""
    submit_time = int(time.time()) if submit_time is None else submit_time
    shown = None if filename == "(stdin)" else filename
    defaults = submit_defaults(shown, submit_time)
    used: set[str] = set()

    def expand_so_far(text: str, values: dict, line: int) -> str:
        def lookup(name: str) -> str | None:
            used.add(name)
            return values.get(name, defaults.get(name, _UNLIVE.get(name)))
        return expand(text, lookup, line, cwd)

    initial = []
    for pair in keys:
        key, _, value = pair.partition("=")
        if not key.strip() or not re.fullmatch(r"\+?[A-Za-z_][\w.]*", key.strip()):
            raise SubmitError(f"invalid attribute name '{key.strip()}' for attrib=value assigment")
        initial.append(Assignment(key.strip(), value.strip(), 0))
    statements = parse_statements(text, expand_so_far, cwd, shown or "", tuple(initial))
    return SubmitDescription(statements, filename, defaults, used)


def _canonical_key(key: str) -> str:
    """Lookup key of a submit key: lowercase, aliases resolved; ``+X`` and ``MY.X`` -> ``+x``."""
    if key.startswith("+"):
        return "+" + key[1:].lower()
    if key[:3].lower() == "my.":
        return "+" + key[3:].lower()
    key = key.lower()
    return _ALIASES.get(key, key)


def _macro_name(key: str) -> str:
    """The name $(...) finds a key by: as written, any case; ``+X`` is ``MY.X``."""
    return "my." + key[1:].lower() if key.startswith("+") else key.lower()


class _ProcMaker:
    """Makes the proc ads of one queue statement from the keys set before it."""

    def __init__(self, variables: dict[str, Assignment], macros: dict[str, Assignment],
                 cluster_id: int, owner: str | None, qdate: int, cwd: str, settings: _Settings,
                 defaults: dict[str, str], used: set[str]) -> None:
        self.variables = dict(variables)
        self.macros = dict(macros)
        self.defaults = defaults
        self.used = used
        self.cluster_id = cluster_id
        self.owner = owner
        self.qdate = qdate
        self.cwd = cwd
        self.settings = settings
        self.builtins: dict[str, str] = {}
        self.request_cpus = settings.request_cpus
        self.tiny_requests: set[str] = set()
        self.item_values: dict[str, str] = {}
        self.template: ClassAd | None = None

    # -- macro lookup -------------------------------------------------------------------------

    def lookup(self, name: str) -> str | None:
        self.used.add(name)
        if name in self.builtins:
            return self.builtins[name]
        assignment = self.macros.get(name)
        return assignment.value if assignment is not None else self.defaults.get(name)

    def lookup_static(self, name: str) -> str | None:
        """Lookup for the queue line itself: per-proc macros are not known yet."""
        if name in ("cluster", "clusterid"):
            return str(self.cluster_id)
        return self.lookup(name)

    def value(self, key: str) -> tuple[str | None, int | None]:
        """Expanded value of submit key `key` for the current proc, and its line."""
        if key in self.item_values:       # a queue variable named like a key sets that key
            return self.item_values[key], None
        assignment = self.variables.get(key)
        if assignment is None:
            return None, None
        return expand(assignment.value, self.lookup, assignment.line, self.cwd), assignment.line

    # -- one proc -----------------------------------------------------------------------------

    def make(self, proc_id: int, row: int, step: int, item_values: dict[str, str]) -> ClassAd:
        self.builtins = {"cluster": str(self.cluster_id), "clusterid": str(self.cluster_id),
                         "process": str(proc_id), "procid": str(proc_id), "step": str(step),
                         "row": str(row), "itemindex": str(row), "node": self._node(),
                         **item_values}
        self.item_values = {_canonical_key(k): v for k, v in item_values.items()}
        self.tiny_requests = set()
        if self.template is None:
            self.template = _base_ad(self.cluster_id, self.owner, self.qdate, self.settings)
        ad = self.template.copy()   # copying beats rebuilding ~60 literals per proc
        ad["ProcId"] = proc_id
        iwd, line = self.value("initialdir")
        iwd = full_path(self.cwd, iwd) if iwd else self.cwd
        if not os.path.isdir(iwd):
            raise SubmitError(f"No such directory: {iwd}", line)
        ad["Iwd"] = iwd
        self._set_universe(ad)
        if not is_grid_job(ad):  # a grid job's executable is only a label (see grid.py)
            self._set_executable(ad)
        self._set_arguments(ad)
        self._set_stdio(ad, iwd)
        self._set_requests(ad)
        self._set_misc(ad)
        self._set_lifecycle(ad)
        self._set_custom_attributes(ad)
        self._set_requirements(ad)
        if is_grid_job(ad):
            set_grid_attributes(ad, self.value, submit_keys(self.variables), iwd, self.value("requirements")[0])
        return ad

    def _node(self) -> str:
        """$(Node): a placeholder the schedd fills for parallel jobs, empty for the others."""
        universe = (self.value("universe")[0] or "").strip().lower()
        return "#pArAlLeLnOdE#" if universe == "parallel" else ""

    def _set_universe(self, ad: ClassAd) -> None:
        universe, line = self.value("universe")
        if universe:
            word = universe.strip().lower()
            if word.isdigit():          # a universe may be given by its number
                word = next((name for name, n in UNIVERSES.items() if n == int(word)),
                            "standard" if int(word) == 1 else word)
            unsupported = UNSUPPORTED_UNIVERSES.get(word)
            if unsupported:
                raise SubmitError(f"'{unsupported}' is not a supported universe.", line)
            number = UNIVERSES.get(word)
            if number is None:
                raise SubmitError(f"I don't know about the '{universe.strip()}' universe.", line)
            ad["JobUniverse"] = number
            if number in (7, 12):         # scheduler/local jobs are stopped with SIGTERM
                ad["KillSig"] = "SIGTERM"
            if number not in _CAN_RECONNECT:
                del ad["JobLeaseDuration"]

    def _set_executable(self, ad: ClassAd) -> None:
        # Unlike the other files, the executable is relative to the submit directory, not Iwd.
        executable, line = self.value("executable")
        if not executable:
            raise SubmitError("No 'executable' parameter was provided", line)
        path = os.path.normpath(os.path.join(self.cwd, os.path.expanduser(executable)))
        transfer, transfer_line = self.value("transfer_executable")
        if transfer and not _is_true("transfer_executable", transfer, transfer_line):
            # The executable is already on the execute side: stored as written, never checked.
            ad["TransferExecutable"] = False
            ad["Cmd"] = executable
            size_kb = math.ceil(os.path.getsize(path) / 1024) if os.path.isfile(path) else 0
        else:
            if not os.path.isfile(path):
                raise SubmitError(f"Executable file {path} does not exist", line)
            ad["Cmd"] = path
            size_kb = math.ceil(os.path.getsize(path) / 1024)
        ad["ExecutableSize"] = ad["ImageSize"] = ad["DiskUsage"] = size_kb

    def _set_arguments(self, ad: ClassAd) -> None:
        arguments, line = self.value("arguments")
        if arguments:
            name, text = arguments_attribute(arguments, line)
            ad[name] = text
        else:
            ad["Arguments"] = ""
        environment, line = self.value("environment")
        getenv, getenv_line = self.value("getenv")
        ad["Environment"] = environment_v2(environment, line, getenv, getenv_line)

    def _set_stdio(self, ad: ClassAd, iwd: str) -> None:
        for key, attr in (("input", "In"), ("output", "Out"), ("error", "Err")):
            value, _ = self.value(key)
            if value:
                ad[attr] = value
                stream, line = self.value(_STREAM_KEYS.get(key, ""))
                ad["Stream" + attr] = bool(stream) and _is_true(_STREAM_KEYS[key], stream, line)
            else:
                ad[attr] = "/dev/null"
                ad["Transfer" + attr] = False
        log, _ = self.value("log")
        if log:
            ad["UserLog"] = full_path(iwd, log)

    def _set_requests(self, ad: ClassAd) -> None:
        cpus, line = self.value("request_cpus")
        self.request_cpus = cpus or self.settings.request_cpus
        self._set_expr(ad, "RequestCpus", self.request_cpus, line)
        memory, line = self.value("request_memory")
        if memory:
            self._set_size(ad, "RequestMemory", memory, 2, line)
        else:
            self._set_expr(ad, "RequestMemory", self.settings.request_memory, None)
        disk, line = self.value("request_disk")
        if disk:
            self._set_size(ad, "RequestDisk", disk, 1, line)
        else:
            self._set_expr(ad, "RequestDisk", self.settings.request_disk, None)

    def _set_size(self, ad: ClassAd, attr: str, text: str, base_power: int, line: int | None) -> None:
        """A size in `base_power` units of 1024 bytes (1 = KB, 2 = MB), or an expression."""
        match = _SIZE.match(text)
        if match and match.group(2).lower() in _UNITS:
            power = _UNITS[match.group(2).lower()]
            number = float(match.group(1))
            if power is not None:
                number = number * 1024 ** power / 1024 ** base_power
            ad[attr] = math.ceil(number)
            if number < 1:
                # condor_submit's whole-unit value is 0 then: it adds no slot clause for it.
                self.tiny_requests.add(attr)
            return
        self._set_expr(ad, attr, text, line)

    def _set_misc(self, ad: ClassAd) -> None:
        priority, line = self.value("priority")
        if priority:
            self._set_expr(ad, "JobPrio", priority, line)
        rank, line = self.value("rank")
        if rank:
            self._set_expr(ad, "Rank", rank, line)
        batch, _ = self.value("batch_name")
        if batch:
            ad["JobBatchName"] = batch.strip().strip('"')
        notification, line = self.value("notification")
        if notification:
            number = NOTIFICATIONS.get(notification.strip().lower())
            if number is None:
                raise SubmitError("Notification must be 'Never', 'Always', 'Complete', or 'Error'", line)
            ad["JobNotification"] = number
        for key, attr in _EXPRESSION_KEYS.items():
            value, line = self.value(key)
            if value:
                self._set_expr(ad, attr, value, line)
        for key, attr in (("should_transfer_files", "ShouldTransferFiles"),
                          ("when_to_transfer_output", "WhenToTransferOutput")):
            value, _ = self.value(key)
            if value:
                ad[attr] = value.strip().upper()
        if ad.eval("WhenToTransferOutput") == "ON_EXIT_OR_EVICT" and not self.value("should_transfer_files")[0]:
            ad["ShouldTransferFiles"] = "YES"  # only file transfer can bring outputs back on eviction
        if ad.eval("ShouldTransferFiles") == "NO":
            del ad["WhenToTransferOutput"]
        self._set_transfer_lists(ad)
        hold, line = self.value("hold")
        if hold and _is_true("hold", hold, line):
            ad["JobStatus"] = 5
            ad["HoldReason"] = "submitted on hold at user's request"
            ad["HoldReasonCode"] = HOLD_CODE_SUBMITTED_ON_HOLD

    def _set_lifecycle(self, ad: ClassAd) -> None:
        """Retries, durations, vacate time, GPUs, accounting group and nice_user, concurrency
        limits, as condor_submit turns those keys into attributes."""
        for key, attr in (("job_max_vacate_time", "JobMaxVacateTime"), ("request_gpus", "RequestGPUs"),
                          ("allowed_execute_duration", "AllowedExecuteDuration"),
                          ("allowed_job_duration", "AllowedJobDuration")):
            value, line = self.value(key)
            if value:
                self._set_expr(ad, attr, value, line)
        retries, line = self.value("max_retries")
        until, until_line = self.value("retry_until")
        success, success_line = self.value("success_exit_code")
        if retries or until or success:
            self._set_expr(ad, "JobMaxRetries", retries or "2", line)
            clauses = ["NumJobCompletions > JobMaxRetries"]
            if success:
                self._set_expr(ad, "JobSuccessExitCode", success, success_line)
                clauses.append("ExitCode is JobSuccessExitCode")
            else:
                clauses.append("ExitCode is 0")
            if until:
                # a number is an exit code that ends the retries; anything else an expression
                clauses.append(f"ExitCode is {until.strip()}" if until.strip().lstrip("-").isdigit() else until)
            ad["OnExitHold"] = False
            self._set_expr(ad, "OnExitRemove", " || ".join(clauses), until_line or line)
        for key, attr in (("max_materialize", "JobMaterializeLimit"), ("max_idle", "JobMaterializeMaxIdle")):
            value, line = self.value(key)
            if value:
                self._set_expr(ad, attr, value, line)
        limits, _ = self.value("concurrency_limits")
        if limits:
            ad["ConcurrencyLimits"] = ",".join(sorted(name.lower() for name in _file_list(limits)))
        nice, nice_line = self.value("nice_user")
        group, _ = self.value("accounting_group")
        user = (self.value("accounting_group_user")[0] or self.owner or getpass.getuser()).strip()
        if nice and _is_true("nice_user", nice, nice_line):
            group = group or "nice-user"  # a group of its own unless one is named; retired at once
            ad["MaxJobRetirementTime"] = 0
        if group:
            ad["AcctGroup"], ad["AcctGroupUser"] = group.strip(), user
            ad["AccountingGroup"] = f"{group.strip()}.{user}"

    def _set_transfer_lists(self, ad: ClassAd) -> None:
        """TransferInput / TransferOutput (comma-joined, blanks dropped), TransferOutputRemaps, and
        the input files' size added to DiskUsage as condor_submit does."""
        inputs, _ = self.value("transfer_input_files")
        if inputs is not None:
            ad["TransferInput"] = ",".join(_file_list(inputs))
        outputs, _ = self.value("transfer_output_files")
        if outputs is not None:
            ad["TransferOutput"] = ",".join(_file_list(outputs.strip().strip('"')))
        remaps, _ = self.value("transfer_output_remaps")
        if remaps:
            ad["TransferOutputRemaps"] = remaps.strip().strip('"')
        if ad.eval("ShouldTransferFiles") == "NO":
            return
        iwd = ad.eval("Iwd")
        names = _file_list(inputs or "")
        if ad.eval("In") != "/dev/null":
            names.append(ad.eval("In"))
        extra_kb = sum(math.ceil(tree_size(os.path.join(iwd, name)) / 1024) for name in names)
        if extra_kb:
            ad["DiskUsage"] = ad.eval("DiskUsage") + extra_kb

    def _set_custom_attributes(self, ad: ClassAd) -> None:
        for key, assignment in self.variables.items():
            if key.startswith("+"):
                name = assignment.key[1:] if assignment.key.startswith("+") else assignment.key[3:]
                value, line = self.value(key)
                self._set_expr(ad, name, value or "undefined", line)

    def _set_requirements(self, ad: ClassAd) -> None:
        user, line = self.value("requirements")
        refs = _target_references(user) if user else set()
        clauses = [f"({user})"] if user else []
        if "arch" not in refs:
            clauses.append('(TARGET.Arch == "X86_64")')
        if not refs & _OPSYS_ATTRS:
            clauses.append('(TARGET.OpSys == "LINUX")')
        if "RequestDisk" not in self.tiny_requests:
            clauses.append('(versionGE(split(TARGET.CondorVersion)[1], "25.12.0") || '
                           '(TARGET.Disk >= RequestDisk))')
        if "RequestMemory" not in self.tiny_requests:
            clauses.append("(TARGET.Memory >= RequestMemory)")
        gpus = ad.eval("RequestGPUs")
        if "gpus" not in refs and ad.lookup("RequestGPUs") is not None and gpus != 0:
            clauses.append("(TARGET.GPUs >= RequestGPUs)")
        single_cpu = self.request_cpus.strip().isdigit() and int(self.request_cpus) <= 1
        if "cpus" not in refs and not single_cpu:
            clauses.append("(TARGET.Cpus >= RequestCpus)")
        transfer = ad.eval("ShouldTransferFiles")
        if "hasfiletransfer" not in refs and ad.eval("JobUniverse") in _MIGHT_TRANSFER:
            if transfer == "YES" or "filesystemdomain" in refs:
                clauses.append("(TARGET.HasFileTransfer)")
            elif transfer == "NO":
                clauses.append("(TARGET.FileSystemDomain == MY.FileSystemDomain)")
            else:
                clauses.append("((TARGET.FileSystemDomain == MY.FileSystemDomain) || "
                               "(TARGET.HasFileTransfer))")
        self._set_expr(ad, "Requirements", " && ".join(clauses), line)

    @staticmethod
    def _set_expr(ad: ClassAd, attr: str, text: str, line: int | None) -> None:
        try:
            ad.set_expr(attr, text)
        except ClassAdSyntaxError as exc:
            # HTCondor's words; the parser's own message goes to the line after them
            raise SubmitError(f"Parse error in expression: \n\t{attr} = {text}\n\t{exc}", line) from None


def full_path(base: str, path: str) -> str:
    """`path` made absolute against directory `base` as condor_submit does it: joined with one
    '/', doubled slashes squeezed, but '.' and '..' kept (HTCondor does not normalise)."""
    joined = path if path.startswith("/") else base.rstrip("/") + "/" + path
    return re.sub(r"/{2,}", "/", joined)


def _base_ad(cluster_id: int, owner: str | None, qdate: int, settings: _Settings) -> ClassAd:
    """The attributes every vanilla proc ad starts with (values as condor_submit sets them)."""
    ad = ClassAd()
    ad["MyType"] = "Job"
    ad["TargetType"] = "Machine"
    ad["ClusterId"] = cluster_id
    ad["ProcId"] = 0
    if owner is None:
        ad.set_expr("Owner", "undefined")
    else:
        ad["Owner"] = owner
    ad["QDate"] = qdate
    ad["EnteredCurrentStatus"] = qdate
    ad["JobStatus"] = 1
    ad["JobUniverse"] = 5
    ad["JobPrio"] = 0
    ad["Rank"] = 0.0
    ad["JobSubmitMethod"] = SUBMIT_METHOD_CONDOR_SUBMIT
    ad["JobNotification"] = 0
    ad["CondorVersion"] = CONDOR_VERSION
    ad["CondorPlatform"] = CONDOR_PLATFORM
    ad["FileSystemDomain"] = settings.filesystem_domain
    ad["ShouldTransferFiles"] = "IF_NEEDED"
    ad["WhenToTransferOutput"] = "ON_EXIT"
    ad["TransferInputSizeMB"] = 0
    ad["JobLeaseDuration"] = 2400
    ad["LeaveJobInQueue"] = False
    ad["ExitBySignal"] = False
    ad["ExitStatus"] = 0
    ad["MaxHosts"] = ad["MinHosts"] = 1
    ad["CurrentHosts"] = 0
    for attr in ("NumCkpts", "NumRestarts", "NumJobStarts", "NumJobCompletions", "NumSystemHolds",
                 "TotalSuspensions", "LastSuspensionTime", "CommittedTime", "CommittedSlotTime",
                 "CommittedSuspensionTime", "CumulativeSlotTime", "CumulativeSuspensionTime"):
        ad[attr] = 0
    for attr in ("RemoteUserCpu", "RemoteSysCpu", "RemoteWallClockTime", "CumulativeRemoteUserCpu",
                 "CumulativeRemoteSysCpu"):
        ad[attr] = 0.0
    return ad


def _file_list(text: str) -> list[str]:
    """The names of a comma (or blank) separated file list."""
    return [name for name in re.split(r"[,\s]+", text.strip()) if name]


def tree_size(path: str) -> int:
    """Bytes of a file, or of every file under a directory; 0 for what does not exist."""
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(top, name))
                   for top, _, files in os.walk(path) for name in files)
    return os.path.getsize(path) if os.path.isfile(path) else 0


def _is_true(key: str, text: str, line: int | None) -> bool:
    word = text.strip().lower()
    if word in ("true", "t", "yes", "y", "1"):
        return True
    if word in ("false", "f", "no", "n", "0"):
        return False
    raise SubmitError(f"{key}={text.strip()} is invalid, must eval to a boolean.", line)


def _target_references(expression: str) -> set[str]:
    """Lowercase names of slot attributes an expression may mean: ``TARGET.X`` and unscoped ``X``
    (``MY.X`` is the job's own); function names and keywords are not references."""
    refs = set()
    for scope, name, call in _IDENT.findall(_STRING.sub('""', expression)):
        if call or name.lower() in _KEYWORDS:
            continue
        if scope.lower() in ("", "target."):
            refs.add(name.lower())
    return refs
