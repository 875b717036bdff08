"""Schedd.history through the schedd's CEDAR door: the same records condor_history (ours) reads."""
from __future__ import annotations

import htcondor2
import pytest

from condorsim import wait_until

pytestmark = pytest.mark.timeout(120)


def run_to_completion(pool, schedd, count: int) -> int:
    """Submit `count` jobs exiting with their ProcId; return the cluster once all have left the queue."""
    submit = htcondor2.Submit({"executable": "/bin/sh", "arguments": "\"-c 'exit $(ProcId)'\""})
    cluster = schedd.submit(submit, count=count).cluster()
    wait_until(lambda: schedd.query(f"ClusterId == {cluster}", ["JobStatus"]) == [], timeout=40,
               message=f"cluster {cluster} to finish and leave the queue",
               show=lambda: schedd.query(projection=["ClusterId", "ProcId", "JobStatus"]))
    return cluster


def ids(ads) -> list[tuple[int, int]]:
    return [(ad["ClusterId"], ad["ProcId"]) for ad in ads]


def condor_history_af(pool, *args: str) -> list[list[str]]:
    result = pool.run("condor_history", *args)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()]


def test_schedd_history_constraint_projection_match_and_since(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "4"})
    schedd = pool.schedd()
    assert schedd.history() == []  # no history file yet: an empty answer, not an error
    first = run_to_completion(pool, schedd, 3)
    second = run_to_completion(pool, schedd, 2)

    everything = schedd.history()
    assert sorted(ids(everything)) == [(first, 0), (first, 1), (first, 2), (second, 0), (second, 1)]
    assert {ids([ad])[0]: ad["ExitCode"] for ad in everything} == \
        {(first, 0): 0, (first, 1): 1, (first, 2): 2, (second, 0): 0, (second, 1): 1}
    assert all(ad["JobStatus"] == 4 and ad["Owner"] for ad in everything)  # whole ads, Completed
    # newest first, in the order our condor_history prints
    ours = condor_history_af(pool, "-af", "ClusterId", "ProcId", "ExitCode")
    assert [[str(c), str(p), str(ad["ExitCode"])] for (c, p), ad in zip(ids(everything), everything)] == ours
    assert set(ids(everything)[:2]) == {(second, 0), (second, 1)}  # the second cluster left last

    projected = schedd.history("ExitCode >= 1", ["ClusterId", "ProcId", "ExitCode"])
    assert all(set(ad.keys()) == {"ClusterId", "ProcId", "ExitCode"} for ad in projected)
    assert [[str(ad["ClusterId"]), str(ad["ProcId"]), str(ad["ExitCode"])] for ad in projected] == \
        condor_history_af(pool, "-constraint", "ExitCode >= 1", "-af", "ClusterId", "ProcId", "ExitCode")
    assert sorted(ids(projected)) == [(first, 1), (first, 2), (second, 1)]
    only = schedd.history(f"ClusterId == {first} && ExitCode == 2", ["ProcId"])
    assert [dict(ad) for ad in only] == [{"ProcId": 2}]

    assert ids(schedd.history(None, ["ClusterId", "ProcId"], match=2)) == ids(everything)[:2]
    assert ids(schedd.history("ExitCode == 0", ["ClusterId", "ProcId"], match=1)) == \
        [ids(everything)[[ad["ExitCode"] for ad in everything].index(0)]]
    assert schedd.history("ClusterId == 999") == []

    # since: the records written after the given job (or cluster), newest first
    assert ids(schedd.history(since=first)) == ids(everything)[:2]
    oldest_second = ids(everything)[1]
    assert ids(schedd.history(since=f"{oldest_second[0]}.{oldest_second[1]}")) == ids(everything)[:1]
    assert ids(schedd.history(since=f"ClusterId == {second}")) == []


def test_schedd_history_not_kept_or_a_bad_since_is_a_clear_error(pool_factory):
    schedd = pool_factory(config={"HISTORY": ""}).schedd()
    with pytest.raises(htcondor2.HTCondorException, match="HISTORY undefined"):
        schedd.history()
    with pytest.raises(htcondor2.HTCondorException, match="JOB_EPOCH_HISTORY"):
        schedd.jobEpochHistory()
    with pytest.raises(htcondor2.HTCondorException, match="invalid -since"):
        schedd.history(since="true")  # a literal, not a job id
