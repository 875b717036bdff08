"""parsl's CondorProvider + HighThroughputExecutor, unmodified from PyPI with their stock submit
template, against a pool: four apps return the right values, a block shows running and a
finished block completed (leave_in_queue), and cancel() succeeds."""
from __future__ import annotations

import os
import sys

import pytest

from condorsim.shared.pool import wait_until

parsl = pytest.importorskip("parsl", reason="parsl is not installed (test extra)")
from parsl.jobs.states import JobState  # noqa: E402
from parsl.providers import CondorProvider  # noqa: E402

pytestmark = pytest.mark.timeout(240)


@parsl.python_app
def square(x: int) -> int:
    return x * x


def test_condor_provider_with_high_throughput_executor(client_pool, tmp_path):
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    # The job's environment is only what HTCondor gives it: the worker finds parsl's
    # process_worker_pool.py and this module (its apps are pickled by reference) through
    # worker_init, as a user of a real pool would arrange.
    module_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/
    worker_init = (f"export PATH={os.path.dirname(sys.executable)}:$PATH\n"
                   f"export PYTHONPATH={module_root}:{os.path.dirname(module_root)}")
    provider = CondorProvider(nodes_per_block=1, init_blocks=1, min_blocks=0, max_blocks=1,
                              worker_init=worker_init)
    executor = HighThroughputExecutor(label="condor", address="127.0.0.1", max_workers_per_node=2,
                                      provider=provider)
    dfk = parsl.load(Config(executors=[executor], run_dir=str(tmp_path / "runinfo"), strategy="none"))
    try:
        assert [square(i).result(timeout=120) for i in range(4)] == [0, 1, 4, 9]
        blocks = list(provider.resources)
        assert len(blocks) == 1
        assert [s.state for s in provider.status(blocks)] == [JobState.RUNNING]
        # a block whose job ends by itself shows completed: leave_in_queue keeps it queued
        done = provider.submit("true", 1, job_name="finishes")
        wait_until(lambda: provider.status([done])[0].state == JobState.COMPLETED, timeout=60,
                   message="the finished block to show completed")
        assert client_pool.run("condor_q", done, "-af:jr", "JobStatus").stdout == f"{done} 4\n"
        assert provider.cancel(blocks) == [True]
        assert [s.state for s in provider.status(blocks)] == [JobState.CANCELLED]
        assert provider.cancel([done]) == [True]
    finally:
        dfk.cleanup()
        parsl.clear()
    wait_until(lambda: client_pool.run("condor_q", "-af", "ClusterId").stdout == "", timeout=60,
               message="the blocks to leave the queue")
