"""condor_config_val command line: output, stderr, exit status, -verbose, -dump, -config, views."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from condorsim.scripts import condor_config_val

SEED = Path(__file__).resolve().parent / "data" / "31shadow_startd.config"


@pytest.fixture
def pool(tmp_path, monkeypatch):
    (tmp_path / "config.d").mkdir()
    (tmp_path / "config.d" / "31shadow_startd.config").write_text(SEED.read_text())
    root = tmp_path / "condor_config"
    root.write_text(f"LOCAL_DIR = /p\nLOCAL_CONFIG_DIR = {tmp_path}/config.d\nuse ROLE:Personal\nMixed = v\n")
    monkeypatch.setenv("CONDOR_CONFIG", str(root))
    return tmp_path


def run(capsys, *args):
    status = condor_config_val.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_values_in_argument_order_and_undefined_on_stderr(pool, capsys):
    status, out, err = run(capsys, "LOG", "nope_x", "DAEMON_LIST", "other")
    assert out == "/p/log\nMASTER COLLECTOR NEGOTIATOR STARTD SCHEDD, SHADOW_STARTD\n"
    assert err == "Not defined: NOPE_X\nNot defined: OTHER\n"
    assert status == 1
    assert run(capsys, "LOG")[0] == 0


def test_verbose(pool, capsys):
    status, out, _ = run(capsys, "-local-name", "SHADOW_STARTD", "-subsystem", "STARTD", "-verbose", "STARTD_LOG", "mixed")
    assert status == 0
    assert out == (f"SHADOW_STARTD.STARTD_LOG = /p/log/StartLog.shadow\n"
                   f" # at: {pool}/config.d/31shadow_startd.config, line 4\n"
                   f" # raw: $(LOG)/StartLog.shadow\n"
                   f" # default: $(LOG)/StartLog\n\n"
                   f"Mixed = v\n # at: {pool}/condor_config, line 4\n # raw: v\n\n")


def test_local_name_and_subsystem_views(pool, capsys):
    assert run(capsys, "STARTD_NAME")[1:] == ("", "Not defined: STARTD_NAME\n")
    assert run(capsys, "-local-name", "shadow_startd", "STARTD_NAME")[1] == "SHADOW_STARTD\n"
    assert run(capsys, "-local-name", "SHADOW_STARTD", "SUBSYSTEM", "LOCALNAME")[1] == "TOOL\nSHADOW_STARTD\n"
    assert run(capsys, "-subsystem", "startd", "SUBSYSTEM")[1] == "STARTD\n"


def test_raw_and_default(pool, capsys):
    assert run(capsys, "-raw", "COLLECTOR_HOST")[1] == "$(CONDOR_HOST):0\n"
    assert run(capsys, "-default", "STARTD_LOG")[1] == "$(LOG)/StartLog\n"


def test_config_lists_files_in_order(pool, capsys):
    status, out, _ = run(capsys, "-config")
    assert status == 0
    assert out == (f"Configuration source:\n\t{pool}/condor_config\nLocal configuration sources:\n"
                   f"\t{pool}/config.d/31shadow_startd.config\n\n")


def test_dump_with_pattern(pool, capsys):
    status, out, _ = run(capsys, "-dump", "^shadow_startd\\.")
    lines = out.splitlines()
    assert status == 0 and lines[0].startswith("# Configuration from machine: ")
    assert "SHADOW_STARTD.STARTD_LOG = $(STARTD_LOG).shadow" in lines
    assert "SHADOW_STARTD_ARGS = -f -local-name SHADOW_STARTD" not in lines
    assert lines[-3:] == ["# Contributing configuration file(s):", f"#\t{pool}/condor_config",
                          f"#\t{pool}/config.d/31shadow_startd.config"]
    out = run(capsys, "-dump", "-expanded", "^SHADOW_STARTD\\.STARTD_LOG$")[1]
    assert "SHADOW_STARTD.STARTD_LOG = /p/log/StartLog.shadow" in out.splitlines()


def test_root_config_overrides_condor_config(pool, tmp_path, capsys):
    other = tmp_path / "other.config"
    other.write_text("A = other\n")
    assert run(capsys, "-root-config", str(other), "A")[1] == "other\n"


@pytest.mark.parametrize("args", [["-bogus", "X"], [], ["-subsystem"]])
def test_usage_errors(pool, capsys, args):
    status, out, err = run(capsys, *args)
    assert status == 1 and out == "" and "Usage: condor_config_val" in err


def test_installed_command(pool):
    done = subprocess.run([str(Path(sys.executable).parent / "condor_config_val"), "DAEMON_LIST", "UNSET_Y"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "MASTER COLLECTOR NEGOTIATOR STARTD SCHEDD, SHADOW_STARTD\n", "Not defined: UNSET_Y\n")
