"""Symmetric match and Rank agree with classad2 on generated job/slot pairs."""
from hypothesis import given, settings
from hypothesis import strategies as st

from condorsim.shared.classad import parse_ad, rank, symmetric_match

from .reference import classad2

JOB_REQUIREMENTS = [
    'TARGET.Memory >= RequestMemory && TARGET.Arch == "X86_64"',
    "Memory >= RequestMemory",                     # unqualified: job first, then the slot
    "TARGET.Cpus >= RequestCpus && (TARGET.HasGPU =?= true || RequestGPUs == 0)",
    "MY.RequestMemory <= TARGET.Memory * 2",
    "TARGET.Memory > 1000 ? TARGET.Cpus > 1 : false",
    "undefined", "error", '"yes"', "1", "0", "TARGET.Missing", "RequestMemory",
]
SLOT_START = [
    "TARGET.RequestMemory <= Memory", "true", "RequestCpus <= Cpus", "Owner == \"alice\"",
    "TARGET.Owner =!= \"bob\" && KeyboardIdle > 100", "isUndefined(TARGET.RequestGPUs) || TARGET.RequestGPUs <= 0",
    "undefined", "2.5",
]
JOB_RANK = ["TARGET.Memory", "Memory * 2 + Cpus", "TARGET.Arch == \"X86_64\"", '"str"', "undefined",
            "TARGET.Cpus / 0", "-TARGET.Memory", None]


@st.composite
def pairs(draw):
    job = {
        "Owner": f'"{draw(st.sampled_from(["alice", "bob"]))}"',
        "RequestMemory": str(draw(st.sampled_from([128, 1024, 4096]))),
        "RequestCpus": str(draw(st.integers(1, 4))),
        "Requirements": draw(st.sampled_from(JOB_REQUIREMENTS)),
    }
    if draw(st.booleans()):
        job["RequestGPUs"] = str(draw(st.integers(0, 1)))
    job_rank = draw(st.sampled_from(JOB_RANK))
    if job_rank is not None:
        job["Rank"] = job_rank
    slot = {
        "Memory": str(draw(st.sampled_from([512, 1024, 2048, 8192]))),
        "Cpus": str(draw(st.integers(1, 8))),
        "Arch": f'"{draw(st.sampled_from(["X86_64", "aarch64"]))}"',
        "KeyboardIdle": str(draw(st.integers(0, 1000))),
        "Start": draw(st.sampled_from(SLOT_START)),
        "Requirements": "START",
        "Rank": draw(st.sampled_from(["0", "TARGET.RequestMemory", "Owner == \"alice\""])),
    }
    if draw(st.booleans()):
        slot["HasGPU"] = "true"
    as_text = lambda d: "[ " + "; ".join(f"{k} = {v}" for k, v in d.items()) + " ]"  # noqa: E731
    return as_text(job), as_text(slot)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(pairs())
def test_symmetric_match_and_rank_agree_with_classad2(pair):
    job_text, slot_text = pair
    job, slot = parse_ad(job_text), parse_ad(slot_text)
    ref_job, ref_slot = classad2.ClassAd(job_text), classad2.ClassAd(slot_text)
    assert symmetric_match(job, slot) == ref_job.symmetricMatch(ref_slot)
    assert symmetric_match(slot, job) == ref_slot.symmetricMatch(ref_job)
    ref_job = classad2.ClassAd(job_text)
    if "Rank" in ref_job:
        want = ref_job.lookup("Rank").eval(ref_job, classad2.ClassAd(slot_text))
        want = 0.0 if isinstance(want, classad2.Value) or not isinstance(want, (int, float)) else float(want)
        got = rank(job, slot)
        assert got == want or (got != got and want != want)


def test_rank_falls_back_to_the_slot_rank_when_the_job_has_none():
    job = parse_ad("[ RequestMemory = 100 ]")
    slot = parse_ad("[ Rank = TARGET.RequestMemory * 2 ]")
    assert rank(job, slot) == 200.0
    assert rank(parse_ad("[ ]"), parse_ad("[ ]")) == 0.0


def test_missing_requirements_never_match():
    assert not symmetric_match(parse_ad("[ a = 1 ]"), parse_ad("[ Requirements = true ]"))


def test_target_names_resolve_to_the_other_ad_in_a_match():
    job = parse_ad('[ Requirements = other.Name == "s" && TARGET.Name == "s" && MY.Name == "j"; Name = "j" ]')
    slot = parse_ad('[ Requirements = TARGET.Name == "j"; Name = "s" ]')
    assert symmetric_match(job, slot)
