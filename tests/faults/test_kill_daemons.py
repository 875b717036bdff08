"""kill -9 of each daemon type during a run of 20 jobs, 8 running (issue 12), through
scripts/bench_faults.py in a PID namespace of its own: 0 jobs lost, 0 run twice (completed twice,
or two copies at once), 0 stuck Running longer than the job lease, 0 processes left."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from condorsim.scripts.bench_faults import TYPES
from tests.faults.conftest import NEEDS_NAMESPACE


def campaign(*args: str, timeout: float) -> list[dict]:
    result = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m",
                             "condorsim.scripts.bench_faults", "--json", *args],
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    trials = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    for trial in trials:
        assert trial["lost"] == [] and trial["twice"] == [] and trial["leftovers"] == [], trial
        assert trial["stuck_max"] < trial["lease"], trial
    return trials


@NEEDS_NAMESPACE
@pytest.mark.timeout(400)
def test_one_kill_of_each_daemon_type_in_one_run():
    trials = campaign("--together", timeout=380)
    assert len(trials) == 1 and list(trials[0]["recovery"]) == TYPES
    assert trials[0]["runs"] >= 20


@NEEDS_NAMESPACE
@pytest.mark.long
@pytest.mark.timeout(4 * 3600)
def test_five_kills_of_each_daemon_type():
    trials = campaign("--kills", "5", timeout=4 * 3600 - 60)
    assert len(trials) == 5 * len(TYPES)
