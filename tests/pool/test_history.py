"""Issue 13: finished jobs go to the schedd's history file; condor_history reads it as HTCondor's;
leave_in_queue keeps a finished job in the queue (until its expression is false, or condor_rm
-forcex)."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from condorsim.daemons.history import read_records
from condorsim.shared.pool import wait_until
from condorsim.shared.protocol import Client

pytestmark = pytest.mark.timeout(180)


def queue_ids(pool) -> list[str]:
    out = pool.run("condor_q", "-allusers", "-af", "ClusterId", "ProcId").stdout
    return [".".join(line.split()) for line in out.splitlines() if line.strip()]


def history(pool, *args: str) -> list[str]:
    result = pool.run("condor_history", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_condor_history_after_100_jobs(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "6"})
    ran = pool.run("condor_submit", input=f"executable = /bin/echo\narguments = hi\ninitialdir = {tmp_path}\n"
                                         "queue 10\n")
    assert ran.returncode == 0, ran.stderr
    wait_until(lambda: queue_ids(pool) == [], timeout=90, message="the 10 jobs that run to finish")
    removed = pool.run("condor_submit", input="executable = /bin/sleep\narguments = 1d\nhold = true\nqueue 90\n",
                       env={"USER": "bob", "LOGNAME": "bob"})
    assert removed.returncode == 0, removed.stderr
    assert pool.run("condor_rm", "2").returncode == 0
    wait_until(lambda: queue_ids(pool) == [], timeout=30, message="the 90 removed jobs to leave the queue")
    table = history(pool)
    assert table[0] == " ID      OWNER            SUBMITTED     RUN_TIME ST   COMPLETED CMD            "
    assert len(table) == 101
    # newest first: the removals came last; a removed job has no CompletionDate, and HTCondor's
    # classic line says so
    assert table[1:91] == [" --- ???? --- "] * 90
    owner = history(pool, "1.0", "-af", "Owner")[0]
    date = r"[ 1]\d/\d[\d ] \d\d:\d\d"
    procs = set()
    for line in table[91:]:
        match = re.fullmatch(rf"   1\.(\d+) +{owner:<14} {date}   0\+00:00:0\d C  {date} /bin/echo hi   ", line)
        assert match and len(line.split()[0]) <= 8, line
        procs.add(int(match.group(1)))
    assert procs == set(range(10))
    assert len(history(pool, "-limit", "5")) == 6 and len(history(pool, "-match", "3")) == 4
    newest_first = history(pool, "-af", "ClusterId", "ProcId")
    assert history(pool, "-forwards", "-af", "ClusterId", "ProcId", "-limit", "1") == newest_first[-1:]
    assert history(pool, "-forwards", "-af", "ClusterId", "ProcId") == newest_first[::-1]
    assert history(pool, "-af", "ClusterId", "ProcId", "JobStatus", "-constraint", "ProcId == 7") == \
        ["2 7 3", "1 7 4"]
    assert history(pool, "1.7", "-format", "%d.", "ClusterId", "-format", "%d\n", "ProcId") == ["1.7"]
    assert len(history(pool, "2", "-af", "ClusterId")) == 90
    assert set(history(pool, "bob", "-af", "Owner")) == {"bob"} and len(history(pool, "bob", "-af", "Owner")) == 90
    long = history(pool, "1.3", "-long")
    assert "ClusterId = 1" in long and "ProcId = 3" in long and "JobStatus = 4" in long and long[-1] == ""
    ads = json.loads("\n".join(history(pool, "1.3", "-json")))
    assert [(ad["ClusterId"], ad["ProcId"], ad["ExitCode"]) for ad in ads] == [(1, 3, 0)]
    copy = tmp_path / "history.copy"
    shutil.copy(pool.cfg.get("HISTORY"), copy)
    assert history(pool, "-file", str(copy), "-af", "ClusterId", "ProcId", "-limit", "1") == \
        history(pool, "-af", "ClusterId", "ProcId", "-limit", "1")
    assert history(pool, "-af:j", "Owner", "-constraint", 'Owner == "nobody"') == []


def test_history_survives_schedd_kill_9_without_a_torn_record(pool_factory):
    pool = pool_factory()
    assert pool.run("condor_submit", input="executable = /bin/true\nhold = true\nqueue 200\n").returncode == 0
    old = Client(pool.master_address).call("CHILDREN")["children"]["SCHEDD"]["pid"]
    removing = subprocess.Popen(["condor_rm", "-all"], env=pool.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    path = Path(pool.cfg.get("HISTORY"))
    wait_until(lambda: path.exists() or removing.poll() is not None, timeout=30, message="history being written")
    os.kill(old, signal.SIGKILL)
    try:
        removing.wait(10)
    except subprocess.TimeoutExpired:  # it may wait on the schedd it talked to
        removing.kill()
        removing.wait()
    wait_until(lambda: Client(pool.master_address).call("CHILDREN")["children"]["SCHEDD"]["pid"] != old
               and Client(pool.master_address).call("CHILDREN")["children"]["SCHEDD"]["address"],
               timeout=30, message="the master to restart the schedd")
    text = path.read_text() if path.exists() else ""
    assert text == "" or (text.endswith("\n") and text.splitlines()[-1].startswith("*** Offset = "))
    before = [f"{ad.eval('ClusterId')}.{ad.eval('ProcId')}" for ad in read_records(str(path))]
    assert text.count("\n*** ") + text.startswith("*** ") == len(before)  # every banner closes a whole ad
    left = queue_ids(pool)
    assert not set(before) & set(left)  # a job is in the queue or in the history, never both
    assert pool.run("condor_rm", "-all").returncode == 0
    wait_until(lambda: queue_ids(pool) == [], timeout=30, message="the rest removed")
    after = [f"{ad.eval('ClusterId')}.{ad.eval('ProcId')}" for ad in read_records(str(path))]
    assert len(after) == len(set(after)) and set(after) <= {f"1.{p}" for p in range(200)}
    # what was still queued is recorded once removed; what the killed schedd had not yet written
    # is missing (as in HTCondor, the queue's commit comes first), never half written
    assert after[:len(before)] == before and set(left) <= set(after)


def test_leave_in_queue_keeps_a_completed_job_until_removed_or_false(pool_factory):
    pool = pool_factory()
    submit = ("executable = /bin/true\nleave_in_queue = true\nqueue\n"
              "leave_in_queue = (time() - CompletionDate) < 3\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: pool.run("condor_q", "1.0", "-af:jr", "JobStatus").stdout == "1.0 4\n", timeout=30,
               message="job 1.0 completed and still queued")
    wait_until(lambda: queue_ids(pool) == ["1.0"], timeout=30, message="job 1.1 to leave once its expression is false")
    assert history(pool, "-af", "ClusterId", "ProcId", "JobStatus") == ["1 1 4"]
    assert pool.run("condor_q", "1.0", "-af:jr", "JobStatus").stdout == "1.0 4\n"
    # condor_rm marks it removed; leave_in_queue still holds it until condor_rm -forcex
    result = pool.run("condor_rm", "1.0")
    assert result.returncode == 0, result.stderr
    assert pool.run("condor_q", "1.0", "-af:jr", "JobStatus").stdout == "1.0 3\n"
    assert pool.run("condor_rm", "-forcex", "1.0").returncode == 0
    wait_until(lambda: queue_ids(pool) == [], timeout=10, message="the removed completed job to leave")
    assert history(pool, "-af", "ClusterId", "ProcId", "JobStatus") == ["1 0 3", "1 1 4"]
