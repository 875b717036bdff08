"""dask-jobqueue's HTCondorCluster, unmodified from PyPI, against a pool: two workers, a
computation, scale down, close; each worker writes its own worker-<cluster>.<proc>.err."""
from __future__ import annotations

import pytest

from condorsim.shared.pool import wait_until

dask_jobqueue = pytest.importorskip("dask_jobqueue", reason="dask-jobqueue is not installed (test extra)")
distributed = pytest.importorskip("distributed", reason="distributed is not installed (test extra)")

pytestmark = pytest.mark.timeout(180)


def queued(pool) -> dict[str, str]:
    out = pool.run("condor_q", "-af", "ClusterId", "ProcId", "JobStatus").stdout
    return {f"{c}.{p}": s for c, p, s in (line.split() for line in out.splitlines() if line.strip())}


def test_htcondor_cluster_runs_two_workers(client_pool, tmp_path):
    logs = tmp_path / "logs"
    cluster = dask_jobqueue.HTCondorCluster(cores=1, memory="200MB", disk="100MB", log_directory=str(logs),
                                            scheduler_options={"host": "127.0.0.1"}, death_timeout=30)
    try:
        with distributed.Client(cluster, timeout="60s") as client:
            cluster.scale(2)
            client.wait_for_workers(2, timeout=90)
            futures = client.map(lambda x: x * x, range(10))
            assert client.gather(futures) == [x * x for x in range(10)]
            assert sum(client.gather(client.map(lambda x: x + 1, range(100)))) == 5050
            jobs = sorted(queued(client_pool))
            assert len(jobs) == 2 and all(queued(client_pool)[j] == "2" for j in jobs)
            cluster.scale(1)
            wait_until(lambda: len(client.scheduler_info()["workers"]) == 1, timeout=60,
                       message="one worker after scaling down")
            wait_until(lambda: len(queued(client_pool)) == 1, timeout=60, message="one worker job left")
    finally:
        cluster.close()
    wait_until(lambda: queued(client_pool) == {}, timeout=60, message="the worker jobs to leave the queue")
    # dask-jobqueue's header names each worker's file worker-$F(MY.JobId).err
    names = sorted(p.name for p in logs.glob("worker-*.err"))
    assert names == [f"worker-{job}.err" for job in jobs], names
    for job in jobs:
        assert "Start worker at" in (logs / f"worker-{job}.err").read_text()
