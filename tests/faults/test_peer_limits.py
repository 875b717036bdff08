"""Per-peer limits (issue 12): a message past MAX_MESSAGE_SIZE is refused before it is decoded,
with a log line, and nothing of it is stored; a damaged job queue log stops the schedd, which the
master then leaves off."""
from __future__ import annotations

import pytest

from condorsim import wait_until
from condorsim.shared.locate import read_address_file
from condorsim.shared.protocol import Client, RemoteError

pytestmark = pytest.mark.timeout(120)


def test_a_100_mb_ad_is_refused_not_stored_and_the_collector_goes_on(pool_factory):
    pool = pool_factory(config={"DAEMON_LIST": "MASTER, COLLECTOR"})
    collector = Client(pool.collector_address(), timeout=30)
    huge = {"MyType": '"Machine"', "Name": '"huge@host"', "Blob": '"' + "x" * (100 * 1024 * 1024) + '"'}
    with pytest.raises(RemoteError, match=r"message of 104,857,6\d\d bytes \(UPDATE_ADS\) is larger than "
                                          r"MAX_MESSAGE_SIZE \(67,108,864 bytes\)"):
        collector.call("UPDATE_ADS", ads=[huge])
    collector.send("UPDATE_ADS", ads=[huge])  # one-way: refused the same, nobody to tell but the log
    log = pool.dir / "local" / "log" / "CollectorLog"
    wait_until(lambda: log.read_text().count("Refused a message of 104,857,6") >= 1, timeout=10,
               message="the refusal in the CollectorLog")
    small = {"MyType": '"Machine"', "Name": '"small@host"'}
    collector.call("UPDATE_ADS", ads=[small])
    names = [ad.eval("Name") for ad in pool.query("Machine")]
    assert "small@host" in names and "huge@host" not in names


def test_the_limit_is_a_knob_and_submit_has_its_own(pool_factory):
    pool = pool_factory(config={"DAEMON_LIST": "MASTER, COLLECTOR, SCHEDD", "MAX_MESSAGE_SIZE": "2Kb"})
    with pytest.raises(RemoteError, match=r"\(UPDATE_ADS\) is larger than MAX_MESSAGE_SIZE \(2,048 bytes\)"):
        Client(pool.collector_address(), timeout=10).call(
            "UPDATE_ADS", ads=[{"MyType": '"Machine"', "Name": '"a"', "Blob": '"' + "x" * 4000 + '"'}])
    submit = pool.run("condor_submit", input="executable = /bin/true\narguments = " + "y" * 3000
                      + "\nrequirements = False\nqueue 3\n")
    assert submit.returncode == 0, submit.stderr  # SUBMIT: MAX_SUBMIT_MESSAGE_SIZE (1 GiB)


def test_a_damaged_queue_log_stops_the_schedd_and_the_master_leaves_it_off(pool_factory):
    pool = pool_factory(config={"DAEMON_LIST": "MASTER, COLLECTOR, SCHEDD"})
    assert pool.run("condor_submit", input="executable = /bin/true\nrequirements = False\nqueue 2\n").returncode == 0
    assert pool.run("condor_submit", input="executable = /bin/true\nrequirements = False\nqueue 1\n").returncode == 0
    assert pool.run("condor_off", "-schedd").returncode == 0
    log = pool.dir / "local" / "spool" / "job_queue.log"
    wait_until(lambda: not any("condor_schedd" in " ".join(p.cmdline()) for p in pool.processes()), timeout=20,
               message="the schedd to stop")
    data = bytearray(log.read_bytes())
    data[data.index(b"103 1.1 ") + 4] ^= 0x04  # job 1.1's record now names job 5.1: the checksum tells
    log.write_bytes(bytes(data))
    assert pool.run("condor_on", "-schedd").returncode == 0
    sched_log = pool.dir / "local" / "log" / "SchedLog"
    wait_until(lambda: "has damaged committed records" in sched_log.read_text(), timeout=20,
               message="the schedd's refusal")
    master_log = pool.dir / "local" / "log" / "MasterLog"
    wait_until(lambda: "asked not to be restarted" in master_log.read_text(), timeout=20,
               message="the master to leave the schedd off")
    message = next(line for line in sched_log.read_text().splitlines() if "has damaged committed records" in line)
    assert "job(s) 1.0, 1.1, 5.1" in message or "job(s) 1.0, 5.1" in message, message
    kept = list(log.parent.glob("job_queue.log.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(data)
    assert pool.run("condor_on", "-schedd").returncode == 0  # the administrator accepts the repair
    wait_until(lambda: pool.run("condor_q", "-af", "ClusterId", "ProcId").stdout.split("\n")[:1] == ["2 0"],
               timeout=20, message="the repaired queue: cluster 1's transaction is gone, cluster 2 is there")


def test_matches_naming_40_made_up_slots_do_not_hold_up_the_schedd(pool_factory):
    pool = pool_factory(config={"DAEMON_LIST": "MASTER, COLLECTOR, SCHEDD"})
    assert pool.run("condor_submit", input="executable = /bin/true\nqueue 40\n").returncode == 0
    schedd = Client(read_address_file(pool.cfg.get("SCHEDD_ADDRESS_FILE")), timeout=10)
    fake = [{"job": f"1.{proc}", "slot": {"MyType": '"Machine"', "Name": f'"slot{proc}@nowhere"',
                                          "MyAddress": f'"<127.0.0.1:{proc + 1}>"'}} for proc in range(40)]
    schedd.call("MATCHES", matches=fake)
    quick = Client(schedd.address, timeout=2)  # a schedd busy waiting on 40 dead startds would miss this
    for _ in range(5):
        assert len(quick.call("QUERY_JOBS", constraint="JobStatus == 1", projection=["ProcId"])["jobs"]) == 40
    log = pool.dir / "local" / "log" / "SchedLog"
    wait_until(lambda: log.read_text().count("Could not claim slot") >= 8, timeout=30,
               message="the first batch of claims to fail")
    assert len(quick.call("QUERY_JOBS", constraint="JobStatus == 1", projection=["ProcId"])["jobs"]) == 40


def test_the_negotiator_asks_a_dead_schedd_once_and_goes_on_with_the_others(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "1"})
    dead = '"<127.0.0.1:9>"'  # nobody listens: each call would wait its whole timeout
    Client(pool.collector_address(), timeout=10).call("UPDATE_ADS", ads=[
        {"MyType": '"Submitter"', "Name": '"ghost@nowhere"', "ScheddIpAddr": dead, "IdleJobs": "5",
         "RunningJobs": "0", "ScheddName": '"nowhere"'}])
    assert pool.run("condor_submit", input="executable = /bin/true\nqueue\n").returncode == 0
    wait_until(lambda: pool.run("condor_q", "-af", "ClusterId").stdout == "", timeout=40,
               message="the real schedd's job to run while the ghost schedd's address is dead")
    log = pool.dir / "local" / "log" / "NegotiatorLog"
    cycles = lambda: [ad.eval("LastNegotiationCycleEnd0") for ad in pool.query("Negotiator")]
    first = cycles()[0]
    wait_until(lambda: cycles()[0] >= first + 3, timeout=30, message="three more negotiation cycles")
    assert log.read_text().count("Failed to negotiate with the schedd at <127.0.0.1:9>") == 1
