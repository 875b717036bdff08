"""Issue 9 acceptance: EC2 instances as grid-universe jobs, against a real moto server."""
from __future__ import annotations

import base64
import os
import stat

import pytest

from condorsim.shared.pool import wait_until

from .conftest import SECRET, KEY_ID, seed_submit
from .helpers import attr, events, gone, submit, wait_events

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
    # The instance ends by itself (as `shutdown -H now` in it would): 005 and the job leaves.
    client.terminate_instances(InstanceIds=[instance["InstanceId"]])
    wait_events(log, ["000", "027", "001", "005"])
    assert "\t(1) Normal termination (return value 0)\n" in log.read_text()
    wait_until(lambda: gone(pool, "1.0"), timeout=10, message="the job leaving the queue")
    assert not pem.exists()
