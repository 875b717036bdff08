"""condor_version: the version and platform lines, in HTCondor's shape, naming condorsim.

    $CondorVersion: 25.14.0 2026-09-24 BuildID: 0 PackageID: condorsim-0.1.0 $
    $CondorPlatform: X86_64-Debian_12 $

The version, date and BuildID are those the daemons advertise (``CondorVersion``); the
PackageID names the condorsim release.  ``-arch`` / ``-opsys`` / ``-syscall`` print one word.
"""
from __future__ import annotations

import platform
import sys
from importlib import metadata

from condorsim.shared.daemon import CONDOR_PLATFORM, CONDOR_VERSION

USAGE = "Usage: condor_version [-arch] [-opsys] [-syscall] [-help]\n"


def version_line() -> str:
    try:
        release = metadata.version("condorsim")
    except metadata.PackageNotFoundError:
        release = "0"
    return CONDOR_VERSION[:-1] + f"PackageID: condorsim-{release} $"


def version_lines() -> str:
    """The two lines condor_version (and every tool's -version) prints."""
    return f"{version_line()}\n{CONDOR_PLATFORM}\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        sys.stdout.write(version_lines())
        return 0
    word = argv[0].lstrip("-").lower()
    if word in ("arch", "a"):
        print({"x86_64": "X86_64"}.get(platform.machine(), platform.machine().upper()))
    elif word in ("opsys", "o"):
        print("LINUX")
    elif word in ("syscall", "s"):
        print("SYSCALLS_UNAVAILABLE")
    elif word in ("help", "h"):
        sys.stdout.write(USAGE)
    else:
        sys.stderr.write(USAGE)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
