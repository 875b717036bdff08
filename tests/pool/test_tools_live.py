"""Tools, collector, master and job event log checked against live pools (tools.md, daemons.md,
master.md, userlog.md): condor_status and condor_q output modes, the collector's duplicate-name
warning, the master's restart backoff, a broken configuration, and the event log date format."""
from __future__ import annotations

import getpass
import sysconfig
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import htcondor2  # noqa: F401  (first, so classad2 gets the daemons' semantics)
import classad2
import psutil
import pytest

from condorsim.shared.daemon import POOL_MARKER
from condorsim.shared.pool import PersonalPool, is_alive
from condorsim.shared.protocol import Client
from condorsim.shared.pool import wait_until
from tests.pool.conftest import SEED_SHADOW_STARTD

pytestmark = pytest.mark.timeout(120)

USER = getpass.getuser()
# QDATE as condor_q prints it: month right-justified, day left-justified (" 1/5  09:03", "12/25 23:59").
HELD_SINCE = r"[ 1]\d/\d[\d ] \d\d:\d\d"
TOTALS_HEADER = "%6.6s %5.5s %7.7s %9.9s %7.7s %10.10s %6.6s %8.8s %6.6s" % (
    "Total", "Owner", "Claimed", "Unclaimed", "Matched", "Preempting", "Drain", "Backfill", "BkIdle")
SLOT_ATTRIBUTES = ("Name", "Machine", "SlotID", "Cpus", "Memory", "Disk", "State", "Activity", "Start",
                   "Requirements", "WithinResourceLimits", "MyAddress", "StartdIpAddr", "CondorVersion")
WITHIN_RESOURCE_LIMITS = ("MY.Cpus > 0 && TARGET.RequestCpus <= MY.Cpus && MY.Memory > 0 && "
                          "TARGET.RequestMemory <= MY.Memory && MY.Disk > 0 && TARGET.RequestDisk <= MY.Disk")
CONDOR_VERSION = re.compile(r'^"\$CondorVersion: \d+\.\d+\.\d+ \S+ BuildID: \S+ \$"$')


def long_ads(text: str) -> list[dict[str, str]]:
    """Split `-long` output into ads of {attribute: unparsed value}, checking its layout on the way:
    one `Attr = value` per line, attributes sorted case-insensitively, a blank line after each ad."""
    assert text.endswith("\n\n"), "every ad, the last too, ends with a blank line"
    ads = []
    for block in text[:-2].split("\n\n"):
        lines = block.split("\n")
        assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]* = .+", line) for line in lines), block
        names = [line.split(" = ", 1)[0] for line in lines]
        assert names == sorted(names, key=str.lower), "attributes sorted case-insensitively"
        ads.append(dict(line.split(" = ", 1) for line in lines))
    return ads


def reference_json_ads(text: str) -> list:
    """A -json array read by HTCondor's own parser (which takes a sequence of objects, not an array)."""
    assert text.startswith("[\n") and text.endswith("\n]\n")
    return list(classad2.parseAds(text[2:-3].replace("\n},\n{", "\n}\n{"), classad2.ParserType.JSON))


def daemon_name(host: str) -> str:
    """Master, schedd and negotiator are named fqdn when run by root/condor, else user@fqdn."""
    return host if USER in ("root", "condor") else f"{USER}@{host}"


# -- condor_status on the seed's shadow pool (read-only, so one pool serves the module) -----------
@pytest.fixture(scope="module")
def status_pool(tmp_path_factory):
    pool = PersonalPool(config={"NUM_CPUS": "4", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"},
                        config_d={"31shadow_startd.config": SEED_SHADOW_STARTD},
                        directory=str(tmp_path_factory.mktemp("status_pool")))
    with pool:
        yield pool


def status(pool, *args: str) -> str:
    result = pool.run("condor_status", *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def expected_slot_names(host: str) -> list[str]:
    # natural sort: slotN@SHADOW_STARTD@host before slotN@host ('S' < lower-case host letters)
    return [f"slot{n}{suffix}@{host}" for n in range(1, 5) for suffix in ("@SHADOW_STARTD", "")]


def test_status_long_slot_ads_carry_the_spec_attributes(status_pool):
    host = status_pool.cfg.get("FULL_HOSTNAME")
    text = status(status_pool, "-long")
    ads = long_ads(text)
    assert sorted(ad["Name"] for ad in ads) == sorted(f'"{name}"' for name in expected_slot_names(host))
    for ad in ads:
        name = ad["Name"].strip('"')
        assert set(SLOT_ATTRIBUTES) <= set(ad), set(SLOT_ATTRIBUTES) - set(ad)
        assert ad["MyType"] == '"Machine"' and ad["TargetType"] == '"Job"'
        assert ad["Machine"] == f'"{host}"'
        assert ad["SlotID"] == name[4]  # slotN@...
        assert ad["Cpus"] == "1" and ad["SlotType"] == '"Static"'
        assert int(ad["Memory"]) > 0 and int(ad["Disk"]) > 0
        assert (ad["State"], ad["Activity"]) == ('"Unclaimed"', '"Idle"')
        assert ad["Start"] == "true"
        assert ad["Requirements"] == "START && WithinResourceLimits"
        assert ad["WithinResourceLimits"] == WITHIN_RESOURCE_LIMITS
        assert re.fullmatch(r'"<127\.0\.0\.1:\d+(\?[^">]*)?>"', ad["MyAddress"]), ad["MyAddress"]
        assert ad["StartdIpAddr"] == ad["MyAddress"]
        assert CONDOR_VERSION.match(ad["CondorVersion"]), ad["CondorVersion"]
        if "@SHADOW_STARTD@" in name:
            assert ad["IsShadowStartd"] == "true"
        else:
            assert "IsShadowStartd" not in ad
    assert len({ad["MyAddress"] for ad in ads}) == 2  # one address per startd
    # HTCondor's own parser reads the same ads back
    parsed = list(classad2.parseAds(text, classad2.ParserType.Old))
    assert [str(ad["Name"]) for ad in parsed] == [ad["Name"].strip('"') for ad in ads]
    assert all(str(ad.lookup("Requirements")) == "START && WithinResourceLimits" for ad in parsed)


def test_status_autoformat_and_format(status_pool):
    host = status_pool.cfg.get("FULL_HOSTNAME")
    names = expected_slot_names(host)
    assert status(status_pool, "-af", "Name", "State") == "".join(f"{n} Unclaimed\n" for n in names)
    width = len(max(names, key=len))
    headed = status(status_pool, "-af:h", "Name", "State").splitlines()
    assert headed[0] == f"{'Name':<{width}} State    "
    assert headed[1:] == [f"{n:<{width}} Unclaimed" for n in names]
    assert status(status_pool, "-format", "%s\n", "Name") == "".join(f"{n}\n" for n in names)
    # -format prints no newline of its own; an undefined attribute drops the whole item
    assert status(status_pool, "-format", "%s;", "Name", "-format", "[%d]", "NoSuchAttr",
                  "-constraint", "SlotID == 1") == "".join(f"{n};" for n in names[:2])


def test_status_constraint_restricts_rows_and_totals(status_pool):
    host = status_pool.cfg.get("FULL_HOSTNAME")
    lines = status(status_pool, "-constraint", "SlotID == 2").splitlines()
    assert lines[0].split() == ["Name", "OpSys", "Arch", "State", "Activity", "LoadAv", "Mem", "ActvtyTime"]
    assert lines[1] == ""
    assert [line.split()[0] for line in lines[2:4]] == [f"slot2@SHADOW_STARTD@{host}", f"slot2@{host}"]
    assert lines[4] == ""
    assert lines[-1] == "%14s" % "Total" + "%6d %5d %7d %9d %7d %10d %6d %8d %6d" % (2, 0, 0, 2, 0, 0, 0, 0, 0)
    assert status(status_pool, "-constraint", "SlotID == 99") == ""  # nothing matched: no output, exit 0


def test_status_json_is_an_array_of_the_slot_ads(status_pool):
    host = status_pool.cfg.get("FULL_HOSTNAME")
    text = status(status_pool, "-json")
    ads = json.loads(text)
    assert isinstance(ads, list) and len(ads) == 8
    assert [ad["Name"] for ad in ads] == expected_slot_names(host)
    for ad in ads:
        assert ad["MyType"] == "Machine" and isinstance(ad["SlotID"], int) and ad["Start"] is True
        assert ad["Requirements"] == "/Expr(START && WithinResourceLimits)/"
        assert ad.get("IsShadowStartd", False) is ("@SHADOW_STARTD@" in ad["Name"])
    reference = reference_json_ads(text)
    assert [ad["Name"] for ad in reference] == [ad["Name"] for ad in ads]
    assert str(reference[0].lookup("Requirements")) == "START && WithinResourceLimits"
    assert set(ads[0]) == set(long_ads(status(status_pool, "-long", "-constraint", "SlotID == 1"))[0])


def test_status_total_prints_only_the_totals_block(status_pool):
    row = "%6d %5d %7d %9d %7d %10d %6d %8d %6d" % (8, 0, 0, 8, 0, 0, 0, 0, 0)
    assert status(status_pool, "-total") == (
        "\n" + " " * 14 + TOTALS_HEADER + "\n\n" + "%14.14s" % "X86_64/LINUX" + row + "\n\n"
        + "%14s" % "Total" + row + "\n")


def test_status_daemon_views(status_pool):
    host = status_pool.cfg.get("FULL_HOSTNAME")
    name = daemon_name(host)
    master = status(status_pool, "-master").splitlines()
    assert master[0].split() == ["Name", "Version", "Cpus", "Memory", "Uptime"] and master[1] == ""
    assert len(master) == 3 and master[2].split()[0] == name and "25.14.0" in master[2].split()[1]
    assert re.search(r"\d+\+\d\d:\d\d:\d\d$", master[2])

    schedd = status(status_pool, "-schedd").splitlines()
    assert schedd[0].split() == ["Name", "Machine", "RunningJobs", "IdleJobs", "HeldJobs"]
    assert schedd[2].split() == [name, host, "0", "0", "0"]
    assert schedd[4] == " " * 14 + "%18s %18s %18s" % ("TotalRunningJobs", "TotalIdleJobs", "TotalHeldJobs")
    assert schedd[-1] == "%14s" % "Total" + "%18d %18d %18d" % (0, 0, 0)

    negotiator = status(status_pool, "-negotiator").splitlines()
    assert negotiator[0].split() == ["Name", "LastCycleEnd", "(Sec)", "Slots", "Submitrs", "Schedds", "Jobs",
                                     "Matches", "Rejections"]
    assert len(negotiator) == 3 and negotiator[2].split()[0] == name

    collector = status(status_pool, "-collector").splitlines()
    assert collector[0].split() == ["Name", "Machine", "RunningJobs", "IdleJobs", "HostsTotal"]
    assert len(collector) == 3 and collector[2].startswith(f"My Pool - 127.0.0.1@{host} ")
    assert collector[2].split()[-4:] == [host, "0", "0", "0"]


def test_status_any_lists_every_daemon_type(status_pool):
    lines = status(status_pool, "-any").splitlines()
    assert lines[0] == f"{'MyType':<18} {'TargetType':<18} {'Name':<41}"
    assert lines[1] == ""
    rows = [(line[:18].strip(), line[19:37].strip(), line[38:].strip()) for line in lines[2:]]
    types = [row[0] for row in rows]
    assert {"Collector", "Negotiator", "Scheduler", "DaemonMaster"} <= set(types)
    assert types.count("Machine") == 8 and len(rows) == 12
    assert all(target == ("Job" if kind == "Machine" else "None") for kind, target, _ in rows)


def test_status_bad_constraint_exits_1_with_a_message(status_pool):
    result = status_pool.run("condor_status", "-constraint", "SlotID == ")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "constraint" in result.stderr.lower() and "SlotID ==" in result.stderr


DAEMON_AD_ATTRIBUTES = {
    "DaemonMaster": ("MasterIpAddr", "RealUid", "DetectedCpus", "DetectedMemory", "COLLECTOR_StartTime",
                     "NEGOTIATOR_StartTime", "SCHEDD_StartTime", "STARTD_StartTime", "SHADOW_STARTD_StartTime",
                     "STARTD_Timestamp"),
    "Scheduler": ("ScheddIpAddr", "TotalRunningJobs", "TotalIdleJobs", "TotalHeldJobs", "TotalRemovedJobs",
                  "TotalJobAds", "TotalFlockedJobs", "NumUsers", "NumOwners", "MaxJobsRunning"),
    "Negotiator": ("NegotiatorIpAddr", "LastNegotiationCycleEnd0", "LastNegotiationCycleDuration0",
                   "LastNegotiationCycleCandidateSlots0", "LastNegotiationCycleMatches0"),
    "Collector": ("CollectorIpAddr", "UpdateInterval", "RunningJobs", "IdleJobs", "HostsTotal",
                  "HostsClaimed", "HostsUnclaimed", "HostsOwner", "SubmitterAds"),
}


@pytest.mark.parametrize("option, my_type", [("-master", "DaemonMaster"), ("-schedd", "Scheduler"),
                                             ("-negotiator", "Negotiator"), ("-collector", "Collector")])
def test_status_long_daemon_ads_carry_the_spec_attributes(status_pool, option, my_type):
    def the_ad():  # the negotiator publishes its cycle statistics after its first cycle
        ads = long_ads(status(status_pool, option, "-long"))
        return ads if set(DAEMON_AD_ATTRIBUTES[my_type]) <= set(ads[0]) else None
    ads = wait_until(the_ad, timeout=5, message=f"{my_type} ad with {DAEMON_AD_ATTRIBUTES[my_type]}")
    assert len(ads) == 1
    ad = ads[0]
    assert ad["MyType"] == f'"{my_type}"'
    assert CONDOR_VERSION.match(ad["CondorVersion"]), ad["CondorVersion"]
    ip_attr = DAEMON_AD_ATTRIBUTES[my_type][0]
    assert ad[ip_attr] == ad["MyAddress"]
    for name in ("MyCurrentTime", "DaemonStartTime", "DaemonLastReconfigTime", "UpdateSequenceNumber"):
        assert re.fullmatch(r"\d+", ad[name]), name


def test_no_duplicate_name_warning_in_a_well_configured_pool(status_pool):
    assert "WARNING" not in Path(status_pool.cfg.get("COLLECTOR_LOG")).read_text()


# -- condor_q against real jobs -------------------------------------------------------------------
@pytest.fixture(scope="module")
def queue_pool(tmp_path_factory):
    """Cluster 1: two sleeps running on the pool's two slots; cluster 2: one job held by condor_hold."""
    pool = PersonalPool(config={"NUM_CPUS": "2"}, directory=str(tmp_path_factory.mktemp("queue_pool")))
    with pool:
        assert pool.run("condor_submit", input="executable=/bin/sleep\narguments=1d\nqueue 2\n").returncode == 0
        wait_until(lambda: pool.run("condor_q", "-af", "JobStatus").stdout == "2\n2\n", timeout=15,
                   message="both jobs of cluster 1 running")
        assert pool.run("condor_submit", input="executable=/bin/sleep\narguments=2d\nqueue\n").returncode == 0
        held = pool.run("condor_hold", "2.0")
        assert (held.returncode, held.stdout) == (0, "Job 2.0 held\n"), held.stderr
        yield pool


def queue(pool, *args: str) -> str:
    result = pool.run("condor_q", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


SUMMARY = ("Total for query: {} jobs; 0 completed, 0 removed, 0 idle, {} running, {} held, 0 suspended \n"
           "Total for all users: 3 jobs; 0 completed, 0 removed, 0 idle, 2 running, 1 held, 0 suspended\n")


def test_queue_long_has_server_time_and_status(queue_pool):
    before = int(time.time())
    ads = long_ads(queue(queue_pool, "-long"))
    after = int(time.time())
    by_id = {f"{ad['ClusterId']}.{ad['ProcId']}": ad for ad in ads}
    assert sorted(by_id) == ["1.0", "1.1", "2.0"]
    assert {job: ad["JobStatus"] for job, ad in by_id.items()} == {"1.0": "2", "1.1": "2", "2.0": "5"}
    for ad in ads:
        assert before - 1 <= int(ad["ServerTime"]) <= after + 1
        assert ad["Owner"] == f'"{USER}"' and ad["MyType"] == '"Job"'
    assert by_id["2.0"]["HoldReason"] == f'"via condor_hold (by user {USER})"'
    assert by_id["2.0"]["HoldReasonCode"] == "1"
    assert "HoldReason" not in by_id["1.0"]
    assert by_id["1.0"]["RemoteHost"].startswith('"slot')


def test_queue_json(queue_pool):
    text = queue(queue_pool, "-json")
    ads = json.loads(text)
    assert [(ad["ClusterId"], ad["ProcId"], ad["JobStatus"]) for ad in ads] == [(1, 0, 2), (1, 1, 2), (2, 0, 5)]
    assert all(isinstance(ad["ServerTime"], int) for ad in ads)
    assert [ad["ProcId"] for ad in reference_json_ads(text)] == [0, 1, 0]


def test_queue_autoformat_and_constraint(queue_pool):
    assert queue(queue_pool, "-af", "ClusterId", "ProcId", "JobStatus") == "1 0 2\n1 1 2\n2 0 5\n"
    assert queue(queue_pool, "-af", "ClusterId", "ProcId", "-constraint", "JobStatus == 2") == "1 0\n1 1\n"
    assert queue(queue_pool, "-constraint", "JobStatus == 5", "-af", "Args") == "2d\n"
    batch = queue(queue_pool, "-constraint", "JobStatus == 2")
    assert batch.endswith("\n" + SUMMARY.format(2, 2, 0) + "\n")
    bad = queue_pool.run("condor_q", "-constraint", "JobStatus ==")
    assert bad.returncode == 1 and bad.stdout == ""
    assert "constraint" in bad.stderr.lower() and "JobStatus ==" in bad.stderr


def test_queue_hold_view(queue_pool):
    lines = queue(queue_pool, "-hold").split("\n")
    assert lines[:2] == ["", ""]
    assert re.fullmatch(r"-- Schedd: \S+ : <127\.0\.0\.1:\d+(\?\.\.\.|>) @ \d\d/\d\d/\d\d \d\d:\d\d:\d\d", lines[2])
    assert lines[3].split() == ["ID", "OWNER", "HELD_SINCE", "CODE/SUB", "HOLD_REASON"]
    assert re.fullmatch(rf"   2\.0   {re.escape(f'{USER:<14}')} {HELD_SINCE}    1/0   "
                        rf"via condor_hold \(by user {re.escape(USER)}\)", lines[4]), lines[4]
    # -hold puts JobStatus == 5 into the query (queue.cpp), so the query's total is the held job
    assert "\n".join(lines[5:]) == "\n" + SUMMARY.format(1, 0, 1) + "\n"


def test_queue_batch_view_rows_and_totals(queue_pool):
    lines = queue(queue_pool).split("\n")
    assert lines[3].split() == ["OWNER", "BATCH_NAME", "SUBMITTED", "DONE", "RUN", "IDLE", "HOLD", "TOTAL", "JOB_IDS"]
    rows = [line.split() for line in lines[4:6]]
    assert [row[:3] + row[5:] for row in rows] == [[USER, "ID:", "1", "_", "2", "_", "_", "2", "1.0-1"],
                                                   [USER, "ID:", "2", "_", "_", "_", "1", "1", "2.0"]]
    assert "\n".join(lines[6:]) == "\n" + SUMMARY.format(3, 2, 1) + "\n"


# -- the collector warns about two daemons advertising one Name -----------------------------------
DUPLICATE_STARTD = """\
STARTD2 = $(STARTD)
STARTD2_ARGS = -local-name STARTD2
STARTD2.STARTD_LOG = $(STARTD_LOG).2
STARTD2.STARTD_ADDRESS_FILE = $(STARTD_ADDRESS_FILE).2
STARTD2.EXECUTE = $(EXECUTE).2
STARTD2.PROCD_ADDRESS = $(PROCD_ADDRESS).2
DAEMON_LIST = $(DAEMON_LIST) STARTD2
"""


def test_collector_warns_when_two_startds_share_a_name(tmp_path):
    pool = PersonalPool(config={"NUM_CPUS": "1"}, config_d={"40startd2.config": DUPLICATE_STARTD},
                        directory=str(tmp_path / "pool"))

    def wait_for_both_startds():  # their slot ads share one key, so only one survives in the collector
        children = Client(pool.master_address, timeout=20).call("WAIT_CHILDREN_ALIVE", timeout=15)["children"]
        assert {"STARTD", "STARTD2"} <= set(children)
        pool.children = children
        pool.wait_for_ads("Machine", 1)
    pool.wait_ready = wait_for_both_startds
    with pool:
        addresses = {pool.children[name]["address"] for name in ("STARTD", "STARTD2")}
        assert len(addresses) == 2
        log = Path(pool.cfg.get("COLLECTOR_LOG"))

        def warning():
            for line in log.read_text().splitlines():
                if "WARNING" in line and "slot1@" in line and all(a in line for a in addresses):
                    return line
        line = wait_until(warning, timeout=10, message="the duplicate-name warning naming both addresses")
        assert f"'slot1@{pool.cfg.get('FULL_HOSTNAME')}'" in line
        assert len(pool.query("Machine")) == 1  # HTCondor's semantics: the later update replaces the ad


# -- the master's restart backoff -----------------------------------------------------------------
def child_pid(pool, name: str) -> int | None:
    child = Client(pool.master_address).call("CHILDREN")["children"][name]
    return child["pid"] if child["address"] else None


def kill_and_read_delay(pool, name: str, kills: int) -> int:
    """kill -9 the daemon and return the delay the master announces for the restart."""
    os.kill(child_pid(pool, name), signal.SIGKILL)
    log = Path(pool.cfg.get("MASTER_LOG"))
    pattern = re.compile(rf"restarting {name} in (\d+) seconds")

    def delays() -> list[str] | None:
        found = pattern.findall(log.read_text())
        return found if len(found) >= kills else None
    return int(wait_until(delays, timeout=5, message=f"restart line {kills} for {name}")[kills - 1])


def wait_for_restart(pool, name: str, old_pid: int, killed_at: float, delay: int) -> None:
    wait_until(lambda: child_pid(pool, name) not in (None, old_pid), timeout=delay + 5,
               message=f"{name} restarted")
    assert time.monotonic() - killed_at >= delay - 0.05, "restarted before its backoff delay"


def test_master_backoff_doubles_from_the_constant(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "1", "MASTER_BACKOFF_CONSTANT": "0", "MASTER_BACKOFF_FACTOR": "2"})
    delays = []
    for kills in (1, 2, 3):
        old_pid = child_pid(pool, "NEGOTIATOR")
        killed_at = time.monotonic()
        delays.append(kill_and_read_delay(pool, "NEGOTIATOR", kills))
        if kills < 3:  # the last restart is left pending: stopping the pool must cancel it
            wait_for_restart(pool, "NEGOTIATOR", old_pid, killed_at, delays[-1])
    assert delays == [1, 2, 4]  # 0 + ceil(2 ** k)


def test_master_backoff_per_daemon_override_and_ceiling(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "1", "MASTER_BACKOFF_CONSTANT": "30", "MASTER_BACKOFF_FACTOR": "4",
                                "MASTER_NEGOTIATOR_BACKOFF_CONSTANT": "0", "MASTER_BACKOFF_CEILING": "3"})
    old_pid = child_pid(pool, "NEGOTIATOR")
    killed_at = time.monotonic()
    assert kill_and_read_delay(pool, "NEGOTIATOR", 1) == 1  # own constant 0 + ceil(4 ** 0)
    wait_for_restart(pool, "NEGOTIATOR", old_pid, killed_at, 1)
    assert kill_and_read_delay(pool, "NEGOTIATOR", 2) == 3  # 0 + 4 capped at the ceiling
    assert kill_and_read_delay(pool, "SCHEDD", 1) == 3  # 30 + 1 capped at the ceiling


def test_master_backoff_counter_resets_after_the_recover_time(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "1", "MASTER_BACKOFF_CONSTANT": "0", "MASTER_BACKOFF_FACTOR": "2",
                                "MASTER_RECOVER_FACTOR": "1"})
    old_pid = child_pid(pool, "NEGOTIATOR")
    killed_at = time.monotonic()
    assert kill_and_read_delay(pool, "NEGOTIATOR", 1) == 1
    wait_for_restart(pool, "NEGOTIATOR", old_pid, killed_at, 1)
    started = time.monotonic()
    wait_until(lambda: time.monotonic() - started > 1.2, message="the daemon to stay up past the recover time")
    assert kill_and_read_delay(pool, "NEGOTIATOR", 2) == 1  # counter back to 0: ceil(2 ** 0)


def test_pool_shuts_down_promptly_without_its_collector(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "1"})
    collector = child_pid(pool, "COLLECTOR")
    assert pool.run("condor_off", "-daemon", "COLLECTOR").returncode == 0
    wait_until(lambda: not psutil.pid_exists(collector) or psutil.Process(collector).status() == psutil.STATUS_ZOMBIE,
               message="the collector to exit")
    master_log = Path(pool.cfg.get("MASTER_LOG"))
    negotiator_log = Path(pool.cfg.get("NEGOTIATOR_LOG"))
    wait_until(lambda: "Negotiation cycle skipped" in negotiator_log.read_text(), timeout=8,
               message="the negotiator to find its collector gone")
    processes = pool.processes()
    Client(pool.master_address, timeout=10).call("DAEMONS_OFF", master=True)
    deadline = time.monotonic() + 5  # HTCondor needs well under a second here
    while time.monotonic() < deadline and any(is_alive(p) for p in processes):
        time.sleep(0.05)
    leftovers = [p for p in processes if is_alive(p)]
    for process in leftovers:  # keep the test short: do not wait for the master's own kill timeout
        process.kill()
    pool.master_address = None
    assert leftovers == []
    assert "killing it" not in master_log.read_text()


# -- a broken configuration -----------------------------------------------------------------------
@pytest.mark.parametrize("text, line, words", [
    ("# fine\nif version >=\nendif\n", 2, "if"),
    ("A = 1\nX @=END\nnever closed\n", 2, "@END"),
    ("if true\nA = 1\n", 2, "endif"),
    ("just words\n", 1, "just words"),
])
def test_bad_config_line_master_exits_naming_file_and_line(tmp_path, text, line, words):
    pool = PersonalPool(config_d={"50broken.config": text}, directory=str(tmp_path / "pool"))
    root = pool.write_config()
    env = dict(os.environ, CONDOR_CONFIG=str(root), **{POOL_MARKER: pool.pool_id})
    env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env.get("PATH", "")])
    env.pop("CONDOR_INHERIT", None)
    result = subprocess.run(["condor_master"], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    broken = tmp_path / "pool" / "config.d" / "50broken.config"
    assert f"{broken}, line {line}" in result.stderr, result.stderr
    assert words in result.stderr
    assert pool.processes() == []
    assert not (tmp_path / "pool" / "local" / "log" / ".master_address").exists()


# -- job event log date format by configuration ---------------------------------------------------
EVENT_HEADER = re.compile(r"^(\d{3}) \((\d{3,})\.(\d{3,})\.(\d{3,})\) (.+?) (Job .*)$")


@pytest.mark.parametrize("options, date", [
    ("LEGACY", r"\d\d/\d\d \d\d:\d\d:\d\d"),
    ("UTC, SUB_SECOND", r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z"),
])
def test_user_log_date_format_follows_config(pool_factory, tmp_path, options, date):
    pool = pool_factory(config={"NUM_CPUS": "1", "DEFAULT_USERLOG_FORMAT_OPTIONS": options})
    log = tmp_path / "job.log"
    assert pool.run("condor_submit", input=f"executable=/bin/true\nlog={log}\nqueue\n").returncode == 0
    wait_until(lambda: log.exists() and "\n005 (" in log.read_text(), timeout=15, message="the job's 005 event")
    headers = [EVENT_HEADER.match(line) for line in log.read_text().splitlines() if line[:1].isdigit()]
    assert [m.group(1) for m in headers] == ["000", "001", "005"]
    for match in headers:
        assert re.fullmatch(date, match.group(5)), match.group(0)
    events = list(htcondor2.JobEventLog(str(log)).events(0))
    assert [int(event.type) for event in events] == [0, 1, 5]


# -- -print-format files of our own, through the tools against live pools -------------------------
PRINT_FORMATS = Path(__file__).parent.parent / "data" / "print_formats"


def test_queue_print_format_file(queue_pool):
    lines = queue(queue_pool, "-print-format", str(PRINT_FORMATS / "jobs_by_status.cpf")).split("\n")
    assert lines[0] == " ID     STATUS   ARGS CODE WHO'S"     # NOTITLE: no schedd line
    assert lines[1:4] == [f"   2.0  Held     2d      1 {USER[:3]:>3}",
                          f"   1.0  Running  1d   [??] {USER[:3]:>3}",
                          f"   1.1  Running  1d   [??] {USER[:3]:>3}"]
    assert "\n".join(lines[4:]) == "\n" + SUMMARY.format(3, 2, 1) + "\n"


def test_status_print_format_file(status_pool):
    lines = status(status_pool, "-print-format", str(PRINT_FORMATS / "slots_by_id.cpf")).split("\n")
    assert lines[0].split() == ["SLOT", "CPUS", "MEMORY", "STATE", "CODE", "MISSING", "AS_V"] and lines[1] == ""
    rows = [line.split() for line in lines[2:6]]
    # WHERE SlotID <= 2 keeps two slots of each startd; GROUP BY SlotID DESCENDING: slot2s first
    assert [row[0].split("@")[0] for row in rows] == ["slot2", "slot2", "slot1", "slot1"]
    assert all(row[1] == "1" and row[4] == "Unclaimed" and row[5:] == ["Ui", "[?????]", "undefined"] for row in rows)
    assert lines[7].split() == TOTALS_HEADER.split() and lines[-2].split()[:2] == ["Total", "4"]
