"""A daemon forked by the fork server derives its configuration from its parent's load; that view
equals a fresh load_config for its subsystem, local name and environment, in every case."""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

from condorsim.shared.config import load_config
from condorsim.shared.config.loader import derive_config, inherit

DATA = Path(__file__).resolve().parent / "data"  # the conformance cases (see test_conformance.py)
CASES = sorted(p.name for p in DATA.iterdir() if (p / "expected.json").exists())


def contexts_and_environments(case: str):
    for q in json.loads((DATA / case / "expected.json").read_text())["queries"]:
        env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent/condorsim-test-home", **q["env"],
               "CONDOR_CONFIG": str(DATA / case / "condor_config")}
        yield q["subsystem"], q["local_name"], env

CONTEXTS = [("MASTER", None), ("STARTD", None), ("STARTD", "SHADOW_STARTD"), ("SCHEDD", None),
            ("NEGOTIATOR", "NEG2"), ("TOOL", None)]


def view(cfg) -> dict:
    """Everything a daemon can read from its configuration."""
    names = {e.name for e in cfg.entries()}
    return {"files": cfg.files, "table": [(e.name, e.raw, e.source, e.line, e.use) for e in cfg.entries()],
            "values": {n: (cfg.get(n), cfg.raw(n), cfg.where(n), cfg.name_used(n)) for n in sorted(names)}}


def test_derived_views_equal_fresh_loads_in_every_conformance_case(monkeypatch):
    derived_count = 0
    for case in CASES:
        monkeypatch.chdir(DATA / case)
        for query_subsystem, query_local_name, env in contexts_and_environments(case):
            parent = load_config("MASTER", None, env=env)
            for subsystem, local_name in CONTEXTS + [(query_subsystem, query_local_name)]:
                child_env = {**env, "_CONDOR_CHILD_ONLY": "1"}
                derived = derive_config(parent, subsystem, local_name, child_env)
                if derived is not None:
                    derived_count += 1
                    fresh = load_config(subsystem, local_name, env=child_env)
                    assert view(derived) == view(fresh), (case, subsystem, local_name)
                    # a derived daemon's own children (a startd's starters) derive from it in turn
                    for grandchild in (("STARTER", None), ("PROCD", local_name), ("MASTER", None)):
                        again = derive_config(derived, *grandchild, env)
                        if again is not None:
                            assert view(again) == view(load_config(*grandchild, env=env)), (case, grandchild)
    assert derived_count > len(CASES) * len(CONTEXTS) // 2  # most views are derived, not re-read


def test_a_changed_file_or_context_dependent_line_means_a_fresh_load(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("LOCAL_DIR = /tmp/x\nSTARTD.LOG_NAME = startd\nX = $(LOG_NAME:none)\n")
    env = {"CONDOR_CONFIG": str(root), "PATH": "/usr/bin"}
    parent = load_config("MASTER", env=env)
    assert derive_config(parent, "STARTD", None, env) is not None  # X's value is only expanded later
    root.write_text("if defined STARTD.LOG_NAME\nA = 1\nendif\nSTARTD.LOG_NAME = s\nB = $(SUBSYSTEM)\n")
    assert derive_config(parent, "STARTD", None, env) is None  # the file changed
    parent = load_config("MASTER", env=env)
    assert derive_config(parent, "STARTD", None, env) is not None
    root.write_text("if defined LOG_NAME\nA = 1\nendif\nSTARTD.LOG_NAME = s\n")
    parent = load_config("MASTER", env=env)
    assert derive_config(parent, "STARTD", None, env) is None  # 'defined LOG_NAME' differs for a startd
    assert derive_config(parent, "SCHEDD", None, env) is not None
    root.write_text("STARTD_ON = true\nif $($(SUBSYSTEM)_ON:false)\nA = 1\nendif\n")
    parent = load_config("MASTER", env=env)
    assert derive_config(parent, "STARTD", None, env) is None  # the condition reads the subsystem
    for text in ("X = a\nSTARTD.X = $(X) b\n", "STARTD.X = $(X) b\nX = c\n",
                 "X = a\nSTARTD.X = $(X) b $(STARTD.X)\nSTARTD.Y = $(STARTD.X) $(Y)\n"):
        root.write_text(text)  # the startd's self-append reads its own X: derived with that X
        parent = load_config("MASTER", env=env)
        derived = derive_config(parent, "STARTD", None, env)
        assert derived is not None and view(derived) == view(load_config("STARTD", env=env)), text
    for text in ("X = a\nSTARTD.X = $(X) b\nX = c\n", "STARTD.X = 1\nSTARTD.X = $(X) b\n"):
        root.write_text(text)  # what the startd's line read was changed later: a fresh load
        assert derive_config(load_config("MASTER", env=env), "STARTD", None, env) is None, text


def test_a_forked_daemon_sees_what_a_fresh_load_gives(tmp_path):
    root = tmp_path / "condor_config"
    (tmp_path / "config.d").mkdir()
    root.write_text(f"LOCAL_CONFIG_DIR = {tmp_path}/config.d\nuse ROLE:Personal\nLOCAL_DIR = {tmp_path}\n"
                    "SHADOW_STARTD.STARTD_LOG = $(LOG)/ShadowLog\nSTARTD.UPDATE_INTERVAL = 5\n")
    (tmp_path / "config.d" / "10-slots").write_text("NUM_CPUS = 4\nSTARTD_ATTRS = $(STARTD_ATTRS) Extra\n")
    env = {"CONDOR_CONFIG": str(root), "PATH": "/usr/bin", "_CONDOR_SCHEDD_NAME": "child"}
    parent = load_config("MASTER", env={**env, "_CONDOR_SCHEDD_NAME": "parent"})
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # as spawn() runs a daemon: inherit, set the environment, load in the child's context
        try:
            inherit(parent)
            os.environ.clear()
            os.environ.update(env)
            cfg = load_config("STARTD", "SHADOW_STARTD")
            os.write(write_end, pickle.dumps((cfg.record.origin == ["MASTER"], view(cfg))))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as handle:
        derived, child_view = pickle.loads(handle.read())
    os.waitpid(pid, 0)
    assert derived  # the child did not parse the files again: its view comes from the master's load
    assert child_view == view(load_config("STARTD", "SHADOW_STARTD", env=env))
    assert json.dumps(child_view["values"]["SCHEDD_NAME"][0]) == '"child"'
