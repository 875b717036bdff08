"""The procd refuses to adopt a process tree it was not meant to have (issue 12): pid 1, numbers
that are not pids, itself, its ancestors, and processes not started under its startd. Run in a
PID namespace of its own, so that a regression could only ever signal the test's own processes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                 reason="needs root and unshare for a PID namespace")]

INSIDE = textwrap.dedent("""
    import os, psutil, subprocess
    from condorsim import PersonalPool, wait_until
    from condorsim.shared.protocol import Client, RemoteError

    assert os.getpid() == 1  # the namespace's init: nothing outside it can be reached
    with PersonalPool(config={"NUM_CPUS": "1"}) as pool:
        procd = Client("ipc://" + pool.cfg.get("PROCD_ADDRESS"), timeout=5)
        procd_pid = procd.call("PING")["pid"]
        stranger = subprocess.Popen(["sleep", "60"])  # a process not started under the startd
        bad_roots = [1, 0, -1, 1.5, True, "1", None, procd_pid, psutil.Process(procd_pid).ppid(), stranger.pid]
        for root in bad_roots:
            try:
                procd.call("REGISTER_FAMILY", marker="m", root_pid=root)
            except RemoteError as refusal:
                print("refused", repr(root), refusal)
            else:
                print("ACCEPTED", repr(root))
        stranger.kill()
        print("signalled", procd.call("SIGNAL_FAMILY", marker="m", signal=18)["signalled"])  # SIGCONT: harmless
        for signum in (1.5, True, 0, 99999, "9"):
            try:
                procd.call("SIGNAL_FAMILY", marker="m", signal=signum)
                print("ACCEPTED signal", repr(signum))
            except RemoteError as refusal:
                print("refused signal", repr(signum))
        assert pool.run("condor_submit", input="executable = /bin/true\\nqueue\\n").returncode == 0
        wait_until(lambda: pool.run("condor_q", "-af", "ClusterId").stdout == "", timeout=30,
                   message="a job to run through the same procd")
        print("job ran")
""")


def test_procd_refuses_roots_it_must_not_adopt(tmp_path):
    script = tmp_path / "inside.py"
    script.write_text(INSIDE)
    result = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, str(script)],
                            capture_output=True, text=True, timeout=100, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "ACCEPTED" not in result.stdout, result.stdout
    assert sum(line.startswith("refused ") and not line.startswith("refused signal") for line in lines) == 10
    assert "refused 1 bad REGISTER_FAMILY request: root_pid must be a process id above 1, not 1" in lines
    assert any(line.startswith("refused 1.5 ") for line in lines)
    assert any("is this procd or one of its ancestors" in line for line in lines)
    assert any("was not started under this procd's startd" in line for line in lines)
    assert "signalled 0" in lines
    assert sum(line.startswith("refused signal ") for line in lines) == 5
    assert lines[-1] == "job ran"
