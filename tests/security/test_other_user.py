"""A second Unix user on a pool run by root: its jobs run as itself, and it cannot touch root's
jobs, stop the pool, speak for a daemon or use a claim."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from condorsim.shared.classad import parse_expr
from condorsim.shared.locate import query_ads
from condorsim.shared.pool import PersonalPool, wait_until
from condorsim.shared.protocol import Client

from .conftest import needs_root

pytestmark = needs_root

DENIED = 'SECMAN:2010:Received "DENIED" from server for user {user}@{domain} using method FS.'

# Run as the other user: one raw message per daemon and command it must not use, over the
# daemon's Unix-domain socket (so the daemon knows exactly who sent it).
RAW = """
import json, sys
from condorsim.shared.protocol import Client, RemoteError, CommunicationError
results = []
for address, command, payload in json.loads(sys.argv[1]):
    try:
        Client(address, timeout=5).call(command, **payload)
        results.append("ACCEPTED")
    except RemoteError as exc:
        results.append(str(exc))
    except CommunicationError as exc:
        results.append("unreachable")
print(json.dumps(results))
"""


SPOOF = """
import sys
from condorsim.shared.protocol import Client
schedd = Client(sys.argv[1])
cluster = schedd.call("NEW_CLUSTER")["cluster"]
schedd.call("SUBMIT", cluster=cluster, owner="root", ads=[{"Cmd": '"/bin/true"', "JobStatus": "5", "Owner": '"root"'}])
"""


def addresses(pool) -> dict[str, str]:
    found = {}
    for ad_type in ("Collector", "Negotiator", "Scheduler", "Machine", "DaemonMaster"):
        found[ad_type] = query_ads(pool.cfg, ad_type, projection=["MyAddress"])[0].eval("MyAddress")
    return found


def job_attribute(pool, cluster: int, name: str) -> list:
    """One attribute of each job of a cluster, as root sees it."""
    ads = Client(addresses(pool)["Scheduler"]).call("QUERY_JOBS", constraint=f"ClusterId == {cluster}",
                                                    projection=[name])["jobs"]
    return [parse_expr(ad[name]).eval() for ad in ads]


def job_statuses(pool, cluster: int) -> list[int]:
    return job_attribute(pool, cluster, "JobStatus")


def test_job_runs_as_its_owner_and_its_files_are_theirs(open_pool, other_user):
    pool = open_pool()
    (other_user.home / "job.sub").write_text(
        "executable = /usr/bin/id\narguments = -u\noutput = out\nerror = err\nlog = job.log\n"
        "+Owner = \"root\"\nqueue\n")
    result = other_user.run(pool, "condor_submit", "job.sub")
    assert result.returncode == 0, result.stderr
    log = other_user.home / "job.log"
    wait_until(lambda: log.exists() and "005 (" in log.read_text(), 30, "the job to terminate",
               show=lambda: log.exists() and log.read_text())
    out = other_user.home / "out"
    assert out.read_text() == f"{other_user.uid}\n"
    assert {path.name: path.stat().st_uid for path in (out, other_user.home / "err", log)} == \
        {"out": other_user.uid, "err": other_user.uid, "job.log": other_user.uid}

    # The job sees its ad, without the claim it runs under.
    (other_user.home / "ad.sub").write_text('executable = /bin/sh\narguments = "-c \'cat $_CONDOR_JOB_AD\'"\n'
                                            "output = ad.out\nlog = ad.log\nqueue\n")
    assert other_user.run(pool, "condor_submit", "ad.sub").returncode == 0
    wait_until(lambda: "005 (" in (other_user.home / "ad.log").read_text(), 30, "the ad job to terminate")
    job_ad = (other_user.home / "ad.out").read_text()
    assert f'Owner = "{other_user.name}"' in job_ad and "ClaimId" not in job_ad

    # Files the job names in directories its owner may not write are not written by root for it.
    forbidden = {"Out": "/etc/condorsim-forbidden.out", "UserLog": "/etc/condorsim-forbidden.log"}
    (other_user.home / "held.sub").write_text("executable = /usr/bin/id\noutput = out2\nhold = true\nqueue\n")
    assert other_user.run(pool, "condor_submit", "held.sub").returncode == 0
    for name, path in forbidden.items():
        edit = other_user.run(pool, "condor_qedit", "3.0", name, f'"{path}"')
        assert edit.returncode == 0, edit.stderr
    assert other_user.run(pool, "condor_release", "3.0", module="condor_rm").returncode == 0
    wait_until(lambda: job_statuses(pool, 3) in ([], [4], [5]), 30, "the job to fail or finish",
               show=lambda: job_statuses(pool, 3))
    assert not [path for path in forbidden.values() if os.path.exists(path)]
    assert "Permission denied" in job_attribute(pool, 3, "HoldReason")[0]  # its stdout could not be opened


def test_another_users_actions_on_roots_jobs_and_pool_are_refused(open_pool, other_user):
    pool = open_pool()
    submitted = pool.run("condor_submit", input="executable = /bin/sleep\narguments = 600\nhold = true\nqueue 2\n")
    assert submitted.returncode == 0, submitted.stderr
    running = pool.run("condor_submit", input="executable = /bin/sleep\narguments = 600\nqueue\n")
    assert running.returncode == 0, running.stderr
    wait_until(lambda: job_statuses(pool, 2) == [2], 30, "root's second job to run")
    domain = pool.cfg.get("UID_DOMAIN")
    for tool, args, expected in (
            ("condor_rm", ["1"], "\nCouldn't find/remove all jobs in cluster 1\n"),
            ("condor_rm", ["1.0"], "\nPermission denied to remove job 1.0\n"),
            ("condor_hold", ["2.0"], "\nPermission denied to hold job 2.0\n"),
            ("condor_release", ["1.1"], "\nPermission denied to release job 1.1\n"),
            ("condor_release", ["-all"], "\nCouldn't find/release all jobs\n")):
        result = other_user.run(pool, tool, *args, module="condor_rm")
        assert (result.returncode, result.stdout, result.stderr) == (1, "", expected), (tool, args)
    for tool, args, status, expected in (
            ("condor_qedit", ["1.0", "JobPrio", "5"], 1,
             'Failed to set attribute "JobPrio" for job 1.0.\nQueue transaction failed.  No attributes were set.\n'),
            ("condor_prio", ["-p", "5", "1.0"], 0, "Couldn't set new priority for 1.0.\n")):
        result = other_user.run(pool, tool, *args, module="condor_qedit")
        assert (result.returncode, result.stdout, result.stderr) == (status, "", expected), tool
    off = other_user.run(pool, "condor_off", module="condor_admin")
    assert (off.returncode, off.stderr) == (1, "ERROR\n" + DENIED.format(user=other_user.name, domain=domain)
                                            + "\nCan't send Kill-All-Daemons command to local master\n")
    # Nothing changed: root's jobs are as they were, every daemon still answers.
    assert job_statuses(pool, 1) == [5, 5] and job_statuses(pool, 2) == [2]
    assert job_attribute(pool, 1, "JobPrio") == [0, 0]
    for address in addresses(pool).values():
        assert Client(address).call("PING")["pid"]
    master_log = open(pool.cfg.get("MASTER_LOG")).read()
    assert (f"PERMISSION DENIED to {other_user.name}@{domain} from host 127.0.0.1 for command DAEMONS_OFF, "
            "access level ADMINISTRATOR") in master_log

    # The running job's claim is a secret: condor_q -long shows it to root, not to the other user.
    assert "ClaimId = " in pool.run("condor_q", "-long", "2.0").stdout
    theirs = other_user.run(pool, "condor_q", "-long", "2.0")
    assert "ClusterId = 2" in theirs.stdout and "ClaimId" not in theirs.stdout

    # Raw messages as the other user: every command reserved for daemons, administrators or the
    # negotiator is refused, whatever the payload says; a SUBMIT naming root as owner queues a
    # job owned by the sender.
    claim = job_attribute(pool, 2, "ClaimId")[0]
    where = addresses(pool)
    job = {"ClusterId": "2", "ProcId": "0", "Cmd": '"/bin/sh"', "Owner": '"root"'}
    attempts = [
        (where["Collector"], "UPDATE_ADS", {"ads": [{"MyType": "Machine", "Name": "fake"}]}),
        (where["Collector"], "INVALIDATE_ADS", {"my_type": "Machine", "names": ["slot1@x"]}),
        (where["Collector"], "SET_CONFIG", {"setting": "START = False"}),
        (where["Negotiator"], "SET_CONFIG", {"setting": "START = False"}),
        (where["Scheduler"], "JOB_EXITED", {"job": "2.0", "claim_id": claim, "exited": True, "code": 0}),
        (where["Scheduler"], "MATCHES", {"matches": []}),
        (where["Scheduler"], "NEGOTIATE", {}),
        (where["Machine"], "ACTIVATE_CLAIM", {"claim_id": claim, "job": job}),
        (where["Machine"], "REQUEST_CLAIM", {"claim_id": "x", "slot": "slot1@x", "job": job, "schedd": "x"}),
        (where["Machine"], "RELEASE_CLAIM", {"claim_id": claim}),
        (where["Machine"], "DRAIN_JOBS", {}),
        (where["DaemonMaster"], "DAEMONS_OFF", {}),
        (where["DaemonMaster"], "CHILD_ALIVE", {"pid": 1, "address": "<127.0.0.1:1>"}),
    ]
    result = other_user.python(pool, "-c", RAW, json.dumps(attempts))
    answers = json.loads(result.stdout or "null") if result.returncode == 0 else result.stderr
    assert answers == [DENIED.format(user=other_user.name, domain=domain)] * len(attempts)
    assert job_statuses(pool, 2) == [2]
    logs = [path for path in Path(pool.cfg.get("LOG")).rglob("*") if path.is_file()]
    assert logs and not [path.name for path in logs if claim in path.read_text(errors="replace")]  # never logged

    spoof = other_user.python(pool, "-c", SPOOF, where["Scheduler"])
    assert spoof.returncode == 0, spoof.stderr
    owners = pool.run("condor_q", "-allusers", "-af", "Owner", "-constraint", "ClusterId > 2").stdout.split()
    assert owners == [other_user.name]


def test_the_procd_is_out_of_other_users_reach(open_pool, other_user):
    pool = open_pool()
    path = pool.cfg.get("PROCD_ADDRESS")
    result = other_user.python(pool, "-c", RAW, json.dumps([
        (f"ipc://{path}", "SIGNAL_FAMILY", {"marker": "x", "signal": 9})]))
    assert json.loads(result.stdout) == ["unreachable"], result.stderr  # its socket is the pool owner's alone


def test_a_pool_run_by_an_ordinary_user_takes_jobs_from_that_user_only(pool_user, other_user):
    directory = tempfile.mkdtemp(prefix="condorsim-userpool-")
    os.chmod(directory, 0o755)
    programs = os.path.join(pool_user.pythonpath, "bin")
    pool = PersonalPool(directory=directory, user=pool_user.name, config={"SBIN": programs, "BIN": programs})
    pool.start()
    try:
        assert {process.uids().real for process in pool.processes()} == {pool_user.uid}
        job = "executable = /usr/bin/id\narguments = -u\noutput = out\nlog = job.log\nqueue\n"
        for user in (pool_user, other_user):
            (user.home / "job.sub").write_text(job)
        refused = other_user.run(pool, "condor_submit", "job.sub")
        domain = pool.cfg.get("UID_DOMAIN")
        assert (refused.returncode, refused.stderr) == (1, "\nERROR: Failed to connect to local queue manager\n"
                                                        f'SECMAN:2010:Received "DENIED" from server for user '
                                                        f"{other_user.name}@{domain} using method FS.\n")
        accepted = pool_user.run(pool, "condor_submit", "job.sub")
        assert accepted.returncode == 0, accepted.stderr
        log = pool_user.home / "job.log"
        wait_until(lambda: log.exists() and "005 (" in log.read_text(), 30, "the job to terminate")
        assert (pool_user.home / "out").read_text() == f"{pool_user.uid}\n"
    finally:
        pool.stop()
        shutil.rmtree(directory, ignore_errors=True)
