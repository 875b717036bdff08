"""condor_rm / condor_hold / condor_release against a running pool (and argument errors without one).

Messages, their stream and the exit status follow HTCondor's rm.cpp (tools.md §4)."""
from __future__ import annotations

import getpass

import pytest

from condorsim.scripts import condor_rm

from jobtool_helpers import job_attr, job_states, submit, wait_for_queue

ME = getpass.getuser()
HELD, IDLE, RUNNING = 5, 1, 2


# -- arguments (no pool needed: these fail before the schedd is contacted) ----------------------
@pytest.mark.parametrize("prog, argv, stderr_start", [
    ("condor_rm", [], "You did not specify any jobs\nUsage: condor_rm [options] [constraints]\n"),
    ("condor_hold", ["0"], "Invalid cluster # from 0.\nYou did not specify any jobs\nUsage: condor_hold"),
    ("condor_hold", ["1", "-all"], "condor_hold: can't mix -all with other constraints\n"),
    ("condor_release", ["-all", "7"], "Usage: condor_release [options] [constraints]\n"),
    ("condor_rm", ["-constraint"], "condor_rm: -constraint requires another argument\n"),
    ("condor_rm", ["-reason"], "condor_rm: -reason requires another argument\n"),
    ("condor_hold", ["-subcode", "x", "1"], "Invalid -subcode x!\n"),
    ("condor_rm", ["-bogus", "1"], "Unrecognized option: -bogus\nUsage: condor_rm"),
    ("condor_frob", ["1"], 'Unrecognized command name, "condor_frob"\nUsage:'),
])
def test_argument_errors(capsys, prog, argv, stderr_start):
    assert condor_rm.main(argv, prog=prog) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(stderr_start)


def test_bad_constraint_names_the_position(capsys):
    assert condor_rm.main(["-constraint", "JobStatus =="], prog="condor_rm") == 1
    err = capsys.readouterr().err
    assert err.startswith("condor_rm: invalid -constraint 'JobStatus =='") and "position 12" in err


def test_help_exits_zero_with_the_mode_in_the_usage(capsys):
    assert condor_rm.main(["-help"], prog="/usr/bin/condor_hold") == 0
    err = capsys.readouterr().err
    assert "  -subcode number     Set HoldReasonSubCode\n" in err
    assert "  cluster.proc        hold the given job\n" in err


# -- against a pool ---------------------------------------------------------------------------------
def test_by_job_id_messages_streams_and_exit_codes(pool_factory):
    pool = pool_factory()
    c = submit(pool, 2)
    r = pool.run("condor_hold", f"{c}.0")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"Job {c}.0 held\n", "")
    wait_for_queue(pool, lambda q: q[f"{c}.0"] == HELD, what="job held")
    assert job_attr(pool, f"{c}.0", "HoldReason") == f"via condor_hold (by user {ME})"

    r = pool.run("condor_hold", f"{c}.0", f"{c}.1", f"{c}.9")
    assert r.returncode == 1
    assert r.stdout == f"Job {c}.1 held\n"
    assert r.stderr == f"\nJob {c}.0 already held\nJob {c}.9 not found\n"

    r = pool.run("condor_release", f"{c}.0")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"Job {c}.0 released\n", "")
    wait_for_queue(pool, lambda q: q[f"{c}.0"] in (IDLE, RUNNING), what="job released")
    r = pool.run("condor_release", f"{c}.0")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"\nJob {c}.0 not held to be released\n")

    r = pool.run("condor_rm", f"{c}.0", f"{c}.1")
    assert (r.returncode, r.stdout, r.stderr) == (
        0, f"Job {c}.0 marked for removal\nJob {c}.1 marked for removal\n", "")
    wait_for_queue(pool, lambda q: not q, what="empty queue")
    r = pool.run("condor_rm", f"{c}.0")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"\nJob {c}.0 not found\n")


def test_cluster_user_constraint_and_all(pool_factory):
    pool = pool_factory()
    c1, c2 = submit(pool, 2, runnable=False), submit(pool, 2, runnable=False)
    r = pool.run("condor_hold", str(c1))
    assert (r.returncode, r.stdout, r.stderr) == (0, f"All jobs in cluster {c1} have been held\n", "")
    wait_for_queue(pool, lambda q: [q[f"{c1}.{p}"] for p in (0, 1)] == [HELD, HELD], what="cluster held")

    r = pool.run("condor_release", ME)
    assert (r.returncode, r.stdout) == (0, f'All jobs of user "{ME}" have been released\n')
    wait_for_queue(pool, lambda q: HELD not in q.values(), what="all released")

    r = pool.run("condor_hold", "-constraint", "ProcId == 1")
    assert r.stdout == "All jobs matching constraint (ProcId == 1) have been held\n"
    wait_for_queue(pool, lambda q: {j for j, s in q.items() if s == HELD} == {f"{c1}.1", f"{c2}.1"},
               what="proc 1 of both clusters held")

    r = pool.run("condor_release", str(c1), str(c2))
    assert r.stdout == (f"All jobs matching constraint (ClusterId == {c1} || ClusterId == {c2}) "
                        "have been released\n")

    r = pool.run("condor_rm", str(c2), "-constraint", "ProcId == 0")
    assert r.stdout == (f"All jobs matching constraint ((ProcId == 0) && (ClusterId == {c2})) "
                        "have been marked for removal\n")
    wait_for_queue(pool, lambda q: f"{c2}.0" not in q, what=f"{c2}.0 removed")
    assert f"{c2}.1" in job_states(pool)

    r = pool.run("condor_rm", "-all")
    assert (r.returncode, r.stdout, r.stderr) == (0, "All jobs have been marked for removal\n", "")
    wait_for_queue(pool, lambda q: not q, what="empty queue")
    r = pool.run("condor_rm", "-all")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "condor_rm:0:There are no jobs in the queue\n")


def test_nothing_matched_while_the_queue_has_jobs(pool_factory):
    pool = pool_factory()
    c = submit(pool, runnable=False)
    r = pool.run("condor_hold", str(c + 41))
    assert (r.returncode, r.stdout, r.stderr) == (1, "", f"\nCouldn't find/hold all jobs in cluster {c + 41}\n")
    r = pool.run("condor_release", "nobody")
    assert (r.returncode, r.stderr) == (1, '\nCouldn\'t find/release all jobs of user "nobody"\n')
    r = pool.run("condor_rm", "-constraint", "JobPrio > 100")
    assert r.stderr == "\nCouldn't find/remove all jobs matching constraint (JobPrio > 100)\n"


def test_reason_subcode_long_and_totals(pool_factory):
    pool = pool_factory()
    c = submit(pool, 2, runnable=False)
    r = pool.run("condor_hold", "-reason", "disk full", "-subcode", "7", str(c))
    assert r.returncode == 0, r.stderr
    wait_for_queue(pool, lambda q: set(q.values()) == {HELD}, what="jobs held")
    assert job_attr(pool, f"{c}.1", "HoldReason") == f"disk full (by user {ME})"
    assert job_attr(pool, f"{c}.1", "HoldReasonSubCode") == "7"

    r = pool.run("condor_release", str(c), "-totals")
    assert r.stdout == ("2 Succeeded, 0 Failed, 0 Not Found, 0 Bad Status, 0 Already Done, "
                        f"0 Permission Denied\nAll jobs in cluster {c} have been released\n")

    r = pool.run("condor_rm", "-long", f"{c}.0")
    assert r.returncode == 0
    ad_text, _, message = r.stdout.partition("\n\n")
    assert set(ad_text.splitlines()) == {f"job_{c}_0 = 1", "JobAction = 3", "ActionResultType = 1",
                                         "ActionResult = 1"}
    assert message == f"Job {c}.0 marked for removal\n"
    assert pool.run("condor_rm", "-all").returncode == 0
    wait_for_queue(pool, lambda q: not q, what="empty queue")


def test_release_puts_the_job_back_to_run(pool_factory):
    pool = pool_factory()
    c = submit(pool)
    wait_for_queue(pool, lambda q: q.get(f"{c}.0") == RUNNING, what="job running")
    assert pool.run("condor_hold", f"{c}.0").returncode == 0
    wait_for_queue(pool, lambda q: q[f"{c}.0"] == HELD, what="job held")
    assert pool.run("condor_release", f"{c}.0").returncode == 0
    wait_for_queue(pool, lambda q: q[f"{c}.0"] == RUNNING, what="job running again")
    assert pool.run("condor_rm", f"{c}.0").returncode == 0
    wait_for_queue(pool, lambda q: not q, what="empty queue")  # a running job slows pool shutdown
