"""Simulated execution (STARTD_SIMULATE_JOBS): claimed slots run no process, and jobs still go
through the whole life cycle with the same tools, events and history as real ones."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from condorsim.scripts.bench_pool import extra_startds_config
from condorsim.shared.pool import wait_until

pytestmark = pytest.mark.timeout(120)

CHECK_USERLOG = Path("/work/shared/reference/check_userlog.py")
SIMULATED = {"STARTD_SIMULATE_JOBS": "True", "NUM_CPUS": "4", "SLOT_TYPE_0_PARTITIONABLE": "FALSE",
             "STARTD_SIMULATED_RUNTIME": "0.3 + random(2) / 10"}


def read_log(log: Path) -> list[dict]:
    """The events of a user log as HTCondor's own reader sees them, after the strict lint."""
    checked = subprocess.run([sys.executable, str(CHECK_USERLOG), str(log), "--strict"],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return json.loads(checked.stdout)


def codes_by_job(events: list[dict]) -> dict[str, list[int]]:
    jobs: dict[str, list[int]] = {}
    for event in events:
        jobs.setdefault(f"{event['cluster']}.{event['proc']}", []).append(event["type_code"])
    return jobs


def job_processes(pool) -> list[str]:
    """Processes of the pool other than its daemons: a simulated job must start none."""
    daemons = {"condor_master", "condor_collector", "condor_negotiator", "condor_schedd", "condor_startd"}
    return [p.name() for p in pool.processes() if p.name() not in daemons]


def test_simulated_jobs_run_no_process_and_log_like_real_ones(pool_factory, tmp_path):
    pool = pool_factory(config=SIMULATED)
    log = tmp_path / "sim.log"
    submit = (f"executable = /bin/sleep\narguments = 600\nlog = {log}\n"
              "+SimulatedRuntime = 2.5\n+SimulatedExitCode = 3\nqueue 2\n"
              "+SimulatedRuntime = undefined\n+SimulatedExitCode = undefined\nqueue 2\n")
    result = pool.run("condor_submit", input=submit)
    assert result.returncode == 0, result.stderr
    running = wait_until(lambda: pool.run("condor_q", "-run", "-af", "ProcId", "RemoteHost").stdout.split("\n")[:-1]
                         or None, timeout=20, message="simulated jobs shown running by condor_q")
    assert all(line.split()[1].startswith("slot") for line in running)
    assert job_processes(pool) == []  # no starter, no procd, no sleep
    wait_until(lambda: pool.run("condor_q", "-allusers", "-af", "ClusterId").stdout == "", timeout=30,
               message="every simulated job to complete")
    history = pool.run("condor_history", "-af", "ProcId", "JobStatus", "ExitCode", "RemoteWallClockTime",
                       "NumJobStarts").stdout.split("\n")[:-1]
    rows = {int(proc): (status, code, float(wall), starts)
            for proc, status, code, wall, starts in (line.split() for line in history)}
    assert sorted(rows) == [0, 1, 2, 3]
    assert all(status == "4" and starts == "1" for status, _, _, starts in rows.values())
    assert [rows[p][1] for p in range(4)] == ["3", "3", "0", "0"]
    assert rows[0][2] >= 2 and rows[1][2] >= 2  # RemoteWallClockTime follows the simulated runtime
    events = read_log(log)
    jobs = codes_by_job(events)
    # 2.5 s jobs get a usage update (006) after a second; the short ones end before any
    assert jobs["1.0"] == jobs["1.1"] == [0, 1, 6, 5]
    assert jobs["1.2"] == jobs["1.3"] == [0, 1, 5]
    exits = {f"{e['cluster']}.{e['proc']}": e.get("ReturnValue") for e in events if e["type_code"] == 5}
    assert exits == {"1.0": 3, "1.1": 3, "1.2": 0, "1.3": 0}
    assert all(e.get("TerminatedNormally") for e in events if e["type_code"] == 5)
    wait_until(lambda: len(pool.query("Machine", 'State == "Unclaimed"')) == 4, timeout=15,
               message="every slot Unclaimed again")


def test_removing_a_simulated_job_aborts_it_and_frees_its_slot(pool_factory, tmp_path):
    pool = pool_factory(config=SIMULATED)
    log = tmp_path / "rm.log"
    result = pool.run("condor_submit", input=f"executable = /bin/true\nlog = {log}\n+SimulatedRuntime = 3600\nqueue\n")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: pool.query("Machine", 'Activity == "Busy"'), timeout=20, message="the job Busy in its slot")
    assert pool.run("condor_rm", "1.0").returncode == 0
    wait_until(lambda: pool.run("condor_q", "-allusers", "-af", "ClusterId").stdout == "", timeout=15,
               message="the removed job to leave the queue")
    assert codes_by_job(read_log(log))["1.0"] == [0, 1, 9]
    wait_until(lambda: len(pool.query("Machine", 'State == "Unclaimed"')) == 4, timeout=15,
               message="its slot Unclaimed again")


def test_two_startds_of_200_slots_finish_2000_jobs(pool_factory, tmp_path):
    config = dict(SIMULATED, NUM_CPUS="200", MEMORY=str(200 * 256), UPDATE_INTERVAL="60")
    pool = pool_factory(config=config, config_d={"90startd_2.config": extra_startds_config(2)})
    pool.wait_for_ads("Machine", 400)
    log = tmp_path / "many.log"
    submit = (f"executable = /bin/true\nlog = {log}\n+SimulatedRuntime = 0.5\nrequest_memory = 128\n"
              "request_disk = 1024\nqueue 2000\n")
    result = pool.run("condor_submit", input=submit)
    assert result.returncode == 0, result.stderr
    wait_until(lambda: log.read_text().count("\n005 (") >= 2000, timeout=90, interval=0.5,
               message="2,000 terminated events")
    # (as in HTCondor, a job reaches the history as it leaves the queue, just after its 005 event)
    history = lambda: pool.run("condor_history", "-af", "RemoteHost", "ExitCode").stdout.split("\n")[:-1]
    wait_until(lambda: len(history()) == 2000, timeout=15, message="2,000 jobs in the history")
    hosts = history()
    assert {line.split()[1] for line in hosts} == {"0"}
    assert len({line.split()[0].split("@", 1)[1] for line in hosts}) == 2  # both startds ran jobs
    assert job_processes(pool) == []
