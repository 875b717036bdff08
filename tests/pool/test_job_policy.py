"""Issue 5: job policy, process families, fair share and failures, through real pools."""
from __future__ import annotations

import os
import stat

import psutil
import pytest

from condorsim.shared.pool import wait_until
from tests.pool.test_jobs import events, job_field, sleepers

pytestmark = pytest.mark.timeout(120)


def test_removal_kills_grandchildren_that_left_the_session(personal_pool, tmp_path):
    script = tmp_path / "spawner.sh"
    script.write_text("#!/bin/sh\nsetsid sleep 1001 &\n( sleep 1002 & )\nexec sleep 1003\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    assert personal_pool.run("condor_submit", input=f"executable = {script}\nqueue\n").returncode == 0
    family = wait_until(lambda: len(sleepers(personal_pool)) == 3 and sleepers(personal_pool), timeout=15,
                        message="the job and its two escaped grandchildren")
    sessions = {p.pid: os.getsid(p.pid) for p in family}
    assert len(set(sessions.values())) >= 2  # one of them really is in a session of its own
    assert personal_pool.run("condor_rm", "1.0").returncode == 0
    gone, alive = psutil.wait_procs(family, timeout=15)
    assert not alive, f"left running: {[p.cmdline() for p in alive]}"


def test_hold_at_submit_then_periodic_release_and_periodic_remove(pool_factory, tmp_path):
    pool = pool_factory(config={"PERIODIC_EXPR_INTERVAL": "1"})
    log = tmp_path / "policy.log"
    submit = (f"executable = /bin/sleep\narguments = 1d\nlog = {log}\nhold = true\n"
              "periodic_release = NumHolds >= 0 && (time() - EnteredCurrentStatus) >= 3\n"
              "periodic_remove = NumJobStarts >= 1\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    assert job_field(pool, "HoldReasonCode") == {"1.0": "15"}
    assert job_field(pool, "HoldReason") == {"1.0": "submitted on hold at user's request"}
    wait_until(lambda: ("009", "001.000.000") in events(log), timeout=20,
               message="release by policy, a run, then removal by policy")
    numbers = [number for number, _ in events(log)]
    assert numbers[:2] == ["000", "013"] and "001" in numbers and numbers[-1] == "009"
    text = log.read_text()
    assert "The job attribute PeriodicRelease expression" in text
    assert "The job attribute PeriodicRemove expression 'NumJobStarts >= 1' evaluated to TRUE" in text
    wait_until(lambda: not sleepers(pool), timeout=10, message="the removed job's process to be gone")
    assert pool.run("condor_q", "-af", "ClusterId").stdout == ""


def test_fair_share_between_two_submitters(pool_factory):
    # Both users' jobs become idle at the same moment (submitted on hold, then released together),
    # so one negotiation cycle sees both submitters with equal priority: each gets half the slots.
    pool = pool_factory(config={"NUM_CPUS": "2", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"})
    for user in ("alice", "bob"):
        result = pool.run("condor_submit", input="cmd=/bin/sleep\nargs=1d\nhold=true\nqueue 4\n",
                          env={"USER": user, "LOGNAME": user})
        assert result.returncode == 0, result.stderr
    assert pool.run("condor_release", "-all").returncode == 0
    wait_until(lambda: len(sleepers(pool)) == 2, timeout=15, message="both slots busy")
    owners = pool.run("condor_q", "-allusers", "-af", "Owner", "JobStatus").stdout.split("\n")
    running = sorted(line.split()[0] for line in owners if line.endswith(" 2"))
    assert running == ["alice", "bob"]
    submitters = sorted(ad.eval("Name").split("@")[0] for ad in pool.query("Submitter"))
    assert submitters == ["alice", "bob"]


def test_missing_command_at_run_time_holds_the_job(personal_pool, tmp_path):
    program = tmp_path / "vanishing.sh"
    program.write_text("#!/bin/sh\nexit 0\n")
    program.chmod(0o755)
    log = tmp_path / "missing.log"
    submit = f"executable = {program}\nlog = {log}\nhold = true\nqueue\n"
    assert personal_pool.run("condor_submit", input=submit).returncode == 0
    program.unlink()
    assert personal_pool.run("condor_release", "1").returncode == 0
    wait_until(lambda: job_field(personal_pool, "HoldReasonCode").get("1.0") == "6", timeout=15,
               message="the job to be held for its missing command")
    reason = job_field(personal_pool, "HoldReason")["1.0"]
    assert reason.startswith("Error from slot1_1@") and f"Failed to execute '{program}'" in reason
    assert "Code 6 Subcode 2" in log.read_text()
    wait_until(lambda: len(personal_pool.query("Machine", 'State == "Unclaimed"')) ==
               len(personal_pool.query("Machine")), timeout=10, message="the slot to be free again")


def test_startd_shutdown_evicts_running_job_back_to_idle(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "1"})
    log = tmp_path / "evict.log"
    assert pool.run("condor_submit", input=f"cmd=/bin/sleep\nargs=1d\nlog={log}\nqueue\n").returncode == 0
    wait_until(lambda: job_field(pool, "JobStatus") == {"1.0": "2"}, timeout=15, message="the job to run")
    assert pool.run("condor_off", "-daemon", "STARTD").returncode == 0
    wait_until(lambda: ("004", "001.000.000") in events(log), timeout=15, message="the eviction event")
    wait_until(lambda: job_field(pool, "JobStatus") == {"1.0": "1"}, timeout=10, message="the job to be idle")
    assert job_field(pool, "LastRemoteHost")["1.0"].startswith("slot1_1@")
    assert not sleepers(pool)
    assert pool.run("condor_on", "-daemon", "STARTD").returncode == 0
    wait_until(lambda: job_field(pool, "JobStatus") == {"1.0": "2"}, timeout=20, message="the job to run again")
