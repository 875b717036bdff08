"""condor_tail against a live pool: the end of a running job's stdout, stderr and output files,
fetched from its starter through its startd, and HTCondor's messages when there is nothing to tail."""
from __future__ import annotations

import os
import subprocess

import pytest

from condorsim.shared.pool import wait_until

pytestmark = pytest.mark.timeout(120)

JOB = """#!/bin/sh
echo line1; echo line2; echo line3
echo err1 >&2
echo working > progress.txt
while [ ! -e "$1" ]; do sleep 0.2; done
echo last
sleep "${2:-2.5}"
"""


def test_tail_prints_the_end_of_a_running_jobs_files(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "1", "NEGOTIATOR_INTERVAL": "1"})
    script, release = os.path.join(pool.dir, "job.sh"), os.path.join(pool.dir, "release")
    with open(script, "w") as handle:
        handle.write(JOB)
    os.chmod(script, 0o755)

    missing = pool.run("condor_tail", "7.0")
    assert (missing.returncode, missing.stdout, missing.stderr) == (1, "", "No such job: 7.0\n")
    submit = (f"executable = {script}\narguments = {release}\ninitialdir = {pool.dir}\noutput = out.txt\n"
              "error = err.txt\ntransfer_output_files = progress.txt\nqueue\n")
    assert pool.run("condor_submit", input="hold = true\n" + submit).returncode == 0
    held = pool.run("condor_tail", "1")
    assert (held.returncode, held.stderr) == (1, "Job 1.0 is not running.\n")

    assert pool.run("condor_submit", input=submit).returncode == 0
    # a file named after the job id is tailed after stdout (-no-stdout leaves stdout out)
    wait_until(lambda: pool.run("condor_tail", "-no-stdout", "2.0", "progress.txt").stdout == "working\n",
               timeout=30, message="job 2.0 running and writing")
    assert pool.run("condor_tail", "2.0", "progress.txt").stdout == "line1\nline2\nline3\nworking\n"
    assert pool.run("condor_tail", "2.0").stdout == "line1\nline2\nline3\n"
    assert pool.run("condor_tail", "-maxbytes", "6", "2").stdout == "line3\n"
    schedd = pool.run("condor_status", "-schedd", "-af", "Name").stdout.strip()
    assert pool.run("condor_tail", "-name", schedd, "-maxbytes", "6", "2").stdout == "line3\n"
    unknown = pool.run("condor_tail", "-name", "nosuch@schedd", "2")
    assert (unknown.returncode, unknown.stderr) == (1, "No such schedd named nosuch@schedd in local pool\n")
    assert pool.run("condor_tail", "-stderr", "2.0").stdout == "err1\n"
    not_listed = pool.run("condor_tail", "-no-stdout", "2.0", "job.sh")
    assert not_listed.returncode == 1
    assert not_listed.stderr == ("Failed to peek at file from starter: "
                                 "job.sh is not in the job's transfer_output_files\n")

    # job 3 waits for the only slot: -auto-retry waits with it
    waiting = submit.replace(f"arguments = {release}", f"arguments = {release} 60")
    assert pool.run("condor_submit", input=waiting).returncode == 0
    follow = subprocess.Popen(["condor_tail", "-f", "2.0"], env=pool.env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        first = [follow.stdout.readline() for _ in range(3)]     # following: the first read is done
        open(release, "w").close()                                # the job writes its last line and ends
        assert first + [follow.stdout.readline()] == ["line1\n", "line2\n", "line3\n", "last\n"]
        rest, err = follow.communicate(timeout=60)                # ends once the job has
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
    assert (follow.returncode, rest, err) == (0, "", "")

    waited = pool.run("condor_tail", "-auto-retry", "3.0")
    assert (waited.returncode, waited.stderr) == (0, "") and waited.stdout.startswith("line1\nline2\nline3\n")
    assert pool.run("condor_rm", "3").returncode == 0
