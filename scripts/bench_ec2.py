"""Benchmark: many EC2 grid jobs submitted at once, against a local moto EC2 server.

    python -m condorsim.scripts.bench_ec2 [--jobs N] [--rate-limit-ms MS] [--probe-interval S]

Starts moto_server (``pip install 'moto[server,ec2]'``) and a personal pool without startds,
submits one cluster of --jobs copies of the seed's EC2 submit file (key pair file included) and
prints:
  - the time from the SUBMIT acknowledgement until condor_q shows every job Running (JobStatus 2,
    which the gridmanager sets when a poll sees the instance running), and until all are gone
    again after condor_rm;
  - the requests the gridmanager sent (its log's per-operation counts) and requests per instance;
  - the gridmanager's CPU time and memory (RSS, USS) once all jobs run;
  - a reference measured in the same run: the same launches (CreateKeyPair + RunInstances per
    instance) made one after another by boto3 alone, and the ratio;
  - HTCondor's documented limits beside them: one DescribeInstances per resource per
    GRIDMANAGER_JOB_PROBE_INTERVAL, GRIDMANAGER_MAX_SUBMITTED_JOBS_PER_RESOURCE = 1000, and the
    EC2_GAHP_RATE_LIMIT floor (requests x rate limit).
Figures only: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from condorsim.shared.pool import PersonalPool, wait_until
from condorsim.shared.locate import schedd_address
from condorsim.shared.protocol import Client

SEED_AMI = "ami-60bd4609"
KEY_ID, SECRET = "AKIDBENCHMARK0000001", "bench-secret-not-real"
REQUESTS = re.compile(r"Requests to (\S+ \S+): (.*) total=(\d+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(work: Path) -> tuple[subprocess.Popen, str]:
    """moto_server on a free port of 127.0.0.1, knowing (and validating) only the seed's AMI;
    returns the process and its URL once it answers. Its stderr goes to work/moto.log."""
    program = os.path.join(sysconfig.get_path("scripts"), "moto_server")
    if not os.path.exists(program):
        sys.exit("moto_server is not installed: pip install 'moto[server,ec2]'")
    amis = work / "amis.json"
    amis.write_text(f'[{{"ami_id": "{SEED_AMI}", "state": "available", "public": true, '
                    '"owner_id": "125523088429", "name": "Fedora-15", "architecture": "i386", '
                    '"root_device_type": "ebs", "root_device_name": "/dev/sda1", '
                    '"virtualization_type": "paravirtual", "hypervisor": "xen", "image_type": "machine"}]')
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(MOTO_AMIS_PATH=str(amis), MOTO_ENABLE_AMI_VALIDATION="true")
    server = subprocess.Popen([program, "-H", "127.0.0.1", "-p", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=open(work / "moto.log", "w"))
    url = f"http://127.0.0.1:{port}/"

    def answering() -> bool:
        try:
            reset(url)
            return True
        except OSError:
            return server.poll() is not None
    wait_until(answering, timeout=60, message="moto_server answering")
    if server.poll() is not None:
        sys.exit(f"moto_server failed: {(work / 'moto.log').read_text()}")
    return server, url


def reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url + "moto-api/reset", data=b"", method="POST"), timeout=30)


def ec2_client(url: str):
    import boto3
    from botocore.config import Config
    return boto3.session.Session().client("ec2", endpoint_url=url, region_name="us-east-1",
                                          aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET,
                                          config=Config(retries={"total_max_attempts": 1}))


def direct_launches(url: str, count: int, rate_limit: float) -> float:
    """The reference: the same launches, one after another, by boto3 alone (same rate limit)."""
    client = ec2_client(url)
    client.describe_instances()  # the backend is built on the first request: not timed
    started = next_at = time.perf_counter()

    def spaced() -> None:  # requests start at least rate_limit apart, as the gridmanager's do
        nonlocal next_at
        now = time.perf_counter()
        if now < next_at:
            time.sleep(next_at - now)
        next_at = max(now, next_at) + rate_limit
    for n in range(count):
        spaced()
        client.create_key_pair(KeyName=f"bench-{n}")
        spaced()
        client.run_instances(ImageId=SEED_AMI, MinCount=1, MaxCount=1, InstanceType="m1.small",
                             ClientToken=f"bench-{n}", UserData="Hello")
    return time.perf_counter() - started


def count_status(schedd: Client, constraint: str) -> int:
    return len(schedd.call("QUERY_JOBS", constraint=constraint, projection=["JobStatus"])["jobs"])


def gridmanager(pool: PersonalPool) -> psutil.Process | None:
    for process in pool.processes():
        try:
            if process.name().startswith("condor_gridman"):
                return process
        except psutil.Error:
            continue
    return None


def last_requests(log: Path) -> tuple[str, int]:
    found = REQUESTS.findall(log.read_text()) if log.exists() else []
    return (found[-1][1], int(found[-1][2])) if found else ("", 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--rate-limit-ms", type=float, default=100, help="EC2_GAHP_RATE_LIMIT (HTCondor: 100)")
    parser.add_argument("--probe-interval", type=float, default=5,
                        help="GRIDMANAGER_JOB_PROBE_INTERVAL in seconds (HTCondor: 60)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-ec2-"))
    server, url = start_moto(work)
    try:
        run(args, work, url)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def run(args, work: Path, url: str) -> None:
    rate = args.rate_limit_ms / 1000
    print(f"EC2 grid jobs against moto_server: {args.jobs} jobs, EC2_GAHP_RATE_LIMIT = {args.rate_limit_ms:g} ms, "
          f"GRIDMANAGER_JOB_PROBE_INTERVAL = {args.probe_interval:g} s")
    reference = direct_launches(url, args.jobs, rate)
    reset(url)
    ec2_client(url).describe_instances()
    for name, text in (("AccessKeyID", KEY_ID), ("SecretAccessKey", SECRET)):
        (work / name).write_text(text + "\n")
        os.chmod(work / name, 0o600)
    submit_dir = work / "submit"
    submit_dir.mkdir()
    (submit_dir / "bench.sub").write_text(
        f"universe = grid\ngrid_resource = ec2 {url}\nec2_access_key_id = {work / 'AccessKeyID'}\n"
        f"ec2_secret_access_key = {work / 'SecretAccessKey'}\nec2_ami_id = {SEED_AMI}\n"
        "ec2_instance_type = m1.small\nec2_user_data = Hello $(executable)!\n"
        "executable = EC2_Instance-$(ec2_ami_id)\nlog = $(executable).$(cluster).log\n"
        f"ec2_keypair_file = $(executable).$(cluster).$(process).pem\nqueue {args.jobs}\n")
    config = {"DAEMON_LIST": "MASTER, COLLECTOR, NEGOTIATOR, SCHEDD",
              "GRIDMANAGER_JOB_PROBE_INTERVAL": f"{args.probe_interval:g}",
              "GRIDMANAGER_RESOURCE_PROBE_INTERVAL": "5", "GRIDMANAGER_CONTACT_SCHEDD_DELAY": "1",
              "EC2_GAHP_RATE_LIMIT": f"{args.rate_limit_ms:g}"}
    with PersonalPool(config=config, directory=str(work / "pool")) as pool:
        schedd = Client(schedd_address(pool.cfg), timeout=30)
        result = subprocess.run(["condor_submit", "bench.sub"], cwd=submit_dir, env=pool.env,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            sys.exit(f"condor_submit failed: {result.stderr}")
        submitted = time.perf_counter()
        timeout = 120 + args.jobs * (4 * rate + 0.2)
        wait_until(lambda: count_status(schedd, "JobStatus == 2") == args.jobs, timeout=timeout,
                   interval=0.05, message="every job Running")
        all_running = time.perf_counter() - submitted
        manager = gridmanager(pool)
        cpu = sum(manager.cpu_times()[:2]) if manager else float("nan")
        memory = manager.memory_full_info() if manager else None
        log = Path(pool.cfg.get("GRIDMANAGER_LOG"))
        wait_until(lambda: last_requests(log)[1] > 0, timeout=args.probe_interval * 3 + 10,
                   message="the gridmanager's request counts")
        detail, total = last_requests(log)
        live = [i for r in ec2_client(url).describe_instances()["Reservations"] for i in r["Instances"]]
        removed = time.perf_counter()
        pool.run("condor_rm", "-all")
        wait_until(lambda: count_status(schedd, "true") == 0, timeout=timeout, interval=0.05,
                   message="every job gone after condor_rm")
        all_gone = time.perf_counter() - removed

    print(f"  submit -> all {args.jobs} Running in condor_q: {all_running:.2f} s "
          f"({args.jobs / all_running:.1f} instances/s); {len(live)} instances in moto")
    print(f"  condor_rm -> all {args.jobs} terminated and gone: {all_gone:.2f} s")
    print(f"  gridmanager requests until then: {total} ({total / args.jobs:.2f} per instance): {detail}")
    if memory is not None:
        print(f"  gridmanager CPU {cpu:.2f} s ({cpu / args.jobs * 1000:.1f} ms per instance), "
              f"RSS {memory.rss / 2**20:.1f} MiB, USS {memory.uss / 2**20:.1f} MiB")
    print(f"  reference, boto3 alone, CreateKeyPair + RunInstances x {args.jobs} one after another: "
          f"{reference:.2f} s; condorsim / reference = {all_running / reference:.2f}")
    floor = 2 * args.jobs * rate
    print(f"  HTCondor's documented limits: 1 DescribeInstances per resource per probe interval "
          f"(60 s default), GRIDMANAGER_MAX_SUBMITTED_JOBS_PER_RESOURCE = 1000, "
          f"EC2_GAHP_RATE_LIMIT floor for {2 * args.jobs} launch requests = {floor:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
