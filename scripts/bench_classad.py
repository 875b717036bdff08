"""Benchmark: a typical job Requirements matched against 10,000 slot ads, this engine vs classad2.

Prints evaluations per second for both engines in the same run and the ratio (ours / classad2).
classad2 (HTCondor's own bindings) is a dev/test dependency; it is imported only here."""
from __future__ import annotations

import random
import time

from condorsim.shared.classad import parse_ad, symmetric_match

JOB = """[
  RequestMemory = 1024; RequestCpus = 1; RequestDisk = 100000; Owner = "alice";
  Requirements = (TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk)
                 && (TARGET.Memory >= RequestMemory) && (TARGET.Cpus >= RequestCpus) && (TARGET.HasFileTransfer);
  Rank = TARGET.Memory
]"""
SLOT_ATTRS = ("Arch", "OpSys", "Disk", "Memory", "Cpus", "HasFileTransfer", "Start", "Requirements")
N_SLOTS = 10_000


def slot_text(rng: random.Random, i: int) -> str:
    return (f'[ Name = "slot{i}@host{i // 8}"; Arch = "{rng.choice(["X86_64", "X86_64", "aarch64"])}"; '
            f'OpSys = "LINUX"; Disk = {rng.randrange(10_000, 10_000_000)}; Memory = {rng.choice([512, 1024, 2048, 4096])}; '
            f'Cpus = {rng.choice([1, 2, 4])}; HasFileTransfer = true; '
            f'Start = TARGET.RequestMemory <= Memory; Requirements = START ]')


def rate(label: str, fn, slots, repeat: int = 3) -> tuple[float, int]:
    best = float("inf")
    matched = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        matched = fn(slots)
        best = min(best, time.perf_counter() - t0)
    per_sec = len(slots) / best
    print(f"{label:<32} {per_sec:>12,.0f} evaluations/s   ({matched} of {len(slots)} match)")
    return per_sec, matched


def main() -> None:
    rng = random.Random(42)
    texts = [slot_text(rng, i) for i in range(N_SLOTS)]

    job = parse_ad(JOB)
    slots = [parse_ad(t) for t in texts]
    requirements = job.lookup("Requirements")

    def ours_requirements(slots):
        return sum(1 for s in slots if requirements.eval(job, s) is True)

    def ours_match(slots):
        return sum(1 for s in slots if symmetric_match(job, s))

    import htcondor2  # noqa: F401  (first, so classad2 uses the daemons' semantics)
    import classad2
    ref_job = classad2.ClassAd(JOB)
    ref_slots = [classad2.ClassAd(t) for t in texts]
    ref_requirements = ref_job.lookup("Requirements")

    def ref_requirements_eval(slots):
        return sum(1 for s in slots if ref_requirements.eval(ref_job, s) is True)

    def ref_match(slots):
        return sum(1 for s in slots if ref_job.symmetricMatch(s))

    print(f"job Requirements: {requirements}")
    ours_r, m1 = rate("ours: Requirements.eval", ours_requirements, slots)
    ref_r, m2 = rate("classad2: Requirements.eval", ref_requirements_eval, ref_slots)
    ours_m, m3 = rate("ours: symmetric_match", ours_match, slots)
    ref_m, m4 = rate("classad2: symmetricMatch", ref_match, ref_slots)
    if (m1, m3) != (m2, m4):
        print(f"WARNING: results differ: ours {m1}/{m3}, classad2 {m2}/{m4}")
    print(f"ratio (ours / classad2): Requirements {ours_r / ref_r:.2f}, symmetric match {ours_m / ref_m:.2f}")


if __name__ == "__main__":
    main()
