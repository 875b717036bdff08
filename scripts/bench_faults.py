"""Fault campaign and benchmark: kill -9 each daemon type during a run of 20 jobs (8 running).

    python -m condorsim.scripts.bench_faults [--kills N] [--types collector,negotiator,...]
                                             [--jobs 20] [--slots 8] [--job-seconds S] [--json]

Each job appends ``start``/``end`` lines to a shared file, holding a lock (flock) on its own id
while it runs, so a second copy of a job running at the same time records ``DUP``. A trial starts a
pool, submits the jobs, kills one daemon of the type with SIGKILL each time the pool runs a full
set of jobs again, waits until the queue is empty, then checks:
  - lost: jobs that never completed;  twice: jobs that completed more than once, or ran twice at once;
  - stuck: the longest time a job stayed Running in the queue with no process of it (must stay
    below the job lease);  leftovers: processes of the pool or its jobs alive after it stopped.
It prints, per daemon type, the recovery time: from the kill until the pool works again (collector:
answers with every slot ad; negotiator: finishes a negotiation cycle; procd: a new one answers; the
others: starts a job again and runs a full set; master: it is started again, as an init system
would, and runs jobs again).
Killing must stay inside the pool: run it as root in a PID namespace of its own
(``unshare --pid --fork --mount-proc python -m condorsim.scripts.bench_faults``).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil

from condorsim.shared.pool import PersonalPool, is_alive
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.locate import query_ads, schedd_address

TYPES = ["collector", "negotiator", "schedd", "startd", "starter", "procd", "master"]
LEASE = 20  # the jobs' JobLeaseDuration, seconds
JOB_SCRIPT = """#!/bin/sh
# a campaign job: one copy at a time per id (the lock dies with the copy's processes)
exec 9>"$2/locks/$1"
if ! flock -n 9; then echo "DUP $1" >> "$2/runs"; exit 1; fi
echo "start $1 $(date +%s.%N)" >> "$2/runs"
sleep "$3"
echo "end $1 $(date +%s.%N)" >> "$2/runs"
"""


class Trial:
    """One pool, one 20-job run, kills of the given daemon types in turn."""

    def __init__(self, directory: Path, jobs: int, slots: int, job_seconds: float):
        self.dir, self.jobs, self.slots, self.job_seconds = directory, jobs, slots, job_seconds
        (directory / "locks").mkdir(parents=True)
        self.script = directory / "job.sh"
        self.script.write_text(JOB_SCRIPT)
        self.script.chmod(0o755)
        self.runs = directory / "runs"
        self.runs.touch()
        self.pool = PersonalPool(directory=str(directory / "pool"), timeout=60, config={
            "NUM_CPUS": str(slots), "SLOT_TYPE_0_PARTITIONABLE": "FALSE", "ALIVE_INTERVAL": "1",
            "MAX_CLAIM_ALIVES_MISSED": "5", "STARTER_UPDATE_INTERVAL": "1"})
        self.stuck_since: dict[str, float] = {}
        self.stuck_max = 0.0

    # -- observation -------------------------------------------------------------------------
    def job_processes(self) -> Counter:
        """Live copies of each job (its job.sh), by job id."""
        found: Counter = Counter()
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if len(cmdline) >= 3 and cmdline[1] == str(self.script):
                found[cmdline[2]] += 1
        return found

    def running_in_queue(self) -> list[str] | None:
        try:
            reply = Client(schedd_address(self.pool.cfg), timeout=2).call(
                "QUERY_JOBS", constraint="JobStatus == 2", projection=["ClusterId", "ProcId"])
        except (CommunicationError, RemoteError, OSError):
            return None
        return [f"{job['ClusterId']}.{job['ProcId']}" for job in reply["jobs"]]

    def queue_size(self) -> int | None:
        try:
            return len(Client(schedd_address(self.pool.cfg), timeout=2).call(
                "QUERY_JOBS", constraint="true", projection=["ProcId"])["jobs"])
        except (CommunicationError, RemoteError, OSError):
            return None

    def sample(self) -> Counter:
        """Note jobs Running in the queue with no process (the stuck clock); returns the processes."""
        processes = self.job_processes()
        running = self.running_in_queue()
        now = time.monotonic()
        if running is not None:
            for job in running:
                if processes[job]:
                    self.stuck_since.pop(job, None)
                else:
                    self.stuck_max = max(self.stuck_max, now - self.stuck_since.setdefault(job, now))
            for job in set(self.stuck_since) - set(running):
                del self.stuck_since[job]
        return processes

    def wait(self, condition, timeout: float, what: str) -> float:
        """Sample until condition() holds; the time it took."""
        began = time.monotonic()
        while not condition():
            if time.monotonic() - began > timeout:
                raise TimeoutError(f"{what} did not happen within {timeout:g} s")
            self.sample()
            time.sleep(0.2)  # a campaign's sampling period, not a test's synchronisation
        return time.monotonic() - began

    def full(self) -> bool:
        """As many job copies running as there can be (all slots, or all jobs left)."""
        left = self.queue_size()
        return left is not None and sum(self.sample().values()) >= min(self.slots, left) > 0

    # -- faults ------------------------------------------------------------------------------
    def daemon(self, kind: str) -> psutil.Process | None:
        candidates = []
        for process in self.pool.processes():
            try:
                if f"condor_{kind}" in " ".join(process.cmdline()[:2]):
                    candidates.append(process)
            except psutil.Error:
                continue  # ended meanwhile (a starter whose job finished)
        return random.choice(candidates) if candidates else None

    def kill(self, kind: str) -> float:
        """SIGKILL one daemon of the kind; then the seconds until the pool works again."""
        victim = self.daemon(kind)
        if victim is None:
            raise RuntimeError(f"no condor_{kind} in the pool")
        old_negotiators = {ad.eval("MyAddress") for ad in self.negotiator_ads()}
        killed_at, wall = time.monotonic(), time.time()
        victim.send_signal(signal.SIGKILL)
        if kind == "master":  # nothing restarts a master but init: wait for its pool to go, start it again
            self.wait(lambda: not self.pool.processes(), 30, "the pool's end after its master died")
            self.pool.start()
        if kind == "collector":
            self.wait(lambda: self.slot_ads() == self.slots, 60, "the collector's return")
        elif kind == "procd":
            self.wait(lambda: self.procd_pid() not in (None, victim.pid), 60, "a new procd answering")
        elif kind == "negotiator":
            self.wait(lambda: self.new_cycle(old_negotiators), 60, "a negotiation cycle by a new negotiator")
        elif self.queue_size():
            self.wait(lambda: self.started_since(wall) and self.full(), 90, f"jobs running again after the {kind}")
        return time.monotonic() - killed_at

    def slot_ads(self) -> int:
        try:
            return len(query_ads(self.pool.cfg, "Machine", timeout=1))
        except (CommunicationError, RemoteError, OSError):
            return 0

    def procd_pid(self) -> int | None:
        try:
            return Client(f"ipc://{self.pool.cfg.get('PROCD_ADDRESS')}", timeout=1).call("PING")["pid"]
        except (CommunicationError, RemoteError):
            return None

    def negotiator_ads(self) -> list:
        try:
            return query_ads(self.pool.cfg, "Negotiator", timeout=1)
        except (CommunicationError, RemoteError, OSError):
            return []

    def new_cycle(self, old_addresses: set) -> bool:
        """A negotiator other than the ones at old_addresses has finished a cycle."""
        return any(isinstance(ad.eval("LastNegotiationCycleEnd0"), int) and ad.eval("MyAddress") not in old_addresses
                   for ad in self.negotiator_ads())

    def started_since(self, wall: float) -> bool:
        return any(line.startswith("start ") and float(line.split()[2]) > wall
                   for line in self.runs.read_text().splitlines())

    # -- the run ------------------------------------------------------------------------------
    def run(self, kinds: list[str]) -> dict:
        self.pool.start()
        try:
            submit = (f"executable = {self.script}\narguments = $(Cluster).$(Process) {self.dir} {self.job_seconds}\n"
                      f"+JobLeaseDuration = {LEASE}\nqueue {self.jobs}\n")
            result = self.pool.run("condor_submit", input=submit)
            if result.returncode != 0:
                raise RuntimeError(f"condor_submit failed: {result.stderr}")
            recovery: dict[str, float] = {}
            for kind in kinds:
                self.wait(self.full, 90, "a full set of running jobs")
                recovery[kind] = self.kill(kind)
            print(f"{self.dir.name}: killed a {kind}; the pool worked again after {recovery[kind]:.2f} s",
                  file=sys.stderr, flush=True)
            self.wait(lambda: self.queue_size() == 0, 180, "an empty queue")
            self.wait(lambda: not self.job_processes(), 30, "the last job processes to end")
        finally:
            self.pool.stop(check=False)
        leftovers = [f"{p.pid} {' '.join(p.cmdline()[:3])}" for p in psutil.process_iter()
                     if p.pid != os.getpid() and p.pid not in [c.pid for c in psutil.Process().children()]
                     and is_alive(p) and p.pid != 1]
        lines = self.runs.read_text().splitlines()
        ends = Counter(line.split()[1] for line in lines if line.startswith("end "))
        ids = [f"1.{proc}" for proc in range(self.jobs)]
        return {"recovery": recovery, "lost": [job for job in ids if not ends[job]],
                "twice": sorted({job for job in ids if ends[job] > 1}
                                | {line.split()[1] for line in lines if line.startswith("DUP ")}),
                "stuck_max": round(self.stuck_max, 1), "lease": LEASE, "leftovers": leftovers,
                "runs": sum(line.startswith("start ") for line in lines)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=5, help="trials per daemon type (one kill each)")
    parser.add_argument("--types", default=",".join(TYPES), help="daemon types, comma-separated")
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--job-seconds", type=float, default=4.0)
    parser.add_argument("--together", action="store_true",
                        help="one trial killing each type in turn (the quick campaign), instead of one trial per kill")
    parser.add_argument("--json", action="store_true", help="print one JSON line per trial too")
    args = parser.parse_args(argv)
    kinds = [kind.strip() for kind in args.types.split(",") if kind.strip()]
    if unknown := set(kinds) - set(TYPES):
        parser.error(f"unknown daemon type(s): {', '.join(sorted(unknown))}")
    plan = [kinds] if args.together else [[kind] for kind in kinds for _ in range(args.kills)]
    results = []
    top = tempfile.mkdtemp(prefix="bench-faults-")
    for number, trial_kinds in enumerate(plan):
        result = Trial(Path(top) / f"trial{number}", args.jobs, args.slots, args.job_seconds).run(trial_kinds)
        results.append(result)
        if args.json:
            print(json.dumps(result), flush=True)
    if all(not (r["lost"] or r["twice"] or r["leftovers"]) for r in results):
        shutil.rmtree(top)
    else:  # kept, with the pools' logs
        print(f"pools kept in {top}", file=sys.stderr)
    print(f"kill -9 during {args.jobs} jobs on {args.slots} slots ({len(plan)} trial(s)); recovery time:")
    for kind in kinds:
        times = [r["recovery"][kind] for r in results if kind in r["recovery"]]
        print(f"  {kind:<11} median {statistics.median(times):6.2f} s  max {max(times):6.2f} s  over {len(times)} kill(s)")
    print(f"lost {sum(len(r['lost']) for r in results)}, run twice {sum(len(r['twice']) for r in results)}, "
          f"longest stuck Running {max(r['stuck_max'] for r in results):.1f} s (lease {LEASE} s), "
          f"processes left {sum(len(r['leftovers']) for r in results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
