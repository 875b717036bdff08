"""Command lines of the small tools: condor_version, condor_who's usage, -help of the others."""
import re

import pytest

from condorsim.scripts import condor_config_val, condor_status, condor_version, condor_who


def test_condor_version_options(capsys):
    assert condor_version.main([]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"\$CondorVersion: 25\.\d+\.\d+ \S+ BuildID: \S+ PackageID: condorsim-\S+ \$\n"
                        r"\$CondorPlatform: \S+ \$\n", out)
    assert condor_version.main(["-arch"]) == 0 and capsys.readouterr().out == "X86_64\n"
    assert condor_version.main(["-opsys"]) == 0 and capsys.readouterr().out == "LINUX\n"
    assert condor_version.main(["-help"]) == 0 and capsys.readouterr().out.startswith("Usage: condor_version")
    assert condor_version.main(["-bogus"]) == 1


def test_condor_who_usage(capsys):
    assert condor_who.main(["-help"]) == 0
    assert "-wait[:<sec>] <expr>" in capsys.readouterr().out
    assert condor_who.main(["-wait:5"]) == 1
    assert capsys.readouterr().err == "Error: Argument -wait:5 requires a requirements expression\n"
    assert condor_who.main(["-bogus"]) == 1


def test_condor_who_quick_without_a_master(monkeypatch, tmp_path, capsys):
    config = tmp_path / "condor_config"
    config.write_text(f"LOCAL_DIR = {tmp_path}\nMASTER_ADDRESS_FILE = {tmp_path}/none\n")
    monkeypatch.setenv("CONDOR_CONFIG", str(config))
    assert condor_who.main(["-quickdaemons"]) == 1
    assert capsys.readouterr().err.startswith("Error: cannot reach the daemons: ")


@pytest.mark.parametrize("tool", [condor_status, condor_config_val])
def test_help(tool, capsys):
    assert tool.main(["-help"]) == 0
    assert capsys.readouterr().out.startswith("Usage: ")


def test_condor_who_slot_column():
    from condorsim.shared.classad import ClassAd
    assert condor_who.slot_id(ClassAd({"SlotID": 2, "Name": "slot2@h"})) == "2"
    assert condor_who.slot_id(ClassAd({"SlotID": 1, "Name": "slot1_3@h", "DynamicSlot": True})) == "1_3"
