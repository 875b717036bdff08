"""Issue 13: jobs run in a fresh sandbox with HTCondor's file transfer, through real pools."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from condorsim.shared.pool import wait_until
from tests.pool.test_jobs import events, job_field

pytestmark = pytest.mark.timeout(120)

CHECK_USERLOG = Path("/work/shared/reference/check_userlog.py")

SCIENCE = """#!/bin/sh
# science.sh A B OUT: what the HTCondor quick start's science.exe does, in a few lines
cat "$1" "$2" > "$3"
echo "ran in $(pwd)"
echo "scratch $_CONDOR_SCRATCH_DIR"
ls
"""


def queue_empty(pool) -> bool:
    return pool.run("condor_q", "-af", "ClusterId").stdout == ""


def make_executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


def test_science1_shaped_job_runs_in_a_sandbox_with_its_inputs(pool_factory, tmp_path):
    # The startd is in another FileSystemDomain, so IF_NEEDED transfers, as HTCondor would.
    pool = pool_factory(config={"STARTD.FILESYSTEM_DOMAIN": "execute.example"})
    job_dir = tmp_path / "science"
    job_dir.mkdir()
    make_executable(job_dir / "science.sh", SCIENCE)
    (job_dir / "infile-A.txt").write_text("alpha\n")
    (job_dir / "infile-B.txt").write_text("beta\n")
    (job_dir / "science1.out").write_text("stale output of an earlier run\n" * 10)
    submit = (f"executable = {job_dir}/science.sh\n"
              'arguments = "infile-A.txt infile-B.txt outfile.txt"\n'
              "transfer_input_files = infile-A.txt,infile-B.txt\n"
              "should_transfer_files = IF_NEEDED\nwhen_to_transfer_output = ON_EXIT\n"
              f"initialdir = {job_dir}\nlog = science1.log\noutput = science1.out\nerror = science1.err\n"
              "queue\n")
    result = pool.run("condor_submit", input=submit)
    assert result.returncode == 0, result.stderr
    wait_until(lambda: queue_empty(pool), timeout=30, message="the science job to finish")
    assert (job_dir / "outfile.txt").read_text() == "alpha\nbeta\n"
    lines = (job_dir / "science1.out").read_text().splitlines()  # replaced, not appended
    scratch = lines[1].split(" ", 1)[1]
    assert lines[0] == f"ran in {scratch}"
    assert Path(scratch).parent == Path(pool.cfg.get("EXECUTE"))
    # only what was transferred, with the stdout/stderr files the starter opened
    assert lines[2:] == ["_condor_stderr", "_condor_stdout", "infile-A.txt", "infile-B.txt", "outfile.txt",
                         "science.sh"]
    assert not Path(scratch).exists()  # the sandbox is gone with its run
    assert (job_dir / "science1.err").read_text() == ""
    log = job_dir / "science1.log"
    numbers = [number for number, _ in events(log)]
    assert numbers == ["000", "040", "040", "001", "040", "040", "005"]
    text = log.read_text()
    for stage in ("Started transferring input files\n\tTransferring to host: <",
                  "Finished transferring input files\n", "Started transferring output files\n",
                  "Finished transferring output files\n"):
        assert stage in text
    checked = subprocess.run([sys.executable, str(CHECK_USERLOG), str(log), "--strict"],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    read = json.loads(checked.stdout)
    assert [(e["type"], e.get("Type")) for e in read if e["type_code"] == 40] == \
        [("FILE_TRANSFER", 2), ("FILE_TRANSFER", 3), ("FILE_TRANSFER", 5), ("FILE_TRANSFER", 6)]


def test_directories_outputs_remaps_and_streaming(pool_factory, tmp_path):
    pool = pool_factory()
    work = tmp_path / "work"
    (work / "tree" / "deep").mkdir(parents=True)
    (work / "tree" / "deep" / "leaf.txt").write_text("leaf\n")
    (work / "flat").mkdir()
    (work / "flat" / "one.txt").write_text("1\n")
    (work / "single.txt").write_text("s\n")
    make_executable(work / "job.sh", """#!/bin/sh
found=$(find . -path ./_condor_stdout -prune -o -path ./_condor_stderr -prune -o -type f -print | sort)
echo "$found" > listing.txt
echo changed >> single.txt
mkdir made && echo m > made/inside.txt
echo new > new.txt
""")
    common = f"executable = {work}/job.sh\ninitialdir = {work}\nshould_transfer_files = YES\n"
    auto = common + "transfer_input_files = tree, flat/, single.txt\nqueue\n"
    assert pool.run("condor_submit", input=auto).returncode == 0
    wait_until(lambda: queue_empty(pool), timeout=30, message="the first job to finish")
    # A directory arrives whole, a trailing slash brings its contents; new/changed top-level files
    # come back, directories the job made do not.
    assert (work / "listing.txt").read_text().split() == sorted(
        ["./.job.ad", "./.machine.ad", "./job.sh", "./one.txt", "./single.txt", "./tree/deep/leaf.txt"])
    assert (work / "single.txt").read_text() == "s\nchanged\n"
    assert (work / "new.txt").read_text() == "new\n"
    assert not (work / "made").exists() and not (work / "one.txt").exists()
    listed = common + ("transfer_output_files = made, new.txt\n"
                       'transfer_output_remaps = "new.txt = results/renamed.txt"\nqueue\n')
    (work / "new.txt").unlink()
    assert pool.run("condor_submit", input=listed).returncode == 0
    wait_until(lambda: queue_empty(pool), timeout=30, message="the second job to finish")
    assert (work / "made" / "inside.txt").read_text() == "m\n"
    assert (work / "results" / "renamed.txt").read_text() == "new\n"
    assert not (work / "new.txt").exists()
    # stream_output: the output file fills while the job runs (without it, it appears at exit).
    make_executable(work / "stream.sh", '#!/bin/sh\necho started\nwhile [ ! -e "$_CONDOR_JOB_IWD/go" ]; do '
                    'sleep 0.1; done\necho done\n')
    streamed = (f"executable = {work}/stream.sh\ninitialdir = {work}\nshould_transfer_files = YES\n"
                "output = s.out\nstream_output = true\nerror = s.err\nqueue\n")
    assert pool.run("condor_submit", input=streamed).returncode == 0
    wait_until(lambda: (work / "s.out").exists() and (work / "s.out").read_text() == "started\n", timeout=30,
               message="the streamed output while the job runs")
    assert not (work / "s.err").exists()  # not streamed: comes back at exit
    assert pool.run("condor_q", "3.0", "-af", "TransferringInput", "TransferInFinished").stdout.split()[0] == "false"
    (work / "go").write_text("")
    wait_until(lambda: queue_empty(pool), timeout=30, message="the streaming job to finish")
    assert (work / "s.out").read_text() == "started\ndone\n"
    assert (work / "s.err").read_text() == ""


def test_missing_input_and_output_files_hold_the_job(personal_pool, tmp_path):
    pool = personal_pool
    make_executable(tmp_path / "job.sh", "#!/bin/sh\ntrue\n")
    doomed = tmp_path / "input.dat"
    doomed.write_text("x")
    submit = (f"executable = {tmp_path}/job.sh\ninitialdir = {tmp_path}\nshould_transfer_files = YES\n"
              f"transfer_input_files = input.dat\nlog = {tmp_path}/job.log\nhold = true\nqueue\n"
              f"transfer_input_files =\ntransfer_output_files = never_made.txt\nhold = false\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    doomed.unlink()
    assert pool.run("condor_release", "1.0").returncode == 0
    wait_until(lambda: job_field(pool, "JobStatus") == {"1.0": "5", "1.1": "5"}, timeout=30,
               message="both jobs held by their transfer failures")
    codes = job_field(pool, "HoldReasonCode")
    assert codes == {"1.0": "13", "1.1": "12"}
    assert job_field(pool, "HoldReasonSubCode") == {"1.0": "2", "1.1": "2"}
    reasons = job_field(pool, "HoldReason")
    host = pool.cfg.get("FULL_HOSTNAME").split(".")[0]
    assert reasons["1.0"] == (f"Transfer input files failure at access point {host} while sending files to the "
                              f"execution point. Details: reading from file {doomed}: (errno 2) "
                              "No such file or directory")
    assert reasons["1.1"].startswith("Transfer output files failure at execution point slot")
    assert reasons["1.1"].endswith("/never_made.txt: (errno 2) No such file or directory")
    text = (tmp_path / "job.log").read_text()
    assert f"reading from file {doomed}: (errno 2) No such file or directory\n\tCode 13 Subcode 2\n" in text
    assert not os.path.exists(tmp_path / "never_made.txt")


def test_on_exit_or_evict_brings_an_evicted_runs_files_to_the_next_run(personal_pool, tmp_path):
    pool = personal_pool
    make_executable(tmp_path / "resume.sh", '#!/bin/sh\nif [ -e progress.txt ]; then echo resumed >> progress.txt; '
                    'exit 0; fi\necho step1 > progress.txt\nexec sleep 600\n')
    submit = (f"executable = {tmp_path}/resume.sh\ninitialdir = {tmp_path}\nshould_transfer_files = YES\n"
              "when_to_transfer_output = ON_EXIT_OR_EVICT\nqueue\n")
    assert pool.run("condor_submit", input=submit).returncode == 0
    execute = Path(pool.cfg.get("EXECUTE"))
    wait_until(lambda: list(execute.glob("dir_*/progress.txt")), timeout=30, message="the first run's progress")
    assert pool.run("condor_vacate_job", "1.0").returncode == 0
    wait_until(lambda: queue_empty(pool), timeout=40, message="the second run to finish")
    assert (tmp_path / "progress.txt").read_text() == "step1\nresumed\n"
    assert job_field(pool, "JobStatus") == {}
    assert pool.run("condor_history", "1.0", "-af", "NumJobStarts", "ExitCode").stdout == "2 0\n"
    spool = Path(pool.cfg.get("SPOOL"))
    assert not list(spool.glob("1/0/cluster1.proc0.subproc0"))  # the spooled files are gone with the job
