"""Structured wire fuzzing of every daemon (issue 12): valid msgpack envelopes with wrong types,
missing fields, huge sizes, deep nesting, unknown commands, and 1.5, True or a bystander's pid
where a pid goes. No daemon may die, take over 1 s to answer the PING sent after each message,
fail inside a handler, or signal a process outside the pool. Runs in a PID namespace of its own."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.conftest import NEEDS_NAMESPACE

FUZZER = Path(__file__).with_name("fuzz_daemons.py")
DAEMONS = {"master", "collector", "negotiator", "schedd", "startd", "starter", "procd", "gridmanager"}


def fuzz(count: int, seed: int, seconds: int) -> dict:
    result = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, str(FUZZER),
                             str(count), str(seed), str(seconds)], capture_output=True, text=True,
                            timeout=seconds + 30)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    assert set(summary) >= DAEMONS
    for daemon in DAEMONS:
        assert summary[daemon]["alive"] and summary[daemon]["same_pid"] and summary[daemon]["hung"] == 0, \
            (daemon, summary[daemon])
    assert summary["internal_errors"] == []
    assert summary["bystander_alive"]
    return summary


@NEEDS_NAMESPACE
@pytest.mark.timeout(200)
def test_fuzzing_every_daemon_briefly():
    fuzz(1_000, 20261206, 150)


@NEEDS_NAMESPACE
@pytest.mark.long
@pytest.mark.timeout(6 * 3600)
def test_fuzzing_every_daemon_with_100000_messages():
    fuzz(100_000, 12, 6 * 3600 - 60)
