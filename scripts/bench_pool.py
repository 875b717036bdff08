"""Benchmark: personal pool start-up time and memory per daemon, and their growth with many startds.

    python -m condorsim.scripts.bench_pool [--runs N] [--startds 10,50,100] [--no-floor]
                                          [--simulated 10x1000]

Prints, for the 5-daemon personal pool and for pools with more startds on one host (extra startds
are config.d entries ``STARTD_<n> = $(STARTD)`` with their own local name, log, address file,
execute directory and procd, one CPU each):
  - the median time of ``PersonalPool.start()`` (condor_master run -> every ad in the collector),
    broken down into its phases;
  - the CPU time each process of the pool used to get there, and its RSS, USS and PSS;
  - the reference floor measured in the same run: a fresh Python process importing zmq, msgpack,
    psutil and asyncio, five of them at once, and a fork from an already imported parent.
  - the growth table: start() time and memory of the whole pool, and both per startd (a forked
    daemon derives its configuration from the master's, so this grows linearly).
With --simulated STARTDSxSLOTS (e.g. 10x1000: 10,000 slots) it also brings up a pool of simulating
startds (STARTD_SIMULATE_JOBS: no procd, static slots) and prints its ready time (every slot ad in
the collector), memory per kind of process, and the whole-process time of ``condor_status -total``
over it [goal < 0.5 s], beside the floor of a Python process that only imports condor_status.
Figures only: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

import psutil

from condorsim.shared.pool import PersonalPool

MIB = 1024 * 1024
PHASES = ("config written", "master running", "children alive", "ads visible")
FLOOR_IMPORTS = "import zmq, msgpack, psutil, asyncio"
FLOOR_CHILD = (f"{FLOOR_IMPORTS}; import os, json; t = os.times(); "
               "m = psutil.Process().memory_full_info(); "
               "print(json.dumps({'cpu': t.user + t.system, 'uss': m.uss, 'rss': m.rss}))")


# -- the pool ------------------------------------------------------------------------------
class TimedPool(PersonalPool):
    """A PersonalPool that records when start() passes each of its phases."""

    def start(self) -> "TimedPool":
        self.marks = {"begin": time.perf_counter()}
        return super().start()

    def write_config(self):
        root = super().write_config()
        self.marks["config written"] = time.perf_counter()
        return root

    def wait_ready(self) -> None:
        # Reached once condor_master has returned (the master runs) and the tool config is loaded.
        self.marks["master running"] = time.perf_counter()
        super().wait_ready()
        self.marks["ads visible"] = time.perf_counter()

    def wait_for_ads(self, *args, **kwargs) -> int:
        # The first ad wait follows WAIT_CHILDREN_ALIVE: every daemon has reported its address.
        self.marks.setdefault("children alive", time.perf_counter())
        return super().wait_for_ads(*args, **kwargs)

    def phase_seconds(self) -> dict[str, float]:
        previous, phases = self.marks["begin"], {}
        for name in PHASES:
            phases[name] = self.marks[name] - previous
            previous = self.marks[name]
        phases["total"] = self.marks["ads visible"] - self.marks["begin"]
        return phases


def extra_startds_config(startds: int) -> str:
    """config.d text adding startds 2..`startds` to the pool's one, each with its own everything."""
    names = [f"STARTD_{n}" for n in range(2, startds + 1)]
    lines = []
    for name in names:
        lines += [f"{name} = $(STARTD)",
                  f"{name}_ARGS = -local-name {name}",
                  f"{name}.STARTD_NAME = {name}",
                  f"{name}.STARTD_LOG = $(STARTD_LOG).{name}",
                  f"{name}.STARTD_ADDRESS_FILE = $(STARTD_ADDRESS_FILE).{name}",
                  f"{name}.EXECUTE = $(EXECUTE).{name}",
                  f"{name}.PROCD_ADDRESS = $(PROCD_ADDRESS).{name}"]
    if names:
        lines.append(f"DAEMON_LIST = $(DAEMON_LIST), {', '.join(names)}")
    return "\n".join(lines) + "\n"


@dataclass
class ProcessFigures:
    label: str
    kind: str
    cpu: float
    rss: int
    uss: int
    pss: int


@dataclass
class RunFigures:
    phases: dict[str, float]
    processes: list[ProcessFigures] = field(default_factory=list)
    stop_seconds: float = 0.0
    status_seconds: list[float] = field(default_factory=list)  # condor_status -total, whole process
    status_floor: list[float] = field(default_factory=list)  # a process importing what it imports


STATUS_IMPORTS = "import condorsim.scripts.condor_status, condorsim.shared.locate, condorsim.shared.protocol"


def tool_seconds(pool: PersonalPool, *argv: str) -> float:
    """Wall time of one whole tool process run against `pool` (it must succeed)."""
    began = time.perf_counter()
    pool.run(*argv, check=True)
    return time.perf_counter() - began


def describe(process: psutil.Process) -> tuple[str, str]:
    """("condor_startd -local-name STARTD_2", "condor_startd") for a process of the pool."""
    cmdline = process.cmdline()
    program = next((os.path.basename(arg) for arg in cmdline if os.path.basename(arg).startswith("condor_")),
                   process.name())
    label = program
    if "-local-name" in cmdline[:-1]:
        label += " " + cmdline[cmdline.index("-local-name") + 1]
    return label, program


def measure_pool(startds: int, slots: int = 0) -> RunFigures:
    """Start-up figures of a pool of `startds` startds of one CPU each, or (slots > 0) of
    simulating startds of `slots` static slots each, ready once every slot ad is in."""
    config = {"NUM_CPUS": "1"}
    if slots:
        config = {"STARTD_SIMULATE_JOBS": "True", "NUM_CPUS": str(slots), "MEMORY": str(slots * 1024),
                  "SLOT_TYPE_0_PARTITIONABLE": "FALSE", "UPDATE_INTERVAL": "300"}
    config_d = {"90bench_startds.config": extra_startds_config(startds)} if startds > 1 else {}
    pool = TimedPool(config=config, config_d=config_d, timeout=600)
    with pool:
        if slots:
            pool.wait_for_ads("Machine", startds * slots, timeout=600)
            pool.marks["ads visible"] = time.perf_counter()
        figures = RunFigures(pool.phase_seconds())
        if slots:
            figures.status_seconds = [tool_seconds(pool, "condor_status", "-total") for _ in range(5)]
            figures.status_floor = [tool_seconds(pool, sys.executable, "-c", STATUS_IMPORTS) for _ in range(3)]
        for process in pool.processes():
            try:
                with process.oneshot():
                    label, kind = describe(process)
                    times = process.cpu_times()
                    memory = process.memory_full_info()
            except psutil.Error:
                continue
            figures.processes.append(ProcessFigures(label, kind, times.user + times.system,
                                                    memory.rss, memory.uss, memory.pss))
        began = time.perf_counter()
    figures.stop_seconds = time.perf_counter() - began
    return figures


# -- the floor -----------------------------------------------------------------------------
def fresh_process_floor(parallel: int = 5) -> dict[str, float]:
    """One fresh interpreter importing the daemons' libraries, then `parallel` of them at once."""
    began = time.perf_counter()
    one = json.loads(subprocess.run([sys.executable, "-c", FLOOR_CHILD], capture_output=True,
                                    text=True, check=True).stdout)
    one_wall = time.perf_counter() - began
    began = time.perf_counter()
    children = [subprocess.Popen([sys.executable, "-c", FLOOR_CHILD], stdout=subprocess.PIPE, text=True)
                for _ in range(parallel)]
    for child in children:
        child.communicate()
    return {"cpu": one["cpu"], "uss": one["uss"], "rss": one["rss"], "wall": one_wall,
            "parallel_wall": time.perf_counter() - began, "parallel": parallel}


def forked_floor(count: int = 5) -> dict[str, float]:
    """Fork children from this (already importing) process: time to a running child, its CPU and USS."""
    import asyncio, msgpack, zmq  # noqa: F401,E401 - the parent holds what the daemons import
    walls, cpus, usses = [], [], []
    for _ in range(count):
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        began = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: report its own CPU time, then wait to be measured
            os.close(ready_r)
            os.close(go_w)
            t = os.times()
            os.write(ready_w, json.dumps({"cpu": t.user + t.system}).encode())
            os.read(go_r, 1)
            os._exit(0)
        os.close(ready_w)
        os.close(go_r)
        report = json.loads(os.read(ready_r, 4096))
        walls.append(time.perf_counter() - began)
        cpus.append(report["cpu"])
        usses.append(psutil.Process(pid).memory_full_info().uss)
        os.close(go_w)
        os.waitpid(pid, 0)
        os.close(ready_r)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus), "uss": statistics.median(usses)}


# -- output --------------------------------------------------------------------------------
def print_floor(fresh: dict, forked: dict) -> None:
    print("Reference floor (this machine, this run):")
    print(f"  fresh python + {FLOOR_IMPORTS[7:]}: {fresh['cpu'] * 1000:.0f} ms CPU, "
          f"{fresh['wall'] * 1000:.0f} ms wall, USS {fresh['uss'] / MIB:.1f} MiB, RSS {fresh['rss'] / MIB:.1f} MiB")
    print(f"  {fresh['parallel']} of them at once: {fresh['parallel_wall'] * 1000:.0f} ms wall")
    print(f"  fork from an imported parent: {forked['wall'] * 1000:.1f} ms to a running child, "
          f"{forked['cpu'] * 1000:.1f} ms CPU, USS {forked['uss'] / MIB:.2f} MiB each")
    print()


def print_startup(title: str, runs: list[RunFigures]) -> float:
    total = statistics.median(run.phases["total"] for run in runs)
    print(f"{title}: start() median {total * 1000:.0f} ms over {len(runs)} run(s) "
          f"(min {min(r.phases['total'] for r in runs) * 1000:.0f}, "
          f"max {max(r.phases['total'] for r in runs) * 1000:.0f}); "
          f"stop {statistics.median(r.stop_seconds for r in runs) * 1000:.0f} ms")
    for phase in PHASES:
        print(f"  {phase:<16} +{statistics.median(r.phases[phase] for r in runs) * 1000:6.0f} ms")
    return total


def print_processes(processes: list[ProcessFigures]) -> None:
    print(f"  {'process':<34} {'CPU ms':>7} {'RSS MiB':>8} {'USS MiB':>8} {'PSS MiB':>8}")
    for p in sorted(processes, key=lambda p: p.label):
        print(f"  {p.label:<34} {p.cpu * 1000:7.0f} {p.rss / MIB:8.1f} {p.uss / MIB:8.1f} {p.pss / MIB:8.1f}")
    print_totals(processes)


def print_kinds(processes: list[ProcessFigures]) -> None:
    print(f"  {'kind':<18} {'count':>5} {'CPU ms':>7} {'RSS MiB':>8} {'USS MiB':>8}  (means per process)")
    kinds = sorted({p.kind for p in processes})
    for kind in kinds:
        group = [p for p in processes if p.kind == kind]
        print(f"  {kind:<18} {len(group):5d} {statistics.mean(p.cpu for p in group) * 1000:7.0f} "
              f"{statistics.mean(p.rss for p in group) / MIB:8.1f} {statistics.mean(p.uss for p in group) / MIB:8.1f}")
    print_totals(processes)


def print_totals(processes: list[ProcessFigures]) -> None:
    print(f"  total: {len(processes)} processes, CPU {sum(p.cpu for p in processes):.2f} s, "
          f"USS {sum(p.uss for p in processes) / MIB:.0f} MiB, PSS {sum(p.pss for p in processes) / MIB:.0f} MiB")


def parse_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--startds wants numbers separated by commas, not {text!r}") from None
    if any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError("--startds counts must be at least 1")
    return counts


def parse_simulated(text: str) -> tuple[int, int]:
    startds, sep, slots = text.lower().partition("x")
    if not sep or not startds.isdigit() or not slots.isdigit() or int(startds) < 1 or int(slots) < 1:
        raise argparse.ArgumentTypeError(f"--simulated wants STARTDSxSLOTS such as 10x1000, not {text!r}")
    return int(startds), int(slots)


def print_simulated(startds: int, slots: int) -> None:
    run = measure_pool(startds, slots)
    print(f"Simulated pool: {startds} startds x {slots} static slots = {startds * slots} slots "
          f"(STARTD_SIMULATE_JOBS, no procd): ready in {run.phases['total'] * 1000:.0f} ms")
    for phase in PHASES:
        print(f"  {phase:<16} +{run.phases[phase] * 1000:6.0f} ms")
    print("  memory and CPU per kind of process:")
    print_kinds(run.processes)
    status, floor = statistics.median(run.status_seconds), statistics.median(run.status_floor)
    print(f"  condor_status -total over {startds * slots} slots: median {status * 1000:.0f} ms, "
          f"min {min(run.status_seconds) * 1000:.0f} ms over {len(run.status_seconds)} runs (whole process) "
          f"[goal < 500 ms]")
    print(f"  reference: a process only importing condor_status: median {floor * 1000:.0f} ms; "
          f"the query and totals add {max(status - floor, 0) * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="pool starts per scale (median taken)")
    parser.add_argument("--startds", type=parse_counts, default=[10, 50, 100],
                        help="total startd counts to scale to, e.g. 10,50 (empty: personal pool only)")
    parser.add_argument("--no-floor", action="store_true", help="skip the reference floor")
    parser.add_argument("--simulated", type=parse_simulated, default=None, metavar="STARTDSxSLOTS",
                        help="also a simulated pool, e.g. 10x1000 (10 startds of 1,000 slots)")
    args = parser.parse_args(argv)

    print(f"host: {psutil.cpu_count()} CPUs, {psutil.virtual_memory().total // MIB} MiB, "
          f"python {sys.version.split()[0]}")
    if not args.no_floor:
        print_floor(fresh_process_floor(), forked_floor())

    base = [measure_pool(1) for _ in range(args.runs)]
    print_startup("Personal pool (master, collector, negotiator, schedd, startd + procd)", base)
    print("  memory and CPU per process (last run):")
    print_processes(base[-1].processes)

    growth = [(1, statistics.median(r.phases["total"] for r in base), base[-1].processes)]
    for startds in args.startds:
        if startds == 1:
            continue
        print()
        runs = [measure_pool(startds) for _ in range(args.runs)]
        total = print_startup(f"{startds} startds on one host", runs)
        print("  memory and CPU per kind of process (last run):")
        print_kinds(runs[-1].processes)
        growth.append((startds, total, runs[-1].processes))

    if args.simulated:
        print()
        print_simulated(*args.simulated)

    print()
    print("Growth with startds (start() median; memory of the last run):")
    print(f"  {'startds':>7} {'processes':>9} {'start ms':>9} {'USS MiB':>8} {'PSS MiB':>8} {'RSS MiB':>8} "
          f"{'ms/startd':>9} {'USS MiB/startd':>14}")
    for startds, total, processes in growth:
        uss = sum(p.uss for p in processes) / MIB
        print(f"  {startds:7d} {len(processes):9d} {total * 1000:9.0f} {uss:8.0f} "
              f"{sum(p.pss for p in processes) / MIB:8.0f} {sum(p.rss for p in processes) / MIB:8.0f} "
              f"{total * 1000 / startds:9.1f} {uss / startds:14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
