"""Dev script: write HTCondor's job ads for every case of submit_cases.py into data/*.json.

Run with a venv holding the 24.0 bindings (the 25.x ones have no Submit.jobs()):
    python3 -m venv /tmp/ref24 && /tmp/ref24/bin/pip install 'htcondor==24.0.*'
    /tmp/ref24/bin/python tests/ec2/make_submit_expected.py
"""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "submit")]
from make_expected import CLUSTER, QDATE, normalise  # noqa: E402  (sets the JOB_DEFAULT_* knobs)
from ec2_submit_cases import CASES  # noqa: E402

import htcondor  # noqa: E402


def make_workdir() -> str:
    work = tempfile.mkdtemp(prefix="ec2-submit-case-")
    for name, text in (("key.id", "AKIDEXAMPLE\n"), ("key.secret", "not-a-real-secret\n")):
        path = os.path.join(work, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
    with open(os.path.join(work, "ud.txt"), "w") as f:
        f.write("more data\n")
    os.mkdir(os.path.join(work, "sub"))
    return work


def main() -> None:
    for name, text in CASES.items():
        work = make_workdir()
        os.chdir(work)
        jobs = [normalise(ad, work, proc)
                for proc, ad in enumerate(htcondor.Submit(text).jobs(clusterid=CLUSTER, qdate=QDATE))]
        with open(os.path.join(HERE, "data", f"submit_{name}.json"), "w") as f:
            json.dump({"submit": text, "jobs": jobs}, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"{name}: {len(jobs)} job(s)")


if __name__ == "__main__":
    main()
