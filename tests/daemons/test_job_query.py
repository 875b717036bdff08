"""The schedd's job queries: what the index selects is what evaluating the constraint selects."""
from __future__ import annotations

import itertools

import pytest

from condorsim.daemons import job_query
from condorsim.daemons.job_queue import JobQueue
from condorsim.shared.classad import ClassAd, eval_constraint, parse_expr

CONSTRAINTS = [
    None, "ClusterId == 2", "ProcId < 2", "2 > ProcId", "ClusterId == 1 && ProcId == 3", "ProcId != 0",
    "(ClusterId == 1 && ProcId == 0) || (ClusterId == 3 && ProcId == 1)", 'Owner == "ALICE"',
    'Owner == "bob" || ClusterId == 1', "JobStatus == 5", "JobStatus == 1 && RequestMemory > 100",
    "RequestMemory > 100", 'JobStatus == 1 || Cmd == "/bin/b"', "ClusterId >= 2 && JobStatus == 2",
    "ProcId == 1.0", "true", "JobStatus =?= 1", 'Owner == "alice" && ClusterId == 3',
    "((true))", "(true) && ProcId < 2", "true || JobStatus == 5", "false",  # ((true)): what the bindings send
]


@pytest.fixture(scope="module")
def queue(tmp_path_factory):
    queue = JobQueue(str(tmp_path_factory.mktemp("spool")))
    statuses = itertools.cycle([1, 1, 2, 5])
    for cluster, owner in ((1, "alice"), (2, "bob"), (3, "Alice")):
        for proc in range(4):
            queue.add((cluster, proc), ClassAd({"ClusterId": cluster, "ProcId": proc, "Owner": owner,
                                                "JobStatus": next(statuses), "Cmd": f"/bin/{owner[0]}",
                                                "RequestMemory": 64 * (proc + 1)}))
    queue.commit()
    return queue


@pytest.mark.parametrize("constraint", CONSTRAINTS)
@pytest.mark.parametrize("owner", [None, "bob"])
def test_index_selects_what_the_constraint_does(queue, constraint, owner):
    expr = parse_expr(constraint) if constraint else None
    expected = [key for key, ad in sorted(queue.jobs.items())
                if (expr is None or eval_constraint(expr, ad)) and (owner is None or ad.eval("Owner") == owner)]
    assert list(job_query.select(queue.jobs, queue.index, expr, owner)) == expected


def test_projection_brings_what_the_wanted_attributes_read(queue):
    ad = ClassAd({"ClusterId": 1, "ProcId": 0, "RequestDisk": parse_expr("TransferInputSizeMB * 2"),
                  "TransferInputSizeMB": 3, "Cmd": "/bin/x"})
    assert job_query.project(ad, {"clusterid", "procid", "requestdisk"}) == {
        "ClusterId": "1", "ProcId": "0", "RequestDisk": "TransferInputSizeMB * 2", "TransferInputSizeMB": "3"}


@pytest.mark.parametrize("constraint", [None, "ProcId >= 0", "RequestMemory > 0"])  # every job; by index; evaluated
def test_a_job_removed_while_a_query_is_half_read_is_passed_over(tmp_path, constraint):
    """A query answered in batches releases the schedd between them: jobs may leave meanwhile."""
    queue = JobQueue(str(tmp_path))
    for proc in range(5):
        queue.add((1, proc), ClassAd({"ClusterId": 1, "ProcId": proc, "JobStatus": 1, "Owner": "alice",
                                      "RequestMemory": 64}))
    queue.commit()
    keys = job_query.select(queue.jobs, queue.index, parse_expr(constraint) if constraint else None)
    first = next(keys)
    queue.remove((1, 3))
    queue.commit()
    assert [first, *keys] == [(1, 0), (1, 1), (1, 2), (1, 4)]
