"""condor_userprio's table and command line, and the negotiator's accountant (daemons/accountant.py)."""
import json
import time

import pytest

from tests.tools.conftest import make_ad

from condorsim.daemons.accountant import Accountant
from condorsim.scripts import condor_userprio as up

UPDATE = time.mktime((2026, 12, 6, 9, 30, 0, 0, 0, -1))
BEGIN = time.mktime((2026, 12, 1, 8, 5, 0, 0, 0, -1))


def accounting_ad(name, priority, factor=1000.0, in_use=0, usage=0.0, last=UPDATE, begin=BEGIN):
    return make_ad(MyType="Accounting", Name=name, Priority=priority, PriorityFactor=factor,
                   ResourcesUsed=in_use, WeightedResourcesUsed=float(in_use),
                   WeightedAccumulatedUsage=usage, BeginUsageTime=int(begin), LastUsageTime=int(last),
                   Ceiling=-1.0, Floor=0.0, LastUpdate=int(UPDATE))


ADS = [accounting_ad("bob@pool.example", 2500.0, in_use=2, usage=7200.0),
       accounting_ad("alice@pool.example", 500.0, usage=36.0, last=UPDATE - 3 * 3600 - 120),
       accounting_ad("old@pool.example", 500.0, factor=10.0, last=UPDATE - 3 * 86400, begin=0)]

DEFAULT = """\
Last Priority Update: 12/6  09:30
                    Effective   Priority  Wghted Total Usage  Time Since Submitter Submitter
User Name            Priority    Factor   In Use (wghted-hrs) Last Usage   Floor    Ceiling 
------------------ ------------ --------- ------ ------------ ---------- --------- ---------
alice@pool.example       500.00   1000.00      0         0.01    0+03:02                    
bob@pool.example        2500.00   1000.00      2         2.00      <now>                    
------------------ ------------ --------- ------ ------------ ---------- --------- ---------
Number of users: 2                             2         2.01    0+23:59                    
"""


def test_default_table_shows_active_submitters_best_priority_first():
    text = up.render_table(ADS, up.MOST, UPDATE + 60 - 86400, UPDATE + 60)
    assert text == DEFAULT


ALL_USERS = """\
Last Priority Update: 12/6  09:30
                    Effective     Real   Priority  Wghted Total Usage       Usage             Last       Time Since Submitter Submitter
User Name            Priority   Priority  Factor   In Use (wghted-hrs)    Start Time       Usage Time    Last Usage   Floor    Ceiling 
------------------ ------------ -------- --------- ------ ------------ ---------------- ---------------- ---------- --------- ---------
alice@pool.example       500.00     0.50   1000.00      0         0.01 12/01/2026 08:05 12/06/2026 06:28    0+03:02                    
old@pool.example         500.00    50.00     10.00      0         0.00                  12/03/2026 09:30    3+00:00                    
bob@pool.example        2500.00     2.50   1000.00      2         2.00 12/01/2026 08:05 12/06/2026 09:30      <now>                    
------------------ ------------ -------- --------- ------ ------------ ---------------- ---------------- ---------- --------- ---------
Number of users: 3                                      2         2.01                                                                 
"""


def test_all_columns_for_all_users():
    assert up.render_table(ADS, up.DETAILS["all"], -1, UPDATE) == ALL_USERS


def test_numbers_too_wide_switch_to_g_format():
    assert up.float_cell(12, 2, 1.5e12) == "     1.5e+12"
    assert up.float_cell(6, 0, 3.0) == "     3"


def test_edit_errors_and_usage(capsys):
    assert up.main(["-setfactor", "alice", "5"]) == 1
    assert capsys.readouterr().err == (
        "condor_userprio: You must specify the full name of the submittor you wish\n"
        "\tto update the priority of (user@uid.domain or user@full.host.name)\n")
    assert up.main(["-setfactor", "alice@x", "0.5"]) == 1
    assert capsys.readouterr().err == "Priority factors must be greater than or equal to 1.\n"
    assert up.main(["-delete", "alice"]) == 1
    assert "the full name of the record you wish\n\tto delete (" in capsys.readouterr().err
    assert up.main(["-setprio", "alice@x"]) == 1
    assert capsys.readouterr().err.startswith("usage: condor_userprio [options]")
    assert up.main(["-bogus"]) == 1


def test_accountant_decays_priority_accumulates_usage_and_persists(tmp_path):
    knobs = {"PRIORITY_HALFLIFE": 100.0, "DEFAULT_PRIO_FACTOR": 10.0}
    path = tmp_path / "accountant.json"
    accountant = Accountant(str(path), lambda name, default: knobs.get(name, default), lambda text: None)
    accountant.update({"a@x": (2, 2.0)}, now=1000.0)
    assert accountant.records["a@x"].priority == 0.5 and accountant.records["a@x"].factor == 10.0
    accountant.update({"a@x": (2, 2.0)}, now=1100.0)      # one half-life holding 2
    record = accountant.records["a@x"]
    assert record.priority == pytest.approx(0.5 * 0.5 + 2 * 0.5)
    assert record.weighted_accumulated_usage == pytest.approx(200.0)
    assert (record.begin_usage_time, record.last_usage_time) == (1000, 1100)
    accountant.update({}, now=1200.0)                     # idle: decays back toward 0.5
    assert record.priority == pytest.approx(max(0.5, 1.25 * 0.5))
    assert record.resources_used == 0 and record.last_usage_time == 1100
    accountant.edit("SET_PRIORITYFACTOR", "a@x", 3.0)
    with pytest.raises(ValueError):
        accountant.edit("SET_PRIORITYFACTOR", "a@x", 0.5)
    accountant.edit("SET_PRIORITY", "b@x", 7.0)
    reloaded = Accountant(str(path), lambda name, default: default, lambda text: None)
    assert reloaded.records["a@x"].factor == 3.0 and reloaded.records["b@x"].priority == 7.0
    ad = {a.eval("Name"): a for a in reloaded.ads("neg")}["a@x"]
    assert ad.eval("Priority") == pytest.approx(record.priority * 3.0) and ad.eval("MyType") == "Accounting"
    reloaded.edit("RESET_USAGE", "a@x", None)
    reloaded.edit("DELETE_USER", "b@x", None)
    saved = json.loads(path.read_text())["records"]
    assert saved["a@x"]["weighted_accumulated_usage"] == 0.0 and "b@x" not in saved


def test_inputfile_and_activefrom(tmp_path, capsys):
    path = tmp_path / "prios.txt"
    path.write_text(up.long_form(ADS))
    assert up.main(["-inputfile", str(path), "-allusers", "-priority"]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[4:7]]
    assert rows == ["alice@pool.example", "old@pool.example", "bob@pool.example"]
    assert up.main(["-inputfile", str(path), "-activefrom", "12", "4", "2026"]) == 0
    out = capsys.readouterr().out
    assert "alice@pool.example" in out and "old@pool.example" not in out
    assert up.main(["-inputfile", str(path), "-usage", "-constraint", "ResourcesUsed > 0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == ["User", "Name", "In", "Use", "(wghted-hrs)", "Start", "Time", "Usage", "Time"]
    assert [line.split()[0] for line in lines[4:-2]] == ["bob@pool.example"]
    assert up.main(["-inputfile", str(tmp_path / "none")]) == 1
    assert capsys.readouterr().err.startswith(f"Can't open file of userprio ads: {tmp_path / 'none'}")
