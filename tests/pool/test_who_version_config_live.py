"""condor_version, condor_who -wait and condor_config_val asking running daemons (issue 14)."""
from __future__ import annotations

import re
import sys

import pytest

from condorsim.shared.pool import PersonalPool, wait_until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cfg_pool")
    pool = PersonalPool(config={"ENABLE_RUNTIME_CONFIG": "True", "ENABLE_PERSISTENT_CONFIG": "True",
                                "PERSISTENT_CONFIG_DIR": str(directory / "persist"),
                                "SCHEDD.ENABLE_RUNTIME_CONFIG": "False", "MY_KNOB": "from-file"},
                        directory=str(directory))
    with pool:
        yield pool


def run(pool, *argv: str):
    return pool.run(*argv)


def test_condor_version_shape():
    import subprocess
    out = subprocess.run([sys.executable, "-m", "condorsim.scripts.condor_version"],
                         capture_output=True, text=True, check=True).stdout
    assert re.fullmatch(r"\$CondorVersion: \d+\.\d+\.\d+ \d{4}-\d\d-\d\d BuildID: \S+ "
                        r"PackageID: condorsim-\S+ \$\n\$CondorPlatform: \S+ \$\n", out)


def test_condor_who_waits_for_the_daemons(pool):
    result = run(pool, "condor_who", "-wait:30", "IsReady && STARTD =?= \"Alive\"")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "IsReady = true" in lines and 'STARTD = "Alive"' in lines and "NumDead = 0" in lines
    assert lines == sorted(lines[:-1], key=str.lower) + [""]
    assert re.search(r"^STARTD_PID = [1-9]\d*$", result.stdout, re.M)
    timed_out = run(pool, "condor_who", "-wait:1", "NumDaemons > 100")
    assert timed_out.returncode == 1 and "IsReady = true" in timed_out.stdout


def test_config_val_asks_a_running_daemon_and_sets_runtime_config(pool):
    assert run(pool, "condor_config_val", "-startd", "MY_KNOB").stdout == "from-file\n"
    result = run(pool, "condor_config_val", "-startd", "-rset", "MY_KNOB = at-runtime")
    assert result.returncode == 0 and re.fullmatch(
        r'Successfully set configuration "MY_KNOB = at-runtime" on startd \S+ <[^>]+>\. '
        r"The change will take effect on the next condor_reconfig\.\n", result.stdout)
    assert run(pool, "condor_config_val", "-startd", "MY_KNOB").stdout == "from-file\n"
    assert run(pool, "condor_reconfig").returncode == 0
    wait_until(lambda: run(pool, "condor_config_val", "-startd", "MY_KNOB").stdout == "at-runtime\n",
               timeout=20)
    refused = run(pool, "condor_config_val", "-schedd", "-rset", "MY_KNOB = x")
    assert refused.returncode == 1 and refused.stderr.startswith(
        'Attempt to set configuration "MY_KNOB = x" on schedd ') and refused.stderr.endswith(" failed.\n")
    missing = run(pool, "condor_config_val", "-startd", "NO_SUCH_KNOB_AT_ALL")
    assert (missing.returncode, missing.stderr) == (1, "Not defined: NO_SUCH_KNOB_AT_ALL\n")


def test_config_val_set_is_persistent(pool):
    result = run(pool, "condor_config_val", "-master", "-set", "PERSISTED_KNOB = kept")
    assert result.returncode == 0, result.stderr
    files = list((pool.dir / "persist").iterdir())
    assert any(f.read_text() == "PERSISTED_KNOB = kept\n" for f in files)
    assert run(pool, "condor_reconfig").returncode == 0
    wait_until(lambda: run(pool, "condor_config_val", "-master", "PERSISTED_KNOB").stdout == "kept\n",
               timeout=20)


def test_config_val_evaluate_against_the_daemon_ad(pool):
    assert run(pool, "condor_config_val", "-startd", "-rset", "MEM_CHECK = Memory > 0").returncode == 0
    assert run(pool, "condor_reconfig").returncode == 0
    wait_until(lambda: run(pool, "condor_config_val", "-startd", "-evaluate", "MEM_CHECK").stdout == "true\n",
               timeout=20)


def test_config_val_summary(tmp_path):
    import subprocess
    config = tmp_path / "condor_config"
    config.write_text("LOCAL_DIR = /tmp/x\nMY_SETTING = 1\nNUM_CPUS = 2\n")
    out = subprocess.run([sys.executable, "-m", "condorsim.scripts.condor_config_val", "-summary"],
                         capture_output=True, text=True,
                         env={"CONDOR_CONFIG": str(config), "PATH": "/usr/bin:/bin"}, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# condor_config_val $CondorVersion: ")
    assert f"\n#\n# from {config}\n#\nLOCAL_DIR = /tmp/x\nMY_SETTING = 1\nNUM_CPUS = 2\n" in out.stdout


def test_config_val_unset_runset_and_other_daemons(pool):
    assert run(pool, "condor_config_val", "-negotiator", "-rset", "GONE_SOON = 1").returncode == 0
    assert run(pool, "condor_config_val", "-negotiator", "-runset", "GONE_SOON").returncode == 0
    assert run(pool, "condor_config_val", "-master", "-set", "ALSO_GONE = 1").returncode == 0
    assert run(pool, "condor_config_val", "-master", "-unset", "ALSO_GONE").returncode == 0
    assert run(pool, "condor_reconfig").returncode == 0
    assert run(pool, "condor_config_val", "-negotiator", "GONE_SOON").stderr == "Not defined: GONE_SOON\n"
    assert run(pool, "condor_config_val", "-master", "ALSO_GONE").stderr == "Not defined: ALSO_GONE\n"
    assert run(pool, "condor_config_val", "-collector", "MY_KNOB").stdout == "from-file\n"


def test_condor_who_long_lists_the_slots_running_jobs(pool):
    result = pool.run("condor_submit", input="executable = /bin/sleep\narguments = 60\nqueue\n")
    assert result.returncode == 0, result.stderr
    wait_until(lambda: "RemoteOwner = " in run(pool, "condor_who", "-long").stdout, timeout=30)
    table = run(pool, "condor_who").stdout.splitlines()
    assert table[0].split() == ["OWNER", "CLIENT", "SLOT", "JOB", "RUNTIME", "PID", "JOB_DIR"]
    assert len(table) == 2 and table[1].split()[3] == "1.0"
    assert run(pool, "condor_rm", "1").returncode == 0
