"""The collector's in-place updates (UPDATE_ADS `changes`) and the wire forms it keeps for queries."""
from __future__ import annotations

import pytest

from condorsim.daemons.collector import Collector, StoredAd
from condorsim.shared.classad import ClassAd

SLOT = {"MyType": '"Machine"', "Name": '"slot1@host"', "MyAddress": '"<127.0.0.1:1>"', "Cpus": "1",
        "State": '"Unclaimed"', "Requirements": "START && WithinResourceLimits", "LastHeardFrom": "100"}


def collector_with(*wires: dict) -> Collector:
    collector = Collector.__new__(Collector)  # its tables alone: no configuration, no sockets
    collector.tables = {}
    for wire in wires:
        collector.tables.setdefault("Machine", {})[wire["Name"].strip('"')] = StoredAd.from_update(wire)
    return collector


def test_a_change_sets_and_removes_attributes_in_a_new_copy_of_the_ad():
    collector = collector_with(SLOT)
    before = collector.tables["Machine"]["slot1@host"]
    collector.apply_change({"my_type": "Machine", "name": "slot1@host",
                            "attrs": {"State": '"Claimed"', "JobId": '"1.0"', "Cpus": None}})
    after = collector.tables["Machine"]["slot1@host"]
    assert after is not before and before.eval("State") == "Unclaimed"  # a query may still be sending it
    expected = ClassAd.from_wire(SLOT)
    expected["State"], expected["JobId"] = "Claimed", "1.0"
    del expected["Cpus"]
    wire = after.to_wire()
    assert after.eval("LastHeardFrom") > 100  # a change is a sign of life too
    del wire["LastHeardFrom"], expected["LastHeardFrom"]
    assert wire == expected.to_wire()


def test_a_change_to_an_ad_it_does_not_have_is_ignored():
    collector = collector_with(SLOT)
    collector.apply_change({"my_type": "Machine", "name": "slot9@host", "attrs": {"State": '"Claimed"'}})
    collector.apply_change({"my_type": "Scheduler", "name": "slot1@host", "attrs": {"State": '"Claimed"'}})
    assert list(collector.tables["Machine"]) == ["slot1@host"]
    assert collector.tables["Machine"]["slot1@host"].eval("State") == "Unclaimed"


def test_a_bad_change_is_refused_without_touching_the_ad():
    collector = collector_with(SLOT)
    with pytest.raises(ValueError):
        collector.apply_change({"my_type": "Machine", "name": "slot1@host", "attrs": {"State": "a +* ("}})
    with pytest.raises(TypeError):
        collector.apply_change({"my_type": "Machine", "name": "slot1@host", "attrs": ["State"]})
    assert collector.tables["Machine"]["slot1@host"].to_wire() == SLOT


def test_the_kept_wire_form_follows_every_change_as_to_wire_would_make_it():
    ad = StoredAd.from_update(SLOT)
    reference = ClassAd.from_wire(SLOT)
    for target in (ad, reference):
        target["State"] = "Claimed"
        target["JobStart"] = 5
        target["cpus"] = 2  # spelled otherwise: the ad keeps its first spelling
        del target["Requirements"]
    assert ad.to_wire() == reference.to_wire()
    copy = ad.copy()
    copy.update({"Memory": 512})
    assert copy.to_wire() == dict(reference.to_wire(), Memory="512") and ad.to_wire() == reference.to_wire()
    assert StoredAd.from_update({"A": "1", "a": "2"}).to_wire() == ClassAd.from_wire({"A": "1", "a": "2"}).to_wire()


def test_a_change_keeps_the_text_it_brings_and_the_first_spelling():
    collector = collector_with(SLOT)
    collector.apply_change({"my_type": "Machine", "name": "slot1@host",
                            "attrs": {"JobStart": "1700000000", "state": '"Claimed"', "Cpus": "1"}})
    ad = collector.tables["Machine"]["slot1@host"]
    wire = ad.to_wire()
    assert wire["JobStart"] == "1700000000" and ad.eval("JobStart") == 1700000000
    assert wire["State"] == '"Claimed"' and "state" not in wire and ad.eval("State") == "Claimed"


def test_a_change_naming_no_attribute_is_refused():
    collector = collector_with(SLOT)
    for attrs in ({"": "1"}, {5: "1"}, {"Cpus": 5}):
        with pytest.raises((TypeError, AttributeError)):
            collector.apply_change({"my_type": "Machine", "name": "slot1@host", "attrs": attrs})
    assert collector.tables["Machine"]["slot1@host"].to_wire() == SLOT
