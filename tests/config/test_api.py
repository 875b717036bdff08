"""Public API: typed getters, where(), files, names(), embedded default, args/env strings."""
from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from condorsim.shared.config import ConfigError, load_config, parse_args_string, parse_environment_string

DATA = Path(__file__).resolve().parent / "data"
SEED = DATA / "31shadow_startd.config"


def write_pool(tmp_path: Path, text: str, configd: dict[str, str] | None = None) -> dict[str, str]:
    (tmp_path / "config.d").mkdir()
    for name, body in (configd or {}).items():
        (tmp_path / "config.d" / name).write_text(body)
    root = tmp_path / "condor_config"
    root.write_text(f"LOCAL_CONFIG_DIR = {tmp_path}/config.d\n" + text)
    return {"CONDOR_CONFIG": str(root), "HOME": str(tmp_path)}


def test_typed_getters(tmp_path):
    env = write_pool(tmp_path, "I = 42\nE = 128*1024\nF = 2.5\nB1 = yes\nB2 = FALSE\nB3 = 3 > 2\n"
                     "L = a, b  c,d\nBAD = notanumber\nEMPTY =\n")
    cfg = load_config(env=env)
    assert cfg.get_int("I", 0) == 42 and cfg.get_int("E", 0) == 131072
    assert cfg.get_float("F", 0.0) == 2.5 and cfg.get_int("F", 0) == 2
    assert cfg.get_bool("B1", False) is True and cfg.get_bool("B2", True) is False
    assert cfg.get_bool("B3", False) is True and cfg.get_bool("START", False) is True
    assert cfg.get_list("L") == ["a", "b", "c", "d"] and cfg.get_list("EMPTY") == []
    assert cfg.get_int("EMPTY", 7) == 7 and cfg.get_int("NEVER_SET", -1) == -1
    assert cfg.get_int("UPDATE_INTERVAL") == 300 and cfg.get_float("MASTER_BACKOFF_FACTOR") == 2.0
    assert cfg.get_int("MAX_JOBS_RUNNING") == min(10000, cfg.get_int("DETECTED_MEMORY"))  # ClassAd MIN()
    assert cfg.get_int("CLASSAD_LIFETIME") == 900      # HTCondor's code default, not in the table
    assert cfg.get("CLASSAD_LIFETIME") is None
    with pytest.raises(ConfigError, match=r"BAD = 'notanumber' is not a valid int \(set at .*line 9\)"):
        cfg.get_int("BAD", 0)
    with pytest.raises(ConfigError, match="NEVER_SET is not defined"):
        cfg.get_int("NEVER_SET")


def test_where_files_names(tmp_path):
    env = write_pool(tmp_path, "A = 1\n", {"10x": "B = 2\n", "20y.example": "C = 3\n"})
    env["_CONDOR_D"] = "4"
    cfg = load_config(env=env)
    assert cfg.where("A") == f"{tmp_path}/condor_config, line 2"
    assert cfg.where("B") == f"{tmp_path}/config.d/10x, line 1"
    assert cfg.where("D") == "<Environment>" and cfg.where("LOG") == "<Default>"
    assert cfg.where("HOSTNAME") == "<Detected>" and cfg.where("NOPE") == ""
    assert cfg.files == [f"{tmp_path}/condor_config", f"{tmp_path}/config.d/10x",
                         f"{tmp_path}/config.d/20y.example"]
    assert {"A", "B", "D", "LOCAL_CONFIG_DIR"} <= set(cfg.names())


def test_seed_file_as_the_shadow_startd_and_the_master_see_it(tmp_path):
    env = write_pool(tmp_path, "LOCAL_DIR = /p\nuse ROLE:Personal\n", {"31shadow_startd.config": SEED.read_text()})
    shadow = load_config(subsystem="STARTD", local_name="SHADOW_STARTD", env=env)
    assert (shadow.subsystem, shadow.local_name) == ("STARTD", "SHADOW_STARTD")
    assert shadow.get("STARTD_LOG") == "/p/log/StartLog.shadow"
    assert shadow.get("STARTD_ADDRESS_FILE") == "/p/log/.startd_address.shadow"
    assert shadow.get("EXECUTE") == "/p/execute.shadow"
    assert shadow.get("STARTD_NAME") == "SHADOW_STARTD"
    assert shadow.get("STARTD_ATTRS") == ", IsShadowStartd"
    assert shadow.get_bool("IsShadowStartd", False) is True
    plain = load_config(subsystem="STARTD", env=env)
    assert plain.get("STARTD_LOG") == "/p/log/StartLog" and plain.get("IsShadowStartd") is None
    master = load_config(subsystem="MASTER", env=env)
    assert master.get_list("DAEMON_LIST") == ["MASTER", "COLLECTOR", "NEGOTIATOR", "STARTD", "SCHEDD",
                                              "SHADOW_STARTD"]
    assert parse_args_string(master.get("SHADOW_STARTD_ARGS")) == ["-f", "-local-name", "SHADOW_STARTD"]
    assert parse_environment_string(master.get("SHADOW_STARTD_ENVIRONMENT")) == {
        "_CONDOR_PROCD_ADDRESS": "/p/log/procd_pipe.shadow", "_CONDOR_STARTER_LOG": "/p/log/StarterLog.shadow"}


def test_embedded_default_is_a_personal_pool_in_a_per_user_dir(tmp_path):
    cfg = load_config(env={"HOME": str(tmp_path)})
    scripts = sysconfig.get_path("scripts")
    assert cfg.get("LOCAL_DIR") == f"{tmp_path}/.condorsim"
    assert cfg.get("LOG") == f"{tmp_path}/.condorsim/log"
    assert cfg.get("SBIN") == scripts and cfg.get("BIN") == scripts
    assert cfg.get("MASTER") == f"{scripts}/condor_master"
    assert cfg.get("RELEASE_DIR") + "/bin" == scripts
    assert cfg.get_list("DAEMON_LIST") == ["MASTER", "COLLECTOR", "NEGOTIATOR", "STARTD", "SCHEDD"]
    assert cfg.get("COLLECTOR_HOST") == "127.0.0.1:0"
    assert not any("/etc/condor" in f for f in cfg.files)
    assert not any(f.endswith(".example") for f in cfg.files)   # the shadow example is opt-in
    shipped = Path(cfg.get("LOCAL_CONFIG_DIR")) / "31shadow_startd.config.example"
    assert shipped.read_text() == SEED.read_text()


def test_environment_override_wins_and_reaches_the_embedded_default(tmp_path):
    cfg = load_config(env={"HOME": str(tmp_path), "_CONDOR_LOCAL_DIR": "/elsewhere", "_CONDOR_LOG": ""})
    assert cfg.get("LOCAL_DIR") == "/elsewhere" and cfg.get("SPOOL") == "/elsewhere/spool"
    assert cfg.get("LOG") is None


@pytest.mark.parametrize("text, args", [
    ("-f -local-name X", ["-f", "-local-name", "X"]),
    ("  a   b\tc ", ["a", "b", "c"]),
    ('"-p 9618 \'two words\' it\'\'s"', ["-p", "9618", "two words", "its"]),
    ('"\'it\'\'s\' say ""hi"""', ["it's", "say", '"hi"']),
    ("", []),
])
def test_parse_args_string(text, args):
    assert parse_args_string(text) == args


@pytest.mark.parametrize("text, env", [
    ('"A=1 B=\'x y\'"', {"A": "1", "B": "x y"}),
    ("A=1;B=two words;C=", {"A": "1", "B": "two words", "C": ""}),
    ('"Q=\'it\'\'s\' D=""q"""', {"Q": "it's", "D": '"q"'}),
    ('""', {}),
])
def test_parse_environment_string(text, env):
    assert parse_environment_string(text) == env


@pytest.mark.parametrize("text", ['"A=1', '"A=\'unterminated"', '"NOEQUALS"', "A=1;junk", '"A=1 "B"=2"'])
def test_bad_environment_string(text):
    with pytest.raises(ConfigError):
        parse_environment_string(text)


def test_bad_args_string():
    with pytest.raises(ConfigError, match="single quote"):
        parse_args_string('"a \'b"')


def test_get_expr_parses_classad_expressions(tmp_path):
    env = write_pool(tmp_path, "START = $(START) && (KeyboardIdle > 60)\nBROKEN = a +* (\n")
    cfg = load_config(env=env)
    assert str(cfg.get_expr("START")) == "true && (KeyboardIdle > 60)"
    assert cfg.get_expr("UNSET_EXPR") is None and str(cfg.get_expr("UNSET_EXPR", "false")) == "false"
    with pytest.raises(ConfigError, match=r"BROKEN = 'a \+\* \(' is not a valid ClassAd expression.*line 3"):
        cfg.get_expr("BROKEN")
