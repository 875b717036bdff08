"""The README's first command: the pool demo on the embedded default configuration."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_demo(home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CONDOR_CONFIG"}
    env["HOME"] = str(home)  # the embedded pool keeps its state in ~/.condorsim
    result = subprocess.run([sys.executable, "-m", "condorsim.scripts.demo"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=170)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.mark.timeout(240)
def test_demo_runs_a_personal_pool_on_the_embedded_configuration(tmp_path):
    out = run_demo(tmp_path)
    assert f"state in {tmp_path}/.condorsim" in out
    assert "All jobs in cluster 1 have been marked for removal" in out
    assert "hello from condorsim" in out
    assert "005 (002.000.000)" in out and "Normal termination (return value 0)" in out
    assert out.rstrip().endswith('$ condor_off -master\nSent "Kill-Daemon" command for "master" to local master\n\n'
                                 "# demo: the pool has stopped and no condorsim process is left.")
    assert (tmp_path / ".condorsim" / "log" / "MasterLog").exists()
    work = Path(re.search(r"\$ cat (\S+)/hello\.out", out).group(1))
    assert not work.exists(), "the demo left its working directory behind"

    # Again on the same state: the queue goes on from cluster 3, and the demo removes its own jobs.
    again = run_demo(tmp_path)
    assert "All jobs in cluster 3 have been marked for removal" in again
    assert "Couldn't find" not in again
