"""The indexed Matchmaker chooses exactly the slots the plain pairwise one does: same jobs, same
slots, same order, same rejections, over whole negotiation cycles with several submitters."""
from __future__ import annotations

import random

import pytest

from condorsim.daemons.concurrency import Limits
from condorsim.daemons.matchmaker import Cycle, Matchmaker, Submitter, ranked_candidates, references
from condorsim.daemons.negotiator import POST_JOB_RANK, PRE_JOB_RANK
from condorsim.shared.classad import ClassAd, parse_ad, parse_expr

JOB_REQUIREMENTS = [
    'TARGET.Memory >= RequestMemory && TARGET.Arch == "X86_64"',
    "Memory >= RequestMemory",  # unqualified: the job first, then the slot
    "TARGET.Cpus >= RequestCpus && (TARGET.HasGPU =?= true || RequestGPUs == 0)",
    "MY.RequestMemory <= TARGET.Memory * 2 || TARGET.Cpus >= 4",
    "TARGET.Memory > 1000 ? TARGET.Cpus > 1 : false",
    "TARGET.Disk >= RequestDisk && TARGET.Memory <= 2048",
    'TARGET.Arch == "aarch64" || TARGET.KFlops >= 500',
    "TARGET.Missing =?= undefined && TARGET.SlotID <= 3",
    "TARGET.Owner =!= Owner",
    "undefined", "true", "RequestMemory", "TARGET.Memory >= RequestMemory && random(1) == 0",
    'eval("TARGET.Cpus") >= RequestCpus', "TARGET.SlotID == 2 || TARGET.SlotID == 5",
]
SLOT_START = [
    "TARGET.RequestMemory <= Memory", "true", "RequestCpus <= Cpus", 'Owner == "alice"',
    'TARGET.Owner =!= "bob" && KeyboardIdle > 100', "isUndefined(TARGET.RequestGPUs) || TARGET.RequestGPUs <= 0",
    "undefined", "TARGET.JobPrio >= 0", "time() > 0", "TARGET.RequestDisk =?= undefined || TARGET.RequestDisk < Disk",
]
JOB_RANK = [None, None, "0.0", "TARGET.Memory", "Memory * 2 + Cpus", 'TARGET.Arch == "X86_64"', '"str"',
            "TARGET.Cpus / 0", "-TARGET.Memory", "TARGET.KFlops", 'TARGET.Memory * real("NaN")']
SLOT_RANK = [None, "0.0", "TARGET.RequestMemory", 'Owner == "alice"', "TARGET.JobPrio"]
KNOBS = [(PRE_JOB_RANK, POST_JOB_RANK)] * 4 + [
    ("", ""), ("TARGET.RequestMemory - Memory", "SlotID"), ("Cpus", ""), ("", "KFlops"), ("MY.Rank", "random(1)")]
WITHIN_LIMITS = ("MY.Cpus > 0 && TARGET.RequestCpus <= MY.Cpus && MY.Memory > 0 && "
                 "TARGET.RequestMemory <= MY.Memory && MY.Disk > 0 && TARGET.RequestDisk <= MY.Disk")


def ad(attrs: dict) -> ClassAd:
    return parse_ad("[ " + "; ".join(f"{k} = {v}" for k, v in attrs.items() if v is not None) + " ]")


def random_slot(rng: random.Random, slot_id: int) -> ClassAd:
    partitionable = rng.random() < 0.3
    attrs = {"Memory": rng.choice([512, 1024, 2048]), "Cpus": rng.choice([1, 2, 4]),
             "Disk": rng.choice([1000, 100000]), "Arch": f'"{rng.choice(["X86_64", "aarch64"])}"',
             "SlotID": slot_id, "KeyboardIdle": rng.choice([0, 500]), "Start": rng.choice(SLOT_START),
             "Rank": rng.choice(SLOT_RANK), "State": '"Unclaimed"', "Name": f'"slot{slot_id}@host"',
             "KFlops": rng.choice([None, 400, 900]), "HasGPU": rng.choice([None, "true", "false"]),
             "RemoteOwner": rng.choice([None, None, '"carol"'])}
    if partitionable:
        attrs.update(SlotType='"Partitionable"', PartitionableSlot="true", WithinResourceLimits=WITHIN_LIMITS,
                     Requirements="START && WithinResourceLimits")
    else:
        attrs["Requirements"] = rng.choice(["START", "START", "START && TARGET.RequestCpus <= Cpus"])
    return ad(attrs)


def random_job(rng: random.Random, owner: str) -> ClassAd:
    return ad({"Owner": f'"{owner}"', "RequestMemory": rng.choice([128, 1024, 2048]),
               "RequestCpus": rng.choice([1, 2]), "RequestDisk": rng.choice([None, 10, 5000]),
               "RequestGPUs": rng.choice([None, 0, 1]), "JobPrio": rng.choice([None, 0, -5]),
               "Requirements": rng.choice(JOB_REQUIREMENTS), "Rank": rng.choice(JOB_RANK),
               "ConcurrencyLimits": rng.choice([None, None, '"lic"'])})


def random_case(rng: random.Random) -> dict:
    slots = [random_slot(rng, i % 6 + 1) for i in range(rng.randint(1, 10))]
    for _ in range(rng.randint(0, 4)):  # slots alike (the classes the indexed matcher forms)
        slots.insert(rng.randrange(len(slots) + 1), rng.choice(slots).copy())
    names = ["alice@pool", "bob@pool", "nice-user.carol@pool"][:rng.randint(1, 3)]
    requests = {}
    for name in names:
        owner = name.split("@")[0].split(".")[-1]
        jobs = [random_job(rng, owner) for _ in range(rng.randint(1, 4))]
        requests[name] = [(rng.choice(jobs[:i + 1]).copy() if rng.random() < 0.2 else jobs[i],
                           [f"{n}.{p}" for p in range(rng.randint(1, 3))]) for n, i in enumerate(range(len(jobs)))]
    return {"slots": slots, "requests": requests, "knobs": rng.choice(KNOBS),
            "running": {name: rng.randint(0, 3) for name in names},
            "usage": {name: rng.choice([0.0, 2.5]) for name in names}, "limit": rng.choice([None, "1", "2"])}


def run_cycle(matchmaker: Matchmaker, case: dict) -> tuple:
    pre, post = (parse_expr(text) if text else None for text in case["knobs"])
    matchmaker.set_ranks(pre, post)
    pending = {name: Submitter(name, f"<schedd-{name}>", [(job, list(ids)) for job, ids in requests],
                               case["running"][name]) for name, requests in case["requests"].items()}
    knobs = {"LIC_LIMIT": case["limit"]}
    cycle = Cycle(matchmaker, case["slots"], dict(case["usage"]), Limits(knobs.get, {}))
    matches = cycle.run(pending)
    return (cycle.assigned, {name: s.rejections for name, s in pending.items()}, cycle.usage,
            {schedd: [m["job"] for m in sent] for schedd, sent in matches.items()})


def test_indexed_and_pairwise_matchmakers_choose_the_same_slots_in_1000_cycles():
    rng = random.Random(11)
    indexed = Matchmaker(None, None)  # one for every cycle: its memo carries over, as in the negotiator
    for number in range(1000):
        case = random_case(rng)
        want = run_cycle(Matchmaker(None, None, naive=True), case)
        got = run_cycle(indexed, case)
        assert got == want, f"cycle {number}: {case}"
    # every path ran: the plain one (impure jobs, NaN ranks), the cycle's orders of classes, and
    # slots evaluated on their own (impure ones) merged into those orders
    stats = indexed.stats
    assert min(stats["plain"], stats["ordered"], stats["direct"], stats["memo hits"]) > 100


def test_slots_alike_form_one_class_and_an_impure_slot_stands_alone():
    slot = parse_ad('[ Memory = 1024; Cpus = 1; Requirements = TARGET.RequestMemory <= Memory; Name = "a"; Rank = 0 ]')
    other = slot.copy()
    other["Name"] = "b"  # nothing reads Name: the same class
    bigger = slot.copy()
    bigger["Memory"] = 2048
    impure = slot.copy()
    impure.set_expr("Requirements", "time() > 0")
    job = parse_ad("[ RequestMemory = 100; Requirements = TARGET.Memory >= RequestMemory ]")
    matchmaker = Matchmaker(parse_expr(PRE_JOB_RANK), parse_expr(POST_JOB_RANK))
    matchmaker.prepare([slot, other, bigger, impure], [job])
    assert [c.indices for c in matchmaker.classes] == [[0, 1], [2], [3]]
    assert matchmaker.classes[2].direct
    free = {0, 1, 2, 3}
    candidates = matchmaker.candidates(job, free)
    order = []
    while (index := candidates.first(free)) is not None:
        order.append(index)
        free.discard(index)
    assert order == [0, 1, 3, 2]  # PRE_JOB_RANK prefers less memory; ties keep slot order
    assert order == ranked_candidates(job, matchmaker.slots, {0, 1, 2, 3}, matchmaker.pre_rank, matchmaker.post_rank)


def test_a_second_cycle_over_the_same_ads_evaluates_nothing():
    slots = [parse_ad(f"[ Memory = {m}; Cpus = 1; SlotID = {i}; Requirements = true ]")
             for i, m in enumerate([1024, 2048] * 4)]
    jobs = [parse_ad(f"[ RequestMemory = {r}; Requirements = TARGET.Memory >= RequestMemory ]") for r in (100, 1500)]
    matchmaker = Matchmaker(parse_expr(PRE_JOB_RANK), parse_expr(POST_JOB_RANK))
    for cycle in range(2):
        evaluated = matchmaker.stats["evaluations"]
        matchmaker.prepare([slot.copy() for slot in slots], jobs)
        for job in jobs:
            matchmaker.candidates(job, set(range(len(slots))))
        if cycle:
            assert matchmaker.stats["evaluations"] == evaluated


@pytest.mark.parametrize("text, refs", [
    ("TARGET.Memory >= RequestMemory", {(2, "memory"), (0, "requestmemory")}),
    ("MY.Cpus > 0 && foo.bar", {(1, "cpus"), (0, "foo")}),
    ('eval("Memory") > 0', None), ("time() > 0", None), ("CurrentTime > 0", None), (".Memory", None),
    ("LEFT.Memory > 0", None), ("MY.TARGET", None),
])
def test_references_name_what_an_expression_reads_or_none_when_impure(text, refs):
    assert references(parse_expr(text)) == (None if refs is None else frozenset(refs))
