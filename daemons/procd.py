"""condor_procd: tracks each job's whole process family and signals all of it on request.

One procd serves one startd instance, at that instance's PROCD_ADDRESS (a path: the procd binds
``ipc://<PROCD_ADDRESS>``). A family is a root pid plus a marker value: every process whose
environment carries ``CONDORSIM_FAMILY=<marker>`` belongs to it, so descendants that were
re-parented or started their own session are still found. Two startds configured onto one
address is HTCondor's silent failure; here the second procd refuses to start.
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import psutil

from condorsim.shared.daemon import Daemon, DaemonStartError, HeldLock, daemon_main, take_exclusive_lock

FAMILY_MARKER = "CONDORSIM_FAMILY"


def family_processes(root_pid: int | None, marker: str, since: float = 0.0) -> list[psutil.Process]:
    """Every live process of a family: the root's descendants plus every carrier of the marker.
    Only processes started at or after `since` (the family's birth) can carry its marker, so
    older ones are passed over without reading their environment: psutil remembers each
    process's start time, which keeps the scan cheap on a busy host."""
    found: dict[int, psutil.Process] = {}
    if root_pid:
        try:
            root = psutil.Process(root_pid)
            for process in [root, *root.children(recursive=True)]:
                found[process.pid] = process
        except psutil.Error:
            pass
    for process in psutil.process_iter():
        if process.pid in found or process.pid == os.getpid():
            continue
        try:
            if process.create_time() < since or process.environ().get(FAMILY_MARKER) != marker:
                continue
        except psutil.Error:
            continue
        found[process.pid] = process
    return list(found.values())


def family_root(starter_pid: int, marker: str) -> int | None:
    """The job process a live starter started for the family `marker` (a child of the starter
    carrying the marker), to register the family again with a new procd; None if there is none."""
    try:
        children = psutil.Process(starter_pid).children()
    except psutil.Error:
        return None
    for child in children:
        try:
            if child.environ().get(FAMILY_MARKER) == marker:
                return child.pid
        except psutil.Error:
            continue
    return None


def signal_family(root_pid: int | None, marker: str, signum: int, since: float = 0.0) -> int:
    """Signal every process of the family; returns how many were signalled."""
    count = 0
    for process in family_processes(root_pid, marker, since):
        try:
            process.send_signal(signum)
            count += 1
        except psutil.Error:
            pass
    return count


@dataclass
class Family:
    root_pid: int | None
    since: float  # no process of the family is older than this (its root's start, less a second)


class Procd(Daemon):
    subsystem = "PROCD"

    def __init__(self, argv=None):
        super().__init__(argv)
        rest = self.options["rest"]
        self.address_path = rest[rest.index("-A") + 1] if "-A" in rest[:-1] else self.param("PROCD_ADDRESS")
        self.families: dict[str, Family] = {}  # by marker
        self.lock_file = None

    def setup(self) -> None:
        if not self.address_path:
            raise DaemonStartError("no PROCD_ADDRESS configured")
        try:
            self.lock_file = take_exclusive_lock(f"{self.address_path}.lock")
        except HeldLock as held:
            raise DaemonStartError(
                f"PROCD_ADDRESS {self.address_path} is already in use by the procd of another startd "
                f"(pid {held}); give each startd its own PROCD_ADDRESS") from None
        import zmq
        from condorsim.shared import protocol
        self.sock = protocol.context().socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.peer_limits.configure(self.sock)
        self.sock.bind(f"ipc://{self.address_path}")
        self.address = f"ipc://{self.address_path}"
        self.handlers.update({
            "REGISTER_FAMILY": self.on_register,
            "SIGNAL_FAMILY": self.on_signal_family,
            "UNREGISTER_FAMILY": self.on_unregister,
            "FAMILY_USAGE": self.on_usage,
        })

    def on_register(self, message: dict, ident: bytes) -> dict:
        """A starter registers its job's process: the root must be a live process below our
        startd (never pid 1, never ourselves or one of our ancestors), and, unless we run as
        root, one of our own user's."""
        root = message.get("root_pid")
        if type(root) is not int or root <= 1:
            raise ValueError(f"root_pid must be a process id above 1, not {root!r}")
        try:
            process = psutil.Process(root)
            ancestry = [parent.pid for parent in process.parents()]
            born, owner = process.create_time(), process.uids().real
        except psutil.Error:
            raise ValueError(f"no process {root}") from None
        if root == os.getpid() or root in [parent.pid for parent in psutil.Process().parents()]:
            raise ValueError(f"process {root} is this procd or one of its ancestors")
        if os.getppid() not in ancestry:
            raise ValueError(f"process {root} was not started under this procd's startd")
        if os.getuid() != 0 and owner != os.getuid():
            raise ValueError(f"process {root} belongs to another user")
        self.families[self.marker(message)] = Family(root, born - 1.0)
        return {}

    @staticmethod
    def marker(message: dict) -> str:
        marker = message.get("marker")
        if not isinstance(marker, str) or not marker:
            raise ValueError("marker must be a non-empty string")
        return marker

    def family(self, marker: str) -> Family:
        return self.families.get(marker) or Family(None, 0.0)

    def on_unregister(self, message: dict, ident: bytes) -> dict:
        self.families.pop(self.marker(message), None)
        return {}

    def on_signal_family(self, message: dict, ident: bytes) -> dict:
        marker = self.marker(message)
        signum = message.get("signal", signal.SIGKILL)
        if type(signum) is not int or not 0 < signum < signal.NSIG:
            raise ValueError(f"signal must be a signal number, not {signum!r}")
        family = self.family(marker)
        count = signal_family(family.root_pid, marker, signum, family.since)
        self.log(f"Sent signal {signum} to {count} process(es) of family {marker}")
        return {"signalled": count}

    def on_usage(self, message: dict, ident: bytes) -> dict:
        marker = self.marker(message)
        user = system = 0.0
        rss = 0
        family = self.family(marker)
        processes = family_processes(family.root_pid, marker, family.since)
        for process in processes:
            try:
                times = process.cpu_times()
                user += times.user + times.children_user
                system += times.system + times.children_system
                rss += process.memory_info().rss
            except psutil.Error:
                continue
        return {"user_cpu": user, "sys_cpu": system, "rss_kb": rss // 1024, "processes": len(processes)}

    def shutdown(self) -> None:
        """Nothing a procd tracked may outlive it."""
        for marker, family in self.families.items():
            count = signal_family(family.root_pid, marker, signal.SIGKILL, family.since)
            if count:
                self.log(f"Killed {count} process(es) of family {marker} at shutdown")
        try:
            os.unlink(self.address_path)
        except OSError:
            pass
        if self.lock_file:
            self.lock_file.close()


def main(argv: list[str] | None = None) -> int:
    return daemon_main(Procd, argv)
