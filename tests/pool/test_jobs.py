"""Issue 5 acceptance: jobs flow through real pools, from condor_submit to the job event log."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from condorsim.shared.protocol import Client
from condorsim.shared.pool import wait_until
from tests.pool.conftest import SEED_SHADOW_STARTD

pytestmark = pytest.mark.timeout(120)

SEED_SUBMIT = ("cmd=/bin/sleep\nargs=1d\nrequirements=IsShadowStartd=!=TRUE\nqueue 8\n"
               "requirements=IsShadowStartd=?=TRUE\nqueue 8\n")


def sleepers(pool) -> list[psutil.Process]:
    return [p for p in pool.processes() if p.name() == "sleep"]


def job_field(pool, attr: str) -> dict[str, str]:
    """condor_q -af ClusterId ProcId attr, as {"C.P": value}."""
    out = pool.run("condor_q", "-allusers", "-af", "ClusterId", "ProcId", attr).stdout
    return {f"{c}.{p}": v for c, p, v in (line.split(" ", 2) for line in out.splitlines() if line)}


def events(log: Path) -> list[tuple[str, str]]:
    """(event number, job id) of each event in a user log, in order."""
    found = []
    for line in log.read_text().splitlines():
        if line[:3].isdigit() and line[3:5] == " (":
            found.append((line[:3], line[5:16]))
    return found


@pytest.mark.parametrize("slots", [4, 8])
def test_seed_scenario_sixteen_jobs_on_two_startds(pool_factory, slots):
    # The seed ran all 16 sleeps at once: 8 slots per startd. The configuration verbatim
    # (NUM_CPUS = 4, static slots) gives 4 slots per startd, so 4 + 4 jobs run and 8 wait; with the
    # slots overprovisioned to 8 per startd (NUM_SLOTS = 8) all 16 run, as in the seed.
    config = {"NUM_CPUS": "4", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"}
    if slots == 8:
        config["NUM_SLOTS"] = "8"
    pool = pool_factory(config=config, config_d={"31shadow_startd.config": SEED_SHADOW_STARTD})
    host = pool.cfg.get("FULL_HOSTNAME")
    result = pool.run("condor_submit", input=SEED_SUBMIT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Submitting job(s)................\n16 job(s) submitted to cluster 1.\n"
    running = [f"1.{p}" for p in range(slots)] + [f"1.{p}" for p in range(8, 8 + slots)]
    wait_until(lambda: len(sleepers(pool)) == 2 * slots, timeout=20, message="the running sleep processes")
    wait_until(lambda: sorted(j for j, s in job_field(pool, "JobStatus").items() if s == "2") == sorted(running),
               timeout=10, message="the first jobs of each half Running in condor_q")
    assert len(job_field(pool, "JobStatus")) == 16
    hosts = job_field(pool, "RemoteHost")
    assert {hosts[f"1.{p}"] for p in range(slots)} == {f"slot{n}@{host}" for n in range(1, slots + 1)}
    assert {hosts[f"1.{p}"] for p in range(8, 8 + slots)} == \
        {f"slot{n}@SHADOW_STARTD@{host}" for n in range(1, slots + 1)}
    run = pool.run("condor_q", "-run")
    assert run.returncode == 0
    assert sum(1 for line in run.stdout.splitlines() if "@SHADOW_STARTD@" in line) == slots
    processes = sleepers(pool)
    result = pool.run("condor_rm", "1")
    assert result.returncode == 0, result.stderr
    assert "All jobs in cluster 1 have been marked for removal" in result.stdout
    gone, alive = psutil.wait_procs(processes, timeout=15)
    assert not alive
    wait_until(lambda: pool.run("condor_q", "-allusers", "-af", "ClusterId").stdout == "", timeout=15,
               message="the removed jobs to leave the queue")
    wait_until(lambda: len(pool.query("Machine", 'State == "Unclaimed" && Activity == "Idle"')) == 2 * slots,
               timeout=10, message="every slot Unclaimed/Idle again")


def test_periodic_hold_kills_the_job_and_release_runs_it_again(pool_factory, tmp_path):
    # The schedd also holds idle jobs whose PeriodicHold is true, as HTCondor does; a 3 s interval
    # gives the released job time to be matched and started before the next evaluation holds it.
    personal_pool = pool_factory(config={"PERIODIC_EXPR_INTERVAL": "3"})
    log = tmp_path / "job.log"
    submit = (f"executable = /bin/sleep\narguments = 1d\nlog = {log}\n"
              "periodic_hold = (time() - JobStartDate) >= 2\nqueue\n")
    assert personal_pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: len(sleepers(personal_pool)) == 1, timeout=10, message="the job to start")
    process = sleepers(personal_pool)[0]
    wait_until(lambda: job_field(personal_pool, "JobStatus").get("1.0") == "5", timeout=15,
               message="the periodic hold")
    assert job_field(personal_pool, "HoldReason")["1.0"] == \
        "The job attribute PeriodicHold expression '(time() - JobStartDate) >= 2' evaluated to TRUE"
    assert job_field(personal_pool, "HoldReasonCode")["1.0"] == "3"
    assert job_field(personal_pool, "NumHoldsByReason")["1.0"] == "[ JobPolicy = 1 ]"
    psutil.wait_procs([process], timeout=10)
    assert not process.is_running()
    wait_until(lambda: ("012", "001.000.000") in events(log), timeout=10, message="event 012")
    assert "\tCode 3 Subcode 0" in log.read_text()
    result = personal_pool.run("condor_release", "1.0")
    assert result.returncode == 0 and "Job 1.0 released" in result.stdout
    wait_until(lambda: events(log)[events(log).index(("013", "001.000.000")):][1:2] == [("001", "001.000.000")]
               if ("013", "001.000.000") in events(log) else False,
               timeout=15, message="a new execute event after the release")
    numbers = [number for number, _ in events(log) if number != "006"]  # image size updates may come any time
    assert numbers[:4] == ["000", "001", "012", "013"] and numbers[4] == "001"


def test_schedd_killed_with_jobs_queued_and_running(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "2"})
    assert pool.run("condor_submit", input="cmd=/bin/sleep\nargs=1d\nqueue 3\n").returncode == 0
    wait_until(lambda: sorted(job_field(pool, "JobStatus").values()) == ["1", "2", "2"], timeout=15,
               message="two running jobs and one idle")
    old = Client(pool.master_address).call("CHILDREN")["children"]["SCHEDD"]["pid"]
    os.kill(old, signal.SIGKILL)
    wait_until(lambda: Client(pool.master_address).call("CHILDREN")["children"]["SCHEDD"]["address"]
               and Client(pool.master_address).call("CHILDREN")["children"]["SCHEDD"]["pid"] != old,
               timeout=20, message="the master to restart the schedd")
    wait_until(lambda: sorted(job_field(pool, "JobStatus").values()) == ["1", "2", "2"], timeout=20,
               message="the queue to run two jobs again after the restart")
    assert sorted(job_field(pool, "JobStatus")) == ["1.0", "1.1", "1.2"]
    wait_until(lambda: len(sleepers(pool)) == 2, timeout=10, message="exactly two sleep processes")
    assert pool.run("condor_submit", input="cmd=/bin/true\nqueue\n").stdout.endswith("submitted to cluster 2.\n")


def test_user_log_read_by_htcondor(personal_pool, tmp_path):
    import htcondor2
    log = tmp_path / "exit3.log"
    submit = f"executable = /bin/sh\narguments = \"-c 'exit 3'\"\nlog = {log}\nqueue\n"
    assert personal_pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: ("005", "001.000.000") in events(log), timeout=15, message="the terminated event")
    read = list(htcondor2.JobEventLog(str(log)).events(stop_after=0))
    kinds = [event.type for event in read]
    assert kinds == [htcondor2.JobEventType.SUBMIT, htcondor2.JobEventType.EXECUTE,
                     htcondor2.JobEventType.JOB_TERMINATED]
    terminated = read[-1]
    assert terminated["TerminatedNormally"] is True
    assert terminated["ReturnValue"] == 3
    assert (terminated.cluster, terminated.proc) == (1, 0)


def test_usage_updates_reach_the_queue_and_the_log(personal_pool, tmp_path):
    import htcondor2
    log = tmp_path / "usage.log"
    submit = f"executable = /bin/sleep\narguments = 3\nlog = {log}\nqueue\n"
    assert personal_pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: ("006", "001.000.000") in events(log), timeout=15, message="an image size event")
    assert int(job_field(personal_pool, "MemoryUsage")["1.0"]) >= 1
    assert int(job_field(personal_pool, "ResidentSetSize")["1.0"]) > 0
    wait_until(lambda: ("005", "001.000.000") in events(log), timeout=15, message="the job to finish")
    read = list(htcondor2.JobEventLog(str(log)).events(stop_after=0))
    kinds = [event.type for event in read]
    assert kinds[:3] == [htcondor2.JobEventType.SUBMIT, htcondor2.JobEventType.EXECUTE,
                         htcondor2.JobEventType.IMAGE_SIZE]
    assert kinds[-1] == htcondor2.JobEventType.JOB_TERMINATED
    assert read[2]["Size"] > 0 and read[2]["MemoryUsage"] >= 1


def test_arguments_and_environment_reach_the_job_intact(personal_pool, tmp_path):
    out = tmp_path / "args.out"
    submit = ("executable = /bin/sh\n"
              """arguments = "-c 'printf %s/%s/%s ""$0"" ""$1"" ""$MYVAR""' back\\slash 'two words'"\n"""
              """environment = "MYVAR='x y\\z'"\n"""
              f"output = {out}\nqueue\n")
    result = personal_pool.run("condor_submit", input=submit)
    assert result.returncode == 0, result.stderr
    wait_until(lambda: out.exists() and out.read_text(), timeout=15, message="the job's output")
    assert out.read_text() == "back\\slash/two words/x y\\z"
