"""condor_q's analysis and query options against a live pool of four static slots (issue 14)."""
from __future__ import annotations

import getpass
import json
import re

import pytest

from condorsim.shared.pool import PersonalPool, wait_until

pytestmark = pytest.mark.timeout(120)
USER = getpass.getuser()


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    directory = tmp_path_factory.mktemp("q_pool")
    pool = PersonalPool(config={"NUM_CPUS": "4", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"},
                        directory=str(directory))
    with pool:
        log = directory / "jobs.log"
        for text in (f"executable = /bin/sleep\narguments = 300\nrequest_memory = 100GB\nlog = {log}\nqueue\n",
                     f"executable = /bin/sleep\narguments = 300\nhold = true\nlog = {log}\nqueue 2\n"):
            result = pool.run("condor_submit", input=text)
            assert result.returncode == 0, result.stderr
        wait_until(lambda: len(pool.query("Machine")) == 4, timeout=30)
        pool.log = log
        yield pool


def q(pool, *args: str) -> str:
    result = pool.run("condor_q", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_better_analyze_names_the_memory_clause_and_the_slots_it_rejects(pool):
    out = q(pool, "-better-analyze", "1.0")
    assert re.search(r"^-- Schedd: .* : <127\.0\.0\.1:\d+\?\.\.\.$", out, re.M)
    assert "The Requirements expression for job 1.000 is\n\n    (TARGET.Arch" in out
    assert "Job 1.000 defines the following attributes:\n\n" in out
    assert "    RequestMemory = 102400\n" in out
    assert "The Requirements expression for job 1.000 reduces to these conditions:\n\n" \
           "        Slots\nStep   Matched  Condition\n----- --------- ---------\n" in out
    assert re.search(r"^\[\d+\] +0  TARGET\.Memory >= RequestMemory$", out, re.M)
    assert "001.000:  Run analysis summary ignoring user priority.  Of 4 slots on 1 machines,\n" \
           "      4 slots are rejected by your job's requirements\n" \
           "      0 slots reject your job because of their own requirements\n" \
           "      0 slots match and are willing to run your job\n" in out
    assert "\nWARNING:  Be advised:\n   No machines matched the job's constraints\n" in out


def test_better_analyze_of_a_matching_job_counts_the_matching_slots(pool):
    out = q(pool, "-better-analyze", "2.1")
    assert "      4 slots match and are willing to run your job\n" in out
    assert re.search(r"^\[\d+\] +4  TARGET\.Memory >= RequestMemory$", out, re.M)
    assert "002.001:  Job is held.\n\nHold reason: submitted on hold at user's request\n" in out
    assert "WARNING" not in out


def test_analyze_explains_only_rejected_jobs(pool):
    out = q(pool, "-analyze", "2.0")
    assert "reduces to these conditions" not in out and "4 slots match and are willing" in out
    assert "reduces to these conditions" in q(pool, "-analyze", "1")


def test_reverse_analysis_of_one_slot(pool):
    name = sorted(ad.eval("Name") for ad in pool.query("Machine"))[0]
    out = q(pool, "-better-analyze:reverse", "-machine", name, "1.0")
    assert f"-- Slot: {name} : Analyzing matches for 1 Jobs in 1 autoclusters\n" in out
    assert "\nThe Requirements expression for this slot is\n\n    START && WithinResourceLimits\n\n" \
           "  START is\n    " in out
    assert "The Requirements expression for this slot reduces to these conditions:\n\n" \
           "         Jobs\nStep   Matched  Condition\n" in out
    assert re.search(r"TARGET\.RequestMemory <= MY\.Memory", out)
    assert out.endswith(f"\n{name}: Run analysis summary of 1 jobs.\n"
                        "    0 (0.00 %) match both slot and job requirements.\n"
                        "    0 match the requirements of this slot.\n"
                        "    0 have job requirements that match this slot.\n")
    table = q(pool, "-better-analyze:reverse", "2.0")
    assert "2.0: Analyzing matches for 1 job\n" in table
    assert re.search(r"^slot1@\S+ +Stat +1 +1 +100\.00$", table, re.M)


def test_unmatchable_totals_limit_and_version(pool):
    assert q(pool, "-unmatchable", "-af", "ClusterId", "ProcId") == "1 0\n"
    totals = q(pool, "-totals")
    assert re.fullmatch(r"\n\n-- Schedd: .*\nTotal for query: 3 jobs; 0 completed, 0 removed, 1 idle, "
                        r"0 running, 2 held, 0 suspended \n.*\n\n", totals, re.S)
    assert len(q(pool, "-limit", "2", "-nobatch").splitlines()) == len(q(pool, "-nobatch").splitlines()) - 1
    assert q(pool, "-version").startswith("$CondorVersion: ") and "condorsim" in q(pool, "-version")


def test_status_views_restrict_ad_output_in_any_order(pool):
    assert q(pool, "-hold", "-af", "ClusterId", "ProcId") == "2 0\n2 1\n"
    assert q(pool, "-run", "-long") == ""
    held = [json.loads(q(pool, "-hold", "-json", "-attributes", "ProcId,JobStatus"))]
    assert held == [[{"JobStatus": 5, "ProcId": 0}, {"JobStatus": 5, "ProcId": 1}]]
    def body(text: str) -> list[str]:        # the title's clock may tick between the two
        return text.splitlines()[3:]
    assert body(q(pool, "-hold", "-nobatch")) == body(q(pool, "-nobatch", "-hold"))
    assert "HOLD_REASON" in q(pool, "-nobatch", "-hold")
    assert q(pool, USER, "1", "-af", "ClusterId") == "1\n"
    assert q(pool, "nobody", "1", "-af", "ClusterId") == ""


def test_idle_hold_codes_autocluster_io_cputime(pool):
    idle = q(pool, "-idle").splitlines()
    assert idle[3].split() == ["ID", "OWNER", "UNIVERSE", "CPUS", "MEMORY", "STARTS", "LAST_HOST"]
    assert idle[4].split()[:6] == ["1.0", USER[:14], "Vanilla", "1", "102400", "0"]
    codes = q(pool, "-hold-codes").splitlines()
    assert codes[3].split()[:5] == ["OWNER", "CODE/SUB", "COUNT", "OLDEST_JOB_ID", "HELD_SINCE"]
    assert codes[4].split()[:4] == [USER[:14], "15/0", "2", "2.0"]
    auto = q(pool, "-autocluster").splitlines()
    assert auto[3].split()[:6] == ["ID", "COUNT", "UNIVERSE", "CPUS", "MEMORY", "DISK"]
    assert sorted(line.split()[1] for line in auto[4:]) == ["1", "2"]
    assert "    CPU_TIME" in q(pool, "-nobatch", "-cputime")
    assert " INPUT  OUTPUT" in q(pool, "-io")


def test_global_submitter_and_userlog(pool):
    everywhere = q(pool, "-global", "-nobatch")
    assert re.search(r"^-- Schedd: .* @ ", everywhere, re.M) and " 1.0 " in everywhere
    mine = q(pool, "-submitter", USER, "-nobatch")
    assert re.search(rf"^-- Submitter: {USER} : <127\.0\.0\.1:\d+\?\.\.\. : ", mine, re.M)
    assert "   2.1 " in mine
    from_log = q(pool, "-userlog", str(pool.log), "-nobatch")
    assert f"-- Userlog: {pool.log}" in from_log
    assert [line.split()[0] for line in from_log.splitlines() if re.match(r"\s+\d+\.\d", line)] == \
           ["1.0", "2.0", "2.1"]
