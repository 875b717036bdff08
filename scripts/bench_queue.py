"""Benchmark: a big job queue, as the schedd handles it (issue 11's goals in brackets).

    python -m condorsim.scripts.bench_queue [--jobs N] [--idle-seconds S] [--concurrent N]

In a pool of master, collector and schedd (nothing runs), one cluster of --jobs idle jobs
(default 100,000) is submitted through the SUBMIT call, then it prints:
  - the SUBMIT call's rate (jobs/s) [>= 10,000 jobs/s];
  - the schedd's RSS and USS, and its CPU use while idle over --idle-seconds [<= 2 %];
  - restart replay: the job queue log replayed in this process (daemons.job_queue.JobQueue), and
    condor_restart -schedd until the new schedd answers a query [<= 5 s];
  - whole-process times of condor_q: the default view [<= 2 s], -totals, -af of 3 attributes,
    and a constraint matching 10 jobs [<= 0.3 s]; a failed run is printed as FAILED with why;
    condor_q's peak RSS for the default view and -af;
  - --concurrent condor_q (default view) started at once: how many failed [0]. This comes last:
    the schedd goes on answering queries whose clients gave up.
Figures only: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import getpass
import os
import shutil
import subprocess
import sys
import tempfile
import time

import psutil

from condorsim.daemons.job_queue import JobQueue
from condorsim.scripts.condor_submit import submit_request
from condorsim.shared.config import load_config
from condorsim.shared.locate import schedd_address
from condorsim.shared.pool import PersonalPool
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.submit import parse_submit

MIB = 1024 * 1024
JOB = "executable = /bin/sleep\narguments = 1d\nrequirements = False\n"
TOOL_TIMEOUT = 300  # seconds a single condor_q may take before it counts as failed


def schedd_process(pool: PersonalPool) -> psutil.Process:
    for process in pool.processes():
        if "condor_schedd" in " ".join(process.cmdline()):
            return process
    raise RuntimeError("no condor_schedd in the pool")


def submit(pool: PersonalPool, jobs: int) -> float:
    """Seconds the SUBMIT call of one cluster of `jobs` took (the ads are built beforehand)."""
    cfg = load_config(subsystem="SUBMIT", env=pool.env)
    schedd = Client(schedd_address(cfg), timeout=3600)
    cluster = int(schedd.call("NEW_CLUSTER")["cluster"])
    ads = parse_submit(f"{JOB}queue {jobs}\n", "bench.sub").build_jobs(cluster, cwd=str(pool.dir), config=cfg)
    payload = submit_request(ads)  # as condor_submit sends them: the cluster ad, and each proc's own
    began = time.perf_counter()
    schedd.call("SUBMIT", cluster=cluster, owner=getpass.getuser(), **payload)
    return time.perf_counter() - began


def tool_time(pool: PersonalPool, *argv: str) -> str:
    """'<ms> ms' for one whole run of a tool, or 'FAILED ...' with its error."""
    began = time.perf_counter()
    try:
        result = pool.run(*argv, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"FAILED (no answer within {TOOL_TIMEOUT} s)"
    took = time.perf_counter() - began
    if result.returncode != 0:
        error = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return f"FAILED after {took * 1000:.0f} ms (exit {result.returncode}: {error[:100]})"
    return f"{took * 1000:.0f} ms"


def peak_rss(pool: PersonalPool, *argv: str) -> str:
    """'<MiB> MiB': the peak RSS of one run of a tool (its own process, as the kernel counts it)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", probe, *argv], env=pool.env, capture_output=True, text=True,
                            timeout=TOOL_TIMEOUT)
    return f"{int(result.stdout) / 1024:.0f} MiB" if result.returncode == 0 else "FAILED"


def concurrent_failures(pool: PersonalPool, count: int) -> tuple[int, float]:
    """(failed runs, seconds until all ended) of `count` condor_q started at once."""
    began = time.perf_counter()
    runs = [subprocess.Popen(["condor_q"], env=pool.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(count)]
    failed = 0
    for run in runs:
        try:
            failed += run.wait(timeout=max(1.0, TOOL_TIMEOUT - (time.perf_counter() - began))) != 0
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
            failed += 1
    return failed, time.perf_counter() - began


def restart_seconds(pool: PersonalPool) -> str:
    """condor_restart -schedd until a new schedd answers a query for one job."""
    old = schedd_process(pool).pid
    began = time.perf_counter()
    pool.run("condor_restart", "-schedd", check=True)
    deadline = began + TOOL_TIMEOUT
    while time.perf_counter() < deadline:
        try:
            if schedd_process(pool).pid != old:
                cfg = load_config(subsystem="TOOL", env=pool.env)
                answer = Client(schedd_address(cfg), timeout=0.5).call(  # a stale address fails fast
                    "QUERY_JOBS", constraint="ProcId == 0", projection=["JobStatus"])
                if answer["jobs"]:
                    return f"{(time.perf_counter() - began) * 1000:.0f} ms"
        except (RuntimeError, CommunicationError, RemoteError, OSError, psutil.Error):
            pass
        time.sleep(0.05)  # a benchmark's poll, not a test's synchronisation
    return f"FAILED (no schedd answered within {TOOL_TIMEOUT} s)"


def replay_seconds(pool: PersonalPool) -> tuple[float, int, int]:
    """(seconds, jobs, log bytes) of replaying a copy of the schedd's job queue log in process."""
    spool = load_config(subsystem="SCHEDD", env=pool.env).get("SPOOL")
    with tempfile.TemporaryDirectory() as copy:
        shutil.copy(f"{spool}/job_queue.log", f"{copy}/job_queue.log")
        size = os.path.getsize(f"{copy}/job_queue.log")
        began = time.perf_counter()
        queue = JobQueue(copy, log=lambda message: None)
        return time.perf_counter() - began, len(queue.jobs), size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in the queue (one cluster)")
    parser.add_argument("--idle-seconds", type=float, default=60, help="how long to watch the idle schedd")
    parser.add_argument("--concurrent", type=int, default=50, help="condor_q runs started at once")
    args = parser.parse_args(argv)

    with PersonalPool(config={"DAEMON_LIST": "MASTER, COLLECTOR, SCHEDD"}, timeout=TOOL_TIMEOUT) as pool:
        seconds = submit(pool, args.jobs)
        print(f"Queue of {args.jobs:,} idle jobs in one cluster (master, collector, schedd); "
              f"load average {os.getloadavg()[0]:.1f} (a busy host stretches every time below):")
        print(f"  SUBMIT call: {seconds * 1000:.0f} ms, {args.jobs / seconds:,.0f} jobs/s  [goal >= 10,000 jobs/s]")
        schedd = schedd_process(pool)
        memory = schedd.memory_full_info()
        print(f"  schedd memory: RSS {memory.rss / MIB:.0f} MiB, USS {memory.uss / MIB:.0f} MiB")
        before = sum(schedd.cpu_times()[:2])
        time.sleep(args.idle_seconds)  # watching an idle daemon: the wait is the measurement
        busy = sum(schedd.cpu_times()[:2]) - before
        print(f"  schedd idle CPU over {args.idle_seconds:g} s: {100 * busy / args.idle_seconds:.1f} %  [goal <= 2 %]")
        # before the condor_q runs: an abandoned query keeps the schedd busy after its client gave up
        replay, jobs, size = replay_seconds(pool)
        print(f"  job queue log replayed in process: {replay * 1000:.0f} ms for {jobs:,} jobs ({size / MIB:.0f} MiB)")
        print(f"  schedd restart until it answers: {restart_seconds(pool)}  [goal <= 5 s]")
        print("  condor_q, whole process:")
        for label, tool_argv, goal in (
                ("default view", ["condor_q"], "  [goal <= 2 s]"),
                ("-totals", ["condor_q", "-totals"], ""),
                ("-af ClusterId ProcId JobStatus", ["condor_q", "-af", "ClusterId", "ProcId", "JobStatus"], ""),
                ("-constraint 'ProcId < 10' (10 jobs)", ["condor_q", "-constraint", "ProcId < 10"],
                 "  [goal <= 0.3 s]")):
            print(f"    {label:<38} {tool_time(pool, *tool_argv)}{goal}")
        print(f"  condor_q peak RSS: default view {peak_rss(pool, 'condor_q')}, "
              f"-af {peak_rss(pool, 'condor_q', '-af', 'ClusterId', 'ProcId', 'JobStatus')}")
        failed, took = concurrent_failures(pool, args.concurrent)
        print(f"  {args.concurrent} concurrent condor_q: {failed} failed, all ended after {took * 1000:.0f} ms  [goal 0 failed]")
        print(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
