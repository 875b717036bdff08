"""Benchmark: submit rate, submit->running latency and negotiation throughput.

    python -m condorsim.scripts.bench_jobs [--submit-jobs N] [--latency-samples N]
                                 [--match-jobs N] [--slots 1000,10000] [--autoclusters 1,100,...]
                                 [--pairwise-scans N] [--pool-jobs N] [--pool-slots N]
                                 [--reuse-jobs N] [--reuse-slots N] [--only SECTION,...]

`--autoclusters 10000 --only matchmaking`: 10,000 idle jobs, each its own autocluster, against
1,000 and 10,000 slots. Sections: submit, latency, matchmaking, pool, reuse (all by default).

Prints, each with the scale it was measured at:
  - submit rate: one cluster of --submit-jobs jobs that cannot run (requirements = False, a pool
    with no negotiator or startd), timed end to end through condor_submit and broken down in
    process (parse, build the job ads, the SUBMIT call the schedd acknowledges after its fsync);
  - submit->running latency: single /bin/sleep jobs, from the start of condor_submit (and from
    the SUBMIT call) until the schedd's QUERY_JOBS shows JobStatus == 2 (goal < 0.5 s);
  - negotiation throughput: one negotiation cycle's matchmaking (daemons.matchmaker: the
    negotiator's Matchmaker and fair-share Cycle) run in process for --match-jobs idle jobs in K
    autoclusters (--autoclusters; every autocluster a different job) against each count of
    --slots slot ads cloned from a real slot ad and parsed from the wire as the negotiator gets
    them; the same cycle again (the memo kept across cycles), and as reference the pairwise
    matcher (ranked_candidates on every job x slot pair) timed on the first autoclusters
    (--pairwise-scans pairs) and extrapolated by the cycle's slot scans, with the speed-up; and a
    real pool's figure: --pool-jobs jobs against --pool-slots slots, from the SUBMIT
    acknowledgement until every slot runs a job;
  - claim reuse: --reuse-jobs jobs of /bin/true through --reuse-slots static slots, completed
    per second with claims reused and with CLAIM_WORKLIFE = 0, and the ratio.
Figures only: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import getpass
import os
import statistics
import subprocess
import sys
import re
import threading
import time
from pathlib import Path

import zmq

from condorsim.shared import protocol
from condorsim.shared.classad import ClassAd, parse_expr
from condorsim.shared.config import load_config
from condorsim.shared.locate import schedd_address
from condorsim.shared.pool import PersonalPool
from condorsim.shared.protocol import Client
from condorsim.shared.submit import parse_submit
from condorsim.daemons.concurrency import Limits
from condorsim.daemons.matchmaker import Cycle, Matchmaker, Submitter
from condorsim.daemons.negotiator import POST_JOB_RANK, PRE_JOB_RANK

SLEEP_JOB = "executable = /bin/sleep\narguments = 1d\n"
STATIC_SLOTS = {"SLOT_TYPE_0_PARTITIONABLE": "FALSE"}  # one static slot per CPU, as the figures say
POLL_SECONDS = 0.005  # how often the latency probe asks the schedd; bounds the error of each sample


# -- helpers -------------------------------------------------------------------------------
def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


RUNNING = "JobStatus == 2"
STARTED = "JobStatus == 2 && NumJobStarts >= 1"  # the starter has reported the job's process running


def count_jobs(schedd: Client, constraint: str = RUNNING) -> int:
    return len(schedd.call("QUERY_JOBS", constraint=constraint, projection=["JobStatus"])["jobs"])


def wait_until(condition, timeout: float, what: str, interval: float = POLL_SECONDS) -> float:
    """Poll `condition` until true; the perf_counter time it was first seen true."""
    deadline = time.perf_counter() + timeout
    while True:
        if condition():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        time.sleep(interval)


def remove_all(pool: PersonalPool, schedd: Client) -> None:
    """condor_rm -all once every running job's starter has reported, then wait for an empty queue.

    (Removing a job whose starter is still starting up leaves it in the queue for good: the
    starter dies before it reports, and nobody tells the schedd. See the report.)"""
    wait_until(lambda: count_jobs(schedd, RUNNING) == count_jobs(schedd, STARTED), 60,
               "every running job's starter reporting", interval=0.05)
    pool.run("condor_rm", "-all")
    wait_until(lambda: not schedd.call("QUERY_JOBS", projection=["JobStatus"])["jobs"], 60,
               "removal of every job", interval=0.05)


def submit_in_process(pool: PersonalPool, text: str) -> dict[str, float]:
    """What condor_submit does, timed step by step in this process."""
    marks = [time.perf_counter()]
    cfg = load_config(subsystem="SUBMIT", env=pool.env)
    description = parse_submit(text, "bench.sub")
    schedd = Client(schedd_address(cfg), timeout=120)
    marks.append(time.perf_counter())
    cluster = int(schedd.call("NEW_CLUSTER")["cluster"])
    jobs = description.build_jobs(cluster, cwd=str(pool.dir), config=cfg)
    marks.append(time.perf_counter())
    wire = [ad.to_wire() for ad in jobs]
    marks.append(time.perf_counter())
    schedd.call("SUBMIT", cluster=cluster, owner=getpass.getuser(), ads=wire)
    marks.append(time.perf_counter())
    steps = ("config + parse", "NEW_CLUSTER + build ads", "ads to wire", "SUBMIT (schedd ack after fsync)")
    return {step: marks[i + 1] - marks[i] for i, step in enumerate(steps)} | {"jobs": len(jobs)}


# -- 1. submit rate ------------------------------------------------------------------------
def bench_submit(jobs: int) -> None:
    text = f"{SLEEP_JOB}requirements = False\nqueue {jobs}\n"
    with PersonalPool(config={"DAEMON_LIST": "MASTER, COLLECTOR, SCHEDD"}, timeout=120) as pool:
        submit_file = pool.dir / "bench.sub"
        submit_file.write_text(text)
        began = time.perf_counter()
        result = pool.run("condor_submit", str(submit_file), timeout=600)
        wall = time.perf_counter() - began
        if f"{jobs} job(s) submitted" not in result.stdout:
            raise RuntimeError(f"condor_submit failed: {result.stdout}{result.stderr}")
        steps = submit_in_process(pool, text)
        began = time.perf_counter()
        listed = pool.run("condor_q", timeout=600)
        query_wall = time.perf_counter() - began
    print(f"Submit rate, one cluster of {jobs} jobs (requirements = False; master, collector, schedd):")
    print(f"  condor_submit end to end: {ms(wall)}, {jobs / wall:,.0f} jobs/s")
    in_process = sum(v for k, v in steps.items() if k != "jobs")
    print(f"  same in process: {ms(in_process)}, {jobs / in_process:,.0f} jobs/s; of which")
    for step, seconds in steps.items():
        if step != "jobs":
            print(f"    {step:<34} {ms(seconds):>8}")
    print(f"  SUBMIT call alone: {jobs / steps['SUBMIT (schedd ack after fsync)']:,.0f} jobs/s")
    summary = listed.stdout.strip().splitlines()[-1] if listed.stdout.strip() else listed.stderr.strip()
    print(f"  condor_q (batch view) over {2 * jobs} jobs: {ms(query_wall)} ({summary.strip()})")


# -- 2. submit -> running latency ----------------------------------------------------------
def bench_latency(samples: int) -> None:
    with PersonalPool(config={"NUM_CPUS": str(2 * samples), **STATIC_SLOTS}, timeout=60) as pool:
        schedd = Client(schedd_address(pool.cfg), timeout=30)
        tool_exit, tool_running, tool_started, call_running = [], [], [], []
        try:
            for i in range(samples):  # through condor_submit, as a user would
                began = time.perf_counter()
                process = subprocess.Popen(["condor_submit"], env=pool.env, stdin=subprocess.PIPE,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                process.stdin.write(SLEEP_JOB + "queue\n")
                process.stdin.close()
                exited: list[float] = []

                def running() -> bool:
                    if not exited and process.poll() is not None:
                        exited.append(time.perf_counter())
                    return count_jobs(schedd) == 2 * i + 1

                seen = wait_until(running, 30, "a submitted job running")
                process.wait(30)
                tool_exit.append((exited[0] if exited else time.perf_counter()) - began)
                tool_running.append(seen - began)
                seen = wait_until(lambda: count_jobs(schedd, STARTED) == 2 * i + 1, 30, "a job's starter reporting")
                tool_started.append(seen - began)
                steps = submit_in_process(pool, SLEEP_JOB + "queue\n")  # the bare SUBMIT call
                began = time.perf_counter() - steps["SUBMIT (schedd ack after fsync)"]
                seen = wait_until(lambda: count_jobs(schedd) == 2 * i + 2, 30, "a submitted job running")
                call_running.append(seen - began)
        finally:
            remove_all(pool, schedd)
    print(f"Submit -> running latency (single /bin/sleep 1d jobs, {samples} samples each, "
          f"QUERY_JOBS polled every {ms(POLL_SECONDS)}; goal < 500 ms):")
    for label, values in (("condor_submit start -> tool exits", tool_exit),
                          ("condor_submit start -> JobStatus 2", tool_running),
                          ("condor_submit start -> job started", tool_started),
                          ("SUBMIT call -> JobStatus 2", call_running)):
        print(f"  {label:<36} median {ms(statistics.median(values)):>7}  "
              f"min {ms(min(values)):>7}  max {ms(max(values)):>7}")


# -- 3. negotiation throughput -------------------------------------------------------------
def templates() -> tuple[ClassAd, ClassAd, dict[str, str]]:
    """A real slot ad and job ad from a personal pool, and its negotiator rank knobs."""
    with PersonalPool(config={"NUM_CPUS": "1"}) as pool:
        slot = pool.query("Machine")[0]
        cfg = load_config(subsystem="SUBMIT", env=pool.env)
        job = parse_submit(SLEEP_JOB + "queue\n").build_jobs(1, cwd=str(pool.dir), config=cfg)[0]
        job["Owner"], job["JobStatus"] = getpass.getuser(), 1
        knobs = {knob: pool.cfg.get(knob) for knob in ("NEGOTIATOR_PRE_JOB_RANK", "NEGOTIATOR_POST_JOB_RANK")}
    return slot, job, knobs


def synthetic_slots(template: ClassAd, count: int) -> list[ClassAd]:
    """`count` unclaimed slots like the template, on hosts of 8 slots, with varied memory; each
    host's own free disk and KFlops (as benchmarked), so no two hosts' slots are alike."""
    slots = []
    for i in range(count):
        slot = template.copy()
        host = f"bench{i // 8}.example"
        slot["Name"] = f"slot{i % 8 + 1}@{host}"
        slot["Machine"] = host
        slot["SlotID"] = i % 8 + 1
        slot["Memory"] = 1024 * (1 + i % 4)
        slot["Disk"] = 50_000_000 + 1000 * (i // 8)
        slot["KFlops"] = 1_000_000 + i // 8
        slot["State"], slot["Activity"] = "Unclaimed", "Idle"
        slots.append(slot)
    return slots


def autocluster_requests(job: ClassAd, jobs: int, groups: int) -> list[tuple[ClassAd, list[str]]]:
    """`jobs` idle jobs in `groups` autoclusters, every one different (RequestDisk) and fitting
    some slot (RequestMemory up to 1 GiB), as the negotiator gets them from a schedd."""
    requests = []
    for g in range(groups):
        ad = job.copy()
        ad["RequestMemory"] = 1 + g % 1024
        ad["RequestDisk"] = 1024 + g
        requests.append((ClassAd.from_wire(ad.to_wire()), [f"1.{p}" for p in range(g, jobs, groups)]))
    return requests


def match_cycle(matchmaker: Matchmaker, requests: list[tuple[ClassAd, list[str]]], slots: list[ClassAd]) -> dict:
    """One negotiation cycle's matchmaking for one submitter, as the negotiator runs it."""
    pending = {"bench@pool": Submitter("bench@pool", "<schedd>", [(job, list(ids)) for job, ids in requests], 0)}
    scanned = matchmaker.stats["scanned"]
    began = time.perf_counter()
    cycle = Cycle(matchmaker, slots, {}, Limits(lambda knob: None, {}))
    cycle.run(pending)
    seconds = time.perf_counter() - began
    left = sum(1 for _, ids in pending["bench@pool"].requests if ids)  # autoclusters not wholly matched
    return {"matches": len(cycle.assigned), "rejected": left, "scanned": matchmaker.stats["scanned"] - scanned,
            "seconds": seconds, "assigned": cycle.assigned}


def rank_expr(text: str | None, default: str):
    text = default if text is None else text
    return parse_expr(text) if text.strip() else None


def bench_matchmaking(jobs: int, slot_counts: list[int], autoclusters: list[int], pairwise_scans: int) -> None:
    slot, job, knobs = templates()
    pre_rank = rank_expr(knobs["NEGOTIATOR_PRE_JOB_RANK"], PRE_JOB_RANK)
    post_rank = rank_expr(knobs["NEGOTIATOR_POST_JOB_RANK"], POST_JOB_RANK)
    for slot_count in slot_counts:
        # as the negotiator gets them from the collector: parsed from the wire form
        slots = [ClassAd.from_wire(ad.to_wire()) for ad in synthetic_slots(slot, slot_count)]
        print(f"Negotiation throughput in process ({jobs} idle jobs, {slot_count} unclaimed slots, one cycle, "
              f"the negotiator's Matchmaker with the default PRE/POST_JOB_RANK; 'again': the next cycle over "
              f"the same ads; 'pairwise': ranked_candidates on every job x slot pair, timed over the first "
              f"autoclusters (about {pairwise_scans} slot scans) and extrapolated by slot scans, '~' when "
              f"extrapolated):")
        print(f"  {'autoclusters':>12} {'matches':>8} {'rejected':>8} {'slot scans':>10} {'cycle':>9} "
              f"{'matches/s':>10} {'us/scan':>8} {'again':>9} {'pairwise':>10} {'speed-up':>9}")
        for groups in autoclusters:
            groups = max(1, min(groups, jobs))
            requests = autocluster_requests(job, jobs, groups)
            matchmaker = Matchmaker(pre_rank, post_rank)
            result = match_cycle(matchmaker, requests, slots)
            again = match_cycle(matchmaker, requests, slots)
            prefix = max(1, pairwise_scans // slot_count)
            naive = match_cycle(Matchmaker(pre_rank, post_rank, naive=True), requests[:prefix], slots)
            if naive["assigned"] != result["assigned"][:len(naive["assigned"])]:
                print("  WARNING: the pairwise matcher chose other slots than the Matchmaker")
            if prefix >= groups:
                pairwise, mark = naive["seconds"], ""
            else:
                pairwise, mark = naive["seconds"] / max(naive["scanned"], 1) * result["scanned"], "~"
            seconds = result["seconds"]
            print(f"  {groups:12d} {result['matches']:8d} {result['rejected']:8d} {result['scanned']:10d} "
                  f"{ms(seconds):>9} {result['matches'] / seconds:10,.0f} "
                  f"{seconds * 1e6 / max(result['scanned'], 1):8.3f} {ms(again['seconds']):>9} "
                  f"{mark + f'{pairwise:.3f} s':>10} {f'x{pairwise / seconds:,.1f}':>9}")


class RefusingStartd:
    """Stands in for the startd of advertised slot ads: it refuses every claim at once, so the
    jobs stay idle and every cycle negotiates all of them again."""

    def __init__(self) -> None:
        self.socket = protocol.context().socket(zmq.ROUTER)
        port = self.socket.bind_to_random_port("tcp://127.0.0.1")
        self.address = protocol.sinful("127.0.0.1", port)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stopping.is_set():
            if self.socket.poll(50):
                ident, *_, payload = self.socket.recv_multipart()
                rid = protocol.unpack(payload).get("rid")  # echoed, as every daemon does (Daemon.call_later)
                self.socket.send_multipart([ident, b"", protocol.pack({"ok": False, "error": "bench: no claims here",
                                                                       "rid": rid})])

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
        self.socket.close(linger=0)


CYCLE_LINE = re.compile(r"Negotiation cycle: (\d+) match\(es\) for \d+ submitter\(s\), (\d+) idle job\(s\), "
                        r"(\d+) slot\(s\) in ([\d.]+) s \(ads ([\d.]+) s, requests ([\d.]+) s of which "
                        r"schedds ([\d.]+) s, "
                        r"matchmaking ([\d.]+) s, sending matches ([\d.]+) s\)")


def bench_pool_cycle(jobs: int, slot_count: int, cycles: int = 3) -> None:
    """A real pool's negotiation cycle: collector, negotiator and schedd running, `jobs` idle jobs
    each its own autocluster (RequestDisk differs), `slot_count` slot ads advertised to the
    collector for a stand-in startd that refuses claims. The negotiator's log gives each phase."""
    slot, _, _ = templates()
    startd = RefusingStartd()
    # (MATCH_TIMEOUT 0: the stand-in never updates its slot ads after a match, so each cycle
    # would otherwise leave out the slots matched before)
    config = {"DAEMON_LIST": "MASTER, COLLECTOR, NEGOTIATOR, SCHEDD", "NEGOTIATOR_INTERVAL": "2", "MATCH_TIMEOUT": "0"}
    try:
        with PersonalPool(config=config, timeout=60) as pool:
            ads = []
            for ad in synthetic_slots(slot, slot_count):
                ad["MyAddress"] = ad["StartdIpAddr"] = startd.address
                ads.append(ad.to_wire())
            collector = Client(pool.collector_address(), timeout=60)
            for first in range(0, len(ads), 1000):
                collector.call("UPDATE_ADS", ads=ads[first:first + 1000])
            pool.wait_for_ads("Machine", slot_count)
            log = Path(pool.cfg.get("NEGOTIATOR_LOG"))
            seen = len(CYCLE_LINE.findall(log.read_text())) if log.exists() else 0
            submit_in_process(pool, f"{SLEEP_JOB}request_disk = 1024 + $(Process)\nqueue {jobs}\n")

            def full_cycles() -> list:
                found = CYCLE_LINE.findall(log.read_text())[seen:]
                return [line for line in found if int(line[1]) == jobs]
            wait_until(lambda: len(full_cycles()) >= cycles, 120 + jobs * slot_count / 1e5,
                       f"{cycles} negotiation cycles over {jobs} idle jobs", interval=0.2)
            lines = full_cycles()[:cycles]
    finally:
        startd.close()
    print(f"Negotiation cycle in a real pool ({jobs} idle jobs each its own autocluster, {slot_count} slot ads "
          f"of a stand-in startd that refuses claims; the negotiator's own log):")
    print(f"  {'cycle':>5} {'matches':>8} {'total':>9} {'ads':>9} {'requests':>9} {'(schedd)':>9} "
          f"{'matchmaking':>12} {'send':>9}")
    for number, (matches, _, _, *seconds) in enumerate(lines, 1):
        total, ads_s, requests_s, schedd_s, matching_s, send_s = (f"{float(x) * 1000:.0f} ms" for x in seconds)
        print(f"  {number:5d} {int(matches):8d} {total:>9} {ads_s:>9} {requests_s:>9} {schedd_s:>9} "
              f"{matching_s:>12} {send_s:>9}")
    print("  (ads: the collector query; requests: the schedd's autoclusters (NEGOTIATE), of which the wait for "
          "the schedd's answer; send: MATCHES to the schedd)")


def bench_pool_matching(jobs: int, slot_count: int) -> None:
    """Real pool: one startd with `slot_count` static slots; jobs started per second end to end."""
    with PersonalPool(config={"NUM_CPUS": str(slot_count), **STATIC_SLOTS}, timeout=60) as pool:
        schedd = Client(schedd_address(pool.cfg), timeout=30)
        try:
            steps = submit_in_process(pool, f"{SLEEP_JOB}queue {jobs}\n")
            acked = time.perf_counter()
            first = wait_until(lambda: count_jobs(schedd) >= 1, 60, "a first job running", 0.01)
            filled = wait_until(lambda: count_jobs(schedd) >= slot_count, 120,
                                f"{slot_count} jobs running", 0.01)
        finally:
            remove_all(pool, schedd)
    print(f"Negotiation in a real pool ({jobs} idle /bin/sleep jobs, one startd with {slot_count} static slots):")
    print(f"  SUBMIT of {jobs} jobs acknowledged in {ms(steps['SUBMIT (schedd ack after fsync)'])}")
    print(f"  first job running after {ms(first - acked)}; all {slot_count} slots running after "
          f"{ms(filled - acked)}: {slot_count / (filled - acked):,.1f} jobs started/s "
          f"(match, claim, activate, starter, procd)")


def bench_claim_reuse(jobs: int, slot_count: int) -> None:
    """Short jobs through a few static slots, with claims reused (the default) and without
    (CLAIM_WORKLIFE = 0: every job waits for a negotiation cycle). The negotiator keeps
    HTCondor's own timers here (a cycle every 60 s, and at most one every 5 s on request), as
    a user's pool has them; the other timers are the harness's 1-second ones."""
    print(f"Claim reuse ({jobs} jobs of /bin/true through {slot_count} static slots; "
          f"NEGOTIATOR_INTERVAL = 60, NEGOTIATOR_MIN_INTERVAL = 5, HTCondor's defaults):")
    rates = {}
    for label, worklife in (("reused (CLAIM_WORKLIFE = 1200)", "1200"), ("not reused (CLAIM_WORKLIFE = 0)", "0")):
        config = {"NUM_CPUS": str(slot_count), "CLAIM_WORKLIFE": worklife, "NEGOTIATOR_INTERVAL": "60",
                  "NEGOTIATOR_MIN_INTERVAL": "5", **STATIC_SLOTS}
        with PersonalPool(config=config, timeout=60) as pool:
            schedd = Client(schedd_address(pool.cfg), timeout=30)
            submit_in_process(pool, f"executable = /bin/true\nqueue {jobs}\n")
            acked = time.perf_counter()
            done = wait_until(lambda: not schedd.call("QUERY_JOBS", projection=["JobStatus"])["jobs"],
                              600, f"all {jobs} jobs to complete", 0.02)
        rates[label] = jobs / (done - acked)
        print(f"  {label:32} all done after {done - acked:6.2f} s: {rates[label]:7.1f} jobs completed/s")
    reused, not_reused = rates.values()
    print(f"  claim reuse is x{reused / not_reused:.1f} faster")


def parse_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"want numbers separated by commas, not {text!r}") from None
    if not counts or any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError("counts must be at least 1")
    return counts


SECTIONS = ("submit", "latency", "matchmaking", "cycle", "pool", "reuse")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submit-jobs", type=int, default=10000, help="jobs in the submitted cluster")
    parser.add_argument("--latency-samples", type=int, default=7, help="single-job submits timed")
    parser.add_argument("--match-jobs", type=int, default=10000, help="idle jobs in the in-process cycle")
    parser.add_argument("--slots", "--match-slots", dest="slots", type=parse_counts, default=[1000, 10000],
                        help="unclaimed slot counts of the in-process cycle, e.g. 1000,10000")
    parser.add_argument("--autoclusters", type=parse_counts, default=[1, 100, 10000],
                        help="autocluster counts to try in process, e.g. 1,100")
    parser.add_argument("--pairwise-scans", type=int, default=20000,
                        help="job x slot pairs the pairwise reference is timed on before extrapolating")
    parser.add_argument("--cycle-jobs", type=int, default=10000,
                        help="idle jobs (each its own autocluster) in the real pool's negotiation cycle")
    parser.add_argument("--cycle-slots", type=int, default=1000, help="slot ads in the real pool's cycle")
    parser.add_argument("--pool-jobs", type=int, default=200, help="jobs submitted to the real pool")
    parser.add_argument("--pool-slots", type=int, default=20, help="static slots of the real pool")
    parser.add_argument("--reuse-jobs", type=int, default=200, help="short jobs for the claim-reuse figure")
    parser.add_argument("--reuse-slots", type=int, default=8, help="static slots for the claim-reuse figure")
    parser.add_argument("--only", type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
                        default=list(SECTIONS), help=f"sections to run, of {','.join(SECTIONS)}")
    args = parser.parse_args(argv)
    if min(args.submit_jobs, args.latency_samples, args.match_jobs, args.pairwise_scans, args.cycle_jobs, args.cycle_slots,
           args.pool_jobs, args.pool_slots, args.reuse_jobs, args.reuse_slots) < 1:
        parser.error("every count must be at least 1")
    if args.pool_jobs < args.pool_slots:
        parser.error("--pool-jobs must be at least --pool-slots (the figure is the time to fill every slot)")
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}; sections are {', '.join(SECTIONS)}")
    print(f"host: {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    sections = {"submit": lambda: bench_submit(args.submit_jobs),
                "latency": lambda: bench_latency(args.latency_samples),
                "matchmaking": lambda: bench_matchmaking(args.match_jobs, args.slots, args.autoclusters,
                                                         args.pairwise_scans),
                "cycle": lambda: bench_pool_cycle(args.cycle_jobs, args.cycle_slots),
                "pool": lambda: bench_pool_matching(args.pool_jobs, args.pool_slots),
                "reuse": lambda: bench_claim_reuse(args.reuse_jobs, args.reuse_slots)}
    for name in SECTIONS:
        if name in args.only:
            sections[name]()
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
