"""Issue 13: a job's lifecycle policy (retries, exit codes, on-exit hold, durations, vacate, GPUs,
accounting groups) through a real pool."""
from __future__ import annotations

from pathlib import Path

import pytest

from condorsim.shared.pool import wait_until
from tests.pool.test_jobs import events, job_field

pytestmark = pytest.mark.timeout(150)


def history_of(pool, job: str, *attrs: str) -> list[str]:
    result = pool.run("condor_history", job, "-af", *attrs)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_retries_exit_codes_and_on_exit_hold(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "4"})
    log = tmp_path / "retry.log"
    submit = (f"log = {log}\nexecutable = /bin/false\nmax_retries = 2\nqueue\n"
              "executable = /bin/sh\narguments = \"-c 'exit 3'\"\nmax_retries = 5\nsuccess_exit_code = 3\nqueue\n"
              "max_retries =\nsuccess_exit_code =\narguments = \"-c 'exit 4'\"\non_exit_hold = ExitCode != 0\n"
              'on_exit_hold_reason = strcat("exit code ", ExitCode)\non_exit_hold_subcode = 42\nqueue\n'
              "on_exit_hold =\non_exit_remove = NumJobCompletions >= 2\narguments = \"-c 'exit 0'\"\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: job_field(pool, "JobStatus") == {"1.2": "5"}, timeout=60,
               message="1.0, 1.1 and 1.3 to finish and 1.2 to be held")
    # max_retries = 2 on /bin/false: three runs, then it leaves with the last exit code
    assert [n for n, job in events(log) if job == "001.000.000" and n in ("001", "005")] == ["001", "005"] * 3
    assert history_of(pool, "1.0", "JobStatus", "ExitCode", "NumJobCompletions", "NumJobStarts") == ["4", "1", "3", "3"]
    assert history_of(pool, "1.1", "ExitCode", "NumJobCompletions") == ["3", "1"]  # its success code: done
    assert history_of(pool, "1.3", "ExitCode", "NumJobCompletions") == ["0", "2"]  # on_exit_remove ran it twice
    assert job_field(pool, "HoldReason") == {"1.2": "exit code 4"}
    assert job_field(pool, "HoldReasonCode") == {"1.2": "3"}
    assert job_field(pool, "HoldReasonSubCode") == {"1.2": "42"}
    assert "\texit code 4\n\tCode 3 Subcode 42\n" in log.read_text()


def test_durations_vacate_gpus_and_accounting_groups(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "5"})
    log = tmp_path / "policy.log"
    submit = (f"log = {log}\nexecutable = /bin/sleep\narguments = 600\nallowed_job_duration = 2\nqueue\n"
              "allowed_job_duration =\nallowed_execute_duration = 2\nqueue\n"
              "allowed_execute_duration =\nperiodic_vacate = NumJobStarts < 2 && time() - JobCurrentStartExecutingDate > 1\n"
              "queue\n"
              "periodic_vacate =\nrequest_gpus = 1\nqueue\n"
              "request_gpus =\naccounting_group = physics\naccounting_group_user = bob\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: [job_field(pool, "HoldReasonCode").get(j) for j in ("1.0", "1.1")] == ["46", "47"],
               timeout=40, message="the two duration holds")
    reasons = {job: text for job, text in job_field(pool, "HoldReason").items() if text != "undefined"}
    assert reasons == {"1.0": "The job exceeded allowed job duration of 00:02",
                       "1.1": "The job exceeded allowed execute duration of 00:02"}
    wait_until(lambda: job_field(pool, "NumJobStarts").get("1.2") == "2", timeout=40,
               message="the vacated job to start again")
    assert ("004", "001.002.000") in events(log)
    assert job_field(pool, "JobStatus")["1.3"] == "1"  # no slot has a GPU: never matched
    assert job_field(pool, "JobStatus")["1.4"] == "2"
    submitters = pool.run("condor_status", "-submitters", "-af", "Name", "RunningJobs").stdout
    domain = pool.cfg.get("UID_DOMAIN") or ""
    assert any(line.startswith("physics.bob@") and line.endswith(" 1") for line in submitters.splitlines()), \
        submitters
    assert domain == "" or f"physics.bob@{domain} 1" in submitters


def test_concurrency_limits_are_enforced_by_the_negotiator(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "6", "FOO_LIMIT": "1", "SW_LIMIT": "2"})
    submit = ("executable = /bin/sleep\narguments = 600\nconcurrency_limits = foo\nqueue 2\n"
              "concurrency_limits = sw.license\nqueue 3\nconcurrency_limits = unlimited:3\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0

    def running() -> list[str]:
        return sorted(j for j, s in job_field(pool, "JobStatus").items() if s == "2")
    wait_until(lambda: len(running()) == 4, timeout=30, message="four jobs within their limits running")
    # a few more negotiation cycles (1 s each) must not start any other job
    def last_cycle() -> int:
        ads = pool.query("Negotiator")
        value = ads[0].eval("LastNegotiationCycleEnd0") if ads else None
        return value if isinstance(value, int) else 0
    cycles = wait_until(last_cycle, timeout=20, message="a negotiation cycle in the negotiator's ad")
    wait_until(lambda: last_cycle() >= cycles + 2, timeout=20, message="two more negotiation cycles")
    now = running()
    assert len(now) == 4 and "1.5" in now
    assert sum(j in now for j in ("1.0", "1.1")) == 1 and sum(j in now for j in ("1.2", "1.3", "1.4")) == 2
    assert pool.run("condor_rm", "1.0", "1.1").returncode == 0
    wait_until(lambda: set(running()) == set(now) - {"1.0", "1.1"}, timeout=20, message="the foo jobs removed")


def test_nice_user_jobs_run_only_on_slots_nobody_else_wants(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "2"})
    assert pool.run("condor_submit", input="cmd=/bin/sleep\nargs=600\nnice_user = true\nhold = true\nqueue 2\n"
                    "nice_user = false\nqueue 2\n").returncode == 0
    assert pool.run("condor_release", "-all").returncode == 0  # both submitters idle in the same cycle
    wait_until(lambda: sorted(s for s in job_field(pool, "JobStatus").values()) == ["1", "1", "2", "2"],
               timeout=30, message="two jobs running")
    assert job_field(pool, "JobStatus") == {"1.0": "1", "1.1": "1", "1.2": "2", "1.3": "2"}
    assert job_field(pool, "AccountingGroup")["1.0"].startswith("nice-user.")
    assert pool.run("condor_rm", "1.2", "1.3").returncode == 0
    wait_until(lambda: job_field(pool, "JobStatus") == {"1.0": "2", "1.1": "2"}, timeout=30,
               message="the nice jobs to get the slots nobody else wants")


def test_late_materialization_with_max_materialize_and_max_idle(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "2"})
    submit = ("executable = /bin/true\nmax_materialize = 2\nqueue 5\n")
    result = pool.run("condor_submit", input=submit)
    assert result.stdout.endswith("5 job(s) submitted to cluster 1.\n"), result.stderr

    def step() -> bool:
        queued = job_field(pool, "JobStatus")
        assert len(queued) <= 2, queued  # never more than max_materialize procs in the queue
        return not queued and len(pool.run("condor_history", "1", "-af", "ProcId").stdout.split()) == 5
    wait_until(step, timeout=60, message="all five procs materialized and done")
    assert sorted(pool.run("condor_history", "1", "-af", "ProcId", "TotalSubmitProcs").stdout.splitlines()) == \
        [f"{p} 5" for p in range(5)]
    idle = pool.run("condor_submit", input="executable = /bin/sleep\narguments = 600\nmax_idle = 2\nqueue 6\n")
    assert idle.returncode == 0, idle.stderr
    wait_until(lambda: sorted(job_field(pool, "JobStatus").values()) == ["1", "1", "2", "2"], timeout=30,
               message="two running (two slots) and max_idle = 2 idle")
    assert sorted(job_field(pool, "JobStatus")) == ["2.0", "2.1", "2.2", "2.3"]
    # a schedd restart keeps the procs not yet materialized
    assert pool.run("condor_restart", "-daemon", "schedd").returncode == 0
    wait_until(lambda: sorted(job_field(pool, "JobStatus").values()) == ["1", "1", "2", "2"], timeout=30,
               message="the cluster back after the restart")
    assert pool.run("condor_rm", "2.0").returncode == 0
    wait_until(lambda: sorted(job_field(pool, "JobStatus")) == ["2.1", "2.2", "2.3", "2.4"], timeout=30,
               message="the next proc materialized once an idle one started")
    assert pool.run("condor_rm", "2").returncode == 0  # the whole cluster: the procs to come too
    wait_until(lambda: job_field(pool, "JobStatus") == {}, timeout=30, message="cluster 2 gone")
    assert not list((Path(pool.cfg.get("SPOOL")) / "materialize").glob("*.ads"))

