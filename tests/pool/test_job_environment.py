"""Issue 13: a job's environment is what HTCondor gives it, variable by variable, for getenv
unset, true and a list of names with wildcards."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from condorsim.shared.pool import wait_until

pytestmark = pytest.mark.timeout(120)

THREAD_VARIABLES = ["CUBACORES", "GOMAXPROCS", "JULIA_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "OPENBLAS_NUM_THREADS", "PYTHON_CPU_COUNT",
                    "ROOT_MAX_THREADS", "TF_LOOP_PARALLEL_ITERATIONS", "TF_NUM_THREADS"]
INTERNAL = {"CONDORSIM_POOL", "CONDORSIM_FAMILY"}  # how condorsim's procd and harness find processes


def read_env(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def run_env_jobs(pool, tmp_path: Path, variants: dict[str, str], env: dict[str, str]) -> dict[str, dict[str, str]]:
    outputs = {}
    for name, extra in variants.items():
        out = tmp_path / f"{name}.env"
        submit = (f"executable = /usr/bin/env\ninitialdir = {tmp_path}\noutput = {out.name}\n"
                  f"request_cpus = 1\n{extra}queue\n")
        result = pool.run("condor_submit", input=submit, env=env)
        assert result.returncode == 0, result.stderr
        outputs[name] = out
    wait_until(lambda: pool.run("condor_q", "-af", "ClusterId").stdout == "", timeout=30,
               message="the env jobs to finish")
    return {name: read_env(out) for name, out in outputs.items()}


def test_job_environment_for_getenv_unset_true_and_list(personal_pool, tmp_path):
    submitter = {"MY_ONE": "1", "MY_TWO": "two words", "OTHER_X": "x", "HOME": "/home/submitter"}
    envs = run_env_jobs(personal_pool, tmp_path, {
        "plain": 'environment = "A=1 B=\'x y\' OMP_NUM_THREADS=7"\n',
        "v1": "environment = A=1;C=3\n",
        "all": "getenv = True\n",
        "some": 'getenv = HOME, my_*\nenvironment = "MY_TWO=mine"\n',
    }, submitter)
    plain = envs["plain"]
    scratch = plain["_CONDOR_SCRATCH_DIR"]
    assert Path(scratch).parent == Path(personal_pool.cfg.get("EXECUTE"))
    assert Path(scratch).name.startswith("dir_")
    assert re.fullmatch(r"slot1_\d+", plain["_CONDOR_SLOT"])  # a dynamic slot of the partitionable one
    added = {
        "_CONDOR_SCRATCH_DIR": scratch, "_CONDOR_SLOT": plain["_CONDOR_SLOT"],
        "_CONDOR_JOB_AD": f"{scratch}/.job.ad", "_CONDOR_MACHINE_AD": f"{scratch}/.machine.ad",
        "_CONDOR_JOB_IWD": str(tmp_path), "TMPDIR": scratch, "TEMP": scratch, "TMP": scratch,
        "SINGULARITY_CACHEDIR": scratch, "APPTAINER_CACHEDIR": scratch, "BATCH_SYSTEM": "HTCondor",
        **{name: "1" for name in THREAD_VARIABLES},
    }
    # Only the job's own variables and what HTCondor adds: nothing of the daemons' environment.
    assert {k: v for k, v in plain.items() if k not in INTERNAL} == \
        {**added, "A": "1", "B": "x y", "OMP_NUM_THREADS": "7"}
    assert "PATH" not in plain
    v1 = envs["v1"]
    assert (v1["A"], v1["C"]) == ("1", "3")
    assert set(v1) - INTERNAL == set(added) | {"A", "C"}
    # getenv = True: the submitter's whole environment, under what the starter adds.
    everything = envs["all"]
    assert {k: everything[k] for k in submitter} == submitter
    assert everything["PATH"] == personal_pool.env["PATH"] and everything["_CONDOR_SLOT"].startswith("slot1_")
    assert everything["TMPDIR"] == everything["_CONDOR_SCRATCH_DIR"]
    # getenv = a list: the names that match, case-insensitively; environment wins over getenv.
    some = envs["some"]
    assert {k: some[k] for k in ("HOME", "MY_ONE", "MY_TWO")} == \
        {"HOME": "/home/submitter", "MY_ONE": "1", "MY_TWO": "mine"}
    assert set(some) - INTERNAL == set(added) | {"HOME", "MY_ONE", "MY_TWO"}


def test_job_and_machine_ad_files_and_cpus(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "2", "SLOT_TYPE_1": "cpus=2", "NUM_SLOTS_TYPE_1": "1"})
    script = tmp_path / "ads.sh"
    script.write_text('#!/bin/sh\ncat "$_CONDOR_JOB_AD" > job.txt\ncat "$_CONDOR_MACHINE_AD" > machine.txt\n'
                      'echo "$OMP_NUM_THREADS $_CONDOR_SLOT" > threads.txt\n')
    script.chmod(0o755)
    submit = f"executable = {script}\ninitialdir = {tmp_path}\nrequest_cpus = 2\nqueue\n"
    assert pool.run("condor_submit", input=submit).returncode == 0
    wait_until(lambda: (tmp_path / "threads.txt").exists() and pool.run("condor_q", "-af", "ClusterId").stdout == "",
               timeout=30, message="the job to finish")
    assert (tmp_path / "threads.txt").read_text() == "2 slot1\n"
    job = (tmp_path / "job.txt").read_text()
    assert "ClusterId = 1\n" in job and "RequestCpus = 2\n" in job
    machine = (tmp_path / "machine.txt").read_text()
    assert "Cpus = 2\n" in machine and 'Name = "slot1@' in machine
