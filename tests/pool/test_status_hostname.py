"""`condor_status HOST` finds the host's slots by the name the daemons advertise, also on a host
whose name resolves to 127.0.0.1 whose reverse lookup is "localhost"."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap

import pytest

from condorsim import PersonalPool

LIST_SLOTS_BY_HOSTNAME = textwrap.dedent("""
    import socket, sys
    from condorsim import PersonalPool
    with PersonalPool(config={"NUM_CPUS": "2", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"}) as pool:
        result = pool.run("condor_status", socket.gethostname(), "-af", "Name", "Machine")
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
""")


def test_status_of_this_host_lists_its_slots():
    with PersonalPool(config={"NUM_CPUS": "2", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"}) as pool:
        result = pool.run("condor_status", socket.gethostname(), "-af", "Name")
        assert result.returncode == 0, result.stderr
        assert [line.split("@")[0] for line in result.stdout.splitlines()] == ["slot1", "slot2"]


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root and unshare for a host name of its own")
def test_status_of_a_host_whose_name_resolves_to_localhost(tmp_path):
    """In a UTS and mount namespace of its own: host name condorsim-host, listed in /etc/hosts
    after localhost on 127.0.0.1 (as many distributions do), so a reverse lookup says localhost."""
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost condorsim-host\n")
    script = tmp_path / "list_slots.py"
    script.write_text(LIST_SLOTS_BY_HOSTNAME)
    inside = f"mount --bind {hosts} /etc/hosts && hostname condorsim-host && exec {sys.executable} {script}"
    result = subprocess.run(["unshare", "--uts", "--mount", "--fork", "sh", "-c", inside],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["slot1@condorsim-host condorsim-host",
                                          "slot2@condorsim-host condorsim-host"], result.stderr
