"""condor_starter: runs one job for its startd, in a scratch directory, under the startd's procd.

Started by the startd per activated claim with ``-job-ad FILE -schedd ADDR -slot-name NAME
-family MARKER`` and the claim id in its environment (a secret). Started as root, it runs the
job as its Owner: the job's process with the owner's uid, gid and groups, and its files (input
transfer, stdin/stdout/stderr, output transfer) opened with the owner's rights. Reports JOB_STARTED, JOB_USAGE and JOB_EXITED to the schedd (the shadow's side). On
SIGTERM it soft-kills the job's whole family (the job's KillSig, then SIGKILL after the vacate
time), on SIGQUIT it hard-kills it; either way nothing of the job outlives the starter.
"""
from __future__ import annotations

import errno
import os
from contextlib import ExitStack
import shutil
import signal
import subprocess
import time
import uuid
from typing import Callable

from condorsim.shared import protocol
from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, Undefined, format_old, parse_ad
from condorsim.shared.config import ConfigError, split_v2_raw
from condorsim.shared.daemon import POOL_MARKER, Daemon, DaemonStartError, daemon_main
from condorsim.shared.security import CLAIM_ID_ENV, UnixUser, as_user, unix_user, user_name

from condorsim.daemons.file_transfer import Sandbox, TransferError, file_list
from condorsim.daemons.job_environment import JOB_AD_FILE, MACHINE_AD_FILE, job_environment
from condorsim.daemons.procd import FAMILY_MARKER


class Starter(Daemon):
    subsystem = "STARTER"

    def __init__(self, argv=None):
        super().__init__(argv)
        rest = self.options["rest"]
        options = dict(zip(rest[::2], rest[1::2]))
        try:
            self.job_file = options["-job-ad"]
            self.claim_id = options.get("-claim") or os.environ.pop(CLAIM_ID_ENV)
            self.schedd = options["-schedd"]
            self.slot_name = options["-slot-name"]
        except KeyError as exc:
            raise DaemonStartError(f"condor_starter needs {exc.args[0]}") from None
        self.job = self.read_ad(self.job_file, "job")
        machine_file = options.get("-machine-ad")
        self.machine = self.read_ad(machine_file, "machine") if machine_file else None
        self.job_id = f"{self.job.eval('ClusterId')}.{self.job.eval('ProcId')}"
        self.owner = self.job_owner()
        # The startd names the family, so that it can kill the job itself if we die.
        self.family = options.get("-family") or f"{self.job_id}-{uuid.uuid4().hex[:12]}"
        self.process: subprocess.Popen | None = None
        self.procd = f"ipc://{self.param('PROCD_ADDRESS')}"
        self.kill_deadline: float | None = None
        self.reported = False
        self.killing = False  # set once asked to stop the job: its exit is then an eviction
        self.scratch = ""
        self.exit_report: dict | None = None  # the job's exit, until the schedd has taken it
        lease = self.job.eval("JobLeaseDuration")
        self.lease = lease if isinstance(lease, int) and lease > 0 else 2400
        self.last_contact = time.monotonic()  # the schedd's last answer: the job lease runs from it
        self.sandbox: Sandbox | None = None

    @staticmethod
    def read_ad(path: str, what: str) -> ClassAd:
        """The ad the startd wrote for us (the file is ours to remove)."""
        try:
            with open(path) as handle:
                ad = parse_ad(handle.read())
            os.unlink(path)
        except (OSError, ClassAdSyntaxError) as exc:
            raise DaemonStartError(f"cannot read the {what} ad {path}: {exc}") from None
        return ad

    def job_owner(self) -> UnixUser | None:
        """The account the job runs as: its Owner's, when we run as root and the Owner is a local
        account; None (our own account) otherwise. Only a queue super user can queue a job for
        an Owner without an account here, and such a job runs as the pool's account."""
        owner = self.job.eval("Owner")
        if os.geteuid() != 0 or not isinstance(owner, str):
            return None
        user = unix_user(owner)
        if user is None:
            self.log(f"Job {self.job_id}: Owner {owner} has no account here; running it as {user_name(os.geteuid())}")
        return user

    def setup(self) -> None:
        self.bind()
        self.handlers["SET_SHADOW"] = self.on_set_shadow
        self.handlers["SIGNAL_JOB"] = self.on_signal_job
        self.handlers["PEEK"] = self.on_peek
        self.scratch = os.path.join(self.param("EXECUTE") or "/tmp", f"dir_{os.getpid()}")
        os.makedirs(self.scratch, exist_ok=True)
        if self.owner is not None:  # the job's own directory, as HTCondor's starter makes it
            os.chown(self.scratch, self.owner.uid, self.owner.gid)
            os.chmod(self.scratch, 0o700)
        self.write_ad_files()
        self.after(0, self.start_job)
        self.every(0.2, self.check_kill_deadline)
        interval = self.cfg.get_float("STARTER_UPDATE_INTERVAL", 300)
        self.every(interval, self.send_usage, first=min(interval, 1.0))
        self.every(1.0, self.check_lease)

    def write_ad_files(self) -> None:
        """The job's and the slot's ads in the scratch directory, where _CONDOR_JOB_AD and
        _CONDOR_MACHINE_AD point (condor_q -l / condor_status -l text)."""
        job = self.job.copy()
        if "ClaimId" in job:
            del job["ClaimId"]  # a secret of the pool's daemons, not the job's
        for name, ad in ((JOB_AD_FILE, job), (MACHINE_AD_FILE, self.machine or ClassAd())):
            with open(os.path.join(self.scratch, name), "w") as handle:
                handle.write(format_old(ad))

    def string(self, attr: str, default: str | None = None) -> str | None:
        value = self.job.eval(attr)
        return value if isinstance(value, str) else default

    def job_command(self) -> list[str]:
        if not self.string("Cmd"):
            raise FileNotFoundError(errno.ENOENT, "job has no Cmd", "")
        arguments = self.string("Arguments")  # V2, as condor_submit stores it
        args = split_v2_raw(arguments) if arguments is not None else (self.string("Args", "") or "").split()
        return [self.sandbox.executable(), *args]

    def job_environment(self) -> dict[str, str]:
        env = job_environment(self.job, self.machine, self.scratch, self.slot_name,
                              self.param("STARTER_NUM_THREADS_ENV_VARS"))
        env[FAMILY_MARKER] = self.family  # how the procd finds every process of the job
        if POOL_MARKER in os.environ:
            env[POOL_MARKER] = os.environ[POOL_MARKER]
        return env

    def spool_directory(self) -> str:
        """Where HTCondor's schedd spools this job's files (SPOOL/<cluster % 10000>/<proc % 10000>/...)."""
        cluster, proc = (int(part) for part in self.job_id.split("."))
        return os.path.join(self.param("SPOOL") or self.scratch, str(cluster % 10000), str(proc % 10000),
                            f"cluster{cluster}.proc{proc}.subproc0")

    def transfer(self, stage: str, action: Callable[[], None]) -> None:
        """Run one transfer direction between its two 040 events (TransferError passes through)."""
        self.report("FILE_TRANSFER", stage=f"{stage}_started", host=self.address if stage == "input" else None)
        action()
        self.report("FILE_TRANSFER", stage=f"{stage}_finished", bytes_in=self.sandbox.bytes_in,
                    bytes_out=self.sandbox.bytes_out)
        return None

    def start_job(self) -> None:
        self.sandbox = Sandbox(self.job, self.scratch, self.slot_name, self.hostname, machine=self.machine,
                               spool=self.spool_directory())
        if self.sandbox.transfers:
            try:
                self.transfer("input", self.as_owner(self.sandbox.transfer_input))
            except TransferError as exc:
                self.log(f"Job {self.job_id}: {exc}")
                self.reported = True
                self.report("JOB_EXITED", hold={"reason": str(exc), "code": exc.code, "subcode": exc.subcode})
                self.stop()
                return
        try:
            argv = self.job_command()
            env = self.job_environment()
            paths = {attr: self.sandbox.stdio_path(attr) for attr in ("In", "Out", "Err")}
            with ExitStack() as files:
                with as_user(self.owner):  # the job's files are opened with its owner's rights
                    stdin = files.enter_context(open(paths["In"], "rb"))
                    # output/error are replaced by each run; one file named twice is opened once
                    stdout = files.enter_context(open(paths["Out"], "wb"))
                    stderr = stdout if paths["Err"] == paths["Out"] else files.enter_context(open(paths["Err"], "wb"))
                self.process = subprocess.Popen(argv, cwd=self.sandbox.cwd, env=env, stdin=stdin, stdout=stdout,
                                                stderr=stderr, start_new_session=True, **self.run_as())
        except (OSError, ConfigError, ValueError) as exc:
            number = getattr(exc, "errno", 0) or 0
            message = f"Failed to execute '{self.string('Cmd', '')}': {getattr(exc, 'strerror', None) or exc}"
            self.log(f"Job {self.job_id}: {message}")
            self.report("JOB_EXITED", error=message, errno=number)
            self.stop()
            return
        self.call_procd("REGISTER_FAMILY", marker=self.family, root_pid=self.process.pid)
        self.log(f"Job {self.job_id} started: pid {self.process.pid}, {' '.join(argv)}")
        self.report("JOB_STARTED", pid=self.process.pid, starter=self.address)

    def as_owner(self, action: Callable[[], None]) -> Callable[[], None]:
        """`action` run with the job owner's rights (file transfers)."""
        def run() -> None:
            with as_user(self.owner):
                action()
        return run

    def run_as(self) -> dict:
        """Popen's arguments that start the job as its owner (uid, gid, supplementary groups)."""
        if self.owner is None:
            return {}
        return {"user": self.owner.uid, "group": self.owner.gid, "extra_groups": list(self.owner.groups)}

    def on_signal_job(self, message: dict, ident: bytes) -> dict:
        """condor_suspend / condor_continue: SIGSTOP or SIGCONT to every process of the job."""
        signum = int(message["signal"])
        if signum not in (signal.SIGSTOP, signal.SIGCONT):
            raise ValueError(f"signal {signum} is not a suspend or continue")
        reply = self.call_procd("SIGNAL_FAMILY", marker=self.family, signal=signum) or {}
        return {"signalled": int(reply.get("signalled", 0))}

    def on_peek(self, message: dict, ident: bytes) -> dict:
        """condor_tail: up to `max_bytes` of each file from its offset (None: the file's last
        `max_bytes`): `stdout`, `stderr`, or a name listed in the job's TransferOutput."""
        if self.process is None:
            return {"error": "Retrying request, because the job execution environment is not yet ready.",
                    "retry": True}
        if self.process.poll() is not None:
            return {"error": "Rejecting request, because the job is finished."}
        if self.peer.user != self.string("Owner", "") and not self.policy.is_super_user(self.peer):
            return {"error": f"Rejecting request, because {self.peer.name} does not own the job."}
        listed = file_list(self.string("TransferOutput", "") or "")
        max_bytes, found = max(0, int(message["max_bytes"])), []
        for name, offset in zip(message["files"], message["offsets"]):
            if name in ("stdout", "stderr"):
                path = self.sandbox.stdio_path("Out" if name == "stdout" else "Err")
            elif name in listed and not os.path.isabs(name) and ".." not in name.split("/"):
                path = os.path.join(self.sandbox.cwd, name)
            else:
                return {"error": f"{name} is not in the job's transfer_output_files"}
            try:
                with open(path, "rb") as handle:
                    size = handle.seek(0, os.SEEK_END)
                    start = max(0, size - max_bytes) if offset is None else min(max(0, int(offset)), size)
                    handle.seek(start)
                    data = handle.read(max_bytes)
            except OSError as exc:
                return {"error": f"cannot read {name}: {exc.strerror}"}
            found.append({"data": data, "offset": start + len(data)})
        return {"files": found}

    def send_usage(self) -> None:
        """Tell the schedd what the job's processes use now (image size, memory, CPU)."""
        if self.process is None or self.process.poll() is not None or self.killing:
            return
        usage = self.call_procd("FAMILY_USAGE", marker=self.family)
        if usage:
            self.report("JOB_USAGE", timeout=1, usage=usage)

    def call_procd(self, command: str, **payload) -> dict | None:
        try:
            return protocol.Client(self.procd, timeout=2).call(command, **payload)
        except (protocol.CommunicationError, protocol.RemoteError) as exc:
            self.log(f"procd {command} failed: {exc}")
            return None

    def report(self, command: str, timeout: float | None = None, **payload) -> bool:
        # Once asked to kill the job, its schedd may be the one that went away: don't hang on it.
        timeout = timeout or (2 if self.killing else 5)
        try:
            protocol.Client(self.schedd, timeout=timeout).call(command, job=self.job_id, claim_id=self.claim_id, **payload)
        except protocol.RemoteError as exc:
            self.log(f"The schedd refused {command}: {exc}")
            return False
        except protocol.CommunicationError as exc:
            self.log(f"Could not tell the schedd {command}: {exc}")
            return False
        self.last_contact = time.monotonic()
        return True

    def report_exit(self, **exit_info) -> None:
        """Tell the schedd how the job ended; while it is away (restarting), keep the report and
        wait for its successor (SET_SHADOW) until the job lease runs out. A job we were told to
        kill has lost its claim: nobody will ask for that report."""
        self.exit_report = exit_info
        self.reported = True
        if self.report("JOB_EXITED", **exit_info) or self.killing:
            self.stop()
        else:
            self.log(f"Keeping the exit of job {self.job_id} until a schedd takes it "
                     f"(job lease {self.lease} s)")

    def on_set_shadow(self, message: dict, ident: bytes) -> dict:
        """A restarted schedd reconnected to our job: report to it from now on."""
        if not isinstance(message["schedd"], str) or not message["schedd"].startswith("<"):
            raise ValueError(f"schedd must be a daemon address, not {message['schedd']!r}"[:200])
        self.schedd = message["schedd"]
        self.last_contact = time.monotonic()
        self.log(f"Job {self.job_id}: reconnected to the schedd at {self.schedd}")
        if self.exit_report is not None:
            self.after(0, lambda: self.report_exit(**self.exit_report))
        return {}

    def check_lease(self) -> None:
        """No schedd for a whole job lease: the job is given up (HTCondor's starter does the same)."""
        if time.monotonic() - self.last_contact <= self.lease:
            return
        self.log(f"Job {self.job_id}: no schedd for the job lease ({self.lease} s); giving the job up")
        if self.process is not None and self.process.poll() is None:
            self.kill_family(signal.SIGKILL)
        self.exit_report = None
        self.reported = True
        self.stop()

    def kill_family(self, signum: int) -> None:
        if self.call_procd("SIGNAL_FAMILY", marker=self.family, signal=int(signum)) is None and self.process:
            try:
                os.killpg(self.process.pid, signum)
            except OSError:
                pass

    def kill_signal(self) -> int:
        """The job's KillSig (a name such as SIGTERM or TERM, or a number); SIGTERM when it
        names no signal, with a log line."""
        value = self.job.eval("KillSig")
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < signal.NSIG:
            return value
        if isinstance(value, str):
            name = value.upper() if value.upper().startswith("SIG") else "SIG" + value.upper()
            if name in signal.Signals.__members__:
                return int(signal.Signals[name])
        if value is not Undefined:
            self.log(f"Job {self.job_id}: KillSig = {value!r} names no signal; using SIGTERM")
        return int(signal.SIGTERM)

    def check_kill_deadline(self) -> None:
        if self.kill_deadline is not None and time.monotonic() >= self.kill_deadline:
            self.kill_deadline = None
            self.log(f"Job {self.job_id} did not exit in its vacate time; killing its processes")
            self.kill_family(signal.SIGKILL)

    def _dispatch_signals(self) -> None:
        """SIGTERM: soft kill, then hard after the vacate time; SIGQUIT: hard kill now."""
        while self._signals:
            signum = self._signals.pop(0)
            if signum not in (signal.SIGTERM, signal.SIGQUIT, signal.SIGINT):
                continue
            if self.process is None or self.process.poll() is not None:
                self.stop()
                continue
            self.killing = True
            if signum == signal.SIGQUIT:
                self.kill_family(signal.SIGKILL)
            else:
                self.kill_family(self.kill_signal())
                vacate = self.job.eval("JobMaxVacateTime")
                self.kill_deadline = time.monotonic() + min(vacate if isinstance(vacate, int) else 600, 600)

    def poll_children(self) -> None:
        if self.process is None or self.reported or self.process.poll() is None:
            return
        usage = self.call_procd("FAMILY_USAGE", marker=self.family) or {}
        self.kill_family(signal.SIGKILL)  # leftovers of the job must not outlive it
        self.call_procd("UNREGISTER_FAMILY", marker=self.family)
        status = self.process.returncode
        if status < 0 and not self.killing and self._master_gone():
            # killed with our startd (its procd kills every family when it goes): an eviction, so
            # the job runs again, not the job's own end
            self.log(f"Job {self.job_id} was killed with its startd: reporting an eviction")
            self.killing = True
        exit_info = {"exited": not self.killing, "usage": {"user_cpu": usage.get("user_cpu", 0.0),
                                               "sys_cpu": usage.get("sys_cpu", 0.0)}}
        if status < 0:
            exit_info["signal"] = -status
        else:
            exit_info["code"] = status
        self.log(f"Job {self.job_id} exited: {'signal ' + str(-status) if status < 0 else 'status ' + str(status)}")
        self.transfer_output(exit_info)
        self.report_exit(**exit_info)

    def transfer_output(self, exit_info: dict) -> None:
        """Outputs back after the job exits (to the spool on an eviction with ON_EXIT_OR_EVICT); a
        failure turns the exit into a hold, as HTCondor's shadow does."""
        sandbox = self.sandbox
        if sandbox is None or not sandbox.transfers:
            return
        evicted = self.killing
        if evicted and self.string("WhenToTransferOutput") != "ON_EXIT_OR_EVICT":
            return
        try:
            if evicted:
                sandbox.transfer_output(evicted=True)
            else:
                self.transfer("output", self.as_owner(sandbox.transfer_output))
        except TransferError as exc:
            self.log(f"Job {self.job_id}: {exc}")
            exit_info["hold"] = {"reason": str(exc), "code": exc.code, "subcode": exc.subcode}
        exit_info["usage"].update(bytes_sent=sandbox.bytes_out, bytes_received=sandbox.bytes_in)

    def shutdown(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill_family(signal.SIGKILL)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self.process is not None and not self.reported:
            self.reported = True
            self.report("JOB_EXITED", exited=False)
        shutil.rmtree(self.scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    return daemon_main(Starter, argv)
