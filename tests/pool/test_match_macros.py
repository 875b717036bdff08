"""$$(Attr), $$(Attr:default) and $$([expression]) filled in from the matched slot when the job starts."""
from __future__ import annotations

import pytest

from condorsim.daemons.match_macros import expand, next_macro
from condorsim.shared.classad import ClassAd
from condorsim.shared.pool import wait_until

pytestmark = pytest.mark.timeout(120)

STATIC_SLOTS = {"NUM_CPUS": "2", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"}


def job_long(pool, job: str) -> dict[str, str]:
    """condor_q -l JOB as {attribute: expression text}."""
    out = pool.run("condor_q", "-l", job).stdout
    return dict(line.split(" = ", 1) for line in out.splitlines() if " = " in line)


def test_arguments_expand_from_the_slot_and_the_expansions_are_recorded(pool_factory, tmp_path):
    pool = pool_factory(config=STATIC_SLOTS)
    out = tmp_path / "job.out"
    submit = ("executable = /bin/echo\n"
              "arguments = $$(Name) $$(Cpus) $$([Memory * 2]) $$(NoSuchAttr:fallback)\n"
              '+JobDescription = "on $$(Name)"\n'
              f"output = {out}\nleave_in_queue = true\nqueue\n")
    result = pool.run("condor_submit", input=submit)
    assert result.returncode == 0, result.stderr
    wait_until(lambda: out.exists() and out.read_text(), timeout=20, message="the job's output")
    wait_until(lambda: job_long(pool, "1.0").get("JobStatus") == "4", timeout=10, message="the job to complete")
    ad = job_long(pool, "1.0")
    slot = ad["MATCH_Name"].strip('"')
    status = pool.run("condor_status", "-af", "Cpus", "Memory", "-constraint", f'Name == "{slot}"').stdout.split()
    cpus, memory = int(status[0]), int(status[1])
    assert out.read_text() == f"{slot} {cpus} {memory * 2} fallback\n"
    # the queue keeps the job as submitted (unquoted arguments are the old Args syntax); what was used is recorded as HTCondor records it
    assert ad["Args"] == '"$$(Name) $$(Cpus) $$([Memory * 2]) $$(NoSuchAttr:fallback)"'
    assert ad["MATCH_EXP_Args"] == f'"{slot} {cpus} {memory * 2} fallback"'
    assert ad["MATCH_Cpus"] == str(cpus)
    assert ad["MATCH_NoSuchAttr"] == '"fallback"'
    assert ad["MATCH_EXP_JobDescription"] == f'"on {slot}"'
    assert f"(on {slot})" in pool.run("condor_q", "-allusers", "-nobatch").stdout  # condor_q shows it expanded


def test_each_run_expands_again(pool_factory, tmp_path):
    # max_retries runs the job again on its (reused) claim: the queue's Arguments still holds the
    # macros, so every run gets them filled in.
    pool = pool_factory(config=STATIC_SLOTS)
    record = tmp_path / "runs"
    submit = ("executable = /bin/sh\n"
              f"arguments = \"-c 'echo $$(Name) >> {record}; exit 3'\"\n"
              "max_retries = 1\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: record.exists() and len(record.read_text().splitlines()) == 2, timeout=30,
               message="two runs of the job")
    names = record.read_text().split()
    assert all(name.startswith("slot") and "@" in name for name in names), names


def test_a_macro_the_slot_cannot_fill_holds_the_job(pool_factory, tmp_path):
    pool = pool_factory(config=STATIC_SLOTS)
    log = tmp_path / "job.log"
    submit = (f"executable = /bin/echo\narguments = $$(Cpus) $$(NoSuchAttr)\nlog = {log}\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: job_long(pool, "1.0").get("JobStatus") == "5", timeout=20, message="the hold")
    ad = job_long(pool, "1.0")
    assert ad["HoldReason"] == '"Cannot expand $$ expression (NoSuchAttr)."'
    assert ad["HoldReasonCode"] == "0"
    assert "RemoteHost" not in ad and "MATCH_EXP_Args" not in ad
    assert "MATCH_Cpus" in ad  # what was expanded before the failure stays recorded, as in HTCondor
    wait_until(lambda: "012 (001.000.000)" in log.read_text(), timeout=10, message="the held event")
    assert "001 (001.000.000)" not in log.read_text()  # it never started


def test_scanner_and_expressions_as_htcondor():
    job = ClassAd({"RequestMemory": 100, "Owner": "me"})
    slot = ClassAd({"Name": "slot1@host", "Memory": 512, "OpSys": "LINUX"})
    # only $$( starts a macro; $$$( and $(..) do not; the body stops at the first '])'
    assert next_macro("a $(X) $$$(Y) $$(Z:d e) b", 0)[2] == "Z:d e"
    assert next_macro("$$([ a[0] ]) x", 0) == (0, 12, "[ a[0] ]")
    job["Args"] = '$$([Memory - RequestMemory]) $$([OpSys == "LINUX"]) $$([ Owner ]) $$(DOLLARDOLLAR)'
    expansion = expand(job, slot)
    assert expansion.expanded == {"Args": '"412 true me $$"'}
    assert expansion.recorded == {"MATCH_EXP_Args": '"412 true me $$"'}
    job["Args"] = "$$(TARGET.Name)"
    assert expand(job, slot).hold_reason == "Cannot expand $$ expression (TARGET.Name)."
    job["Args"] = "$$([NoSuch])"
    assert expand(job, slot).failed == "[NoSuch]"
