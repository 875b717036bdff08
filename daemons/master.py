"""condor_master: starts every daemon of DAEMON_LIST, restarts the ones that die, obeys condor_off/on."""
from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import dataclass, field

import psutil

from condorsim.shared.classad import ClassAd
from condorsim.shared.config import ConfigError, parse_args_string, parse_environment_string
from condorsim.shared.spawn import Process, spawn
from condorsim.shared.daemon import (DAEMON_NO_RESTART, DEFER, POOL_MARKER, Daemon, DaemonStartError, HeldLock,
                                     parse_daemon_args, take_exclusive_lock)

# Daemon names that are DaemonCore daemons in their own right: anything else gets -local-name.
BUILTIN_DAEMONS = {"MASTER", "COLLECTOR", "NEGOTIATOR", "SCHEDD", "STARTD", "GRIDMANAGER",
                   "SHARED_PORT", "CREDD", "HAD", "REPLICATION", "DEFRAG", "KBDD", "ROOSTER"}


@dataclass
class Child:
    name: str
    process: Process | None = None
    start_time: float = 0.0
    restarts: int = 0
    restart_at: float | None = None  # monotonic time of a pending (re)start
    address: str | None = None  # the child's sinful, once it has said it is alive
    held_off: bool = False  # condor_off: stays down until condor_on
    stopping: bool = False
    restart_requested: bool = False  # condor_restart: its exit is no crash, start it again at once
    argv: list[str] = field(default_factory=list)
    stderr_tail: bytes = b""  # what the child last wrote on stderr, for the log when it dies
    last_exit: str = ""  # how its last run ended, for a start-up that waits on it


class Master(Daemon):
    subsystem = "MASTER"

    def __init__(self, argv=None, ready_fd: int | None = None):
        super().__init__(argv)
        self.ready_fd = ready_fd
        self.children: dict[str, Child] = {}
        self.lock_file = None
        self.start_failures: list[str] | None = None  # collected while starting up, else None
        self.next_child_poll = 0.0  # monotonic time the children are next looked at without a SIGCHLD

    # -- start-up --------------------------------------------------------------------------
    def take_instance_lock(self) -> None:
        path = self.param("MASTER_INSTANCE_LOCK") or os.path.join(self.param("LOCK") or "/tmp", "InstanceLock")
        try:
            self.lock_file = take_exclusive_lock(path)
        except HeldLock as held:
            raise DaemonStartError(
                f"another condor_master (pid {held}) is already running on this configuration "
                f"(lock {path} is held); not starting a second one") from None

    def make_directories(self) -> None:
        for knob in ("LOG", "SPOOL", "EXECUTE", "LOCK", "RUN"):
            path = self.param(knob)
            if path and not os.path.isdir(path):
                os.makedirs(path, exist_ok=True)
                self.log(f"Created {knob} directory {path}")

    def setup(self) -> None:
        self.take_instance_lock()
        self.make_directories()
        self.bind()
        self.handlers.update({
            "DAEMONS_OFF": self.on_off, "DAEMONS_ON": self.on_on,
            "RESTART": self.on_restart, "RECONFIG": self.on_reconfig_command,
            "CHILDREN": self.on_children, "CHILD_ALIVE": self.on_child_alive,
            "WAIT_CHILDREN_ALIVE": self.on_wait_children_alive,
        })
        self.alive_waiters: list[tuple[bytes, float]] = []
        self.every(0.25, self.answer_alive_waiters)
        self.keep_advertised(self.cfg.get_float("MASTER_UPDATE_INTERVAL", 300), self.master_ads)

    def started(self) -> None:
        self.start_failures = []
        self.sync_daemon_list()
        failures, self.start_failures = self.start_failures, None
        if failures:  # condor_master itself fails, rather than retrying in the log forever
            self.shutdown()
            raise DaemonStartError("; ".join(failures))
        if self.ready_fd is not None:
            os.write(self.ready_fd, b"OK\n")
            os.close(self.ready_fd)
            self.ready_fd = None

    def daemon_list(self) -> list[str]:
        names = []
        for item in self.cfg.get_list("DAEMON_LIST"):
            name = item.upper()
            if name != "MASTER" and name not in names:
                names.append(name)
        return names

    def sync_daemon_list(self) -> None:
        """Start daemons new to DAEMON_LIST, stop the ones no longer in it."""
        wanted = self.daemon_list()
        for name in wanted:
            if name not in self.children:
                self.children[name] = Child(name)
                self.start_child(self.children[name])
        for name, child in list(self.children.items()):
            if name not in wanted:
                self.log(f"{name} was removed from DAEMON_LIST; stopping it")
                child.held_off = True
                self.stop_child(child)

    # -- children --------------------------------------------------------------------------
    def child_command(self, name: str) -> list[str] | None:
        program = self.param(name)
        if not program:
            self.start_failed(f"{name} is in the DAEMON_LIST parameter, but there is no executable path for it")
            return None
        args = parse_args_string(self.param(f"{name}_ARGS") or "")
        argv = [program]
        if name not in BUILTIN_DAEMONS and "-local-name" not in args:
            argv += ["-local-name", name]
        return argv + args

    def child_environment(self, name: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(parse_environment_string(self.param(f"{name}_ENVIRONMENT") or ""))
        env["CONDOR_INHERIT"] = f"{os.getpid()} {self.address}"
        env.setdefault(POOL_MARKER, f"master-{os.getpid()}")
        return env

    def start_child(self, child: Child) -> None:
        child.restart_at = None
        try:
            argv = self.child_command(child.name)
            env = self.child_environment(child.name)
        except ConfigError as exc:
            self.start_failed(f"cannot start {child.name}: {exc}")
            return
        if argv is None:
            return
        try:
            # A forked child must not hold the instance lock nor the launcher's ready pipe.
            private = [self.lock_file.fileno()] + ([self.ready_fd] if self.ready_fd is not None else [])
            child.process = spawn(argv, env, close_fds=private, log=self.log, config=self.cfg)
        except OSError as exc:
            self.start_failed(f"failed to start {child.name} ({argv[0]}): {exc.strerror or exc}")
            self.schedule_restart(child)
            return
        child.argv = argv
        child.address = None
        child.stderr_tail = b""
        child.start_time = time.monotonic()
        child.stopping = False
        os.set_blocking(child.process.stderr.fileno(), False)
        self.log(f"Started DaemonCore process \"{' '.join(argv)}\", pid and pgroup = {child.process.pid}")

    def start_failed(self, reason: str) -> None:
        self.log(f"ERROR: {reason}")
        if self.start_failures is not None:
            self.start_failures.append(reason)

    def knob(self, name: str, suffix: str, default: float) -> float:
        value = self.cfg.get_float(f"MASTER_{name}_{suffix}", None)
        return self.cfg.get_float(f"MASTER_{suffix}", default) if value is None else value

    def schedule_restart(self, child: Child) -> None:
        constant = self.knob(child.name, "BACKOFF_CONSTANT", 9)
        factor = self.knob(child.name, "BACKOFF_FACTOR", 2.0)
        ceiling = self.knob(child.name, "BACKOFF_CEILING", 3600)
        try:
            delay = constant + math.ceil(factor ** child.restarts)
        except OverflowError:
            delay = ceiling
        delay = ceiling if delay < 0 or delay > ceiling else delay
        child.restarts += 1
        self.start_at(child, time.monotonic() + delay)
        self.log(f"restarting {child.name} in {delay:g} seconds")

    def start_at(self, child: Child, when: float) -> None:
        child.restart_at = when
        self.next_child_poll = min(self.next_child_poll, when)

    def poll_children(self) -> None:
        """Reap, log and restart children: on SIGCHLD, when a start falls due, and every half
        second (to drain their stderr pipes). Not on every loop turn: with hundreds of children
        and a CHILD_ALIVE message a turn, start-up would cost children x children system calls."""
        now = time.monotonic()
        if not self.child_exited and now < self.next_child_poll:
            return
        self.child_exited = False
        self.next_child_poll = now + 0.5
        for child in self.children.values():
            process = child.process
            if process is None:
                if child.restart_at is not None and not child.held_off:
                    if now >= child.restart_at:
                        self.start_child(child)
                    else:
                        self.next_child_poll = min(self.next_child_poll, child.restart_at)
                continue
            exited = process.poll() is not None
            self._drain_stderr(child)  # after poll(): all it wrote before exiting is in the pipe now
            if not exited:
                continue
            child.process = child.address = None
            process.stderr.close()
            lines = child.stderr_tail.decode(errors="replace").strip().splitlines()
            how = (f"died on signal {-process.returncode}" if process.returncode < 0
                   else f"exited with status {process.returncode}")
            child.last_exit = f"pid {process.pid} {how}" + (f": {lines[-1]}" if lines else "")
            self.log(f"The {child.name} {child.last_exit}")
            restart_now = child.restart_requested and not child.held_off
            child.restart_requested = False
            if restart_now:
                self.start_child(child)
                continue
            if child.stopping or child.held_off:
                continue
            if process.returncode == DAEMON_NO_RESTART:  # e.g. condor_drain -exit-on-completion
                self.log(f"The {child.name} asked not to be restarted; it stays off until condor_on")
                child.held_off = True
                continue
            if now - child.start_time >= self.knob(child.name, "RECOVER_FACTOR", 300):
                child.restarts = 0
            self.schedule_restart(child)

    @staticmethod
    def _drain_stderr(child: Child) -> None:
        """Read what the child wrote on stderr so its pipe never fills; keep the tail."""
        try:
            data = child.process.stderr.read() or b""
        except (OSError, ValueError):
            data = b""
        if data:
            child.stderr_tail = (child.stderr_tail + data)[-4096:]

    def stop_child(self, child: Child, sig: int = signal.SIGTERM) -> None:
        child.restart_at = None
        if child.process is not None and child.process.poll() is None:
            child.stopping = True
            child.process.send_signal(sig)

    def select(self, name: str | None) -> list[Child]:
        if name is None:
            return list(self.children.values())
        child = self.children.get(name.upper())
        if child is None:
            raise ValueError(f"no daemon named {name} in DAEMON_LIST")
        return [child]

    # -- commands --------------------------------------------------------------------------
    def on_off(self, message: dict, ident: bytes) -> dict:
        if message.get("master"):
            self.log("Got condor_off -master: shutting down everything")
            self.stop()
            return {}
        for child in self.select(message.get("daemon")):
            child.held_off = True
            self.stop_child(child, signal.SIGQUIT if message.get("fast") else signal.SIGTERM)
        return {}

    def on_on(self, message: dict, ident: bytes) -> dict:
        for child in self.select(message.get("daemon")):
            child.held_off = False
            child.restarts = 0
            if child.process is None:
                self.start_at(child, time.monotonic())
        return {}

    def on_restart(self, message: dict, ident: bytes) -> dict:
        for child in self.select(message.get("daemon")):
            child.held_off = False
            child.restarts = 0
            if child.process is None:
                self.start_at(child, time.monotonic())
            else:
                self.stop_child(child)
                child.restart_requested = True
        return {}

    def on_reconfig_command(self, message: dict, ident: bytes) -> dict:
        if message.get("daemon"):
            for child in self.select(message["daemon"]):
                if child.process is not None:
                    child.process.send_signal(signal.SIGHUP)
        else:
            self.reconfig()
        return {}

    def on_reconfig(self) -> None:
        self.sync_daemon_list()
        for child in self.children.values():
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signal.SIGHUP)

    def children_report(self) -> dict:
        return {c.name: {"pid": c.process.pid if c.process else None, "address": c.address}
                for c in self.children.values()}

    def on_children(self, message: dict, ident: bytes) -> dict:
        return {"children": self.children_report()}

    def on_child_alive(self, message: dict, ident: bytes) -> dict:
        for child in self.children.values():
            if child.process is not None and child.process.pid == message["pid"]:
                child.address = str(message["address"])
                self.log(f"{child.name} (pid {child.process.pid}) is alive at {child.address}")
        self.answer_alive_waiters()
        return {}

    def on_wait_children_alive(self, message: dict, ident: bytes):
        """Reply once every child of DAEMON_LIST runs and has reported its address."""
        self.alive_waiters.append((ident, time.monotonic() + float(message.get("timeout", 30))))
        self.answer_alive_waiters()
        return DEFER

    def answer_alive_waiters(self) -> None:
        if not self.alive_waiters:
            return
        ready = all(c.process is not None and c.address for c in self.children.values() if not c.held_off)
        now = time.monotonic()
        waiting = []
        for ident, deadline in self.alive_waiters:
            if ready:
                self.reply_to(ident, {"ok": True, "children": self.children_report()})
            elif now >= deadline:
                late = self.late_children()
                self.reply_to(ident, {"ok": False, "late": late, "error": (
                    f"{len(late)} of the {len(self.children)} daemons of DAEMON_LIST did not say they are alive "
                    "in time: " + "; ".join(f"{c['name']} ({c['state']})" for c in late))})
            else:
                waiting.append((ident, deadline))
        self.alive_waiters = waiting

    def late_children(self) -> list[dict]:
        """The children that have not said they are alive: name, program, pid, whether the
        process is still there (and if not, how it ended and when it is started again)."""
        late, now = [], time.monotonic()
        for child in self.children.values():
            if child.held_off or (child.process is not None and child.address):
                continue
            program = os.path.basename(child.argv[0]) if child.argv else self.param(child.name) or "?"
            process = child.process
            if process is not None and process.poll() is None:
                state = f"{program}, pid {process.pid}, still running, never said it is alive"
            elif process is not None:
                state = f"{program}, pid {process.pid}, exited ({process.returncode}) before saying it is alive"
            else:
                state = f"{program}, not running: " + (child.last_exit or "it was never started")
                if child.restart_at is not None:
                    state += f"; started again in {max(0.0, child.restart_at - now):.0f} s"
            late.append({"name": child.name, "pid": process.pid if process else None,
                         "running": process is not None and process.returncode is None, "state": state})
        return late

    # -- ad --------------------------------------------------------------------------------
    def master_name(self) -> str:
        import getpass
        name = self.param("MASTER_NAME")
        if name:
            return name if "@" in name else f"{name}@{self.hostname}"
        return self.hostname if os.getuid() == 0 else f"{getpass.getuser()}@{self.hostname}"

    def master_ads(self) -> list[ClassAd]:
        ad = self.common_ad_attributes(ClassAd(), "DaemonMaster", self.master_name())
        ad["MasterIpAddr"] = self.address
        ad["RealUid"] = os.getuid()
        ad["DetectedCpus"] = self.cfg.get_int("DETECTED_CPUS")
        ad["DetectedMemory"] = self.cfg.get_int("DETECTED_MEMORY")
        for child in self.children.values():
            started = int(time.time() - (time.monotonic() - child.start_time)) if child.process else 0
            ad[f"{child.name}_StartTime"] = started
            ad[f"{child.name}_Timestamp"] = started
        return [ad]

    # -- shutdown --------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every child, the collector last so the others can invalidate their ads."""
        timeout = self.cfg.get_float("SHUTDOWN_GRACEFUL_TIMEOUT", 1800)
        startds = [c for c in self.children.values()
                   if c.argv and os.path.basename(c.argv[0]) == "condor_startd"]
        collector = [c for c in self.children.values() if c.name == "COLLECTOR"]
        others = [c for c in self.children.values() if c not in startds and c not in collector]
        # Startds first, so their jobs' exits still reach the schedd; the collector last.
        for group in (startds, others, collector):
            for child in group:
                child.held_off = True
                self.stop_child(child)
            self._wait_for(group, timeout)
        if self.lock_file:
            self.lock_file.close()

    def _wait_for(self, children: list[Child], timeout: float) -> None:
        processes = [c.process for c in children if c.process is not None]
        gone, alive = psutil.wait_procs([psutil.Process(p.pid) for p in processes if p.poll() is None],
                                        timeout=timeout)
        for process in alive:
            self.log(f"pid {process.pid} did not exit in {timeout:g} s; killing it")
            process.kill()
        for child in children:
            if child.process is not None:
                child.process.wait()
                child.process = None


def main(argv: list[str] | None = None) -> int:
    """`condor_master`: runs in the background (returning once it is up) unless -f is given."""
    argv = sys.argv[1:] if argv is None else argv
    if parse_daemon_args(argv)["foreground"]:
        return run_master(argv, None)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        os.setsid()
        intermediate = os.getpid()
        if os.fork() != 0:
            os._exit(0)
        while os.getppid() == intermediate:  # the daemon's PR_SET_PDEATHSIG would fire when it goes
            time.sleep(0.001)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os._exit(run_master(argv, write_fd))
    os.close(write_fd)
    os.waitpid(pid, 0)
    with os.fdopen(read_fd) as pipe:
        status = pipe.readline()
    if status.startswith("OK"):
        return 0
    sys.stderr.write(status or "ERROR: condor_master failed to start\n")
    return 1


def run_master(argv: list[str], ready_fd: int | None) -> int:
    """Run the master in this process; report start-up success or the error on ready_fd."""
    def fail(message: str) -> int:
        if ready_fd is not None:
            os.write(ready_fd, f"ERROR: {message}\n".encode())
        else:
            print(f"ERROR: {message}", file=sys.stderr)
        return 1
    try:
        master = Master(argv, ready_fd)
    except ConfigError as exc:
        return fail(str(exc))
    try:
        return master.run()
    except DaemonStartError as exc:
        master.log(f"ERROR: {exc}")
        return fail(str(exc))
