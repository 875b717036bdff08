"""Benchmark: this ClassAd engine against classad2 (HTCondor's own bindings), in the same run.

    python -m condorsim.scripts.bench_classad [--slots N] [--job-ads N]

Prints, each with its classad2 figure and the ratio ours / classad2 (above 1.0: we are faster):
- a typical job Requirements, and the symmetric match, against N slot ads;
- parsing N job ads from old-style text (``Name = value`` lines, as condor_q -l prints them);
- the wire form: a job ad received as attribute -> expression text (ClassAd.from_wire; classad2
  parses the same attributes as old-style lines) and sent back (to_wire / printOld);
- a constraint (``Owner == "alice" && JobStatus == 1 && RequestMemory >= 2048``) over N job ads, one
  eval_constraint call per ad and one filter_ads scan (classad2: ExprTree.eval per ad).

The parse caches are emptied before each run, so repeated values help only within the run as
they would in a stream of ads. The machine is shared: times are this process's CPU time (both
engines run in it, single-threaded), so time spent waiting for a core counts for neither; ours
and classad2 take turns, best of 3 for the evaluation figures. classad2 is a dev/test
dependency, imported only here."""
from __future__ import annotations

import argparse
import random
import time

from condorsim.shared.classad import ClassAd, eval_constraint, filter_ads, parse_ad, parse_expr, symmetric_match
from condorsim.shared.classad import expr as expr_module
from condorsim.shared.classad import textforms

JOB = """[
  RequestMemory = 1024; RequestCpus = 1; RequestDisk = 100000; Owner = "alice";
  Requirements = (TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk)
                 && (TARGET.Memory >= RequestMemory) && (TARGET.Cpus >= RequestCpus) && (TARGET.HasFileTransfer);
  Rank = TARGET.Memory
]"""
CONSTRAINT = 'Owner == "alice" && JobStatus == 1 && RequestMemory >= 2048'
OWNERS = ("alice", "bob", "carol", "dave", "erin")


def slot_text(rng: random.Random, i: int) -> str:
    return (f'[ Name = "slot{i}@host{i // 8}"; Arch = "{rng.choice(["X86_64", "X86_64", "aarch64"])}"; '
            f'OpSys = "LINUX"; Disk = {rng.randrange(10_000, 10_000_000)}; Memory = {rng.choice([512, 1024, 2048, 4096])}; '
            f'Cpus = {rng.choice([1, 2, 4])}; HasFileTransfer = true; '
            f'Start = TARGET.RequestMemory <= Memory; Requirements = START ]')


def job_wire(rng: random.Random, cluster: int, proc: int) -> dict[str, str]:
    """A job ad as the schedd holds it (about 60 attributes, a few unique to the job)."""
    owner = OWNERS[cluster % len(OWNERS)]
    qdate = 1_764_000_000 + cluster * 7
    return {
        "ClusterId": str(cluster), "ProcId": str(proc), "Owner": f'"{owner}"', "User": f'"{owner}@example.org"',
        "GlobalJobId": f'"submit.example.org#{cluster}.{proc}#{qdate}"', "QDate": str(qdate),
        "JobStatus": str(rng.choice([1, 1, 1, 2, 5])), "JobPrio": "0", "JobUniverse": "5",
        "Cmd": '"/usr/bin/python3"', "Arguments": f'"analyze.py --chunk {proc} --seed {rng.randrange(1 << 30)}"',
        "Iwd": f'"/home/{owner}/work/run{cluster}"', "Out": f'"out.{cluster}.{proc}"', "Err": f'"err.{cluster}.{proc}"',
        "UserLog": f'"/home/{owner}/work/run{cluster}/job.log"', "RequestMemory": str(rng.choice([512, 1024, 2048, 4096])),
        "RequestCpus": "1", "RequestDisk": "DiskUsage", "DiskUsage": str(rng.randrange(1, 100_000)),
        "ImageSize": str(rng.randrange(1, 100_000)),
        "Requirements": '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk) '
                        '&& (TARGET.Memory >= RequestMemory) && (TARGET.HasFileTransfer)',
        "Rank": "0.0", "NumJobStarts": "0", "NumRestarts": "0", "NumShadowStarts": "0", "ExitStatus": "0",
        "CompletionDate": "0", "EnteredCurrentStatus": str(qdate + rng.randrange(1000)), "JobNotification": "0",
        "LeaveJobInQueue": "false", "OnExitRemove": "true", "PeriodicHold": "false", "PeriodicRelease": "false",
        "PeriodicRemove": "(JobStatus == 5) && (time() - EnteredCurrentStatus > 86400)",
        "ShouldTransferFiles": '"YES"', "WhenToTransferOutput": '"ON_EXIT"', "TransferIn": "false",
        "MaxHosts": "1", "MinHosts": "1", "CurrentHosts": "0", "CoreSize": "0", "WantRemoteSyscalls": "false",
        "WantCheckpoint": "false", "RemoteUserCpu": "0.0", "RemoteSysCpu": "0.0", "CumulativeSlotTime": "0",
        "JobLeaseDuration": "2400", "StreamOut": "false", "StreamErr": "false", "Environment": '""',
        "In": '"/dev/null"', "MyType": '"Job"', "TargetType": '"Machine"', "NiceUser": "false",
        "BufferSize": "524288", "BufferBlockSize": "32768", "CommittedTime": "0", "LastSuspensionTime": "0",
        "TotalSuspensions": "0", "AutoClusterAttrs": '"RequestMemory,RequestCpus,Requirements"',
        "JobBatchName": f'"run{cluster}"', "SubmitEventNotes": f'"{proc}"',
    }


def timed(fn, items):
    """(CPU seconds, result) of one run."""
    t0 = time.process_time()
    result = fn(items)
    return time.process_time() - t0, result


def compare(label: str, unit: str, ours, ref, items, ref_items=None, repeat: int = 1):
    """Print both rates (best of ``repeat`` runs, ours and classad2 taking turns so that a
    change in the machine's load hits both) and the ratio; return (ratio, our result,
    classad2's result). ``ours`` runs over ``items``, ``ref`` over ``ref_items`` (the same data
    in classad2's form). The parse caches are emptied before each of our runs."""
    t_ours = t_ref = float("inf")
    for _ in range(repeat):
        expr_module._CACHE.clear()
        textforms._OLD_CACHE.clear()
        t, r_ours = timed(ours, items)
        t_ours = min(t_ours, t)
        t, r_ref = timed(ref, items if ref_items is None else ref_items)
        t_ref = min(t_ref, t)
    n = len(items)
    ratio = t_ref / t_ours
    print(f"{label:<34} ours {n / t_ours:>12,.0f} {unit}/s   classad2 {n / t_ref:>12,.0f} {unit}/s   "
          f"ratio {ratio:.2f}")
    return ratio, r_ours, r_ref


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slots", type=int, default=10_000, help="slot ads for the Requirements/match runs")
    ap.add_argument("--job-ads", type=int, default=100_000, help="job ads for the parse and constraint runs")
    args = ap.parse_args()

    import htcondor2  # noqa: F401  (first, so classad2 uses the daemons' semantics)
    import classad2

    rng = random.Random(42)
    texts = [slot_text(rng, i) for i in range(args.slots)]
    job, slots = parse_ad(JOB), [parse_ad(t) for t in texts]
    ref_job, ref_slots = classad2.ClassAd(JOB), [classad2.ClassAd(t) for t in texts]
    requirements, ref_requirements = job.lookup("Requirements"), ref_job.lookup("Requirements")
    print(f"job Requirements: {requirements}")
    print(f"Against {args.slots:,} slot ads (best of 3):")
    req, m1, m2 = compare("Requirements.eval", "evaluations",
                          lambda ss: sum(1 for s in ss if requirements.eval(job, s) is True),
                          lambda ss: sum(1 for s in ss if ref_requirements.eval(ref_job, s) is True),
                          slots, ref_slots, 3)
    sym, m3, m4 = compare("symmetric match", "evaluations",
                          lambda ss: sum(1 for s in ss if symmetric_match(job, s)),
                          lambda ss: sum(1 for s in ss if ref_job.symmetricMatch(s)), slots, ref_slots, 3)
    if (m1, m3) != (m2, m4):
        print(f"WARNING: results differ: ours {m1}/{m3}, classad2 {m2}/{m4}")

    wires = [job_wire(rng, 100 + i // 100, i % 100) for i in range(args.job_ads)]
    olds = ["".join(f"{name} = {text}\n" for name, text in w.items()) for w in wires]
    print(f"\nJob ads: {args.job_ads:,} of {len(wires[0])} attributes each:")
    old, ads, ref_ads = compare("parse old-style text", "ads", lambda ts: [parse_ad(t) for t in ts],
                                lambda ts: [classad2.parseOne(t, classad2.ParserType.Old) for t in ts], olds)
    wire_in, ads, _ = compare(
        "wire form in (from_wire)", "ads", lambda ws: [ClassAd.from_wire(w) for w in ws],
        lambda ws: [classad2.parseOne("\n".join(f"{n} = {t}" for n, t in w.items()), classad2.ParserType.Old)
                    for w in ws], wires)
    wire_out, out, _ = compare("wire form out (to_wire/printOld)", "ads", lambda a: [x.to_wire() for x in a],
                               lambda a: [x.printOld() for x in a], ads, ref_ads)
    if any(differ(r, a) for r, a in ((ref_ads[0], ads[0]), (ref_ads[-1], ads[-1]))) \
            or out[-1] != {n: str(parse_expr(t)) for n, t in wires[-1].items()}:
        print("WARNING: parsed ads differ")
    constraint, ref_constraint = parse_expr(CONSTRAINT), classad2.ExprTree(CONSTRAINT)
    scan, c1, c2 = compare("constraint scan (eval_constraint)", "ads", lambda a: sum(1 for x in a if eval_constraint(constraint, x)),
                           lambda a: sum(1 for x in a if ref_constraint.eval(x) is True), ads, ref_ads, 3)
    scan_all, c3, _ = compare("constraint scan (filter_ads)", "ads", lambda a: sum(1 for _ in filter_ads(constraint, a)),
                              lambda a: sum(1 for x in a if ref_constraint.eval(x) is True), ads, ref_ads, 3)
    print(f"  constraint: {CONSTRAINT}  ({c1:,} match; classad2 {c2:,})")
    if not c1 == c2 == c3:
        print("WARNING: constraint results differ")
    print(f"\nratio (ours / classad2): Requirements {req:.2f}, symmetric match {sym:.2f}, old-style parse {old:.2f}, "
          f"wire in {wire_in:.2f}, wire out {wire_out:.2f}, constraint scan {scan:.2f} (filter_ads {scan_all:.2f})")


def differ(ref_ad, ad) -> bool:
    """True when classad2's ad and ours disagree on any attribute's value (undefined as None)."""
    def plain(v):
        return v if type(v) in (int, float, str, bool) else None
    return len(ref_ad) != len(ad) or any(plain(ref_ad.eval(name)) != plain(ad.eval(name)) for name in ad)


if __name__ == "__main__":
    main()
