"""Our submit files shaped like the HTCondor manual's examples (tests/data/manual/) run through
condor_submit, and their job ads agree with HTCondor's own submit code (data made by
make_expected.py with the bindings' Submit.jobs())."""
import json
import math
import os
import shutil
from pathlib import Path

import pytest

from condorsim.scripts import condor_submit
from condorsim.shared.classad import parse_expr, unparse
from condorsim.shared.submit import parse_submit

MANUAL = Path(__file__).parent.parent / "data" / "manual"
NAMES = sorted(p.stem for p in MANUAL.glob("*.sub"))
UNCOMPARED = {"condorversion", "condorplatform", "filesystemdomain", "jobsubmitmethod"}
# Attributes of keys another branch implements (issue 13: file transfer, retries, manifests);
# compared once our ads carry them, tolerated as missing until then.
PENDING = {"TransferInput", "MaxRetries", "OnExitRemove", "JobManifestDir", "JobManifestDesired",
           "SuccessCheckpointExitCode", "TransferOutput", "ManifestDesired", "JobMaxRetries",
           "OnExitHold"}


@pytest.fixture
def manual_dir(tmp_path, monkeypatch):
    shutil.copytree(MANUAL / "files", tmp_path, dirs_exist_ok=True)
    for sub in MANUAL.glob("*.sub"):
        shutil.copy(sub, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CONDORSIM_MANUAL_HOME", "/home/manual-reader")
    return tmp_path


def canonical(text: str) -> str:
    return unparse(parse_expr(text))


@pytest.mark.parametrize("name", NAMES)
def test_manual_example_ads_agree_with_htcondor(name, manual_dir):
    expected = json.loads((MANUAL / "expected" / f"{name}.json").read_text())
    text = (manual_dir / f"{name}.sub").read_text()
    assert expected["submit"] == text, "stale data: rerun make_expected.py"
    jobs = parse_submit(text, f"{name}.sub", cwd=str(manual_dir)).build_jobs(
        42, qdate=1000, cwd=str(manual_dir))
    assert len(jobs) == len(expected["jobs"])
    for ad, want in zip(jobs, expected["jobs"]):
        size = str(math.ceil(os.path.getsize(ad.eval("Cmd")) / 1024))
        want = {attr: canonical(value.replace("<CWD>", str(manual_dir)).replace("<SIZE_OF_CMD>", size))
                for attr, value in want.items()}
        got = {attr: unparse(ad[attr]) for attr in ad.keys() if attr.lower() not in UNCOMPARED}
        for attr in PENDING - got.keys():
            want.pop(attr, None)
        if "TransferInput" not in got:   # the input files' sizes come with it
            want.pop("DiskUsage", None)
            got.pop("DiskUsage", None)
        assert got == want, f"proc {ad.eval('ProcId')}"


@pytest.mark.parametrize("name", NAMES)
def test_manual_example_runs_through_condor_submit(name, manual_dir, capsys):
    expected = json.loads((MANUAL / "expected" / f"{name}.json").read_text())
    code = condor_submit.main(["-dry-run", "ads.txt", f"{name}.sub"])
    out, err = capsys.readouterr()
    count = len(expected["jobs"])
    assert (code, err) == (0, "")
    assert out == f"Dry-Run job(s){'.' * count}\n{count} job(s) dry-run to cluster 1.\n"
    assert (manual_dir / "ads.txt").read_text().count("\nProcId=") == count
