"""Issue 13: condor_rm -forcex, condor_wait, condor_qedit, condor_prio, condor_vacate_job,
condor_suspend / condor_continue with HTCondor's messages and exit codes, on a real pool."""
from __future__ import annotations

import subprocess

import psutil
import pytest

from condorsim.shared.pool import wait_until
from tests.pool.test_jobs import events, job_field, sleepers

pytestmark = pytest.mark.timeout(150)


def run(pool, *argv: str) -> tuple[int, str, str]:
    result = pool.run(*argv)
    return result.returncode, result.stdout, result.stderr


def test_suspend_continue_vacate_and_forcex(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "2"})
    log = tmp_path / "jobs.log"
    submit = f"executable = /bin/sleep\narguments = 600\nlog = {log}\nleave_in_queue = true\nqueue 2\n"
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: job_field(pool, "JobStatus") == {"1.0": "2", "1.1": "2"} and len(sleepers(pool)) == 2,
               timeout=30, message="both jobs running")
    assert run(pool, "condor_suspend", "1.0") == (0, "Job 1.0 suspended\n", "")
    wait_until(lambda: any(p.status() == psutil.STATUS_STOPPED for p in sleepers(pool)), timeout=10,
               message="the job's process stopped")
    assert job_field(pool, "JobStatus")["1.0"] == "7"
    code, out, err = run(pool, "condor_suspend", "1.0")
    assert (code, out) == (1, "") and err.endswith("Job 1.0 already suspended\n")
    assert run(pool, "condor_continue", "1.0") == (0, "Job 1.0 continued\n", "")
    assert job_field(pool, "JobStatus")["1.0"] == "2"
    assert all(p.status() != psutil.STATUS_STOPPED for p in sleepers(pool))
    code, out, err = run(pool, "condor_continue", "1.0")
    assert code == 1 and err.endswith("Job 1.0 already running\n")
    numbers = [n for n, job in events(log) if job == "001.000.000"]
    assert "010" in numbers and "011" in numbers
    assert "\tNumber of processes actually suspended: 1\n" in log.read_text()
    # condor_vacate_job: the job goes back to Idle, then runs again
    assert run(pool, "condor_vacate_job", "1.1") == (0, "Job 1.1 vacated\n", "")
    wait_until(lambda: job_field(pool, "NumJobStarts").get("1.1") == "2", timeout=30, message="1.1 running again")
    assert ("004", "001.001.000") in events(log)
    code, out, err = run(pool, "condor_vacate_job", "-fast", "1.1")
    assert (code, out) == (0, "Job 1.1 fast-vacated\n")
    # condor_rm leaves a leave_in_queue job in X; -forcex takes it out at once
    code, out, err = run(pool, "condor_rm", "-forcex", "1.0")
    assert code == 1 and err.endswith("Job 1.0 not in `X' state to be forcibly removed\n")
    assert run(pool, "condor_rm", "1.0") == (0, "Job 1.0 marked for removal\n", "")
    wait_until(lambda: job_field(pool, "JobStatus").get("1.0") == "3" and ("009", "001.000.000") in events(log),
               timeout=20, message="1.0 removed but kept in X")
    assert run(pool, "condor_rm", "-forcex", "1.0") == (0, "Job 1.0 removed locally (remote state unknown)\n", "")
    assert "1.0" not in job_field(pool, "JobStatus")
    code, out, err = run(pool, "condor_rm", "-forcex", "1.0")
    assert code == 1 and err.endswith("Job 1.0 not found\n")
    assert run(pool, "condor_rm", "1.1")[0] == 0
    code, out, err = run(pool, "condor_rm", "-forcex", "1")
    assert (code, out) == (0, "All jobs in cluster 1 have been removed locally (remote state unknown)\n")
    wait_until(lambda: pool.run("condor_q", "-af", "ClusterId").stdout == "", timeout=20, message="an empty queue")
    assert pool.run("condor_history", "-af", "ClusterId", "ProcId", "JobStatus").stdout.split("\n")[:2] == \
        ["1 1 3", "1 0 3"]


def test_qedit_prio_and_wait(pool_factory, tmp_path):
    pool = pool_factory()
    log = tmp_path / "wait.log"
    assert pool.run("condor_submit", input=f"executable = /bin/true\nlog = {log}\nhold = true\nqueue 2\n").returncode == 0
    assert run(pool, "condor_qedit", "1", "Foo", '"bar"', "Num=3") == \
        (0, 'Set attribute "Foo" for 2 matching jobs.\nSet attribute "Num" for 2 matching jobs.\n', "")
    assert job_field(pool, "Foo") == {"1.0": "bar", "1.1": "bar"} and job_field(pool, "Num")["1.1"] == "3"
    assert run(pool, "condor_qedit", "1.1", "Num", "Num + 1")[0] == 0
    assert pool.run("condor_q", "1.1", "-af:r", "Num").stdout == "Num + 1\n"
    code, out, err = run(pool, "condor_qedit", "1.7", "Foo", "1")
    assert (code, out) == (1, "") and err == ('Failed to set attribute "Foo" for job 1.7.\n'
                                              "Queue transaction failed.  No attributes were set.\n")
    code, out, err = run(pool, "condor_qedit", "1.0", "Foo", "(")
    assert code == 1 and err.startswith("Update aborted, illegal value for : Foo\n")
    assert job_field(pool, "Foo")["1.0"] == "bar"
    assert run(pool, "condor_qedit", "-constraint", "ProcId == 0", "Foo", '"x"') == \
        (0, 'Set attribute "Foo" for 1 matching jobs.\n', "")
    assert run(pool, "condor_prio", "-p", "7", "1.0") == (0, "", "")
    assert run(pool, "condor_prio", "+3", "1") == (0, "", "")
    assert job_field(pool, "JobPrio") == {"1.0": "10", "1.1": "3"}
    code, out, err = run(pool, "condor_prio", "1")
    assert code == 1 and err.startswith("You must specify a new priority or priority adjustment.\n")
    # condor_wait: times out while the jobs are held, then reports them done
    assert run(pool, "condor_wait", "-wait", "1", str(log)) == (1, "Time expired.\n", "")
    waiting = subprocess.Popen(["condor_wait", "-status", str(log), "1.1"], env=pool.env, stdout=subprocess.PIPE,
                               text=True)
    assert pool.run("condor_release", "1").returncode == 0
    out, _ = waiting.communicate(timeout=30)
    assert waiting.returncode == 0
    lines = out.splitlines()
    assert lines[0] == "1.1.0 submitted" and lines[-2:] == ["1.1.0 completed", "All jobs done."]
    assert any(line.startswith("1.1.0 executing on host <") for line in lines)
    wait_until(lambda: pool.run("condor_q", "-af", "ClusterId").stdout == "", timeout=20, message="both done")
    assert run(pool, "condor_wait", str(log)) == (0, "All jobs done.\n", "")
    assert run(pool, "condor_wait", "-num", "1", str(log)) == (0, "Specifed number of jobs (1) done.\n", "")
    code, out, err = run(pool, "condor_wait", str(tmp_path / "missing.log"))
    assert code == 1 and err == f"Couldn't open {tmp_path / 'missing.log'}: No such file or directory\n"
