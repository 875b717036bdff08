"""Malformed CEDAR messages to the collector's and the schedd's doors: none kills or wedges a
daemon, and each connection is closed with a line in the daemon's log. The fuzzing runs in a PID
namespace of its own (a pool started inside it cannot leave anything behind)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FUZZER = Path(__file__).with_name("fuzz_cedar.py")


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root and unshare")
@pytest.mark.timeout(120)
def test_malformed_cedar_messages_close_connections_and_daemons_survive():
    count = 10_000  # per port, as the issue asks (about 15 s)
    result = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, str(FUZZER),
                             str(count), "20261206"], capture_output=True, text=True, timeout=110)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.splitlines()[-1])
    for daemon in ("COLLECTOR", "SCHEDD"):
        report = summary[daemon]
        assert report["alive"] and report["hung"] == 0, report
        assert report["closed_with_log_line"] == count, report
    assert summary["tracebacks"] == 0 and summary["schedd_alive_after_qmgmt"]
    assert summary["slots_after"] >= 1
