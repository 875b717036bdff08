"""Job ads built from submit descriptions agree with HTCondor's (data made by make_expected.py)."""
import getpass
import json
import math
import os
from pathlib import Path

import pytest
from submit_cases import CASES, ENV_NAME, ENV_VALUE

from condorsim.shared.classad import parse_expr, unparse
from condorsim.shared.submit import parse_submit

DATA = Path(__file__).parent / "data"
# Host- or build-dependent attributes, left out of the stored data (checked in test_submit.py).
UNCOMPARED = {"condorversion", "condorplatform", "filesystemdomain", "jobsubmitmethod"}


def canonical(text: str) -> str:
    return unparse(parse_expr(text))


@pytest.mark.parametrize("name", sorted(CASES))
def test_job_ads_agree_with_htcondor(name, workdir, monkeypatch):
    expected = json.loads((DATA / f"{name}.json").read_text())
    assert expected["submit"] == CASES[name], "stale data: rerun make_expected.py"
    monkeypatch.setenv(ENV_NAME, ENV_VALUE)
    jobs = parse_submit(expected["submit"]).build_jobs(42, qdate=1000, cwd=str(workdir))
    assert len(jobs) == len(expected["jobs"])
    for ad, want in zip(jobs, expected["jobs"]):
        cmd = ad.eval("Cmd")
        size = str(math.ceil(os.path.getsize(os.path.join(workdir, cmd)) / 1024))  # Cmd is as written without transfer_executable
        want = {attr: canonical(text.replace("<CWD>", str(workdir)).replace("<SIZE_OF_CMD>", size)
                                .replace("<USER>", getpass.getuser()))
                for attr, text in want.items()}
        got = {attr: unparse(ad[attr]) for attr in ad.keys() if attr.lower() not in UNCOMPARED}
        assert got == want, f"proc {ad.eval('ProcId')}"
