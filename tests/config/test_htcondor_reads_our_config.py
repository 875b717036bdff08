"""HTCondor's own configuration library reads the shipped config.d/ (plus the seed's shadow-startd
file) and gets the values condorsim's loader gets: the files carry over to a real pool unchanged."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from condorsim.shared.config import load_config

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
CONFIG_D = REPO / "config.d"
NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=", re.M)

# Names left out of the comparison because they depend on the host, with the reason.  Empty: the
# only host-dependent inputs (RELEASE_DIR/BIN/SBIN, where condorsim's embedded root puts its own
# install prefix and console-script directory) are pinned to the same path by the root file below.
HOST_DEPENDENT: dict[str, str] = {}


def defined_names(path: Path) -> list[str]:
    return NAME.findall(path.read_text())


@pytest.fixture
def pool(tmp_path):
    conf = tmp_path / "config.d"
    conf.mkdir()
    shutil.copy(CONFIG_D / "00personal_condor.config", conf)
    shutil.copy(CONFIG_D / "31shadow_startd.config.example", conf / "31shadow_startd.config")
    release = tmp_path / "release"
    (release / "bin").mkdir(parents=True)
    # Both systems get the same fixed RELEASE_DIR: condorsim's embedded root would put its own
    # install prefix there, HTCondor its install tree; that is the one line a real pool replaces.
    root = tmp_path / "condor_config"
    root.write_text(f"RELEASE_DIR = {release}\nBIN = $(RELEASE_DIR)/bin\nSBIN = $(BIN)\n"
                    f"LOCAL_CONFIG_DIR = {conf}\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"), "CONDOR_CONFIG": str(root)}
    return env, conf


def htcondor_values(env, names):
    code = ("import htcondor2, json, sys\n"  # htcondor2 must be imported before classad2
            "print(json.dumps({n: htcondor2.param.get(n) for n in sys.argv[1:]}, default=str))")
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True,
                          env=env, check=True, timeout=60)
    return json.loads(done.stdout)


def test_htcondor_gets_the_values_condorsim_uses(pool):
    env, conf = pool
    personal = defined_names(conf / "00personal_condor.config")
    shadow = defined_names(conf / "31shadow_startd.config")
    # What condorsim computes from them: the role's daemon list and the startd's own settings.
    derived = ["DAEMON_LIST", "STARTD", "STARTD_LOG", "STARTD_ADDRESS_FILE", "EXECUTE", "SPOOL",
               "LOG", "LOCK", "CONDOR_HOST", "COLLECTOR_HOST", "STARTER_LOG", "PROCD_ADDRESS",
               "STARTD_ATTRS", "MASTER_LOG", "SCHEDD_LOG", "NEGOTIATOR_LOG", "COLLECTOR_LOG",
               "SHADOW_LOG", "START", "SUSPEND", "PREEMPT", "KILL", "NUM_CPUS"]
    names = list(dict.fromkeys(personal + shadow + derived))
    assert "LOCAL_DIR" in personal and "SHADOW_STARTD.STARTD_LOG" in shadow
    assert len(names) >= 25

    theirs = htcondor_values(env, names)
    ours = load_config("TOOL", env=env)
    compared, mismatches = [], []
    for name in names:
        if name in HOST_DEPENDENT:
            continue
        mine = ours.get(name)
        want = theirs.get(name)
        if want is None and mine is None:
            continue
        compared.append(name)
        if mine is None or want is None or str(mine).lower() != str(want).lower():
            mismatches.append(f"{name}: condorsim {mine!r}, HTCondor {want!r}")
    assert not mismatches, "\n".join(mismatches)
    assert len(compared) >= 25
    assert set(personal) <= set(compared) and set(shadow) <= set(compared)


def test_the_shadow_startd_sees_the_values_htcondor_gives_its_local_name(pool):
    """What the second startd (local name SHADOW_STARTD) runs with in condorsim equals HTCondor's
    value of SHADOW_STARTD.<name>, which is what HTCondor's local-name precedence gives it (the
    Python bindings cannot set a local name, so the dotted key is asked for instead)."""
    env, conf = pool
    dotted = [n for n in defined_names(conf / "31shadow_startd.config") if n.startswith("SHADOW_STARTD.")]
    assert len(dotted) >= 5
    theirs = htcondor_values(env, dotted)
    ours = load_config("STARTD", "SHADOW_STARTD", env=env)
    plain = load_config("STARTD", env=env)
    mismatches = []
    for name in dotted:
        short = name.split(".", 1)[1]
        if str(ours.get(short)).lower() != str(theirs[name]).lower():
            mismatches.append(f"{short}: condorsim {ours.get(short)!r}, HTCondor {theirs[name]!r}")
    assert not mismatches, "\n".join(mismatches)
    # The local name matters: the main startd keeps its own log.
    assert plain.get("STARTD_LOG") != ours.get("STARTD_LOG")
