"""condor_userprio against a live pool: the accountant charges running jobs, the edit commands
reach the negotiator, and priority factors survive a negotiator restart (daemons/accountant.py)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from condorsim.shared.pool import wait_until

pytestmark = pytest.mark.timeout(120)


def userprio(pool, *args: str) -> str:
    result = pool.run("condor_userprio", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_userprio_shows_usage_and_edits_reach_the_negotiator(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "2", "NEGOTIATOR_INTERVAL": "1", "PRIORITY_HALFLIFE": "30",
                                "DEFAULT_PRIO_FACTOR": "100"})
    assert pool.run("condor_submit", input="executable=/bin/sleep\narguments=1d\nqueue 2\n").returncode == 0
    wait_until(lambda: userprio(pool, "-af", "ResourcesUsed") == "2\n", timeout=30,
               message="the accountant charging the two running jobs")
    name = userprio(pool, "-af", "Name").strip()
    negotiator = pool.run("condor_status", "-negotiator", "-af", "Name").stdout.strip()
    assert userprio(pool, "-name", negotiator, "-af", "Name") == f"{name}\n"
    assert userprio(pool, "-name", "no-such-negotiator", "-af", "Name") == ""
    lines = userprio(pool).split("\n")
    assert re.fullmatch(r"Last Priority Update: [ 1]\d/\d[\d ] \d\d:\d\d", lines[0])
    assert lines[2].split() == ["User", "Name", "Priority", "Factor", "In", "Use", "(wghted-hrs)",
                                "Last", "Usage", "Floor", "Ceiling"]
    row = lines[4].split()
    # effective priority = real priority (at least 0.5, rising toward 2) times DEFAULT_PRIO_FACTOR
    assert row[0] == name and 50.0 <= float(row[1]) <= 200.0 and row[2:4] == ["100.00", "2"]
    assert row[5] == "<now>" and lines[6].split()[:4] == ["Number", "of", "users:", "1"]

    set_factor = pool.run("condor_userprio", "-setfactor", name, "5")
    assert (set_factor.returncode, set_factor.stdout) == (0, f"The priority factor of {name} was set to 5.000000\n")
    wait_until(lambda: userprio(pool, "-af", "PriorityFactor") == "5.0\n", timeout=15, message="factor 5")
    reset = pool.run("condor_userprio", "-resetusage", name)
    assert reset.stdout == f"The accumulated usage of {name} was reset\n"

    # a record of its own, deleted again
    assert userprio(pool, "-setprio", "nobody@elsewhere", "10") == \
        "The priority of nobody@elsewhere was set to 10.000000\n"
    wait_until(lambda: "nobody@elsewhere" in userprio(pool, "-allusers"), timeout=15, message="new record")
    assert "nobody@elsewhere" not in userprio(pool), "never used: not active in the last day"
    assert userprio(pool, "-delete", "nobody@elsewhere") == "The accountant record named nobody@elsewhere was deleted\n"
    wait_until(lambda: "nobody@elsewhere" not in userprio(pool, "-allusers", "-negotiator"), timeout=15,
               message="record deleted")

    # the factor is kept in SPOOL and read again by a restarted negotiator
    saved = json.loads((Path(pool.cfg.get("SPOOL")) / "accountant.json").read_text())
    assert saved["records"][name]["factor"] == 5.0
    started = pool.run("condor_status", "-negotiator", "-af", "DaemonStartTime").stdout
    assert pool.run("condor_restart", "-negotiator").returncode == 0
    wait_until(lambda: pool.run("condor_status", "-negotiator", "-af", "DaemonStartTime").stdout not in ("", started),
               timeout=30, message="a new negotiator")
    assert userprio(pool, "-negotiator", "-af", "PriorityFactor", "Name") == f"5.0 {name}\n"


def test_priority_factor_weights_the_fair_share(pool_factory):
    # bob's factor is three times alice's, so when both submitters' jobs become idle together
    # the four slots are shared 3:1 (equal factors share them 2:2, test_job_policy.py)
    pool = pool_factory(config={"NUM_CPUS": "4", "SLOT_TYPE_0_PARTITIONABLE": "FALSE", "NEGOTIATOR_INTERVAL": "1"})
    for user in ("alice", "bob"):
        result = pool.run("condor_submit", input="cmd=/bin/sleep\nargs=1d\nhold=true\nqueue 4\n",
                          env={"USER": user, "LOGNAME": user})
        assert result.returncode == 0, result.stderr
    wait_until(lambda: len(pool.query("Submitter")) == 2, timeout=15, message="two submitters")
    bob = next(ad.eval("Name") for ad in pool.query("Submitter") if ad.eval("Name").startswith("bob@"))
    assert userprio(pool, "-setfactor", bob, "3000").startswith(f"The priority factor of {bob} was set to")
    wait_until(lambda: userprio(pool, "-negotiator", "-allusers", "-af", "Name", "PriorityFactor").count(
        f"{bob} 3000.0") == 1, timeout=15, message="bob's factor at the negotiator")
    assert pool.run("condor_release", "-all").returncode == 0
    wait_until(lambda: len(pool.query("Machine", 'State == "Claimed"')) == 4, timeout=20, message="all slots busy")
    owners = pool.run("condor_q", "-allusers", "-af", "Owner", "JobStatus").stdout.split("\n")
    assert sorted(line.split()[0] for line in owners if line.endswith(" 2")) == ["alice"] * 3 + ["bob"]
