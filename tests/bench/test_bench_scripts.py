"""Smoke tests: each benchmark script runs at a tiny scale and prints every figure it promises.

They check the report's shape and that its numbers parse, never how fast anything was.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,]+(?:\.\d+)?"


def run_script(module: str, *args: str) -> str:
    """The script's output; it must exit 0 and leave no process behind. A script killed on its
    timeout cannot stop its pools itself, so every process that inherited this run's marker is
    killed afterwards either way."""
    marker = uuid.uuid4().hex
    try:
        result = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True,
                                text=True, timeout=120, env={**os.environ, "CONDORSIM_BENCH_RUN": marker})
    finally:
        left = kill_marked(marker)
    assert result.returncode == 0, result.stderr
    assert not left, f"{module} left {left} behind"
    return result.stdout


def kill_marked(marker: str) -> list[str]:
    """Kill the processes carrying CONDORSIM_BENCH_RUN=marker; their command lines."""
    left = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("CONDORSIM_BENCH_RUN") == marker:
                left.append(" ".join(process.cmdline()))
                process.kill()
        except psutil.Error:
            continue
    return left


@pytest.mark.timeout(150)
def test_bench_pool_prints_startup_memory_growth_and_floor():
    out = run_script("condorsim.scripts.bench_pool", "--runs", "1", "--startds", "2")
    assert re.search(rf"fresh python \+ zmq, msgpack, psutil, asyncio: {NUMBER} ms CPU, .* USS {NUMBER} MiB", out)
    assert re.search(rf"fork from an imported parent: {NUMBER} ms .* USS {NUMBER} MiB each", out)
    assert re.search(rf"Personal pool .*: start\(\) median {NUMBER} ms over 1 run", out)
    for phase in ("config written", "master running", "children alive", "ads visible"):
        assert re.search(rf"{phase}\s+\+\s*{NUMBER} ms", out), phase
    for daemon in ("condor_master", "condor_collector", "condor_negotiator", "condor_schedd",
                   "condor_startd", "condor_procd"):
        assert re.search(rf"\n  {daemon}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\n", out), daemon
    assert "2 startds on one host: start() median" in out
    assert re.search(r"\n  condor_startd\s+2\s", out)  # the extra startd came up beside the first
    growth = out.split("Growth with startds")[1].splitlines()
    assert re.match(rf"\s+1\s+6\s+{NUMBER}", growth[2]) and re.match(rf"\s+2\s+8\s+{NUMBER}", growth[3])


@pytest.mark.timeout(150)
def test_bench_jobs_prints_submit_latency_and_matchmaking_figures():
    out = run_script("condorsim.scripts.bench_jobs", "--submit-jobs", "40", "--latency-samples", "1",
                     "--match-jobs", "30", "--match-slots", "10", "--autoclusters", "1,30",
                     "--only", "submit,latency,matchmaking,pool,reuse",  # the cycle section: the test below
                     "--pool-jobs", "3", "--pool-slots", "2", "--reuse-jobs", "2", "--reuse-slots", "2")
    assert "Submit rate, one cluster of 40 jobs" in out
    assert re.search(rf"condor_submit end to end: {NUMBER} ms, {NUMBER} jobs/s", out)
    assert re.search(rf"SUBMIT call alone: {NUMBER} jobs/s", out)
    assert re.search(r"condor_q \(batch view\) over 80 jobs: .*80 jobs; 0 completed, 0 removed, 80 idle", out)
    assert re.search(rf"condor_submit start -> JobStatus 2\s+median\s+{NUMBER} ms", out)
    assert re.search(rf"SUBMIT call -> JobStatus 2\s+median\s+{NUMBER} ms", out)
    assert "(30 idle jobs, 10 unclaimed slots" in out
    # one autocluster fills all 10 slots in one scan; 30 autoclusters match 10 and reject 20
    assert re.search(rf"\n\s+1\s+10\s+1\s+10\s+{NUMBER} ms\s+{NUMBER}", out)
    assert re.search(rf"\n\s+30\s+10\s+20\s+55\s+{NUMBER} ms\s+{NUMBER}", out)
    assert re.search(rf"all 2 slots running after {NUMBER} ms: {NUMBER} jobs started/s", out)
    assert "Claim reuse (2 jobs of /bin/true through 2 static slots" in out
    for label in (r"reused \(CLAIM_WORKLIFE = 1200\)", r"not reused \(CLAIM_WORKLIFE = 0\)"):
        assert re.search(rf"{label}\s+all done after\s+{NUMBER} s:\s+{NUMBER} jobs completed/s", out), label
    assert re.search(rf"claim reuse is x{NUMBER} faster", out)


@pytest.mark.timeout(150)
def test_bench_jobs_prints_autocluster_cycles_with_the_pairwise_reference():
    out = run_script("condorsim.scripts.bench_jobs", "--only", "matchmaking,cycle", "--match-jobs", "60",
                     "--slots", "20,40", "--autoclusters", "60", "--pairwise-scans", "100",
                     "--cycle-jobs", "30", "--cycle-slots", "10")
    assert "Submit rate" not in out and "Claim reuse" not in out  # --only runs just those sections
    assert "Negotiation cycle in a real pool (30 idle jobs each its own autocluster, 10 slot ads" in out
    for cycle in (1, 2, 3):  # a stand-in startd refuses the claims: each cycle matches the 10 slots again
        assert re.search(rf"\n\s+{cycle}\s+10\s+(?:{NUMBER} ms\s+){{5}}{NUMBER} ms\n",
                         out), cycle
    for slots in (20, 40):
        assert f"(60 idle jobs, {slots} unclaimed slots, one cycle" in out
        # every autocluster its own: as many matches as slots; the reference timed on a few and extrapolated
        assert re.search(rf"\n\s+60\s+{slots}\s+{60 - slots}\s+{NUMBER}\s+{NUMBER} ms\s+{NUMBER}\s+{NUMBER}"
                         rf"\s+{NUMBER} ms\s+~{NUMBER} s\s+x{NUMBER}\n", out), slots
    assert "WARNING" not in out  # the pairwise matcher chose the same slots


def test_bench_cedar_prints_bindings_and_own_query_rates():
    pytest.importorskip("htcondor2")
    out = run_script("condorsim.scripts.bench_cedar", "--slots", "30", "--jobs", "10", "--repeat", "1")
    assert "Collector.query over 30 slot ads" in out and "Schedd.query over 10 jobs" in out
    for label in ("htcondor2 Collector.query, all attributes", "htcondor2 Collector.query, projection Name State",
                  "condor_status -af Name (new process)", "htcondor2 Schedd.query, all attributes",
                  "htcondor2 Schedd.query, projection JobStatus", "condor_q -af ClusterId (new process)"):
        assert re.search(rf"{re.escape(label)}\s+{NUMBER} ms\s+{NUMBER} queries/s\s+{NUMBER} ads/s\s+"
                         rf"{NUMBER}x our in-process time", out), label
    assert len(re.findall(rf"condorsim in process.*\s{NUMBER} ads/s\n", out)) == 4
    assert re.search(rf"One query of all 10 jobs, each a new process \(before any other query; "
                     rf"the schedd at rest used {NUMBER} % of a core\):", out)
    for label in ("htcondor2 Schedd.query(), all attributes (CEDAR)", "condor_q -allusers -long (ZeroMQ)",
                  "htcondor2 Schedd.query(), projection JobStatus (CEDAR)",
                  "condor_q -allusers -af ClusterId JobStatus (ZeroMQ)"):
        assert re.search(rf"{re.escape(label)}\s+{NUMBER} ms  schedd CPU\s+{NUMBER} ms, peak RSS \+\s*{NUMBER} MiB, "
                         rf"slowest one-job query meanwhile\s+{NUMBER} ms  \(10 ads\)", out), label


@pytest.mark.timeout(150)
def test_bench_ec2_prints_time_requests_and_gridmanager_cost():
    out = run_script("condorsim.scripts.bench_ec2", "--jobs", "3", "--rate-limit-ms", "5",
                     "--probe-interval", "1")
    assert re.search(rf"submit -> all 3 Running in condor_q: {NUMBER} s \({NUMBER} instances/s\); "
                     r"3 instances in moto", out)
    assert re.search(rf"condor_rm -> all 3 terminated and gone: {NUMBER} s", out)
    assert re.search(rf"gridmanager requests until then: {NUMBER} \({NUMBER} per instance\): .*run_instances=3", out)
    assert re.search(rf"gridmanager CPU {NUMBER} s .* RSS {NUMBER} MiB, USS {NUMBER} MiB", out)
    assert re.search(rf"condorsim / reference = {NUMBER}", out)
    assert "GRIDMANAGER_MAX_SUBMITTED_JOBS_PER_RESOURCE = 1000" in out


@pytest.mark.timeout(150)
def test_bench_classad_prints_every_rate_with_its_classad2_ratio():
    out = run_script("condorsim.scripts.bench_classad", "--slots", "200", "--job-ads", "300")
    for label in ("Requirements.eval", "symmetric match", "parse old-style text", "wire form in (from_wire)",
                  "wire form out (to_wire/printOld)", "constraint scan (eval_constraint)",
                  "constraint scan (filter_ads)"):
        assert re.search(rf"\n{re.escape(label)}\s+ours\s+{NUMBER} \w+/s\s+classad2\s+{NUMBER} \w+/s\s+ratio {NUMBER}\n",
                         out), label
    assert "WARNING" not in out  # both engines read the same values and select the same ads
    assert re.search(rf"constraint scan {NUMBER} \(filter_ads {NUMBER}\)\n", out)


@pytest.mark.timeout(150)
def test_bench_queue_prints_every_queue_figure():
    out = run_script("condorsim.scripts.bench_queue", "--jobs", "30", "--idle-seconds", "0.5", "--concurrent", "2")
    assert re.search(rf"SUBMIT call: {NUMBER} ms, {NUMBER} jobs/s", out)
    assert re.search(rf"schedd memory: RSS {NUMBER} MiB, USS {NUMBER} MiB", out)
    assert re.search(rf"schedd idle CPU over 0.5 s: {NUMBER} %", out)
    for label in ("default view", "-totals", "-af ClusterId ProcId JobStatus", "-constraint 'ProcId < 10'"):
        assert re.search(rf"\n    {re.escape(label)}.*\s(?:{NUMBER} ms|FAILED .*)", out), label
    assert re.search(rf"2 concurrent condor_q: \d+ failed, all ended after {NUMBER} ms", out)
    assert re.search(rf"condor_q peak RSS: default view {NUMBER} MiB, -af {NUMBER} MiB", out)
    assert re.search(rf"job queue log replayed in process: {NUMBER} ms for 30 jobs", out)
    assert re.search(rf"schedd restart until it answers: (?:{NUMBER} ms|FAILED)", out)


@pytest.mark.timeout(150)
def test_bench_pool_simulated_pool_prints_ready_time_and_condor_status_total():
    out = run_script("condorsim.scripts.bench_pool", "--runs", "1", "--startds", "", "--no-floor",
                     "--simulated", "2x20")
    assert re.search(rf"Simulated pool: 2 startds x 20 static slots = 40 slots .*: ready in {NUMBER} ms", out)
    assert re.search(rf"\n  condor_startd\s+2\s+{NUMBER}", out)
    assert "condor_procd" not in out.split("Simulated pool")[1].split("Growth")[0]  # no procd when simulating
    assert re.search(rf"condor_status -total over 40 slots: median {NUMBER} ms, min {NUMBER} ms", out)
    assert re.search(rf"a process only importing condor_status: median {NUMBER} ms", out)


@pytest.mark.timeout(150)
def test_bench_sim_prints_throughput_cycles_and_cpu():
    out = run_script("condorsim.scripts.bench_sim", "--startds", "2", "--slots", "10", "--jobs", "60",
                     "--runtime", "0.2")
    assert re.search(r"Simulated pool: 2 startd\(s\) x 10 static slots = 20 slots; 60 jobs of 0.2 s", out)
    assert re.search(rf"SUBMIT call: {NUMBER} s \({NUMBER} jobs/s\)", out)
    assert "completed: 60 of 60 jobs (60 execute events)" in out
    assert re.search(rf"jobs completed per second: {NUMBER}/s over the run", out)
    assert re.search(rf"reference: slots / runtime = {NUMBER}/s .* achieved {NUMBER}% of it", out)
    assert re.search(r"negotiator cycles seen: \d+", out)
    for daemon in ("condor_schedd", "condor_startd", "condor_collector", "condor_negotiator"):
        assert re.search(rf"\n    {daemon}\s+{NUMBER} s\s+{NUMBER} ms/job\n", out), daemon


@pytest.mark.timeout(150)
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="kills daemons: needs a PID namespace")
def test_bench_faults_prints_recovery_per_daemon_type_and_the_fault_counts():
    result = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-m",
                             "condorsim.scripts.bench_faults", "--types", "collector,procd", "--kills", "1",
                             "--jobs", "4", "--slots", "2", "--job-seconds", "1"],
                            cwd=REPO, capture_output=True, text=True, timeout=140)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "kill -9 during 4 jobs on 2 slots (2 trial(s)); recovery time:" in out
    for kind in ("collector", "procd"):
        assert re.search(rf"\n  {kind}\s+median\s+{NUMBER} s\s+max\s+{NUMBER} s\s+over 1 kill\(s\)", out), kind
    assert re.search(rf"lost \d+, run twice \d+, longest stuck Running {NUMBER} s \(lease \d+ s\), processes left \d+", out)
