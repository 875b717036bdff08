"""Pools for third-party clients that drive HTCondor through its command line: the tools they
call must find this pool, so its CONDOR_CONFIG and PATH become the test process's own."""
from __future__ import annotations

import shutil
import tempfile

import pytest


@pytest.fixture
def client_pool(pool_factory, monkeypatch):
    # A short EXECUTE, as on a real execute node: jobs get TMPDIR = their scratch directory, and
    # Python's multiprocessing puts AF_UNIX sockets there (at most 107 bytes of path).
    execute = tempfile.mkdtemp(prefix="cx-")
    pool = pool_factory(config={"NUM_CPUS": "4", "EXECUTE": execute})
    for name in ("CONDOR_CONFIG", "PATH"):
        monkeypatch.setenv(name, pool.env[name])
    yield pool
    shutil.rmtree(execute, ignore_errors=True)
