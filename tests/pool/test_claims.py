"""Issue 8: claims outlive their jobs (reuse), and running jobs outlive a schedd restart (reconnect)
or a startd crash (requeue)."""
from __future__ import annotations

import os
import signal

import psutil
import pytest

from condorsim.shared.protocol import Client, CommunicationError
from condorsim.shared.pool import wait_until
from tests.pool.test_jobs import events, job_field


def sleepers(pool) -> list[psutil.Process]:
    found = []
    for process in pool.processes():
        try:
            if process.name() == "sleep":
                found.append(process)
        except psutil.Error:
            continue  # ended while we looked
    return found

pytestmark = pytest.mark.timeout(120)

STATIC = {"SLOT_TYPE_0_PARTITIONABLE": "FALSE"}


def daemon_pid(pool, name: str) -> int:
    """The pid of one of the pool's daemons, checked to be a process of this pool before anyone
    signals it."""
    pid = Client(pool.master_address).call("CHILDREN")["children"][name]["pid"]
    assert pid in {process.pid for process in pool.processes()}
    return pid


def kill_daemon(pool, name: str) -> int:
    pid = daemon_pid(pool, name)
    os.kill(pid, signal.SIGKILL)
    return pid


def wait_restarted(pool, name: str, old_pid: int) -> None:
    def restarted():
        try:
            child = Client(pool.master_address, timeout=20).call("CHILDREN")["children"][name]
        except CommunicationError:
            return False
        return child["pid"] not in (None, old_pid) and child["address"]
    wait_until(restarted, timeout=30, message=f"the master to restart the {name}")


def sleeping_jobs(pool_factory, log, jobs: int, config: dict | None = None, submit: str = ""):
    """A pool of `jobs` static slots running as many `sleep 1d` jobs that log to `log`, returned
    with the sleep processes once every job has started."""
    pool = pool_factory(config={"NUM_CPUS": str(jobs), **STATIC, **(config or {})})
    assert pool.run("condor_submit", input=f"executable = /bin/sleep\narguments = 1d\nlog = {log}\n{submit}"
                                           f"queue {jobs}\n").returncode == 0
    wait_until(lambda: len(sleepers(pool)) == jobs and sorted(job_field(pool, "NumJobStarts").values()) == ["1"] * jobs,
               timeout=30, message=f"{jobs} job(s) running")
    return pool, sleepers(pool)


def claim_ids(pool, jobs: int) -> list[str]:
    """The ClaimId each job ran under, once all `jobs` have completed (one query: no race)."""
    def completed():
        rows = [line.split() for line in pool.run("condor_q", "-af", "JobStatus", "ClaimId").stdout.splitlines()]
        return len(rows) == jobs and all(row[0] == "4" for row in rows) and [row[1] for row in rows]
    return wait_until(completed, timeout=30, message=f"{jobs} completed jobs",
                      show=lambda: pool.run("condor_q", "-nobatch").stdout)


def test_a_claim_runs_the_owners_next_jobs_until_its_worklife_is_over(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "1", **STATIC})
    log = tmp_path / "reuse.log"
    submit = f"executable = /bin/true\n+LeaveJobInQueue = True\nlog = {log}\nqueue 4\n"
    assert pool.run("condor_submit", input=submit).returncode == 0
    claims = claim_ids(pool, 4)
    assert len(set(claims)) == 1  # one claim ran all four jobs
    numbers = [number for number, _ in events(log) if number in ("001", "005")]
    assert numbers == ["001", "005"] * 4
    schedd_log = (pool.dir / "local" / "log" / "SchedLog").read_text()
    assert schedd_log.count("Reusing the claim on") == 3

    pool = pool_factory(config={"NUM_CPUS": "1", "CLAIM_WORKLIFE": "0", **STATIC})
    assert pool.run("condor_submit", input="executable = /bin/true\n+LeaveJobInQueue = True\nqueue 3\n").returncode == 0
    assert len(set(claim_ids(pool, 3))) == 3  # a worklife of 0: one job per claim


def test_a_claim_is_not_reused_for_a_job_the_slot_does_not_match(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "1", **STATIC})
    submit = ("executable = /bin/true\n+LeaveJobInQueue = True\nqueue\n"
              "request_memory = 100000000\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: job_field(pool, "JobStatus") == {"1.0": "4", "1.1": "1"}, timeout=30,
               message="the first job done, the second one idle")
    wait_until(lambda: pool.query("Machine", 'State == "Unclaimed"'), timeout=10,
               message="the claim released when nothing else fits")


def test_running_jobs_survive_a_schedd_restart(pool_factory, tmp_path):
    log = tmp_path / "reconnect.log"
    pool, processes = sleeping_jobs(pool_factory, log, 8)
    pids = sorted(process.pid for process in processes)

    wait_restarted(pool, "SCHEDD", kill_daemon(pool, "SCHEDD"))
    wait_until(lambda: sum(1 for number, _ in events(log) if number == "023") == 8, timeout=30,
               message="8 reconnect events", show=lambda: log.read_text())
    assert sorted(job_field(pool, "JobStatus").values()) == ["2"] * 8
    assert sorted(process.pid for process in sleepers(pool)) == pids  # the same processes, none started twice
    assert sorted(job_field(pool, "NumShadowStarts").values()) == ["1"] * 8
    numbers = [number for number, _ in events(log)]
    assert numbers.count("001") == 8 and numbers.count("022") == 8 and "004" not in numbers
    import htcondor2
    kinds = [event.type for event in htcondor2.JobEventLog(str(log)).events(stop_after=0)]
    assert kinds.count(htcondor2.JobEventType.JOB_DISCONNECTED) == 8
    assert kinds.count(htcondor2.JobEventType.JOB_RECONNECTED) == 8

    # The reconnected jobs are watched as before: removing them kills them.
    assert pool.run("condor_rm", "1").returncode == 0
    gone, alive = psutil.wait_procs(processes, timeout=15)
    assert not alive
    wait_until(lambda: sum(1 for number, _ in events(log) if number == "009") == 8, timeout=15,
               message="8 abort events")


def test_a_job_that_ends_while_the_schedd_is_down_is_reported_to_its_successor(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "1", **STATIC})
    log = tmp_path / "late.log"
    go = tmp_path / "go"
    submit = (f"executable = /bin/sh\narguments = \"-c 'while [ ! -e {go} ]; do sleep 0.05; done; exit 7'\"\n"
              f"log = {log}\n+LeaveJobInQueue = True\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: job_field(pool, "NumJobStarts") == {"1.0": "1"}, timeout=30, message="the job running")
    schedd = daemon_pid(pool, "SCHEDD")
    os.kill(schedd, signal.SIGSTOP)  # the schedd stops answering: the job's exit cannot reach it
    go.touch()
    starter_log = pool.dir / "local" / "log" / "StarterLog"
    wait_until(lambda: "Keeping the exit of job 1.0" in starter_log.read_text(), timeout=20,
               message="the starter to keep the exit report")
    os.kill(schedd, signal.SIGKILL)
    wait_restarted(pool, "SCHEDD", schedd)
    wait_until(lambda: job_field(pool, "ExitCode") == {"1.0": "7"}, timeout=30,
               message="the exit reported to the new schedd", show=lambda: log.read_text())
    numbers = [number for number, _ in events(log) if number != "006"]
    assert numbers == ["000", "001", "022", "023", "005"]


def test_a_killed_startds_jobs_are_requeued_and_run_again(pool_factory, tmp_path):
    log = tmp_path / "startd.log"
    pool, first = sleeping_jobs(pool_factory, log, 2)
    wait_restarted(pool, "STARTD", kill_daemon(pool, "STARTD"))
    gone, alive = psutil.wait_procs(first, timeout=10)
    assert not alive  # nothing of the jobs survives their startd
    wait_until(lambda: sum(1 for number, _ in events(log) if number == "004") == 2, timeout=20,
               message="2 evicted events")
    wait_until(lambda: len(sleepers(pool)) == 2 and sorted(job_field(pool, "NumJobStarts").values()) == ["2", "2"],
               timeout=30, message="both jobs running again on the restarted startd")
    assert not {p.pid for p in first} & {p.pid for p in sleepers(pool)}


def test_a_claim_without_keep_alives_is_given_up_and_its_job_requeued(pool_factory, tmp_path):
    # A schedd that stops answering sends no keep-alives: after ALIVE_INTERVAL x
    # MAX_CLAIM_ALIVES_MISSED the startd gives the claim up and kills the job; the schedd's
    # successor finds the claim gone (024) and runs the job again.
    log = tmp_path / "alive.log"
    pool, first = sleeping_jobs(pool_factory, log, 1, {"ALIVE_INTERVAL": "1", "MAX_CLAIM_ALIVES_MISSED": "2"})
    schedd = daemon_pid(pool, "SCHEDD")
    os.kill(schedd, signal.SIGSTOP)
    gone, alive = psutil.wait_procs(first, timeout=15)
    assert not alive
    assert "no keep-alive from the schedd" in (pool.dir / "local" / "log" / "StartLog").read_text()
    os.kill(schedd, signal.SIGKILL)
    wait_restarted(pool, "SCHEDD", schedd)
    wait_until(lambda: len(sleepers(pool)) == 1 and [n for n, _ in events(log)].count("001") == 2, timeout=30,
               message="the job running again")
    numbers = [number for number, _ in events(log) if number != "006"]
    assert numbers[:5] == ["000", "001", "022", "024", "001"]
    assert "Claim not found at execution machine" in log.read_text()


def test_a_job_whose_startd_stays_silent_is_requeued_when_its_lease_expires(pool_factory, tmp_path):
    log = tmp_path / "lease.log"
    pool, _ = sleeping_jobs(pool_factory, log, 1, submit="+JobLeaseDuration = 3\n")
    startd = daemon_pid(pool, "STARTD")
    os.kill(startd, signal.SIGSTOP)  # alive, but answering nobody
    try:
        wait_restarted(pool, "SCHEDD", kill_daemon(pool, "SCHEDD"))
        wait_until(lambda: "024 (" in log.read_text(), timeout=30, message="the reconnect to fail")
        assert "Job disconnected too long: JobLeaseDuration (3 seconds) expired" in log.read_text()
        wait_until(lambda: job_field(pool, "JobStatus") == {"1.0": "1"}, timeout=10, message="the job idle again")
    finally:
        os.kill(startd, signal.SIGCONT)
    wait_until(lambda: [n for n, _ in events(log)].count("001") == 2, timeout=30, message="the job running again")


def test_a_killed_starters_job_is_killed_before_it_runs_again(pool_factory, tmp_path):
    log = tmp_path / "starter.log"
    pool, (job,) = sleeping_jobs(pool_factory, log, 1)
    starter = job.parent()
    assert starter.name().startswith("condor_starter") and starter in pool.processes()
    starter.kill()
    gone, alive = psutil.wait_procs([job], timeout=10)
    assert not alive  # the startd had the procd kill the job its starter left behind
    wait_until(lambda: len(sleepers(pool)) == 1 and [n for n, _ in events(log)].count("001") == 2, timeout=30,
               message="the job running again, once")
    assert "004" in [n for n, _ in events(log)]
    assert "killed 1 process(es) its starter left behind" in (pool.dir / "local" / "log" / "StartLog").read_text()
