"""A condor_config written for a real HTCondor runs a pool unchanged: no RELEASE_DIR or SBIN, so
every daemon path is HTCondor's /usr/sbin one, where nothing is installed here."""
from __future__ import annotations

import os

import pytest

from condorsim import PersonalPool, wait_until
from condorsim.shared.pool import PoolError

if os.path.exists("/usr/sbin/condor_master"):
    pytest.skip("a real HTCondor is installed in /usr/sbin", allow_module_level=True)


def htcondor_users_config(local_dir) -> str:
    return f"LOCAL_DIR = {local_dir}\nuse ROLE : Personal\nNUM_CPUS = 4\n"


def test_htcondor_config_runs_condorsims_own_daemons(tmp_path):
    with PersonalPool(directory=str(tmp_path), condor_config=htcondor_users_config(tmp_path / "local")) as pool:
        slots = wait_until(lambda: pool.query("Machine"), message="slot ads")
        # HTCondor 25's default: one partitionable slot holding all 4 CPUs.
        assert [(ad.eval("Name").split("@")[0], ad.eval("SlotType"), ad.eval("Cpus")) for ad in slots] == \
            [("slot1", "Partitionable", 4)]
        assert pool.run("condor_config_val", "MASTER").stdout == "/usr/sbin/condor_master\n"
        assert pool.run("condor_config_val", "SCHEDD").stdout == "/usr/sbin/condor_schedd\n"

        # The startd's own children (procd, starter) stand in the same way: a job runs to the end.
        submitted = pool.run("condor_submit", input="executable = /bin/true\nqueue\n")
        assert submitted.returncode == 0, submitted.stderr
        wait_until(lambda: pool.run("condor_q", "-af", "ClusterId").stdout == "", timeout=30,
                   message="the job to finish", show=lambda: pool.run("condor_q", "-nobatch").stdout)

        master_log = (tmp_path / "local" / "log" / "MasterLog").read_text()
        for daemon in ("collector", "negotiator", "schedd", "startd"):
            note = f"/usr/sbin/condor_{daemon} does not exist; running condorsim's own condor_{daemon} in its place"
            assert master_log.count(note) == 1, master_log
        assert "failed to start" not in master_log
        start_log = (tmp_path / "local" / "log" / "StartLog").read_text()
        for program in ("condor_procd", "condor_starter"):
            assert start_log.count(f"/usr/sbin/{program} does not exist; running condorsim's own") == 1

        off = pool.run("condor_off", "-master")
        assert off.returncode == 0, off.stderr
        wait_until(lambda: not pool.processes(), message="every process of the pool gone",
                   show=lambda: [p.cmdline() for p in pool.processes()])
        pool.master_address = None  # nothing left for the harness's teardown to stop


def test_a_daemon_that_cannot_start_fails_condor_master(tmp_path):
    config = htcondor_users_config(tmp_path / "local") + \
        "FROB = /nonexistent/condor_frob\nDAEMON_LIST = $(DAEMON_LIST), FROB\n"
    pool = PersonalPool(directory=str(tmp_path), condor_config=config)
    with pytest.raises(PoolError) as failure:
        pool.start()
    assert "failed to start FROB (/nonexistent/condor_frob): No such file or directory" in str(failure.value)
    assert not pool.processes()  # the daemons it had started are gone with it
