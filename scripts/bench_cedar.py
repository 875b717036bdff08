"""Benchmark: HTCondor's own bindings (htcondor2) querying condorsim through its CEDAR doors.

    python -m condorsim.scripts.bench_cedar [--slots N] [--jobs N] [--repeat R]

In one pool (collector and schedd only) holding --slots slot ads (advertised from a template
like a real startd's) and --jobs held jobs (one condor_submit), prints for each query:
  - through the bindings: htcondor2.Collector().query(AdType.Startd) and htcondor2.Schedd().query(),
    all attributes and a two-attribute projection;
  - through condorsim's own path in process (ZeroMQ + msgpack: QUERY_ADS / QUERY_JOBS);
  - through condorsim's own tools end to end (condor_status -af Name / condor_q -af ClusterId,
    a new process each time, start-up included);
as the best of --repeat runs: queries per second, ads per second, and the ratio to our own
in-process path measured in the same run. Before those, one query of every job, each in a new
process, through the bindings (CEDAR) and through condor_q (ZeroMQ, QUERY_JOBS + QUERY_MORE): its whole
time, the schedd's CPU time, how much its RSS grew at its peak during the query (sampled every
5 ms), and the slowest answer the schedd gave meanwhile to a one-job query asked every 50 ms. These come first, once the schedd is at rest after the submit: a query pays for memory the
later ones may reuse.
Figures only: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

from condorsim.scripts.bench_queue import MIB, schedd_process
from condorsim.shared.classad import ClassAd
from condorsim.shared.locate import collector_address, query_ads, schedd_address
from condorsim.shared.pool import PersonalPool
from condorsim.shared.protocol import Client

SLOT_TEMPLATE = """
MyType = "Machine"
TargetType = "Job"
Machine = "bench.example"
OpSys = "LINUX"
Arch = "X86_64"
State = "Unclaimed"
Activity = "Idle"
Cpus = 1
Memory = 2048
Disk = 10000000
TotalCpus = 64
TotalMemory = 131072
SlotType = "Static"
Start = true
Requirements = START && (TARGET.RequestCpus <= MY.Cpus) && (TARGET.RequestMemory <= MY.Memory)
Rank = 0.0
LoadAvg = 0.0
KeyboardIdle = 1000
HasFileTransfer = true
FileSystemDomain = "bench.example"
UidDomain = "bench.example"
CondorVersion = "$CondorVersion: 25.14.0 2026-09-24 BuildID: 0 $"
ClassAdLifetime = 86400
"""


def best(run, repeat: int) -> tuple[float, int]:
    """The fastest of `repeat` timed calls of run(), and how many ads it returned."""
    times, count = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        count = run()
        times.append(time.perf_counter() - started)
    return min(times), count


def report(label: str, seconds: float, ads: int, reference: float | None) -> None:
    ratio = f"  {seconds / reference:5.2f}x our in-process time" if reference else ""
    print(f"  {label:<46} {seconds * 1000:8.1f} ms  {1 / seconds:7.1f} queries/s  "
          f"{ads / seconds:9,.0f} ads/s{ratio}")


def advertise_slots(pool: PersonalPool, count: int) -> None:
    template = ClassAd(SLOT_TEMPLATE)
    collector = Client(collector_address(pool.cfg), timeout=60)
    for start in range(0, count, 1000):
        batch = []
        for n in range(start, min(count, start + 1000)):
            ad = template.copy()
            ad["Name"] = f"slot{n + 1}@bench.example"
            ad["SlotID"] = n + 1
            batch.append(ad.to_wire())
        collector.call("UPDATE_ADS", ads=batch)
    pool.wait_for_ads("Machine", count, timeout=60)


BINDINGS_QUERY = ("import sys, htcondor2; "
                  "print(len(htcondor2.Schedd().query(projection=sys.argv[1:])))")  # [] is every attribute


def ads_printed(argv: list[str], stdout: str) -> int:
    """How many ads a querying process printed: the bindings' count, -long's ads, -af's lines."""
    if argv[0] == sys.executable:
        return int(stdout.split()[-1])
    return stdout.count("\n\n") if "-long" in argv else len(stdout.splitlines())


def settle(pool: PersonalPool, below: float = 0.05, patience: float = 120) -> float:
    """Wait (at most `patience` s) until the schedd uses less than `below` of a core over a
    second, as after the submit's aftermath; its last use over a second."""
    schedd = schedd_process(pool)
    deadline = time.monotonic() + patience
    while True:
        before = sum(schedd.cpu_times()[:2])
        time.sleep(1)  # a benchmark's measurement window, not a test's synchronisation
        use = sum(schedd.cpu_times()[:2]) - before
        if use < below or time.monotonic() > deadline:
            return use


def whole_query(pool: PersonalPool, label: str, argv: list[str]) -> None:
    """One run of a querying process: its whole time, the schedd's CPU time and peak RSS growth
    meanwhile, and the slowest answer to a one-job query asked every 50 ms meanwhile."""
    schedd = schedd_process(pool)
    before = peak = schedd.memory_info().rss
    cpu = sum(schedd.cpu_times()[:2])
    done = threading.Event()
    slowest = 0.0

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, schedd.memory_info().rss)

    def probe() -> None:
        nonlocal slowest
        client = Client(schedd_address(pool.cfg), timeout=600)
        while not done.wait(0.05):
            asked = time.perf_counter()
            client.call("QUERY_JOBS", constraint="ProcId == 0", projection=["JobStatus"])
            slowest = max(slowest, time.perf_counter() - asked)

    watchers = [threading.Thread(target=sample), threading.Thread(target=probe)]
    for watcher in watchers:
        watcher.start()
    began = time.perf_counter()
    result = subprocess.run(argv, env=pool.env, capture_output=True, text=True, timeout=1800)
    took = time.perf_counter() - began
    done.set()
    for watcher in watchers:
        watcher.join()
    cpu = sum(schedd.cpu_times()[:2]) - cpu
    if result.returncode != 0:
        print(f"  {label:<56} FAILED: {(result.stderr.strip().splitlines() or ['no message'])[-1][:100]}")
        return
    print(f"  {label:<56} {took * 1000:8.0f} ms  schedd CPU {cpu * 1000:7.0f} ms, peak RSS +{(peak - before) / MIB:6.1f} MiB, "
          f"slowest one-job query meanwhile {slowest * 1000:6.0f} ms  ({ads_printed(argv, result.stdout):,} ads)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--slots", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with PersonalPool(config={"DAEMON_LIST": "MASTER, COLLECTOR, SCHEDD"}, timeout=120) as pool:
        htcondor2 = pool.bindings()
        advertise_slots(pool, args.slots)
        submit = f"executable = /bin/sleep\narguments = 1d\nhold = true\nqueue {args.jobs}\n"
        result = pool.run("condor_submit", input=submit, timeout=600)
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        env = dict(pool.env)
        rest = settle(pool)
        print(f"One query of all {args.jobs:,} jobs, each a new process (before any other query; "
              f"the schedd at rest used {rest * 100:.0f} % of a core):")
        for label, query in (("htcondor2 Schedd.query(), all attributes (CEDAR)", [sys.executable, "-c", BINDINGS_QUERY]),
                             ("htcondor2 Schedd.query(), projection JobStatus (CEDAR)",
                              [sys.executable, "-c", BINDINGS_QUERY, "ClusterId", "JobStatus"]),
                             ("condor_q -allusers -long (ZeroMQ)", ["condor_q", "-allusers", "-long"]),
                             ("condor_q -allusers -af ClusterId JobStatus (ZeroMQ)",
                              ["condor_q", "-allusers", "-af", "ClusterId", "JobStatus"])):
            whole_query(pool, label, query)
        collector, schedd = pool.collector(), pool.schedd()
        zmq_schedd = Client(schedd_address(pool.cfg), timeout=120)
        print(f"Collector.query over {args.slots:,} slot ads (best of {args.repeat}):")
        ours, _ = best(lambda: len(query_ads(pool.cfg, "Machine", timeout=120)), args.repeat)
        report("condorsim in process (ZeroMQ), all attributes", ours, args.slots, None)
        seconds, count = best(lambda: len(collector.query(htcondor2.AdType.Startd)), args.repeat)
        report("htcondor2 Collector.query, all attributes", seconds, count, ours)
        ours_projected, _ = best(lambda: len(query_ads(pool.cfg, "Machine", projection=["Name", "State"],
                                                       timeout=120)), args.repeat)
        report("condorsim in process, projection Name State", ours_projected, args.slots, None)
        seconds, count = best(lambda: len(collector.query(htcondor2.AdType.Startd, projection=["Name", "State"])),
                              args.repeat)
        report("htcondor2 Collector.query, projection Name State", seconds, count, ours_projected)
        seconds, count = best(lambda: len(subprocess.run(["condor_status", "-af", "Name"], env=env, check=True,
                                                         capture_output=True, text=True).stdout.splitlines()),
                              args.repeat)
        report("condor_status -af Name (new process)", seconds, count, ours_projected)

        print(f"Schedd.query over {args.jobs:,} jobs (best of {args.repeat}):")
        ours, _ = best(lambda: len(zmq_schedd.call("QUERY_JOBS")["jobs"]), args.repeat)
        report("condorsim in process (ZeroMQ), all attributes", ours, args.jobs, None)
        seconds, count = best(lambda: len(schedd.query()), args.repeat)
        report("htcondor2 Schedd.query, all attributes", seconds, count, ours)
        ours_projected, _ = best(lambda: len(zmq_schedd.call("QUERY_JOBS", projection=["JobStatus"])["jobs"]),
                                 args.repeat)
        report("condorsim in process, projection JobStatus", ours_projected, args.jobs, None)
        seconds, count = best(lambda: len(schedd.query(projection=["ClusterId", "JobStatus"])), args.repeat)
        report("htcondor2 Schedd.query, projection JobStatus", seconds, count, ours_projected)
        seconds, count = best(lambda: len(subprocess.run(["condor_q", "-allusers", "-af", "ClusterId"], env=env,
                                                         check=True, capture_output=True,
                                                         text=True).stdout.splitlines()), args.repeat)
        report("condor_q -af ClusterId (new process)", seconds, count, ours_projected)

    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
