"""Issue 4 acceptance: a real pool of master, collector, negotiator, schedd and two startds."""
from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgpack
import psutil
import pytest
import zmq

from condorsim.shared.daemon import POOL_MARKER
from condorsim.shared.locate import read_address_file
from condorsim.shared.pool import PersonalPool, PoolError, wait_until
from condorsim.shared.protocol import Client, endpoint
from tests.pool.conftest import SEED_SHADOW_STARTD

pytestmark = pytest.mark.timeout(120)


def slot_names(pool) -> list[str]:
    return sorted(ad.eval("Name") for ad in pool.query("Machine"))


def test_shadow_startd_slots_in_condor_status(shadow_pool):
    host = shadow_pool.cfg.get("FULL_HOSTNAME")
    result = shadow_pool.run("condor_status")
    assert result.returncode == 0, result.stderr
    rows = [line.split()[0] for line in result.stdout.splitlines()[2:10]]
    assert rows == [f"slot{n}{suffix}@{host}" for n in range(1, 5) for suffix in ("@SHADOW_STARTD", "")]
    totals = result.stdout.splitlines()[-1].split()
    assert totals[:7] == ["Total", "8", "0", "0", "8", "0", "0"]
    local = Path(shadow_pool.cfg.get("LOCAL_DIR"))
    shadow_slots = shadow_pool.query("Machine", "IsShadowStartd =?= true")
    assert len(shadow_slots) == 4
    assert {ad.eval("StartdIpAddr") for ad in shadow_slots} == {
        (local / "log" / ".startd_address.shadow").read_text().split()[0]}
    assert "slot(s) named slotN@SHADOW_STARTD@" in (local / "log" / "StartLog.shadow").read_text()
    assert "SHADOW" not in (local / "log" / "StartLog").read_text()
    assert (local / "execute.shadow").is_dir()


def test_master_restarts_a_killed_startd(shadow_pool):
    children = Client(shadow_pool.master_address).call("CHILDREN")["children"]
    old_pid = children["STARTD"]["pid"]
    os.kill(old_pid, signal.SIGKILL)

    def restarted():
        pid = Client(shadow_pool.master_address).call("CHILDREN")["children"]["STARTD"]["pid"]
        return pid not in (None, old_pid) and len(shadow_pool.query("Machine", "StartdIpAddr =!= undefined")) == 8 \
            and pid
    new_pid = wait_until(restarted, timeout=20, message="the startd to be restarted")
    wait_until(lambda: len({ad.eval("StartdIpAddr") for ad in shadow_pool.query("Machine")}) == 2
               and all(ad.eval("MyCurrentTime") >= int(time.time()) - 1 for ad in shadow_pool.query(
                   "Machine", "IsShadowStartd =!= true")), timeout=10, message="fresh slot ads")
    assert len(slot_names(shadow_pool)) == 8
    assert psutil.Process(new_pid).is_running()


def test_killed_master_takes_every_daemon_with_it(shadow_pool):
    processes = shadow_pool.processes()
    master = [p for p in processes if "condor_master" in " ".join(p.cmdline())]
    assert len(master) == 1 and len(processes) >= 8  # master, 5 daemons, 2 procds
    master[0].kill()
    killed_at = time.monotonic()

    def all_gone() -> bool:
        return not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes)
    wait_until(all_gone, timeout=3, interval=0.01, message="every daemon to exit after kill -9 of the master")
    assert time.monotonic() - killed_at < 1.0  # each daemon notices its master's death at once
    shadow_pool.master_address = None  # nothing left to stop


def test_second_master_on_the_same_configuration_refuses(personal_pool):
    before = {p.pid for p in personal_pool.processes()}
    result = personal_pool.run("condor_master")
    assert result.returncode != 0
    assert "another condor_master" in result.stderr and "already running" in result.stderr
    assert {p.pid for p in personal_pool.processes()} == before
    assert len(personal_pool.query("Machine")) >= 1


def test_two_startds_on_one_procd_address_second_refuses():
    clash = SEED_SHADOW_STARTD.replace("_CONDOR_PROCD_ADDRESS=$(PROCD_ADDRESS).shadow ", "")
    assert clash != SEED_SHADOW_STARTD
    pool = PersonalPool(config={"NUM_CPUS": "2", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"}, config_d={"31shadow_startd.config": clash})

    def wait_for_one_startd():  # only one of the two startds can come up
        wait_until(lambda: Path(pool.cfg.get("COLLECTOR_ADDRESS_FILE")).exists(), message="the collector")
        pool.wait_for_ads("Machine", 2)
    pool.wait_ready = wait_for_one_startd
    try:
        pool.start()
        log = Path(pool.cfg.get("LOCAL_DIR")) / "log"
        wait_until(lambda: "already in use by the procd of another startd" in (log / "MasterLog").read_text(),
                   timeout=10, message="the master to log why the second startd exited")
        names = slot_names(pool)
        winner_address = {ad.eval("StartdIpAddr") for ad in pool.query("Machine")}
        assert len(names) == 2 and len(winner_address) == 1
        children = Client(pool.master_address).call("CHILDREN")["children"]
        winner = [name for name, child in children.items() if child["address"] in winner_address]
        assert len(winner) == 1
        pid_before = children[winner[0]]["pid"]
        result = pool.run("condor_submit", input="cmd=/bin/true\nqueue\n")
        assert result.returncode == 0, result.stderr
        wait_until(lambda: pool.run("condor_q", "-af", "JobStatus").stdout.strip() == "", timeout=15,
                   message="a job to run to completion on the startd that has its procd")
        assert Client(pool.master_address).call("CHILDREN")["children"][winner[0]]["pid"] == pid_before
        assert slot_names(pool) == names
    finally:
        pool.stop()


def test_daemons_survive_garbage_on_their_sockets(personal_pool):
    children = Client(personal_pool.master_address).call("CHILDREN")["children"]
    addresses = [personal_pool.master_address] + [c["address"] for c in children.values()]
    addresses.append(f"ipc://{personal_pool.cfg.get('PROCD_ADDRESS')}")  # the startd's procd
    rng = random.Random(4)
    ctx = zmq.Context.instance()
    for address in addresses:
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 0)
        sock.connect(endpoint(address))
        for n in range(10_000):
            kind = n % 5
            if kind == 0:
                frames = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 40)))]
            elif kind == 1:
                frames = [b"", msgpack.packb({"cmd": rng.choice(["QUERY_ADS", "UPDATE_ADS", "SUBMIT",
                                                                  "ACT_ON_JOBS", "REQUEST_CLAIM", "NOPE"]),
                                              "ads": rng.choice([None, 1, "x", [1], [{"a": "(("}]])})]
            elif kind == 2:
                frames = [b"", msgpack.packb([1, 2, 3])]
            elif kind == 3:
                frames = [b"", b"", b"\xc1", b"junk"]
            else:
                frames = [b"", msgpack.packb({"cmd": "QUERY_ADS", "my_type": "Machine", "constraint": ")("})]
            sock.send_multipart(frames)
        sock.close()
    for address in addresses:
        assert Client(address, timeout=10).call("PING")["ok"] is True
    assert len(personal_pool.query("Machine")) >= 1
    result = personal_pool.run("condor_status", "-total")
    assert result.returncode == 0


def test_eight_pools_in_parallel(tmp_path):
    def one_pool(index: int) -> int:
        with PersonalPool(config={"NUM_CPUS": "1"}, directory=str(tmp_path / f"p{index}"), timeout=60) as pool:
            return len(pool.query("Machine"))
    with ThreadPoolExecutor(8) as executor:
        counts = list(executor.map(one_pool, range(8)))
    assert counts == [1] * 8


def test_master_in_the_foreground_with_f(tmp_path):
    pool = PersonalPool(config={"NUM_CPUS": "1"}, directory=str(tmp_path / "pool"))
    env = dict(os.environ, CONDOR_CONFIG=str(pool.write_config()), **{POOL_MARKER: pool.pool_id})
    env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env["PATH"]])
    master = subprocess.Popen(["condor_master", "-f"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        address_file = tmp_path / "pool" / "local" / "log" / ".master_address"
        wait_until(lambda: read_address_file(str(address_file)), message="the master's address file")
        assert master.poll() is None  # -f: the command itself is the master
        children = Client(read_address_file(str(address_file)), timeout=20).call("WAIT_CHILDREN_ALIVE")["children"]
        assert set(children) == {"COLLECTOR", "NEGOTIATOR", "STARTD", "SCHEDD"}
        Client(read_address_file(str(address_file))).call("DAEMONS_OFF", master=True)
        assert master.wait(15) == 0
        wait_until(lambda: not pool.processes(), message="every daemon to exit with its master")
    finally:
        if master.poll() is None:
            master.kill()
        pool.stop(check=False)


def test_start_up_error_names_the_daemons_that_never_said_they_are_alive(tmp_path):
    """One DAEMON_LIST program runs but never reports alive, another exits at once: the
    harness's error names both, with their pids and whether their processes are still there."""
    late, dead = tmp_path / "late_daemon", tmp_path / "dead_daemon"
    late.write_text("#!/bin/sh\nexec sleep 600\n")
    dead.write_text("#!/bin/sh\necho 'cannot bind my port' >&2\nexit 3\n")
    late.chmod(0o755)
    dead.chmod(0o755)
    pool = PersonalPool(config={"DAEMON_LIST": "MASTER, COLLECTOR, LATE, DEAD", "LATE": str(late), "DEAD": str(dead),
                                "MASTER_DEAD_BACKOFF_CONSTANT": "600"}, directory=str(tmp_path / "pool"), timeout=4)
    with pytest.raises(PoolError) as failure:
        pool.start()
    message = str(failure.value)
    assert message.startswith("the pool did not come up within 4 s: "), message
    assert re.search(r"LATE \(late_daemon, pid \d+, still running, never said it is alive\)", message), message
    assert re.search(r"DEAD \(dead_daemon, not running: pid \d+ exited with status 3: cannot bind my port; "
                     r"started again in \d+ s\)", message), message
    assert not pool.processes()  # the late one was stopped with the rest


def test_forked_daemons_show_their_own_names_and_arguments(shadow_pool):
    shown = {}
    for process in shadow_pool.processes():
        words = [word for word in process.cmdline() if word]
        shown.setdefault(process.name(), []).append([os.path.basename(words[0])] + words[1:])
    assert sorted(shown) == ["condor_collector", "condor_master", "condor_negotiator", "condor_procd",
                             "condor_schedd", "condor_startd"]
    assert sorted(shown["condor_startd"]) == [["condor_startd"],
                                              ["condor_startd", "-f", "-local-name", "SHADOW_STARTD"]]
    assert [words[:2] for words in shown["condor_procd"]] == [["condor_procd", "-A"]] * 2
