"""Helpers for the job-action and admin tool tests: waiting on a condition, submitting sleep jobs."""
from __future__ import annotations

from typing import Callable

from condorsim.shared.pool import wait_until

SLEEP_JOBS = "executable = /bin/sleep\narguments = 1d\n{extra}queue {count}\n"
NEVER_MATCH = "requirements = False\n"  # keeps jobs idle: no shadow/starter timing in the test


def submit(pool, count: int = 1, runnable: bool = True) -> int:
    """Queue `count` /bin/sleep 1d jobs (never matched unless `runnable`); return the cluster id."""
    text = SLEEP_JOBS.format(count=count, extra="" if runnable else NEVER_MATCH)
    result = pool.run("condor_submit", "-terse", input=text)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split(".")[0])


def job_states(pool) -> dict[str, int]:
    """{"C.P": JobStatus} of every job in the queue."""
    out = pool.run("condor_q", "-allusers", "-af", "ClusterId", "ProcId", "JobStatus").stdout
    return {f"{c}.{p}": int(s) for c, p, s in (line.split() for line in out.splitlines() if line.strip())}


def wait_for_queue(pool, condition: Callable[[dict[str, int]], bool], what: str) -> dict[str, int]:
    """Wait until `condition(job_states)` holds; a timeout shows the queue."""
    wait_until(lambda: condition(job_states(pool)), message=what, show=lambda: job_states(pool))
    return job_states(pool)


def job_attr(pool, job: str, attr: str) -> str:
    result = pool.run("condor_q", job, "-af", attr)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()
