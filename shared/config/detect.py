"""Values HTCondor detects about the host and the process (location `<Detected>`)."""
from __future__ import annotations

import os
import platform
import pwd
import socket


def _memory_mb() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _tilde() -> str | None:
    try:
        return pwd.getpwnam("condor").pw_dir
    except KeyError:
        return None


def _username() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def canonical_hostname(name: str) -> str | None:
    """A host name as HTCondor completes it: the name itself if it has a domain, else the
    canonical DNS name of a forward lookup if that has one, else the name. Never a reverse
    lookup (socket.getfqdn of 127.0.0.1 gives "localhost"). None when the name does not resolve."""
    if "." in name:
        return name
    try:
        infos = socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)
    except OSError:
        return None
    for info in infos:
        canonical = info[3]
        if "." in canonical and not canonical.startswith("localhost"):
            return canonical
    return name


def _full_hostname() -> str:
    """The host's own name as HTCondor finds it (the FULL_HOSTNAME every daemon advertises)."""
    host = socket.gethostname()
    return canonical_hostname(host) or host


def host_values() -> dict[str, str]:
    """Detected names that do not depend on the process context."""
    fqdn = _full_hostname()
    cpus = _cpus()
    values = {
        "FULL_HOSTNAME": fqdn,
        "HOSTNAME": fqdn.split(".")[0],
        "DETECTED_CPUS": str(cpus),
        "DETECTED_CORES": str(os.cpu_count() or cpus),
        "DETECTED_PHYSICAL_CPUS": str(os.cpu_count() or cpus),
        "DETECTED_MEMORY": str(_memory_mb()),
        "OPSYS": platform.system().upper(),
        "ARCH": platform.machine().upper(),
        "USERNAME": _username(),
    }
    tilde = _tilde()
    if tilde:
        values["TILDE"] = tilde
    return values


_HOST_CACHE: dict[str, str] = {}


def cached_host_values() -> dict[str, str]:
    if not _HOST_CACHE:
        _HOST_CACHE.update(host_values())
    return dict(_HOST_CACHE)
