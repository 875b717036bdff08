"""PersonalPool: a whole pool in a temporary directory, up in about a second, always torn down.

    with PersonalPool(config={"NUM_CPUS": "4"}) as pool:
        print(pool.run("condor_status").stdout)

Readiness is event-driven: ``condor_master`` returns once the master runs; the master answers
WAIT_CHILDREN_ALIVE when every daemon of DAEMON_LIST has reported its address; the collector
answers WAIT_FOR_ADS when the ads are in. Every process of the pool carries the environment
marker ``CONDORSIM_POOL=<id>``; teardown checks with psutil that none is left, kills any, and
fails loudly.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sysconfig
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable, TypeVar

import psutil

from condorsim import CONFIG_DIR
from condorsim.shared.classad import ClassAd
from condorsim.shared.config import load_config
from condorsim.shared.daemon import POOL_MARKER
from condorsim.shared.locate import collector_address, query_ads, read_address_file
from condorsim.shared.protocol import Client, CommunicationError, RemoteError

# Timers short enough that tests need no waiting; a user's config may override any of them.
FAST_KNOBS = {
    "UPDATE_INTERVAL": "1",
    "MASTER_UPDATE_INTERVAL": "1",
    "SCHEDD_INTERVAL": "1",
    "NEGOTIATOR_INTERVAL": "1",
    "NEGOTIATOR_MIN_INTERVAL": "0",
    "PERIODIC_EXPR_INTERVAL": "1",
    "STARTER_UPDATE_INTERVAL": "1",
    "MASTER_BACKOFF_CONSTANT": "0",
    "SHUTDOWN_GRACEFUL_TIMEOUT": "10",
}

DAEMON_SUBSYSTEMS = {"condor_collector": "COLLECTOR", "condor_negotiator": "NEGOTIATOR",
                     "condor_schedd": "SCHEDD", "condor_startd": "STARTD"}
AD_TYPE_OF = {"COLLECTOR": "Collector", "NEGOTIATOR": "Negotiator", "SCHEDD": "Scheduler"}


def wait_until(condition: Callable[[], T], timeout: float = 10.0, message: str = "condition",
               show: Callable[[], object] | None = None, interval: float = 0.05) -> T:
    """Poll `condition` until it returns something true, and return that; after `timeout` seconds
    raise TimeoutError naming `message` and the last state seen (`show()`, else the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            seen = show() if show else value
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {message} (last: {seen!r})")
        time.sleep(interval)


def is_alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


T = TypeVar("T")


class PoolError(Exception):
    """The pool did not come up, or did not go away cleanly."""


class PersonalPool:
    def __init__(self, config: dict[str, str] | None = None, config_d: dict[str, str] | None = None,
                 directory: str | None = None, timeout: float = 30.0, embedded: bool = False,
                 condor_config: str | None = None, user: str | None = None):
        """A pool configured in `directory` (a new temporary one by default), or, with
        `embedded=True`, the user's own personal pool on the shipped default configuration.
        `condor_config` is a whole root configuration used as it is (as a user's own file would
        be: none of the harness's fast timers, nor its pointers to this installation's daemons).
        `user` (the harness running as root): the pool's daemons run as that Unix user, who then
        owns `directory`."""
        if embedded and (config or config_d or directory or condor_config):
            raise ValueError("the embedded pool takes no configuration of its own")
        if condor_config is not None and (config or config_d):
            raise ValueError("condor_config is the whole configuration; it takes no config or config_d")
        self.embedded = embedded
        self.condor_config = condor_config
        self.user = user
        self.config = {**FAST_KNOBS, **(config or {})}
        self.config_d = config_d or {}
        self.timeout = timeout
        self.pool_id = f"pool-{uuid.uuid4().hex[:12]}"
        self._own_dir = directory is None and not embedded
        self.dir = None if embedded else Path(directory or tempfile.mkdtemp(prefix="condorsim-"))
        self.env: dict[str, str] = {}
        self.cfg = None  # the pool's configuration as a tool sees it, once started
        self.master_address: str | None = None
        self.children: dict = {}

    # -- set-up ----------------------------------------------------------------------------
    def write_config(self) -> Path:
        root = self.dir / "condor_config"
        if self.condor_config is not None:
            root.write_text(self.condor_config)
            return root
        config_dir = self.dir / "config.d"
        config_dir.mkdir(parents=True, exist_ok=True)
        for name, text in self.config_d.items():
            (config_dir / name).write_text(text)
        lines = ["use ROLE:Personal", f"LOCAL_DIR = {self.dir / 'local'}",
                 f"LOCAL_CONFIG_DIR = {config_dir}",
                 f"SBIN = {sysconfig.get_path('scripts')}", f"BIN = {sysconfig.get_path('scripts')}"]
        lines += [f"{name} = {value}" for name, value in self.config.items()]
        root.write_text("\n".join(lines) + "\n")
        return root

    def start(self) -> "PersonalPool":
        self.env = dict(os.environ, **{POOL_MARKER: self.pool_id})
        self.env.pop("CONDOR_INHERIT", None)
        if self.embedded:
            self.env.pop("CONDOR_CONFIG", None)
        else:
            self.env["CONDOR_CONFIG"] = str(self.write_config())
        # The tools and daemons of this installation come first, whatever the caller's PATH.
        self.env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), self.env.get("PATH", "")])
        try:
            if self.user:
                for path in [self.dir, *self.dir.rglob("*")]:
                    shutil.chown(path, self.user, pwd.getpwnam(self.user).pw_gid)
            master = os.path.join(self.config["SBIN"], "condor_master") if "SBIN" in self.config else "condor_master"
            result = subprocess.run([master], env=self.env, capture_output=True, text=True,
                                    timeout=self.timeout, user=self.user)
            if result.returncode != 0:
                raise PoolError(f"condor_master failed: {result.stderr.strip()}")
            self.cfg = load_config(subsystem="TOOL", env=self.env)
            self.master_address = read_address_file(self.cfg.get("MASTER_ADDRESS_FILE"))
            if not self.master_address:
                raise PoolError("condor_master is up but wrote no address file")
            self.wait_ready()
        except BaseException:
            self.stop(check=False)
            raise
        return self

    def wait_ready(self) -> None:
        # the client waits longer than the master does: its own answer on timeout says who is late
        margin = 5 + self.timeout / 5
        master = Client(self.master_address, timeout=self.timeout + margin)
        try:
            self.children = master.call("WAIT_CHILDREN_ALIVE", timeout=self.timeout)["children"]
        except RemoteError as exc:
            raise PoolError(f"the pool did not come up within {self.timeout:g} s: {exc}") from None
        except CommunicationError:
            raise PoolError(f"the pool did not come up: condor_master ({self.master_address}) did not answer "
                            f"WAIT_CHILDREN_ALIVE within {self.timeout + margin:g} s; "
                            f"the end of its log: {self.log_tail('MASTER_LOG')}") from None
        expected = {"DaemonMaster": 1}
        startds = 0
        for name in self.children:
            program = os.path.basename(self.cfg.get(name) or "")
            subsystem = DAEMON_SUBSYSTEMS.get(program)
            if subsystem == "STARTD":
                startds += 1
            elif subsystem in AD_TYPE_OF:
                expected[AD_TYPE_OF[subsystem]] = expected.get(AD_TYPE_OF[subsystem], 0) + 1
        for ad_type, count in expected.items():
            self.wait_for_ads(ad_type, count)
        if startds:
            self.wait_for_ads("Machine", startds, distinct="StartdIpAddr")

    def log_tail(self, knob: str, lines: int = 3) -> str:
        """The last lines of a daemon's log, for an error that has no answer from it."""
        path = self.cfg.get(knob)
        try:
            with open(path, errors="replace") as log:
                return " | ".join(line.strip() for line in log.readlines()[-lines:])
        except (OSError, TypeError):
            return f"(cannot read {path})"

    def wait_for_ads(self, ad_type: str, count: int, constraint: str | None = None,
                     distinct: str | None = None, timeout: float | None = None) -> int:
        """Block until the collector holds `count` matching ads (or distinct values of an attribute)."""
        timeout = self.timeout if timeout is None else timeout
        reply = Client(self.collector_address(), timeout=timeout + 1).call(
            "WAIT_FOR_ADS", my_type=ad_type, count=count, constraint=constraint,
            distinct=distinct, timeout=timeout)
        return reply["count"]

    def collector_address(self) -> str:
        return collector_address(self.cfg)

    # -- use -------------------------------------------------------------------------------
    def run(self, *argv: str, input: str | None = None, check: bool = False, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run a tool against this pool (`env` adds to the pool's environment, e.g. USER)."""
        return subprocess.run(list(argv), env={**self.env, **(env or {})}, input=input,
                              capture_output=True, text=True, check=check, timeout=timeout)

    def bindings(self):
        """HTCondor's own Python bindings (``htcondor2``) pointed at this pool: CONDOR_CONFIG in
        this process's environment names the pool's configuration (the shipped default for the
        embedded pool), which they re-read."""
        import htcondor2  # the `htcondor` wheel; not a dependency of condorsim itself
        config = self.env.get("CONDOR_CONFIG") or str(CONFIG_DIR / "00personal_condor.config")
        if os.environ.get("CONDOR_CONFIG") != config:
            os.environ["CONDOR_CONFIG"] = config
            htcondor2.reload_config()
        return htcondor2

    def collector(self):
        """An ``htcondor2.Collector`` talking to this pool's collector through its CEDAR door."""
        return self.bindings().Collector()

    def schedd(self):
        """An ``htcondor2.Schedd`` for this pool's schedd (located through the collector)."""
        htcondor2 = self.bindings()
        return htcondor2.Schedd(htcondor2.Collector().locate(htcondor2.DaemonType.Schedd))

    def query(self, ad_type: str, constraint: str | None = None) -> list[ClassAd]:
        return query_ads(self.cfg, ad_type, constraint)

    def processes(self) -> list[psutil.Process]:
        """Every live process carrying this pool's marker."""
        found = []
        for process in psutil.process_iter():
            try:
                if process.environ().get(POOL_MARKER) == self.pool_id and is_alive(process):
                    found.append(process)
            except psutil.Error:
                continue
        return found

    # -- teardown --------------------------------------------------------------------------
    def stop(self, check: bool = True) -> None:
        """condor_off -master, wait for the pool to go, and make sure nothing of it is left."""
        if self.master_address:
            try:
                Client(self.master_address, timeout=5).call("DAEMONS_OFF", master=True)
            except Exception:
                pass
        alive = self.processes()
        deadline = time.monotonic() + 15
        while alive and time.monotonic() < deadline:
            time.sleep(0.02)  # psutil.wait_procs backs off to long sleeps; poll tightly instead
            alive = [p for p in alive if is_alive(p)]
        leftovers = []
        for process in alive:
            try:
                leftovers.append(f"{process.pid} {' '.join(process.cmdline()[:3])}")
                process.kill()
            except psutil.Error:
                pass
        self.master_address = None
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        if leftovers and check:
            raise PoolError(f"processes of {self.pool_id} were left running and had to be killed: {leftovers}")

    def __enter__(self) -> "PersonalPool":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop(check=exc_info[0] is None)
