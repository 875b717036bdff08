"""Dev script: write HTCondor's job ads for every case of submit_cases.py into data/*.json.

Run with a venv holding the 24.0 bindings (the 25.x ones have no Submit.jobs()):
    python3 -m venv /work/ref24 && /work/ref24/bin/pip install 'htcondor==24.0.*'
    /work/ref24/bin/python tests/submit/make_expected.py [CASE ...]
It also writes tests/data/manual/expected/<name>.json for each tests/data/manual/<name>.sub,
run in a copy of tests/data/manual/files/ (see manual_workdir()).
Multi-queue descriptions are split (the bindings keep one queue statement per Submit) and
ProcIds renumbered.  Host/path/version-dependent values are normalised (see normalise()).
"""

import getpass
import glob
import json
import os
import re
import shutil
import sys
import tempfile

os.environ["_CONDOR_JOB_DEFAULT_REQUESTMEMORY"] = "128"
os.environ["_CONDOR_JOB_DEFAULT_REQUESTDISK"] = "MAX({1024, (TransferInputSizeMB+1) * 1.25}) * 1024"
os.environ.setdefault("CONDOR_CONFIG", "/dev/null")

import htcondor  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from submit_cases import CASES, ENV_NAME, ENV_VALUE, JOB_SCRIPT, ROWS_FILE  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER, QDATE = 42, 1000
# Attributes whose value depends on the host or the HTCondor build: not compared.
UNCOMPARED = {"condorversion", "condorplatform", "filesystemdomain", "jobsubmitmethod"}
OLD_DISK = "(TARGET.Disk >= RequestDisk)"
NEW_DISK = '(versionGE(split(TARGET.CondorVersion)[1], "25.12.0") || (TARGET.Disk >= RequestDisk))'


def make_workdir() -> str:
    work = tempfile.mkdtemp(prefix="submit-case-")
    with open(os.path.join(work, "job.sh"), "w") as f:
        f.write(JOB_SCRIPT)
    os.chmod(os.path.join(work, "job.sh"), 0o755)
    os.mkdir(os.path.join(work, "sub"))
    for name in ("a.dat", "b.dat"):
        open(os.path.join(work, "sub", name), "w").close()
    with open(os.path.join(work, "rows.txt"), "w") as f:
        f.write(ROWS_FILE)
    return work


MANUAL = os.path.join(HERE, "..", "data", "manual")
MANUAL_ENV = {"CONDORSIM_MANUAL_HOME": "/home/manual-reader"}


def manual_workdir(sub: str) -> str:
    """A fresh copy of tests/data/manual/files/ holding the submit file `sub`."""
    work = tempfile.mkdtemp(prefix="manual-")
    shutil.copytree(os.path.join(MANUAL, "files"), work, dirs_exist_ok=True)
    shutil.copy(sub, work)
    return work


def split_queues(text: str) -> list[str]:
    """One description per queue statement: all keys so far plus that statement."""
    lines = text.splitlines()
    keys, parts, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^\s*queue\b", line, re.IGNORECASE):
            block = [line]
            if "(" in line and ")" not in line:
                while ")" not in lines[i]:
                    i += 1
                    block.append(lines[i])
            parts.append("\n".join(keys + block) + "\n")
        else:
            keys.append(line)
        i += 1
    return parts


def normalise(ad, work: str, proc_id: int) -> dict:
    """printOld() text of each attribute; the case directory becomes <CWD>, the sizes of an
    executable outside it (the seed's /bin/sleep) <SIZE_OF_CMD>, the 24.0 disk clause 25.x's."""
    outside = not ad["Cmd"].startswith(work)
    out = {}
    for line in ad.printOld().splitlines():
        name, _, value = line.partition(" = ")
        if name.lower() in UNCOMPARED:
            continue
        if name == "ProcId":
            value = str(proc_id)
        value = value.replace(work, "<CWD>")
        if name in ("AcctGroupUser", "AccountingGroup"):
            value = value.replace(getpass.getuser(), "<USER>")
        if outside and name in ("ExecutableSize", "ImageSize", "DiskUsage"):
            value = "<SIZE_OF_CMD>"
        if name == "Requirements":
            value = value.replace(OLD_DISK, NEW_DISK)
        out[name] = value
    return out


def htcondor_jobs(text: str, work: str) -> list[dict]:
    """HTCondor's normalised job ads of `text`, run in directory `work`."""
    jobs = []
    for part in split_queues(text):
        for ad in htcondor.Submit(part).jobs(clusterid=CLUSTER, qdate=QDATE):
            jobs.append(normalise(ad, work, len(jobs)))
    return jobs


def main(names: list[str]) -> None:
    """Write the data of the cases named (all cases when none is named)."""
    os.environ[ENV_NAME] = ENV_VALUE
    for name, text in CASES.items():
        if names and name not in names:
            continue
        work = make_workdir()
        os.chdir(work)
        jobs = htcondor_jobs(text, work)
        with open(os.path.join(HERE, "data", f"{name}.json"), "w") as f:
            json.dump({"submit": text, "jobs": jobs}, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"{name}: {len(jobs)} job(s)")
    os.environ.update(MANUAL_ENV)
    os.makedirs(os.path.join(MANUAL, "expected"), exist_ok=True)
    for sub in sorted(glob.glob(os.path.join(MANUAL, "*.sub"))):
        name = os.path.basename(sub)[:-4]
        work = manual_workdir(sub)
        os.chdir(work)
        with open(sub) as f:
            text = f.read()
        jobs = htcondor_jobs(text, work)
        with open(os.path.join(MANUAL, "expected", f"{name}.json"), "w") as f:
            json.dump({"submit": text, "jobs": jobs}, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"manual/{name}: {len(jobs)} job(s)")


if __name__ == "__main__":
    main(sys.argv[1:])
