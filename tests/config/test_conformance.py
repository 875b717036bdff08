"""The API and condor_config_val against expectations produced by HTCondor itself.

Each tests/config/data/<case>/ holds a config tree and expected.json written by make_expected.py
from HTCondor's own configuration library (paths inside the case stored as <ROOT>)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from condorsim.scripts import condor_config_val
from condorsim.shared.config import load_config

DATA = Path(__file__).resolve().parent / "data"
CASES = sorted(p.name for p in DATA.iterdir() if (p / "expected.json").exists())
BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent/condorsim-test-home"}


def queries(case: str):
    for q in json.loads((DATA / case / "expected.json").read_text())["queries"]:
        yield q


def env_for(case: str, query: dict) -> dict[str, str]:
    return {**BASE_ENV, **query["env"], "CONDOR_CONFIG": str(DATA / case / "condor_config")}


def test_there_are_at_least_40_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES)
def test_api_matches_htcondor(case, monkeypatch):
    monkeypatch.chdir(DATA / case)
    root = str(DATA / case)
    mismatches = []
    for q in queries(case):
        cfg = load_config(q["subsystem"], q["local_name"], env=env_for(case, q))
        view = f"[{q['subsystem']}/{q['local_name']}]"
        for name, want in q["results"].items():
            value = cfg.get(name)
            got = None if value is None else {
                "name_used": cfg.name_used(name), "value": value.replace(root, "<ROOT>"),
                "where": cfg.where(name).replace(root, "<ROOT>"), "raw": cfg.raw(name) or ""}
            if got != want:
                mismatches.append(f"{view} {name}: got {got}, HTCondor {want}")
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("case", CASES)
def test_condor_config_val_matches_htcondor(case, monkeypatch, capsys):
    monkeypatch.chdir(DATA / case)
    for q in queries(case):
        for key in [k for k in list(__import__("os").environ) if k.upper().startswith("_CONDOR_")]:
            monkeypatch.delenv(key)
        for key, value in env_for(case, q).items():
            monkeypatch.setenv(key, value)
        args = ["-subsystem", q["subsystem"]] + (["-local-name", q["local_name"]] if q["local_name"] else [])
        names = list(q["results"])
        status = condor_config_val.main(args + names)
        out, err = capsys.readouterr()
        defined = [r["value"].replace("<ROOT>", str(DATA / case)) for r in q["results"].values() if r]
        undefined = [f"Not defined: {n.upper()}" for n, r in q["results"].items() if r is None]
        assert out.splitlines() == "\n".join(defined).splitlines() if defined else out == ""
        assert err.splitlines() == undefined
        assert status == (1 if undefined else 0)
