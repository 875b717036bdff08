"""The analysis behind condor_q -better-analyze, on hand-made slot ads: static and
partitionable slots, clause numbering and folding, HTCondor's line breaking."""
from condorsim.scripts.job_analysis import (analyse_clauses, analyse_job, count_matches,
                                            numbered_clauses, pretty_expression, reduction_table)
from condorsim.shared.classad import ClassAd


def job(requirements: str, memory: int = 100) -> ClassAd:
    ad = ClassAd({"ClusterId": 3, "ProcId": 0, "JobStatus": 1, "RequestMemory": memory,
                  "RequestCpus": 1, "JobUniverse": 5})
    ad.set_expr("Requirements", requirements)
    return ad


def slot(name: str, memory: int, machine: str = "h1", **extra) -> ClassAd:
    ad = ClassAd({"Name": name, "Machine": machine, "Memory": memory, "Cpus": 1, "Arch": "X86_64",
                  "OpSys": "LINUX", **extra})
    ad.set_expr("Requirements", "START && WithinResourceLimits")
    ad.set_expr("START", "true")
    ad.set_expr("WithinResourceLimits", "TARGET.RequestMemory <= MY.Memory")
    return ad


def test_clauses_are_numbered_in_evaluation_order():
    ad = job('(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Memory >= RequestMemory)')
    assert numbered_clauses(ad, "Requirements") == (
        '    [0]    : TARGET.Arch == "X86_64"\n'
        '    [1]    : TARGET.OpSys == "LINUX"\n'
        '    [2]    : [0] && [1]\n'
        '    [3]    : TARGET.Memory >= RequestMemory\n'
        '    [4]    : [2] && [3]\n')


def test_and_steps_fold_into_the_clause_that_decides():
    ad = job('(TARGET.Arch == "X86_64") && (TARGET.Memory >= RequestMemory)', memory=500)
    slots = [slot("slot1@h1", 1000), slot("slot2@h1", 100)]
    table = reduction_table(analyse_clauses(ad, "Requirements", slots), "Slot")
    # the && matches what its memory clause matches: the arch clause (matching more) decides
    # nothing and is left out, as HTCondor leaves it out
    assert table == ("        Slots\nStep   Matched  Condition\n----- --------- ---------\n"
                     "[1]           1  TARGET.Memory >= RequestMemory\n")


def test_an_or_with_a_side_matching_everything_is_that_side():
    ad = job("(TARGET.Memory > 1) || (TARGET.Memory > 5000)")
    clauses = analyse_clauses(ad, "Requirements", [slot("s1", 10), slot("s2", 20)])
    assert reduction_table(clauses, "Slot").splitlines()[3:] == ["[0]           2  TARGET.Memory > 1"]


def test_constant_clauses_print_always_or_never():
    ad = job("(MY.RequestCpus > 0) && (TARGET.Memory > 1)")
    lines = reduction_table(analyse_clauses(ad, "Requirements", [slot("s1", 10)]), "Slot").splitlines()
    assert lines[3:] == ["[1]           1  TARGET.Memory > 1"]
    ad = job("(MY.RequestCpus > 5) || (TARGET.Memory > 1)")
    lines = reduction_table(analyse_clauses(ad, "Requirements", [slot("s1", 10)]), "Slot").splitlines()
    assert lines[3:] == ["[1]           1  TARGET.Memory > 1"]


def test_partitionable_slots_are_one_offer_and_dynamic_slots_are_skipped():
    pslot = slot("slot1@h1", 3000, PartitionableSlot=True, SlotType="Partitionable")
    dslot = slot("slot1_1@h1", 1000, DynamicSlot=True, RemoteUser="bob@h1")
    other = slot("slot1@h2", 500, machine="h2", PartitionableSlot=True)
    counts = count_matches(job("TARGET.Memory >= RequestMemory", memory=2000), [pslot, dslot, other], "alice")
    assert (counts.slots, counts.machines, counts.rejected_by_job, counts.willing) == (2, 2, 1, 1)
    out = analyse_job(job("TARGET.Memory >= RequestMemory", memory=2000), [pslot, dslot, other], True)
    assert "Of 2 slots on 2 machines," in out and "      1 slots match and are willing to run your job\n" in out


def test_static_slots_running_jobs_are_counted_by_user():
    slots = [slot("slot1@h1", 1000, RemoteUser="alice@h1"), slot("slot2@h1", 1000, RemoteUser="bob@h1"),
             slot("slot3@h1", 1000)]
    out = analyse_job(job("TARGET.Memory >= RequestMemory"), slots, False, "alice")
    assert ("      1 slots match and are already running your jobs\n"
            "      1 slots match but are serving other users\n"
            "      1 slots match and are willing to run your job\n") in out
    assert "reduces to these conditions" not in out          # -analyze: nothing rejected it


def test_pretty_expression_breaks_after_and_or_at_80_columns():
    text = " && ".join(f"(TARGET.Attribute{n} == MY.Attribute{n})" for n in range(5))
    lines = pretty_expression(text).split("\n")
    # the caller has printed 4 blanks; a line is broken at the last && before column 80
    # (a line of exactly 80 characters stays whole)
    assert lines == ["(TARGET.Attribute0 == MY.Attribute0) &&",
                     "    (TARGET.Attribute1 == MY.Attribute1) &&",
                     "    (TARGET.Attribute2 == MY.Attribute2) &&",
                     "    (TARGET.Attribute3 == MY.Attribute3) && (TARGET.Attribute4 == MY.Attribute4)"]
    short = "(TARGET.A == 1) && (TARGET.B == 2)"
    assert pretty_expression(short) == short
