"""Issue 8: partitionable slots, HTCondor 25's default, carved into dynamic slots per claim."""
from __future__ import annotations

import pytest

from condorsim.shared.pool import wait_until
from tests.pool.conftest import SEED_SHADOW_STARTD
from tests.pool.test_jobs import events, job_field, sleepers

pytestmark = pytest.mark.timeout(120)

# Negotiation only when asked (a submit's RESCHEDULE), so the cycles a test causes can be counted.
ONE_CYCLE_PER_RESCHEDULE = {"NEGOTIATOR_INTERVAL": "1000", "NEGOTIATOR_MIN_INTERVAL": "0"}


def slots_by_name(pool) -> dict[str, dict]:
    return {ad.eval("Name"): {attr: ad.eval(attr) for attr in ("SlotType", "Cpus", "Memory", "State")}
            for ad in pool.query("Machine")}


def test_one_partitionable_slot_is_filled_in_one_negotiation_cycle(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "8", "MEMORY": "8192", **ONE_CYCLE_PER_RESCHEDULE})
    host = pool.cfg.get("FULL_HOSTNAME")
    assert slots_by_name(pool) == {f"slot1@{host}": {"SlotType": "Partitionable", "Cpus": 8, "Memory": 8192,
                                                     "State": "Unclaimed"}}
    submit = "executable = /bin/sleep\narguments = 1d\nrequest_cpus = 1\nrequest_memory = 1024\nqueue 9\n"
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: len(sleepers(pool)) == 8, timeout=20, message="8 jobs running at once")
    statuses = wait_until(lambda: (s := job_field(pool, "JobStatus")) and sorted(s.values()).count("2") == 8 and s,
                          timeout=10, message="8 jobs Running in condor_q")
    assert statuses["1.8"] == "1"  # the 9th does not fit: it waits
    hosts = job_field(pool, "RemoteHost")
    assert sorted(hosts[f"1.{p}"] for p in range(8)) == sorted(f"slot1_{n}@{host}" for n in range(1, 9))

    # One match from the negotiator; the schedd claimed the rest from the partitionable slot's leftovers.
    negotiator = wait_until(lambda: pool.query("Negotiator", "LastNegotiationCycleNumIdleJobs0 > 0"),
                            timeout=10, message="the negotiator's ad after the cycle that saw the jobs")[0]
    assert negotiator.eval("LastNegotiationCycleNumIdleJobs0") == 9
    assert negotiator.eval("LastNegotiationCycleMatches0") == 1

    slots = wait_until(lambda: (s := slots_by_name(pool)) and len(s) == 9 and s, timeout=10,
                       message="the dynamic slots' ads")
    assert slots[f"slot1@{host}"] == {"SlotType": "Partitionable", "Cpus": 0, "Memory": 0, "State": "Unclaimed"}
    for n in range(1, 9):
        assert slots[f"slot1_{n}@{host}"] == {"SlotType": "Dynamic", "Cpus": 1, "Memory": 1024, "State": "Claimed"}
    pslot = pool.query("Machine", 'SlotType == "Partitionable"')[0]
    assert pslot.eval("NumDynamicSlots") == 8 and pslot.eval("TotalSlotCpus") == 8
    assert sorted(pslot.eval("ChildName")) == sorted(f"slot1_{n}@{host}" for n in range(1, 9))
    assert pslot.eval("ChildCpus") == [1] * 8
    dslot = pool.query("Machine", f'Name == "slot1_1@{host}"')[0]
    assert (dslot.eval("DynamicSlot"), dslot.eval("ParentSlotId"), dslot.eval("DSlotId"), dslot.eval("SlotID")) == \
        (True, 1, 1, 1)

    status = wait_until(lambda: (out := pool.run("condor_status").stdout) and "Busy" in out and out,
                        timeout=10, message="condor_status with busy dynamic slots")
    rows = [line.split()[0] for line in status.splitlines()[2:11]]
    assert rows == [f"slot1@{host}"] + [f"slot1_{n}@{host}" for n in range(1, 9)]
    assert status.splitlines()[-1].split() == ["Total", "9", "0", "8", "1", "0", "0", "0", "0", "0"]

    assert pool.run("condor_rm", "1").returncode == 0
    whole = {f"slot1@{host}": {"SlotType": "Partitionable", "Cpus": 8, "Memory": 8192, "State": "Unclaimed"}}
    wait_until(lambda: slots_by_name(pool) == whole, timeout=15,
               message="the dynamic slots to disappear, their resources back", show=lambda: slots_by_name(pool))


def test_requests_are_rounded_as_modify_request_expr_says(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "4", "MEMORY": "4096",
                                "MODIFY_REQUEST_EXPR_REQUESTMEMORY": "quantize(RequestMemory, {1000})"})
    submit = "executable = /bin/sleep\narguments = 1d\nrequest_memory = 300\nqueue\n"
    assert pool.run("condor_submit", input=submit).returncode == 0
    dslot = wait_until(lambda: pool.query("Machine", 'SlotType == "Dynamic"'), timeout=20, message="a dynamic slot")
    assert dslot[0].eval("Memory") == 1000
    wait_until(lambda: pool.query("Machine", 'SlotType == "Partitionable" && Memory == 3096'), timeout=10,
               message="the leftover memory advertised")


def test_feature_partitionable_slot_and_slot_types(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "6", "MEMORY": "6000", "SLOT_TYPE_1": "cpus=2, memory=2000",
                                "NUM_SLOTS_TYPE_1": "1", "SLOT_TYPE_2": "50%", "NUM_SLOTS_TYPE_2": "2",
                                "SLOT_TYPE_2_PARTITIONABLE": "TRUE"})
    host = pool.cfg.get("FULL_HOSTNAME")
    slots = slots_by_name(pool)
    assert slots[f"slot1@{host}"]["SlotType"] == "Static" and slots[f"slot1@{host}"]["Cpus"] == 2
    assert [slots[f"slot{n}@{host}"]["SlotType"] for n in (2, 3)] == ["Partitionable"] * 2
    assert [slots[f"slot{n}@{host}"]["Cpus"] for n in (2, 3)] == [3, 3]

    pool = pool_factory(config={"NUM_CPUS": "3"}, config_d={"10slots.config": "use FEATURE : PartitionableSlot\n"})
    assert list(slots_by_name(pool).values()) == [{"SlotType": "Partitionable", "Cpus": 3,
                                                   "Memory": pool.query("Machine")[0].eval("TotalMemory"),
                                                   "State": "Unclaimed"}]


def test_seed_scenario_with_partitionable_slots(pool_factory):
    # Each startd one partitionable slot of 4 CPUs: 4 jobs of each half run at a time, and every
    # job of the first half runs on the plain startd, every job of the second on the shadow one.
    pool = pool_factory(config={"NUM_CPUS": "4"}, config_d={"31shadow_startd.config": SEED_SHADOW_STARTD})
    host = pool.cfg.get("FULL_HOSTNAME")
    assert sorted(slots_by_name(pool)) == [f"slot1@SHADOW_STARTD@{host}", f"slot1@{host}"]
    log = pool.dir / "seed.log"
    submit = (f"cmd = /bin/sleep\nargs = 1\nlog = {log}\nrequirements = IsShadowStartd =!= TRUE\nqueue 8\n"
              "requirements = IsShadowStartd =?= TRUE\nqueue 8\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: sum(1 for number, _ in events(log) if number == "005") == 16, timeout=60,
               message="all 16 jobs to finish", show=lambda: pool.run("condor_q", "-nobatch").stdout)
    text = log.read_text()
    slot_lines = [line.strip() for line in text.splitlines() if line.strip().startswith("SlotName:")]
    assert len(slot_lines) == 16
    assert sum("@SHADOW_STARTD@" in line for line in slot_lines) == 8
    jobs_on_shadow = set()
    current = None
    for line in text.splitlines():
        if line.startswith("001 ("):
            current = int(line[5:16].split(".")[1])
        elif line.strip().startswith("SlotName:") and "@SHADOW_STARTD@" in line:
            jobs_on_shadow.add(current)
    assert jobs_on_shadow == set(range(8, 16))
    assert all(line.split()[1].startswith("slot1_") for line in slot_lines)


def test_condor_drain_empties_a_startd_and_cancel_resumes_it(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "2", "MEMORY": "2048"})
    host = pool.cfg.get("FULL_HOSTNAME")
    log = tmp_path / "drain.log"
    submit = f"executable = /bin/sleep\narguments = 1d\nrequest_memory = 512\nlog = {log}\nqueue 2\n"
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: len(sleepers(pool)) == 2, timeout=20, message="2 jobs running")
    first = sleepers(pool)

    result = pool.run("condor_drain", "-fast", "-reason", "kernel update", host)
    address = pool.query("Machine")[0].eval("StartdIpAddr")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"Sent request to drain the startd {address} with {host}. This only affects the "
                             "single startd; any other startds running on the same host will not be drained.\n")
    drained = wait_until(lambda: (ads := pool.query("Machine")) and len(ads) == 1
                         and (ads[0].eval("State"), ads[0].eval("Activity")) == ("Drained", "Idle") and ads[0],
                         timeout=20,
                         message="the partitionable slot Drained, its dynamic slots gone",
                         show=lambda: slots_by_name(pool))
    assert (drained.eval("Draining"), drained.eval("DrainReason"), drained.eval("Cpus")) == (True, "kernel update", 2)
    wait_until(lambda: sum(1 for number, _ in events(log) if number == "004") == 2, timeout=10,
               message="both jobs evicted")
    assert not [p for p in first if p.is_running() and p.status() != "zombie"]
    assert sorted(job_field(pool, "JobStatus").values()) == ["1", "1"]  # idle, and nowhere to run
    assert pool.run("condor_status", "-total").stdout.splitlines()[-1].split() == \
        ["Total", "1", "0", "0", "0", "0", "0", "1", "0", "0"]
    again = pool.run("condor_drain", host)
    assert again.returncode == 1 and "already draining" in again.stderr

    result = pool.run("condor_drain", "-cancel", host)
    assert (result.returncode, result.stdout) == (0, f"Sent request to cancel draining on {host}\n")
    wait_until(lambda: len(sleepers(pool)) == 2, timeout=20, message="the jobs running again")
    assert pool.query("Machine", 'SlotType == "Partitionable"')[0].eval("LastDrainStopTime") is not None


def test_drain_exit_on_completion_stops_the_startd_for_good(pool_factory):
    from condorsim.shared.protocol import Client
    pool = pool_factory(config={"NUM_CPUS": "1"})
    host = pool.cfg.get("FULL_HOSTNAME")
    assert pool.run("condor_drain", "-exit-on-completion", host).returncode == 0
    wait_until(lambda: Client(pool.master_address).call("CHILDREN")["children"]["STARTD"]["pid"] is None,
               timeout=20, message="the startd to exit")
    master_log = (pool.dir / "local" / "log" / "MasterLog").read_text()
    wait_until(lambda: "asked not to be restarted" in (pool.dir / "local" / "log" / "MasterLog").read_text(),
               timeout=10, message="the master to keep it off")
    assert "restarting STARTD" not in master_log
    bad = pool.run("condor_drain", "-cancel", "-reason", "x", host)
    assert (bad.returncode, bad.stderr) == (2, "ERROR: cannot use -reason with -cancel\n")


def test_condor_status_compact_rolls_a_partitionable_slot_up(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "4", "MEMORY": "4096"})
    host = pool.cfg.get("FULL_HOSTNAME")
    width = max(7, len(host))
    heading = (f"{'Machine':{width}} Platform     Slots Cpus Gpus  TotalGb FreCpu  FreeGb  CpuLoad ST Jobs/Min "
               "MaxSlotGb")
    totals = ("\n               Total Owner Claimed Unclaimed Matched Preempting  Drain Backfill BkIdle\n\n"
              "  x64/Debian12     {0}     0       {1}         {2}       0          0      0        0      0\n\n"
              "         Total     {0}     0       {1}         {2}       0          0      0        0      0\n")

    def row(slots, free_cpus, free_gb, state, max_slot_gb):  # the columns' printf formats
        return (f"{host:{width}} x64/Debian12 {slots:4d}  {4:4d} {'':4} {4.0:8.2f} {free_cpus:6d} {free_gb:8.2f} "
                f"{0.0:7.2f} {state} {'_':>8} {max_slot_gb:>9}\n")
    idle = pool.run("condor_status", "-compact").stdout
    assert idle == f"{heading}\n\n" + row(0, 4, 4.0, "Ui", "*") + totals.format(1, 0, 1)
    submit = "executable = /bin/sleep\narguments = 1d\nrequest_memory = 1024\nqueue 4\n"
    assert pool.run("condor_submit", input=submit).returncode == 0
    full = wait_until(lambda: (out := pool.run("condor_status", "-compact").stdout) and " Cb " in out and out,
                      timeout=20, message="the partitionable slot exhausted by 4 busy dynamic slots")
    assert full == f"{heading}\n\n" + row(4, 0, 0.0, "Cb", "1.00") + totals.format(4, 4, 0)
    assert pool.run("condor_status", "-compact", "-total").stdout == totals.format(4, 4, 0)
