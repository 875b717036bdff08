"""Issue 9 acceptance: EC2 instances as grid-universe jobs, against a real moto server."""
from __future__ import annotations

import base64
import os
import stat
import time

import pytest

from condorsim.shared.pool import wait_until

from .conftest import SECRET, KEY_ID, seed_submit
from .helpers import attr, events, gone, processes_named, submit, wait_events

pytestmark = pytest.mark.timeout(120)


def test_seed_submit_file_starts_an_instance_and_it_ends_by_itself(grid_pool, moto, credentials, tmp_path):
    pool = grid_pool()
    work = tmp_path / "submit"
    result = submit(pool, work, seed_submit(moto.url, credentials))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Submitting job(s).\n1 job(s) submitted to cluster 1.\n"
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000", "027", "001"])
    out = pool.run("condor_q", "-format", "Instance name: %s\n", "EC2InstanceName", "-format",
                   "Instance hostname: %s\n", "EC2RemoteVirtualMachineName", "-format", "Keypair: %s\n",
                   "EC2KeyPairFile").stdout
    instance, = moto.live()
    pem = work / "EC2_Instance-ami-60bd4609.1.pem"
    assert out == (f"Instance name: {instance['InstanceId']}\nInstance hostname: {instance['PublicDnsName']}\n"
                   f"Keypair: {pem}\n")
    assert instance["ImageId"] == "ami-60bd4609" and instance["InstanceType"] == "m1.small"
    client = moto.client()
    data = client.describe_instance_attribute(InstanceId=instance["InstanceId"], Attribute="userData")
    assert base64.b64decode(data["UserData"]["Value"]) == b"Hello EC2_Instance-ami-60bd4609!"
    behaviour = client.describe_instance_attribute(InstanceId=instance["InstanceId"],
                                                   Attribute="instanceInitiatedShutdownBehavior")
    assert behaviour["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate"
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600
    assert pem.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert instance["KeyName"] == attr(pool, "1.0", "EC2KeyPair")
    assert f"Job executing on host: ec2 {moto.url}" in log.read_text()
    assert attr(pool, "1.0", "JobStatus") == "2"
    # condor_q -run: the HOST(S) column shows the instance's hostname.
    line, = [line for line in pool.run("condor_q", "-run").stdout.splitlines() if line.split()[:1] == ["1.0"]]
    assert line.split()[-1] == instance["PublicDnsName"]
    # The instance ends by itself (as `shutdown -H now` in it would): 005 and the job leaves.
    client.terminate_instances(InstanceIds=[instance["InstanceId"]])
    wait_events(log, ["000", "027", "001", "005"])
    assert "\t(1) Normal termination (return value 0)\n" in log.read_text()
    wait_until(lambda: gone(pool, "1.0"), timeout=10, message="the job leaving the queue")
    assert not pem.exists()


def running_seed_job(pool, moto, credentials, tmp_path, extra: str = ""):
    """Submit the seed's job to `pool` and wait until it runs: (submit directory, its log)."""
    work = tmp_path / "submit"
    assert submit(pool, work, seed_submit(moto.url, credentials, extra)).returncode == 0
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000", "027", "001"])
    return work, log


def hold_text(log) -> str:
    text = log.read_text()
    return text[text.index("012 ("):]


def read_with_htcondor(log) -> list:
    import htcondor2
    return [event.type for event in htcondor2.JobEventLog(str(log)).events(stop_after=0)]


def assert_no_secret_under(*folders) -> None:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and path.name not in ("AccessKeyID", "SecretAccessKey"):
                data = path.read_bytes()
                assert SECRET.encode() not in data and KEY_ID.encode() not in data, path


def test_periodic_hold_terminates_the_instance(grid_pool, moto, credentials, tmp_path):
    pool = grid_pool()
    work = tmp_path / "submit"
    assert submit(pool, work, seed_submit(moto.url, credentials,
                                          "periodic_hold = (time() - ShadowBday) >= 3\n")).returncode == 0
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000", "027", "001", "012"], timeout=30)
    # HTCondor 25 unparses the expression as classad2 does (the seed's 2011 release wrote
    # '( time() - ShadowBday ) >= 60', with blanks inside the parentheses).
    assert hold_text(log).split("\n")[1:3] == [
        "\tThe job attribute PeriodicHold expression '(time() - ShadowBday) >= 3' evaluated to TRUE",
        "\tCode 3 Subcode 0"]
    wait_until(lambda: not moto.live(), timeout=15, message="the instance terminated")
    wait_until(lambda: attr(pool, "1.0", "GridJobId") == "undefined", timeout=10, message="GridJobId forgotten")
    assert attr(pool, "1.0", "JobStatus") == "5" and attr(pool, "1.0", "HoldReasonCode") == "3"
    assert not (work / "EC2_Instance-ami-60bd4609.1.pem").exists()


def test_hold_release_remove(grid_pool, moto, credentials, tmp_path):
    import htcondor2
    pool = grid_pool()
    work, log = running_seed_job(pool, moto, credentials, tmp_path)
    first, = moto.live()
    assert pool.run("condor_hold", "1.0").returncode == 0
    wait_events(log, ["000", "027", "001", "012"])
    wait_until(lambda: not moto.live(), timeout=15, message="the held job's instance terminated")
    wait_until(lambda: attr(pool, "1.0", "GridJobId") == "undefined", timeout=10, message="GridJobId forgotten")
    # condor_release starts a new instance (a new token, a new id).
    assert pool.run("condor_release", "1.0").returncode == 0
    wait_events(log, ["000", "027", "001", "012", "013", "027", "001"], timeout=20)
    second, = moto.live()
    assert second["InstanceId"] != first["InstanceId"]
    assert attr(pool, "1.0", "EC2InstanceName") == second["InstanceId"]
    # condor_rm: the instance is terminated, then 009 and the job leaves.
    assert pool.run("condor_rm", "1.0").returncode == 0
    wait_events(log, ["000", "027", "001", "012", "013", "027", "001", "009"], timeout=20)
    assert not moto.live()
    wait_until(lambda: gone(pool, "1.0"), timeout=10, message="the removed job leaving the queue")
    kinds = read_with_htcondor(log)
    assert kinds[:4] == [htcondor2.JobEventType.SUBMIT, htcondor2.JobEventType.GRID_SUBMIT,
                         htcondor2.JobEventType.EXECUTE, htcondor2.JobEventType.JOB_HELD]
    assert kinds[-1] == htcondor2.JobEventType.JOB_ABORTED
    grid = next(e for e in htcondor2.JobEventLog(str(log)).events(stop_after=0)
                if e.type == htcondor2.JobEventType.GRID_SUBMIT)
    assert grid["GridResource"] == f"ec2 {moto.url}" and first["InstanceId"] in grid["GridJobId"]
    assert_no_secret_under(pool.dir, work)
    for process in pool.processes():  # nor in any process's arguments or environment
        assert SECRET not in " ".join(process.cmdline()) + str(process.environ())
    wait_until(lambda: not processes_named(pool, "condor_gridman"), timeout=10,
               message="the gridmanager stopping once its owner has no grid jobs")


def test_wrong_ami_is_held_with_the_services_message(grid_pool, moto, credentials, tmp_path):
    pool = grid_pool()
    work = tmp_path / "submit"
    text = seed_submit(moto.url, credentials).replace("ami-60bd4609", "ami-00000bad")
    assert submit(pool, work, text).returncode == 0
    log = work / "EC2_Instance-ami-00000bad.1.log"
    wait_events(log, ["000", "012"])
    assert attr(pool, "1.0", "HoldReasonCode") == "40" and attr(pool, "1.0", "HoldReasonSubCode") == "12"
    assert "InvalidAMIID.NotFound" in attr(pool, "1.0", "HoldReason")
    assert not moto.instances()
    wait_until(lambda: attr(pool, "1.0", "GridJobId") == "undefined", timeout=10, message="GridJobId forgotten")
    assert not (work / "EC2_Instance-ami-00000bad.1.pem").exists()


def test_bad_credentials_hold_37_9(grid_pool, moto, credentials, tmp_path):
    moto.post("moto-api/reset-auth", b"0")  # from now on moto checks the keys (ours are unknown)
    pool = grid_pool()
    work = tmp_path / "submit"
    assert submit(pool, work, seed_submit(moto.url, credentials)).returncode == 0
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000", "012"])
    reason = attr(pool, "1.0", "HoldReason")
    assert reason.startswith("Failed to authenticate (") and reason.endswith("'.")
    assert (attr(pool, "1.0", "HoldReasonCode"), attr(pool, "1.0", "HoldReasonSubCode")) == ("37", "9")
    assert_no_secret_under(pool.dir, work)


def test_missing_key_file_is_a_hold_naming_it(grid_pool, moto, credentials, tmp_path):
    pool = grid_pool()
    work = tmp_path / "submit"
    assert submit(pool, work, seed_submit(moto.url, credentials, "hold = true\n")).returncode == 0
    credentials[1].unlink()
    assert pool.run("condor_release", "1.0").returncode == 0
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000", "013", "012"])  # submitted on hold: no 012 at submit
    assert attr(pool, "1.0", "HoldReason") == \
        f"Failed to read credentials file {credentials[1]} (No such file or directory)"
    assert not moto.instances()


def test_endpoint_down_then_up_and_throttled(grid_pool, moto, credentials, tmp_path):
    from condorsim.scripts.bench_ec2 import free_port
    from .proxy import Forwarder
    pool = grid_pool()
    work = tmp_path / "submit"
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    assert submit(pool, work, seed_submit(url, credentials)).returncode == 0
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000", "026"])
    assert attr(pool, "1.0", "JobStatus") == "1"
    assert attr(pool, "1.0", "GridResourceUnavailableTime").isdigit()
    forwarder = Forwarder(port, moto.port, throttle=3).start()
    try:
        wait_events(log, ["000", "026", "025", "027", "001"], timeout=30)
        assert attr(pool, "1.0", "GridResourceUnavailableTime") == "undefined"
    finally:
        forwarder.stop()  # (the endpoint is down again from here on)
    assert forwarder.throttled == 3  # answered RequestLimitExceeded, retried with backoff: no hold
    assert len(moto.live()) == 1
    import htcondor2
    assert read_with_htcondor(log)[1:3] == [htcondor2.JobEventType.GRID_RESOURCE_DOWN,
                                            htcondor2.JobEventType.GRID_RESOURCE_UP]


def launch_tagged(client, token: str, count: int) -> list[str]:
    """`count` instances carrying `token` in their tag, launched in successive seconds."""
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "CondorsimClientToken", "Value": token}]}]
    ids = []
    for _ in range(count):
        instance = client.run_instances(ImageId="ami-60bd4609", MinCount=1, MaxCount=1,
                                        TagSpecifications=tags)["Instances"][0]
        ids.append(instance["InstanceId"])
        # LaunchTime has whole seconds: the next instance is launched in a later one.
        wait_until(lambda: time.time() >= instance["LaunchTime"].timestamp() + 1, timeout=3,
                   message="the next second")
    return ids


@pytest.mark.parametrize("known", [False, True])
def test_duplicates_of_one_token_are_terminated(grid_pool, moto, credentials, tmp_path, known):
    # Two instances carry the job's token (as a blind re-send, or a gridmanager that died before
    # recording its launch, would leave). Token but no id (a crash before the id was stored):
    # the oldest is kept. Token and id: the recorded one is kept.
    token = "6c5b8a56-4c1e-4b8e-9d7e-2f1f0b9a0c11"
    ids = launch_tagged(moto.client(), token, 2)
    keep = ids[1] if known else ids[0]
    pool = grid_pool()
    work = tmp_path / "submit"
    grid_job_id = f"ec2 {moto.url} {token}" + (f" {keep}" if known else "")
    assert submit(pool, work, seed_submit(moto.url, credentials, f'+GridJobId = "{grid_job_id}"\n')).returncode == 0
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000"] + ([] if known else ["027"]) + ["001"])
    wait_until(lambda: [i["InstanceId"] for i in moto.live()] == [keep], timeout=10,
               message="the duplicate terminated", show=moto.live)
    assert attr(pool, "1.0", "GridJobId") == f"ec2 {moto.url} {token} {keep}"


@pytest.mark.parametrize("victim, point", [
    (victim, point) for victim in ("gridmanager", "schedd", "master")
    for point in ("before_token", "token_saved", "launched")])
def test_crash_during_launch_leaves_exactly_one_instance(grid_pool, moto, credentials, tmp_path, victim, point):
    # The gridmanager kill -9s the victim (and what is between them) at that step of a launch.
    flag = tmp_path / "crash-once"
    flag.write_text("")
    pool = grid_pool(GRIDMANAGER_TEST_CRASH_AT=point, GRIDMANAGER_TEST_CRASH_FILE=str(flag),
                     GRIDMANAGER_TEST_CRASH_VICTIM=victim)
    work = tmp_path / "submit"
    assert submit(pool, work, seed_submit(moto.url, credentials)).returncode == 0
    wait_until(lambda: not flag.exists(), timeout=20, message="the crash")
    if victim == "master":
        wait_until(lambda: not pool.processes(), timeout=20, message="the pool going down with its master")
        pool.start()
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000", "027", "001"], timeout=30)
    instance, = moto.instances()
    assert attr(pool, "1.0", "EC2InstanceName") == instance["InstanceId"]
    assert events(log).count("027") == 1


@pytest.mark.parametrize("victim", ["condor_gridman", "condor_schedd", "condor_master"])
def test_kill_9_while_polling_keeps_one_instance(grid_pool, moto, credentials, tmp_path, victim):
    import signal
    pool = grid_pool()
    work, log = running_seed_job(pool, moto, credentials, tmp_path)
    process, = processes_named(pool, victim)  # a process of this test's pool only
    process.send_signal(signal.SIGKILL)
    if victim == "condor_master":  # the pool goes down with it; the admin starts it again
        wait_until(lambda: not pool.processes(), timeout=20, message="the pool going down with its master")
        pool.start()
    wait_until(lambda: [p for p in processes_named(pool, "condor_gridman") if p.pid != process.pid],
               timeout=20, message="a new condor_gridmanager")
    instance, = moto.live()
    moto.client().terminate_instances(InstanceIds=[instance["InstanceId"]])
    wait_events(log, ["000", "027", "001", "005"], timeout=30)
    assert len(moto.instances()) == 1
    assert events(log).count("027") == 1 and events(log).count("001") == 1


def test_ec2_resource_timeout_holds_jobs_of_a_resource_down_too_long(grid_pool, moto, credentials, tmp_path):
    from condorsim.scripts.bench_ec2 import free_port
    pool = grid_pool(EC2_RESOURCE_TIMEOUT="2")
    work = tmp_path / "submit"
    assert submit(pool, work, seed_submit(f"http://127.0.0.1:{free_port()}/", credentials)).returncode == 0
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_events(log, ["000", "026", "012"])
    assert (attr(pool, "1.0", "HoldReason"), attr(pool, "1.0", "HoldReasonCode"),
            attr(pool, "1.0", "HoldReasonSubCode")) == ("Resource was down for too long.", "41", "22")


def test_max_submitted_jobs_per_resource(grid_pool, moto, credentials, tmp_path):
    pool = grid_pool(GRIDMANAGER_MAX_SUBMITTED_JOBS_PER_RESOURCE="1")
    work = tmp_path / "submit"
    text = seed_submit(moto.url, credentials).replace("queue", "queue 2")
    text = text.replace("$(executable).$(cluster).pem", "$(executable).$(cluster).$(process).pem")
    assert submit(pool, work, text).returncode == 0
    wait_until(lambda: attr(pool, "1.0", "JobStatus") == "2", timeout=20, message="the first job Running")
    assert attr(pool, "1.1", "GridJobId") == "undefined" and len(moto.instances()) == 1
    moto.client().terminate_instances(InstanceIds=[moto.instances()[0]["InstanceId"]])
    wait_until(lambda: attr(pool, "1.1", "JobStatus") == "2", timeout=20, message="the second job Running")


def test_condor_rm_of_a_cluster_terminates_its_instances_in_one_request(grid_pool, moto, credentials, tmp_path):
    pool = grid_pool()
    work = tmp_path / "submit"
    text = seed_submit(moto.url, credentials).replace("queue", "queue 3")
    text = text.replace("$(executable).$(cluster).pem", "$(executable).$(cluster).$(process).pem")
    assert submit(pool, work, text).returncode == 0
    wait_until(lambda: pool.run("condor_q", "-af", "JobStatus").stdout.split() == ["2"] * 3, timeout=20,
               message="the three jobs Running")
    assert pool.run("condor_rm", "1").returncode == 0
    log = work / "EC2_Instance-ami-60bd4609.1.log"
    wait_until(lambda: events(log).count("009") == 3, timeout=20, message="three 009 events")
    assert not moto.live() and len(moto.instances()) == 3
    assert "terminate_instances=1 " in gridmanager_requests(pool)


def test_status_poll_follows_pages(grid_pool, moto, credentials, tmp_path):
    # Seven reservations before ours, five per page (moto pages by reservation): ours is on page two.
    for _ in range(7):
        moto.client().run_instances(ImageId="ami-60bd4609", MinCount=1, MaxCount=1)
    pool = grid_pool(EC2_DESCRIBE_INSTANCES_PAGE_SIZE="5")
    work, log = running_seed_job(pool, moto, credentials, tmp_path)
    wait_until(lambda: "describe_instances=" in gridmanager_requests(pool), timeout=10, message="a poll logged")
    # Had the poll read page one only, the instance would be "not-found" and the job gone (005).
    assert attr(pool, "1.0", "GridJobStatus") == "running" and "005" not in events(log)


def gridmanager_requests(pool) -> str:
    lines = [line for path in (pool.dir / "local" / "log").glob("GridmanagerLog.*")
             for line in path.read_text().splitlines() if "Requests to" in line]
    return lines[-1] if lines else ""


def test_stopped_instance_is_terminated_and_the_job_completes(grid_pool, moto, credentials, tmp_path):
    pool = grid_pool()
    work, log = running_seed_job(pool, moto, credentials, tmp_path)
    instance, = moto.live()
    moto.client().stop_instances(InstanceIds=[instance["InstanceId"]])
    wait_events(log, ["000", "027", "001", "005"])
    assert moto.instances()[0]["State"]["Name"] == "terminated"
    wait_until(lambda: gone(pool, "1.0"), timeout=10, message="the job leaving the queue")
