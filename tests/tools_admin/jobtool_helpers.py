"""Helpers for the job-action and admin tool tests: waiting on a condition, submitting sleep jobs."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")

SLEEP_JOBS = "executable = /bin/sleep\narguments = 1d\nqueue {count}\n"


def wait_until(condition: Callable[[], T], timeout: float = 8.0, what: str = "condition") -> T:
    """Poll `condition` until it returns something true; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {value!r})")
        time.sleep(0.05)  # poll interval, not synchronisation


def submit(pool, count: int = 1) -> int:
    """Queue `count` /bin/sleep 1d jobs; return the cluster id."""
    result = pool.run("condor_submit", "-terse", input=SLEEP_JOBS.format(count=count))
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split(".")[0])


def job_states(pool) -> dict[str, int]:
    """{"C.P": JobStatus} of every job in the queue."""
    out = pool.run("condor_q", "-allusers", "-af", "ClusterId", "ProcId", "JobStatus").stdout
    return {f"{c}.{p}": int(s) for c, p, s in (line.split() for line in out.splitlines() if line.strip())}


def job_attr(pool, job: str, attr: str) -> str:
    return pool.run("condor_q", job, "-af", attr).stdout.strip()
