"""The schedd's queue protocol at scale: idempotent submits, queries streamed in batches."""
from __future__ import annotations

import getpass
import os
import signal

import pytest

from condorsim.scripts.condor_submit import submit_request
from condorsim.shared.config import load_config
from condorsim.shared.locate import schedd_address
from condorsim.shared.pool import wait_until
from condorsim.shared.protocol import Client, RemoteError
from condorsim.shared.submit import parse_submit


@pytest.fixture
def schedd(pool_factory):
    pool = pool_factory(config={"DAEMON_LIST": "MASTER, COLLECTOR, SCHEDD", "QUERY_CURSOR_TIMEOUT": "1"})
    cfg = load_config(subsystem="SUBMIT", env=pool.env)
    client = Client(schedd_address(cfg), timeout=20)
    client.cfg, client.pool = cfg, pool
    return client


def submit(schedd, jobs: int, transaction: str) -> tuple[int, dict]:
    cluster = int(schedd.call("NEW_CLUSTER")["cluster"])
    ads = parse_submit(f"executable = /bin/true\nrequirements = False\nqueue {jobs}\n", "t.sub").build_jobs(
        cluster, cwd=str(schedd.pool.dir), config=schedd.cfg)
    request = submit_request(ads)
    answer = schedd.call("SUBMIT", cluster=cluster, owner=getpass.getuser(), transaction=transaction, **request)
    return cluster, answer | {"retry": schedd.call("SUBMIT", cluster=cluster, owner=getpass.getuser(),
                                                      transaction=transaction, **request)}


def test_a_retried_submit_is_answered_once_and_queues_nothing_twice(schedd):
    cluster, answer = submit(schedd, 5, "t-1")
    assert answer["procs"] == 5 and answer["retry"]["procs"] == 5
    jobs = schedd.call("QUERY_JOBS", constraint=f"ClusterId == {cluster}", projection=["Cmd"])["jobs"]
    assert [(j["ProcId"], j["Cmd"]) for j in jobs] == [(str(p), '"/bin/true"') for p in range(5)]
    cluster_id = schedd.call("NEW_CLUSTER")["cluster"]
    with pytest.raises(RemoteError, match="already used"):  # the same request without its id is refused
        schedd.call("SUBMIT", cluster=cluster, owner=getpass.getuser(), ads=[{"Cmd": '"/bin/true"'}])
    assert cluster_id == cluster + 1


def test_queries_stream_in_batches_and_forget_abandoned_ones(schedd):
    submit(schedd, 7, "t-2")
    replies = list(schedd.stream("QUERY_JOBS", "QUERY_MORE", projection=["JobStatus"], batch=3))
    assert [len(r["jobs"]) for r in replies] == [3, 3, 1]
    assert [j["ProcId"] for r in replies for j in r["jobs"]] == [str(p) for p in range(7)]
    assert {tuple(sorted(j)) for r in replies for j in r["jobs"]} == {("ClusterId", "JobStatus", "ProcId")}
    assert "summary" in replies[-1] and all("summary" not in r for r in replies[:-1])
    totals = schedd.call("QUERY_JOBS", batch=3, summary_only=True)
    assert totals["jobs"] == [] and totals["cursor"] is None and totals["summary"]["Jobs"] == "7"
    first = schedd.call("QUERY_JOBS", batch=2)
    log = schedd.pool.dir / "local" / "log" / "SchedLog"
    wait_until(lambda: f"Dropped query {first['cursor']}:" in log.read_text(), 20, "the abandoned query dropped")
    with pytest.raises(RemoteError, match="no query"):
        schedd.call("QUERY_MORE", cursor=first["cursor"])


def test_a_finished_claim_whose_startd_stopped_answering_is_forgotten(pool_factory):
    pool = pool_factory(config={"ALIVE_INTERVAL": "1"})
    assert pool.run("condor_submit", input="cmd=/bin/sleep\nargs=2\nqueue\n").returncode == 0
    log = pool.dir / "local" / "log" / "SchedLog"
    wait_until(lambda: pool.run("condor_q", "-af", "JobStatus").stdout.strip() == "2", 20, "the job running")
    startd = Client(pool.master_address).call("CHILDREN")["children"]["STARTD"]["pid"]
    os.kill(startd, signal.SIGSTOP)  # it never says the finished job's starter is gone
    try:
        wait_until(lambda: "Forgetting the claim on" in log.read_text(), 30, "the finished claim forgotten")
    finally:
        os.kill(startd, signal.SIGCONT)
    assert pool.run("condor_q", "-af", "JobStatus").stdout == ""  # the job itself completed
