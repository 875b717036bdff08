"""Benchmark: a simulated pool (STARTD_SIMULATE_JOBS) running many short jobs.

    python -m condorsim.scripts.bench_sim [--startds 10] [--slots 1000] [--jobs 100000]
                                         [--runtime 1] [--partitionable] [--queue-limit N]

Starts a pool of --startds simulating startds with --slots slots each (static slots, or one
partitionable slot each with --partitionable), submits one cluster of --jobs jobs of --runtime
seconds of simulated runtime through the SUBMIT call, and follows their user log until every job
has terminated (event 005). With --queue-limit N the jobs go in as clusters of N/2, one more each time
fewer than N of them remain queued (the schedd's per-queue work stays bounded). It prints:
  - the pool's start-up time and the SUBMIT call's time;
  - jobs completed per second: over the whole run (submit done -> last 005), and in the steady
    middle (10 % -> 90 % of the completions) [goal >= 2,000/s for 10,000 slots, 1 s jobs];
  - the reference in the same run: the rate the pool could reach if nothing but the simulated
    runtime counted (slots / runtime), and the achieved fraction of it;
  - the negotiator's cycles during the run (from its ad: duration in whole seconds, matches,
    candidate slots);
  - the CPU seconds each daemon used during the run, and per completed job: where the time goes.
Figures only: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import getpass
import statistics
import time
from pathlib import Path

import psutil

from condorsim.scripts.bench_pool import describe, extra_startds_config
from condorsim.scripts.condor_submit import submit_request
from condorsim.shared.config import load_config
from condorsim.shared.locate import query_ads, schedd_address
from condorsim.shared.pool import PersonalPool
from condorsim.shared.protocol import Client, CommunicationError, RemoteError
from condorsim.shared.submit import parse_submit


def pool_config(startds: int, slots: int, partitionable: bool) -> tuple[dict[str, str], dict[str, str]]:
    """The simulated pool's knobs and its config.d entries for the extra startds."""
    config = {"STARTD_SIMULATE_JOBS": "True", "NUM_CPUS": str(slots),
              "MEMORY": str(slots * 1024), "SLOT_TYPE_0_PARTITIONABLE": str(partitionable).upper(),
              # the slot ads change as jobs run; the periodic full update only repeats them
              "UPDATE_INTERVAL": "300", "STARTER_UPDATE_INTERVAL": "300",
              # HTCondor's defaults: claims are reused without the negotiator
              "NEGOTIATOR_INTERVAL": "60", "NEGOTIATOR_MIN_INTERVAL": "5", "SCHEDD_INTERVAL": "5",
              "PERIODIC_EXPR_INTERVAL": "60"}
    config_d = {"90bench_startds.config": extra_startds_config(startds)} if startds > 1 else {}
    return config, config_d


def submit(pool: PersonalPool, jobs: int, runtime: float, log: Path) -> float:
    """Seconds the SUBMIT call of one cluster of `jobs` simulated jobs took."""
    cfg = pool.submit_cfg = getattr(pool, "submit_cfg", None) or load_config(subsystem="SUBMIT", env=pool.env)
    schedd = Client(schedd_address(cfg), timeout=3600)
    cluster = int(schedd.call("NEW_CLUSTER")["cluster"])
    text = (f"executable = /bin/true\nlog = {log}\n+SimulatedRuntime = {runtime}\n"
            f"request_memory = 128\nrequest_disk = 1024\nqueue {jobs}\n")
    ads = parse_submit(text, "bench.sub").build_jobs(cluster, cwd=str(pool.dir), config=cfg)
    request = submit_request(ads)  # as condor_submit sends it: the cluster ad once, each proc's own
    began = time.perf_counter()
    schedd.call("SUBMIT", cluster=cluster, owner=getpass.getuser(), **request)
    return time.perf_counter() - began


class LogFollower:
    """Counts the events of a user log as it grows: when each 005 (terminated) arrived."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.rest = b""
        self.executes = 0
        self.terminated: list[float] = []

    def poll(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        now = time.perf_counter()
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        for line in lines:
            if line.startswith(b"005 ("):
                self.terminated.append(now)
            elif line.startswith(b"001 ("):
                self.executes += 1


def negotiator_cycle(pool: PersonalPool) -> tuple | None:
    """(end, duration s, matches, candidate slots, idle jobs) of the negotiator's last cycle."""
    try:
        ads = query_ads(pool.cfg, "Negotiator", None, timeout=5)
    except (CommunicationError, RemoteError):
        return None
    if not ads:
        return None
    names = ("LastNegotiationCycleEnd0", "LastNegotiationCycleDuration0", "LastNegotiationCycleMatches0",
             "LastNegotiationCycleCandidateSlots0", "LastNegotiationCycleNumIdleJobs0")
    values = tuple(ads[0].eval(name) for name in names)
    return values if isinstance(values[0], int) else None


def cpu_seconds(pool: PersonalPool) -> dict[str, float]:
    """CPU seconds used so far by each kind of daemon of the pool."""
    used: dict[str, float] = {}
    for process in pool.processes():
        try:
            _, kind = describe(process)
            times = process.cpu_times()
        except psutil.Error:
            continue
        used[kind] = used.get(kind, 0.0) + times.user + times.system
    return used


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--startds", type=int, default=10)
    parser.add_argument("--slots", type=int, default=1000, help="slots (CPUs) per startd")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--runtime", type=float, default=1.0, help="simulated seconds per job")
    parser.add_argument("--partitionable", action="store_true", help="one partitionable slot per startd")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds")
    parser.add_argument("--queue-limit", type=int, default=0,
                        help="keep at most this many jobs queued (0: submit all at once)")
    parser.add_argument("--directory", help="run the pool in this directory and keep it (its logs) afterwards")
    args = parser.parse_args(argv)
    chunk = max(args.queue_limit // 2, 1) if args.queue_limit else args.jobs

    total_slots = args.startds * args.slots
    print(f"host: {psutil.cpu_count()} CPUs, load average {psutil.getloadavg()[0]:.1f}")
    print(f"Simulated pool: {args.startds} startd(s) x {args.slots} "
          f"{'partitionable CPUs' if args.partitionable else 'static slots'} = {total_slots} slots; "
          f"{args.jobs} jobs of {args.runtime:g} s"
          + (f", at most {args.queue_limit} queued" if args.queue_limit else ""))
    config, config_d = pool_config(args.startds, args.slots, args.partitionable)
    began = time.perf_counter()
    with PersonalPool(config=config, config_d=config_d, timeout=600, directory=args.directory) as pool:
        print(f"  pool start-up: {time.perf_counter() - began:.1f} s")
        log = pool.dir / "bench_sim.log"
        cpu_before = cpu_seconds(pool)
        first = min(chunk * 2 if args.queue_limit else args.jobs, args.jobs)
        submit_seconds = submit(pool, first, args.runtime, log)
        sent = first
        submitted = time.perf_counter()
        print(f"  SUBMIT call: {submit_seconds:.1f} s ({first / submit_seconds:,.0f} jobs/s) for {first} jobs")
        follower = LogFollower(log)
        cycles: dict[int, tuple] = {}
        deadline = submitted + args.timeout
        next_progress = submitted + 10
        while len(follower.terminated) < args.jobs and time.perf_counter() < deadline:
            time.sleep(1.0)
            follower.poll()
            while sent < args.jobs and sent - len(follower.terminated) < args.queue_limit - chunk:
                submit(pool, min(chunk, args.jobs - sent), args.runtime, log)
                sent += min(chunk, args.jobs - sent)
            cycle = negotiator_cycle(pool)
            if cycle is not None:
                cycles[cycle[0]] = cycle
            if time.perf_counter() >= next_progress:
                next_progress += 10
                print(f"    {time.perf_counter() - submitted:5.0f} s: {follower.executes} started, "
                      f"{len(follower.terminated)} completed", flush=True)
        cpu_after = cpu_seconds(pool)
        done = follower.terminated
    print_figures(args, total_slots, submitted, done, follower.executes, cycles, cpu_before, cpu_after)
    return 0


def print_figures(args, total_slots: int, submitted: float, done: list[float], executes: int,
                  cycles: dict[int, tuple], cpu_before: dict[str, float], cpu_after: dict[str, float]) -> None:
    completed = len(done)
    print(f"  completed: {completed} of {args.jobs} jobs ({executes} execute events)")
    if completed:
        whole = done[-1] - submitted
        print(f"  jobs completed per second: {completed / whole:,.0f}/s over the run "
              f"({whole:.1f} s from submit to the last 005)")
        low, high = done[completed // 10], done[max(completed * 9 // 10 - 1, 0)]
        if high > low:
            print(f"  steady (10 % -> 90 % of completions): {(completed * 8 // 10) / (high - low):,.0f}/s")
        ceiling = total_slots / args.runtime
        print(f"  reference: slots / runtime = {ceiling:,.0f}/s if nothing but the runtime counted; "
              f"achieved {completed / whole / ceiling:.1%} of it [goal >= 2,000/s]")
    durations = [cycle[1] for cycle in cycles.values()]
    print(f"  negotiator cycles seen: {len(cycles)}"
          + (f"; duration s: median {statistics.median(durations)}, max {max(durations)}" if durations else ""))
    for end, duration, matches, candidates, idle in sorted(cycles.values())[:10]:
        print(f"    cycle ending {time.strftime('%H:%M:%S', time.localtime(end))}: {duration} s, "
              f"{matches} matches, {candidates} candidate slots, {idle} idle jobs")
    print("  CPU seconds per daemon during the run, and per completed job:")
    for kind in sorted(cpu_after, key=lambda k: -(cpu_after[k] - cpu_before.get(k, 0.0))):
        used = cpu_after[kind] - cpu_before.get(kind, 0.0)
        print(f"    {kind:<20} {used:8.1f} s {1000 * used / max(completed, 1):8.3f} ms/job")


if __name__ == "__main__":
    raise SystemExit(main())
