"""condor_off/on/restart/reconfig and condor_reschedule against real pools; texts as HTCondor's tool.cpp."""
from __future__ import annotations

import pytest

from condorsim.scripts import condor_admin, condor_reschedule
from condorsim.shared.protocol import Client

from condorsim.shared.pool import wait_until

SHADOW_STARTD = """SHADOW_STARTD = $(STARTD)
SHADOW_STARTD_ARGS = -f -local-name SHADOW_STARTD
SHADOW_STARTD_ENVIRONMENT = "_CONDOR_PROCD_ADDRESS=$(PROCD_ADDRESS).shadow"
SHADOW_STARTD.STARTD_ADDRESS_FILE = $(STARTD_ADDRESS_FILE).shadow
SHADOW_STARTD.EXECUTE = $(EXECUTE).shadow
SHADOW_STARTD.STARTD_NAME = SHADOW_STARTD
SHADOW_STARTD.IsShadowStartd = TRUE
SHADOW_STARTD.STARTD_ATTRS = $(STARTD_ATTRS), IsShadowStartd
DAEMON_LIST = $(DAEMON_LIST), SHADOW_STARTD
"""


def children(pool) -> dict:
    return Client(pool.master_address, timeout=5).call("CHILDREN")["children"]


def ok(result, stdout: str) -> None:
    assert (result.returncode, result.stdout, result.stderr) == (0, stdout, "")


@pytest.mark.parametrize("prog, argv, stderr_start", [
    ("condor_on", ["-fast"], 'ERROR: "-fast" is not valid with condor_on\nUse "-help" to see usage information\n'),
    ("condor_reconfig", ["-peaceful"], 'ERROR: "-peaceful" is not valid with condor_reconfig\n'),
    ("condor_off", ["-startd", "-schedd"], "ERROR: can only specify one daemon flag.\nUsage: condor_off"),
    ("condor_off", ["-daemon"], "ERROR: -daemon requires another argument\n"),
    ("condor_off", ["-bogus"], 'ERROR: invalid argument "-bogus"\nUsage: condor_off'),
    ("condor_frob", [], "ERROR: unknown command condor_frob\n"),
])
def test_argument_errors(capsys, prog, argv, stderr_start):
    assert condor_admin.main(argv, prog=prog) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(stderr_start)


def test_no_master_running(capsys, monkeypatch, tmp_path):
    config = tmp_path / "condor_config"
    config.write_text(f"LOCAL_DIR = {tmp_path}\n")
    monkeypatch.setenv("CONDOR_CONFIG", str(config))
    assert condor_admin.main([], prog="condor_off") == 1
    assert capsys.readouterr().err == ("Can't find address for local master\n"
                                       "Perhaps you need to query another pool.\n")
    assert condor_reschedule.main([]) == 1
    assert capsys.readouterr().err == ("Can't find address for local schedd\n"
                                       "Perhaps you need to query another pool.\n")


def test_off_and_on_one_startd(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "2", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"})
    ok(pool.run("condor_off", "-fast", "-daemon", "STARTD"),
       'Sent "Kill-Daemon-Fast" command for "STARTD" to local master\n')
    wait_until(lambda: not pool.query("Machine"), message="slot ads gone")
    wait_until(lambda: children(pool)["STARTD"]["pid"] is None, message="startd exited", show=lambda: children(pool))
    ok(pool.run("condor_on", "-daemon", "STARTD"), 'Sent "Spawn-Daemon" command for "STARTD" to local master\n')
    assert pool.wait_for_ads("Machine", 2, timeout=8) == 2


def test_off_everything_but_the_master_then_on(pool_factory):
    pool = pool_factory()
    ok(pool.run("condor_off"), 'Sent "Kill-All-Daemons" command to local master\n')
    wait_until(lambda: len(pool.processes()) == 1, message="only the master left",
               show=lambda: [p.name() for p in pool.processes()])
    assert all(child["pid"] is None for child in children(pool).values())
    ok(pool.run("condor_on"), 'Sent "Spawn-All-Daemons" command to local master\n')
    pool.wait_ready()
    ok(pool.run("condor_reschedule"), 'Sent "Reschedule" command to local schedd\n')


def test_restart_one_daemon_gets_a_new_process(pool_factory):
    pool = pool_factory()
    old = children(pool)["STARTD"]["pid"]
    ok(pool.run("condor_restart", "-daemon", "STARTD"), 'Sent "Restart" command to local startd\n')
    wait_until(lambda: children(pool)["STARTD"]["pid"] not in (None, old) and children(pool)["STARTD"]["address"],
               message="a new startd", show=lambda: children(pool))
    assert pool.wait_for_ads("Machine", 1, timeout=8) >= 1


def test_restart_everything_is_not_a_crash(pool_factory):
    """condor_restart under HTCondor's own backoff knobs (the harness's fast timers set the
    constant to 0): a requested restart starts each daemon again at once, no 9 + 2^n s wait."""
    pool = pool_factory(config={"MASTER_BACKOFF_CONSTANT": "9", "MASTER_BACKOFF_FACTOR": "2"})
    old = {name: child["pid"] for name, child in children(pool).items()}
    ok(pool.run("condor_restart"), 'Sent "Restart" command to local master\n')

    def every_daemon_answers_anew() -> bool:
        now = children(pool)
        if any(child["pid"] in (None, old[name]) or not child["address"] for name, child in now.items()):
            return False
        return all(Client(child["address"], timeout=1).call("PING")["pid"] == child["pid"]
                   for child in now.values())
    wait_until(every_daemon_answers_anew, timeout=2, message="every daemon restarted and answering",
               show=lambda: children(pool))
    status = pool.run("condor_status", "-schedd", "-af", "Name")
    assert status.returncode == 0 and status.stdout.strip(), status.stderr
    assert "restarting" not in (pool.dir / "local" / "log" / "MasterLog").read_text()


def test_named_daemon_of_daemon_list(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "1"}, config_d={"31shadow": SHADOW_STARTD})
    ok(pool.run("condor_off", "-daemon", "SHADOW_STARTD"),
       'Sent "Kill-Daemon" command for "SHADOW_STARTD" to local master\n')
    wait_until(lambda: not pool.query("Machine", "IsShadowStartd =?= true"), message="shadow slot ads gone")
    assert len(pool.query("Machine")) == 1  # the other startd keeps running
    ok(pool.run("condor_restart", "-daemon", "SHADOW_STARTD"), 'Sent "Restart" command to local SHADOW_STARTD\n')
    assert pool.wait_for_ads("Machine", 1, constraint="IsShadowStartd =?= true", timeout=8) == 1


def test_reconfig_picks_up_a_config_change(pool_factory):
    pool = pool_factory()
    (pool.dir / "config.d" / "90color").write_text('MY_COLOR = "blue"\nSTARTD_ATTRS = MY_COLOR\n')
    ok(pool.run("condor_reconfig"), 'Sent "Reconfig" command to local master\n')
    assert pool.wait_for_ads("Machine", 1, constraint='MY_COLOR == "blue"', timeout=8) >= 1
    ok(pool.run("condor_reconfig", "-daemon", "STARTD"), 'Sent "Reconfig" command to local startd\n')


def test_unknown_daemon_is_an_error(pool_factory):
    pool = pool_factory()
    r = pool.run("condor_reconfig", "-daemon", "FOO")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "Can't find address for local FOO\nPerhaps you need to query another pool.\n"
    r = pool.run("condor_off", "-daemon", "FOO")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr.startswith("ERROR\n") and r.stderr.endswith("Can't send Kill-Daemon command to local master\n")


def test_off_master_leaves_no_process(pool_factory):
    pool = pool_factory()
    ok(pool.run("condor_off", "-master"), 'Sent "Kill-Daemon" command for "master" to local master\n')
    wait_until(lambda: not pool.processes(), message="every process of the pool gone",
               show=lambda: [p.name() for p in pool.processes()])
    pool.master_address = None  # nothing left for the fixture's teardown to stop
