"""A real moto EC2 server (one per test session, reset between tests; started as bench_ec2 starts
it) and pools whose grid jobs use it. moto knows only the seed's AMI (ami-60bd4609) and
validates AMI ids, so a wrong AMI fails as it would on AWS."""
from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from condorsim.scripts.bench_ec2 import start_moto

KEY_ID, SECRET = "AKIDCONDORSIMTEST01", "condorsim-test-secret-do-not-leak-0123456789"
# Fast timers for grid jobs (the pool harness sets PERIODIC_EXPR_INTERVAL = 1 already).
GRID_KNOBS = {"GRIDMANAGER_JOB_PROBE_INTERVAL": "0.5", "GRIDMANAGER_RESOURCE_PROBE_INTERVAL": "0.5",
              "GRIDMANAGER_CONTACT_SCHEDD_DELAY": "1", "EC2_GAHP_RATE_LIMIT": "5",
              "GRIDMANAGER_GAHP_CALL_TIMEOUT": "30"}


class Moto:
    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"

    def post(self, path: str, data: bytes = b"") -> None:
        request = urllib.request.Request(self.url + path, data=data, method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request, timeout=10)

    def client(self, key_id: str = KEY_ID, secret: str = SECRET):
        return boto3.session.Session().client(
            "ec2", endpoint_url=self.url, region_name="us-east-1", aws_access_key_id=key_id,
            aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1}))

    def instances(self) -> list[dict]:
        pages = self.client().get_paginator("describe_instances").paginate()
        return [i for page in pages for r in page["Reservations"] for i in r["Instances"]]

    def live(self) -> list[dict]:
        return [i for i in self.instances() if i["State"]["Name"] not in ("terminated", "shutting-down")]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    server, url = start_moto(tmp_path_factory.mktemp("moto"))
    yield Moto(int(url.rsplit(":", 1)[1].strip("/")))
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def moto(moto_server):
    moto_server.post("moto-api/reset")
    moto_server.instances()  # moto builds a region's backend on its first request: not in the test's time
    yield moto_server
    moto_server.post("moto-api/reset-auth", b"inf")  # a test may have turned authentication on


@pytest.fixture
def credentials(tmp_path) -> tuple[Path, Path]:
    """The key id and secret in two 0600 files, as a user keeps them."""
    folder = tmp_path / "aws"
    folder.mkdir()
    paths = []
    for name, text in (("AccessKeyID", KEY_ID), ("SecretAccessKey", SECRET)):
        path = folder / name
        path.write_text(text + "\n")
        os.chmod(path, 0o600)
        paths.append(path)
    return paths[0], paths[1]


def seed_submit(url: str, credentials: tuple[Path, Path], extra: str = "") -> str:
    """The seed blog post's submit file, but for the two credential paths and the URL."""
    return f"""universe = grid
grid_resource = ec2 {url}

ec2_access_key_id = {credentials[0]}
ec2_secret_access_key = {credentials[1]}

ec2_ami_id = ami-60bd4609
ec2_instance_type = m1.small

ec2_user_data = Hello $(executable)!

executable = EC2_Instance-$(ec2_ami_id)

log = $(executable).$(cluster).log

ec2_keypair_file = $(executable).$(cluster).pem
{extra}
queue
"""


@pytest.fixture
def grid_pool(pool_factory):
    """A pool with no startd (grid jobs need none) and fast gridmanager timers."""
    def start(**knobs: str):
        return pool_factory(config={"DAEMON_LIST": "MASTER, COLLECTOR, NEGOTIATOR, SCHEDD",
                                    **GRID_KNOBS, **knobs})
    return start
