"""Helpers the EC2 tests share: submitting from a directory, reading job attributes and logs."""
from __future__ import annotations

import subprocess
from pathlib import Path

import psutil

from condorsim.shared.pool import wait_until


def submit(pool, directory: Path, text: str) -> subprocess.CompletedProcess:
    directory.mkdir(exist_ok=True)
    (directory / "job.sub").write_text(text)
    return subprocess.run(["condor_submit", "job.sub"], cwd=directory, env=pool.env,
                          capture_output=True, text=True, timeout=60)


def attr(pool, job: str, name: str) -> str:
    out = pool.run("condor_q", job, "-af", name).stdout.strip()
    return out


def gone(pool, job: str) -> bool:
    return pool.run("condor_q", job, "-af", "ProcId").stdout.strip() == ""


def events(log: Path) -> list[str]:
    """The event numbers in a user log, in order."""
    if not log.exists():
        return []
    return [line[:3] for line in log.read_text().splitlines() if line[:3].isdigit() and line[3:5] == " ("]


def wait_events(log: Path, wanted: list[str], timeout: float = 20) -> list[str]:
    return wait_until(lambda: events(log) if events(log)[:len(wanted)] == wanted else None,
                      timeout=timeout, message=f"events {wanted} in {log.name}", show=lambda: events(log))


def processes_named(pool, prefix: str) -> list[psutil.Process]:
    """The live processes of this test's pool whose name starts with `prefix`."""
    found = []
    for process in pool.processes():
        try:
            if process.name().startswith(prefix):
                found.append(process)
        except psutil.Error:
            continue  # it ended while we looked
    return found
