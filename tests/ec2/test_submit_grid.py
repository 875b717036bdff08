"""condor_submit of grid-universe EC2 jobs: job ads as HTCondor's (data/submit_*.json, made by
make_submit_expected.py with HTCondor's own Submit.jobs()) and HTCondor's error texts."""
import json
import os
from pathlib import Path

import pytest

from condorsim.shared.classad import parse_expr, unparse
from condorsim.shared.submit import SubmitError, parse_submit

from .ec2_submit_cases import CASES, HEAD

DATA = Path(__file__).parent / "data"
UNCOMPARED = {"condorversion", "condorplatform", "filesystemdomain", "jobsubmitmethod"}
# HTCondor leaves a relative path given through the aws_*_file aliases relative (so the
# gridmanager would read it relative to its own directory); condorsim makes it absolute.
ABSOLUTE_ALIASES = {'"key.id"': '"<CWD>/key.id"', '"key.secret"': '"<CWD>/key.secret"'}


@pytest.fixture
def workdir(tmp_path):
    for where in (tmp_path, tmp_path / "sub"):
        where.mkdir(exist_ok=True)
        for name, text in (("key.id", "AKIDEXAMPLE\n"), ("key.secret", "not-a-real-secret\n")):
            (where / name).write_text(text)
            os.chmod(where / name, 0o600)
        (where / "ud.txt").write_text("more data\n")
    return tmp_path


def build(text: str, workdir: Path):
    return parse_submit(text).build_jobs(42, qdate=1000, cwd=str(workdir))


@pytest.mark.parametrize("name", sorted(CASES))
def test_grid_job_ads_agree_with_htcondor(name, workdir):
    expected = json.loads((DATA / f"submit_{name}.json").read_text())
    assert expected["submit"] == CASES[name], "stale data: rerun make_submit_expected.py"
    jobs = build(expected["submit"], workdir)
    assert len(jobs) == len(expected["jobs"])
    for ad, want in zip(jobs, expected["jobs"]):
        want = {attr: ABSOLUTE_ALIASES.get(text, text) for attr, text in want.items()}
        want = {attr: unparse(parse_expr(text.replace("<CWD>", str(workdir)).replace("<SIZE_OF_CMD>", "0")))
                for attr, text in want.items()}
        got = {attr: unparse(ad[attr]) for attr in ad.keys() if attr.lower() not in UNCOMPARED}
        assert got == want


@pytest.mark.parametrize("change, message", [
    ({"grid_resource": "ec2"}, "EC2 grid jobs require a service URL"),
    ({"grid_resource": None}, "grid_resource attribute not defined for grid universe job"),
    ({"grid_resource": "bogus http://x/"},
     "Invalid value 'bogus' for grid type\nMust be one of: condor, batch, arc, ec2, gce, or azure"),
    ({"ec2_access_key_id": None}, "EC2 jobs require a 'ec2_access_key_id' or 'aws_access_key_id_file' parameter"),
    ({"ec2_secret_access_key": None},
     "EC2 jobs require a 'ec2_secret_access_key' or 'aws_secret_access_key_file' parameter"),
    ({"ec2_ami_id": None}, 'EC2 jobs require a "ec2_ami_id" parameter'),
    ({"executable": None}, "No 'executable' parameter was provided"),
    ({"ec2_access_key_id": "missing"}, "Failed to open public key file {W}/missing (No such file or directory)"),
    ({"ec2_secret_access_key": "missing"}, "Failed to open private key file {W}/missing (No such file or directory)"),
    ({"ec2_secret_access_key": "sub"}, "{W}/sub is a directory"),
    ({"ec2_user_data_file": "nope"}, "Failed to open user data file {W}/nope (No such file or directory)"),
])
def test_htcondor_error_texts(workdir, change, message):
    keys = {"ec2_ami_id": "ami-1", "executable": "label"}
    text = HEAD + "".join(f"{k} = {v}\n" for k, v in keys.items()) + "queue\n"
    for key, value in change.items():
        lines = [line for line in text.splitlines() if not line.startswith(key + " ")]
        if value is not None:
            lines.insert(0, f"{key} = {value}")
        text = "\n".join(lines) + "\n"
    with pytest.raises(SubmitError) as error:
        build(text, workdir)
    assert str(error.value) == message.replace("{W}", str(workdir))


def test_instance_type_is_optional_and_executable_need_not_exist(workdir):
    ad, = build(HEAD + "ec2_ami_id = ami-1\nexecutable = /no/such/program\nqueue\n", workdir)
    assert ad.eval("Cmd") == "/no/such/program" and "EC2InstanceType" not in ad


def test_world_readable_secret_refused_naming_file_and_mode(workdir):
    os.chmod(workdir / "key.secret", 0o644)
    with pytest.raises(SubmitError) as error:
        build(HEAD + "ec2_ami_id = ami-1\nexecutable = x\nqueue\n", workdir)
    assert f"{workdir}/key.secret" in str(error.value) and "mode 0644" in str(error.value)


def test_group_readable_secret_gets_a_warning(workdir, capsys):
    os.chmod(workdir / "key.secret", 0o640)
    build(HEAD + "ec2_ami_id = ami-1\nexecutable = x\nqueue\n", workdir)
    assert f"the secret key file {workdir}/key.secret is readable by its group (mode 0640)" \
        in capsys.readouterr().err
