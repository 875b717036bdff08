"""How a startd carves static slots from the machine (SLOT_TYPE_<n>, NUM_SLOTS_TYPE_<n>, NUM_SLOTS)."""
from __future__ import annotations

import pytest

from condorsim.daemons.startd import parse_slot_type, plan_slots
from condorsim.shared.daemon import DaemonStartError

MACHINE = {"cpus": 4, "memory": 4096, "disk": 1000}


def test_type_zero_shares_everything_evenly():
    assert plan_slots(MACHINE, [(0, 4, "")]) == [(0, {"cpus": 1, "memory": 1024, "disk": 250})] * 4


def test_overprovisioned_slots_still_get_a_cpu_each():
    plans = plan_slots(MACHINE, [(0, 8, "")])
    assert len(plans) == 8 and all(slot == {"cpus": 1, "memory": 512, "disk": 125} for _, slot in plans)


def test_fixed_shares_come_off_first_and_auto_slots_split_the_rest():
    plans = plan_slots(MACHINE, [(1, 1, "cpus=2, memory=1024"), (2, 2, "")])
    assert plans == [(1, {"cpus": 2, "memory": 1024, "disk": 333}),
                     (2, {"cpus": 1, "memory": 1536, "disk": 333}),
                     (2, {"cpus": 1, "memory": 1536, "disk": 333})]


def test_fractions_percentages_and_bare_shares():
    assert plan_slots(MACHINE, [(1, 2, "1/4"), (2, 1, "auto")]) == [
        (1, {"cpus": 1, "memory": 1024, "disk": 250}), (1, {"cpus": 1, "memory": 1024, "disk": 250}),
        (2, {"cpus": 2, "memory": 2048, "disk": 500})]
    assert plan_slots(MACHINE, [(1, 1, "memory=50%, cpus=3")])[0][1] == {"cpus": 3, "memory": 2048, "disk": 1000}


def test_slot_type_text():
    assert parse_slot_type("cpus=2, Memory = 25%, disk=auto") == {"cpus": "2", "memory": "25%", "disk": None}
    assert parse_slot_type("1/2") == dict.fromkeys(("cpus", "memory", "disk"), "1/2")
    assert parse_slot_type("") == dict.fromkeys(("cpus", "memory", "disk"))


def test_a_bad_share_names_itself():
    with pytest.raises(DaemonStartError, match="bad memory share 'lots'"):
        plan_slots(MACHINE, [(1, 1, "memory=lots")])
