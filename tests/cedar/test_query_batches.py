"""Schedd.query through the CEDAR door answers from the schedd's own query machinery, batch by
batch (QUERY_BATCH jobs per hold of the schedd's lock): a query longer than one batch still
returns every ad, in job-id order, projected in the schedd."""
from __future__ import annotations

import htcondor2
import pytest

from condorsim.daemons.schedd_cedar import QUERY_BATCH
from condorsim.shared.locate import schedd_address
from condorsim.shared.protocol import Client

JOBS = 2 * QUERY_BATCH + 500


@pytest.fixture(scope="module")
def big_queue(tmp_path_factory):
    from condorsim.shared.pool import PersonalPool
    pool = PersonalPool(config={"DAEMON_LIST": "MASTER, COLLECTOR, SCHEDD"},
                        directory=str(tmp_path_factory.mktemp("pool")), timeout=60).start()
    try:
        submit = f"executable = /bin/sleep\narguments = $(Process)\nhold = true\nqueue {JOBS}\n"
        pool.run("condor_submit", input=submit, check=True, timeout=120)
        yield pool
    finally:
        pool.stop()


def test_a_query_longer_than_a_batch_returns_every_ad_projected(big_queue):
    schedd = big_queue.schedd()
    ads = schedd.query(projection=["Args", "JobStatus"])
    assert [ad["ProcId"] for ad in ads] == list(range(JOBS))
    assert all(set(ad.keys()) == {"ClusterId", "ProcId", "Args", "JobStatus"} for ad in ads)
    assert [ad["Args"] for ad in ads] == [str(proc) for proc in range(JOBS)]
    # a constraint the index answers, and one the schedd evaluates, both across batch boundaries
    assert [ad["ProcId"] for ad in schedd.query(f"ProcId >= {QUERY_BATCH - 1} && ProcId < {2 * QUERY_BATCH + 2}",
                                                ["JobStatus"])] == list(range(QUERY_BATCH - 1, 2 * QUERY_BATCH + 2))
    assert [ad["Args"] for ad in schedd.query('Args != "7" && JobStatus == 5', ["Args"])] \
        == [str(proc) for proc in range(JOBS) if proc != 7]


def test_limit_and_summary_over_several_batches(big_queue):
    schedd = big_queue.schedd()
    limited = schedd.query(projection=["JobStatus"], limit=QUERY_BATCH + 3)
    assert [ad["ProcId"] for ad in limited] == list(range(QUERY_BATCH + 3))
    assert len(schedd.query(opts=htcondor2.QueryOpt.DefaultMyJobsOnly, projection=["JobStatus"])) == JOBS  # all ours
    summary = schedd.query(opts=htcondor2.QueryOpt.SummaryOnly)[0]
    assert (summary["MyType"], summary["Jobs"], summary["Held"], summary["AllusersJobs"]) == \
        ("Summary", JOBS, JOBS, JOBS)


def test_whole_ads_are_the_schedds_own(big_queue):
    """Without a projection each ad is the whole job ad, as the schedd's ZeroMQ QUERY_JOBS has it."""
    proc = QUERY_BATCH + 17
    ad = big_queue.schedd().query()[proc]
    ours = Client(schedd_address(big_queue.cfg)).call("QUERY_JOBS", constraint=f"ProcId == {proc}")["jobs"][0]
    assert set(ad.keys()) == set(ours) - {"ClaimId"}  # ServerTime too: the bindings ask for it
    for name in ("Args", "Cmd", "Owner", "Requirements", "JobStatus", "RequestMemory"):
        assert str(ad.lookup(name)).replace(" ", "") == ours[name].replace(" ", ""), name
