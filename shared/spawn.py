"""Starting daemon programs: this package's own are forked from the already-initialised parent.

A fresh Python interpreter importing zmq, msgpack and psutil costs about 70 ms of CPU and 12 MiB;
a fork of a parent that has them loaded costs about 1 ms and 1.4 MiB. So when the program to
start is one of this installation's own daemon commands, the parent forks and the child runs the
daemon's ``main`` with the configured argv and environment, its process title set to that argv
(``ps`` shows ``condor_startd -f -local-name SHADOW_STARTD``, cut to the parent's command-line length). Any other program is exec'd.

A configuration written for a real HTCondor names its daemons where HTCondor installs them
(``$(SBIN)/condor_schedd`` is ``/usr/sbin/condor_schedd``). When nothing exists at such a path,
this package's own daemon of that name runs in its place, and the caller's log says so once; a
real HTCondor binary that does exist there is exec'd.
"""
from __future__ import annotations

import ctypes
import gc
import importlib
import os
import signal
import subprocess
import sys
import sysconfig
import time
import traceback
from typing import Callable

from condorsim.shared.config.loader import Config, inherit, latest_config

# Program names this package installs, and the module whose main() each runs.
OWN_PROGRAMS = {
    "condor_collector": "condorsim.daemons.collector", "condor_negotiator": "condorsim.daemons.negotiator",
    "condor_schedd": "condorsim.daemons.schedd", "condor_startd": "condorsim.daemons.startd",
    "condor_starter": "condorsim.daemons.starter", "condor_procd": "condorsim.daemons.procd",
    "condor_gridmanager": "condorsim.daemons.gridmanager",
}


class ForkedProcess:
    """The part of subprocess.Popen's interface that daemons use, for a forked child."""

    def __init__(self, pid: int, args: list[str], stderr):
        self.pid = pid
        self.args = args
        self.stderr = stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -signal.SIGKILL  # reaped elsewhere; it is gone
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.005)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


Process = subprocess.Popen | ForkedProcess  # what spawn() returns


def own_module(program: str) -> str | None:
    """The module to run for `program` if it is one of this installation's daemon commands."""
    name = os.path.basename(program)
    module = OWN_PROGRAMS.get(name)
    if module is None:
        return None
    installed = os.path.join(sysconfig.get_path("scripts"), name)
    same = os.path.realpath(program) == os.path.realpath(installed) or program == name
    return module if same or stands_in(program) else None


def stands_in(program: str) -> bool:
    """Whether `program` is a path to one of our daemon commands at which nothing is installed."""
    name = os.path.basename(program)
    return name in OWN_PROGRAMS and program != name and not os.path.lexists(program)


_announced_stand_ins: set[str] = set()  # each missing program is logged once per process


def spawn(argv: list[str], env: dict[str, str], capture_stderr: bool = True,
          close_fds: list[int] | None = None, log: Callable[[str], None] | None = None,
          config: Config | None = None) -> Process:
    """Start argv with env; stdin/stdout go to /dev/null, stderr to a pipe (or /dev/null).
    A forked child closes `close_fds` (e.g. a lock the parent alone must hold). `log` hears,
    once per program, that one of our own daemons stands in for a program that does not exist.
    A forked child derives its configuration from the parent's `config` (by default the one
    the parent loaded last; see shared.config.loader.derive_config) instead of parsing every
    file again."""
    module = own_module(argv[0])
    if module is not None and log is not None and stands_in(argv[0]) \
            and argv[0] not in _announced_stand_ins:
        _announced_stand_ins.add(argv[0])
        log(f"{argv[0]} does not exist; running condorsim's own {os.path.basename(argv[0])} in its place")
    stderr = subprocess.PIPE if capture_stderr else subprocess.DEVNULL
    if module is None:
        return subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=stderr)
    main = importlib.import_module(module).main  # imported here once, so every later fork is warm
    read_end, write_end = os.pipe() if capture_stderr else (None, None)
    sys.stdout.flush()
    sys.stderr.flush()
    # Objects that exist now are the parent's: frozen, the child's garbage collector never walks
    # them, so it does not copy every page of the parent's heap (the parent thaws them at once).
    gc.freeze()
    pid = os.fork()
    if pid != 0:
        gc.unfreeze()
    if pid == 0:
        for fd in close_fds or []:
            os.close(fd)
        inherit(config if config is not None else latest_config())
        _run_child(argv, env, main, write_end, read_end)
    if write_end is not None:
        os.close(write_end)
    return ForkedProcess(pid, argv, os.fdopen(read_end, "rb") if read_end is not None else None)


def _run_child(argv: list[str], env: dict[str, str], main, stderr_fd: int | None, unused_fd: int | None) -> None:
    """In the forked child: become the daemon named by argv, and never return to the parent's code."""
    status = 1
    try:
        if unused_fd is not None:
            os.close(unused_fd)
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(stderr_fd if stderr_fd is not None else devnull, 2)
        set_process_title(argv)
        os.environ.clear()
        os.environ.update(env)
        sys.argv = list(argv)
        status = main(argv[1:])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status or 0)


def set_process_title(argv: list[str]) -> None:
    """Show the daemon's own command line in ps and /proc/PID/cmdline, and its name in comm.

    The kernel reads a process's command line from the memory its argv was in; that area is
    rewritten in place with the new arguments (cut to its size, the rest zeroed)."""
    libc = ctypes.CDLL(None)
    libc.prctl(15, os.path.basename(argv[0]).encode()[:15], 0, 0, 0)  # PR_SET_NAME
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48 and 49)
    except (OSError, IndexError, ValueError):
        return
    size = end - start
    if size <= 1:
        return
    text = b"\0".join(arg.encode() for arg in argv)[:size - 1]
    ctypes.memmove(start, text.ljust(size, b"\0"), size)
