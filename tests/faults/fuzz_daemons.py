"""Structured wire fuzzing of every daemon of a pool (run by test_fuzz_daemons.py in a PID namespace
of its own): valid msgpack maps whose command and fields are real or made up and whose values have
wrong types, missing fields, huge sizes, deep nesting, and 1.5, True, 1 or a bystander's pid where a
pid goes. After every message the daemon must answer a PING within 1 s; at the end it must be the
same process, and a bystander process outside the pool must not have been signalled.

Usage: fuzz_daemons.py COUNT_PER_DAEMON SEED; prints one JSON summary line."""
from __future__ import annotations

import faulthandler
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import msgpack
import psutil
import zmq

from condorsim import PersonalPool, wait_until
from condorsim.shared.protocol import Client, context

DAEMONS = Path(__import__("condorsim.daemons", fromlist=["x"]).__file__).parent
SHARED = DAEMONS.parent / "shared"
# Commands that stop a daemon or the pool on purpose, or replace a starter's job: obeying them
# is no crash; the fuzz leaves them out (authorization is what keeps strangers from them).
STOPPING = {"DAEMONS_OFF", "RESTART", "DRAIN_JOBS", "SIGNAL_JOB", "DEACTIVATE_CLAIM", "RELEASE_CLAIM",
            "SIGNAL_FAMILY", "ACT_ON_JOBS", "SET_CONFIG", "RECONFIG"}
PING_TIMEOUT = 1.0


def vocabulary() -> tuple[list[str], list[str]]:
    """Every command name and every message field the daemons' sources use."""
    text = "".join(path.read_text() for path in [*DAEMONS.glob("*.py"), SHARED / "daemon.py"])
    commands = set(re.findall(r'"([A-Z][A-Z_]{3,})":\s*(?:self\.|lambda)', text))
    commands |= set(re.findall(r'handlers\["([A-Z_]+)"\]', text))
    fields = set(re.findall(r'message(?:\.get\(|\[)"(\w+)"', text)) | {"pid", "root_pid", "signal", "claim_id"}
    return sorted(commands - STOPPING), sorted(fields)


class Values:
    def __init__(self, rng: random.Random, bystander: int):
        self.rng = rng
        self.bystander = bystander

    def nested(self, depth: int):
        value = self.rng.choice([None, 1, "x"])
        for _ in range(depth):
            value = [value] if self.rng.random() < 0.5 else {"k": value}
        return value

    def any(self, depth: int = 0):
        r = self.rng.random()
        rng = self.rng
        simple = [None, True, False, 0, 1, -1, 1.5, -0.0, float("nan"), float("inf"), 2 ** 63 - 1, -2 ** 63,
                  2 ** 64 - 1, "", "1.0", "1.5", "((", "true", "<127.0.0.1:1>", "ipc:///nonexistent",
                  '"quoted"', "slot1@nowhere", "../../etc/passwd", "\x00\n\r", b"\xff\xfe", b"",
                  self.bystander, os.getpid(), 1, "9", "Machine", "Any"]
        if r < 0.45:
            return rng.choice(simple)
        if r < 0.55:
            return "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randrange(1, 40)))
        if r < 0.6:
            return "y" * rng.choice([1000, 100_000, 1_000_000])
        if r < 0.65:
            return self.nested(rng.choice([10, 100, 1000, 5000]))
        if r < 0.72:  # an ad on the wire, right or wrong
            return {rng.choice(["MyType", "Name", "Requirements", "JobStatus", "ClusterId", "Owner", "Cmd"]):
                    rng.choice(['"Machine"', '"x"', "((", "1", "true", "1.5", 7, None]) for _ in range(rng.randrange(4))}
        if r < 0.8 and depth < 3:
            return [self.any(depth + 1) for _ in range(rng.randrange(0, 50 if depth == 0 else 5))]
        if r < 0.88 and depth < 3:
            return {rng.choice(["x", "MyType", "Name", "pid", "1.0", ""]): self.any(depth + 1)
                    for _ in range(rng.randrange(0, 5))}
        return rng.randrange(-5, 70000)


def message(rng: random.Random, values: Values, commands: list[str], fields: list[str]) -> dict:
    r = rng.random()
    command = (rng.choice(commands) if r < 0.85 else rng.choice([None, 1, "", "NOPE", "ping", b"PING", ["PING"]]))
    body = {"cmd": command}
    for field in rng.sample(fields, rng.randrange(0, min(8, len(fields)))):
        body[field] = values.any()
    if rng.random() < 0.02:
        body = {rng.choice(["x", 1, None]): values.any()}  # no command at all
    return body


class Target:
    """One daemon: its process and a socket to its ZeroMQ port."""

    def __init__(self, name: str, process: psutil.Process, endpoint: str):
        self.name, self.process, self.pid, self.endpoint = name, process, process.pid, endpoint
        self.sock = self.new_socket()
        self.hung = 0
        self.slowest = 0.0

    def new_socket(self) -> zmq.Socket:
        sock = context().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.endpoint)
        return sock

    def send(self, data: bytes) -> None:
        """The fuzz message, then a PING: the daemon must answer the PING within 1 s."""
        token = os.urandom(4).hex()
        began = time.monotonic()
        self.sock.send_multipart([b"", data])
        self.sock.send_multipart([b"", msgpack.packb({"cmd": "PING", "token": token})])
        while True:
            left = began + PING_TIMEOUT - time.monotonic()
            if left <= 0 or not self.sock.poll(left * 1000):
                self.hung += 1
                self.sock.close()
                self.sock = self.new_socket()  # replies to the old one are no longer wanted
                return
            reply = self.sock.recv_multipart()[-1]
            if b"pid" in reply and msgpack.unpackb(reply).get("pid") == self.pid:
                self.slowest = max(self.slowest, time.monotonic() - began)
                return


def zmq_endpoint(process: psutil.Process) -> str | None:
    """The process's Unix-domain socket that answers a ZeroMQ PING with its pid: there the fuzzer
    is authenticated as the pool's own account, so every command reaches its handler (over TCP
    only READ commands would)."""
    for connection in process.net_connections(kind="unix"):
        path = connection.laddr
        if not isinstance(path, str) or not path.endswith(f"-{process.pid}"):
            continue
        try:
            if Client(f"ipc://{path}", timeout=1).call("PING")["pid"] == process.pid:
                return f"ipc://{path}"
        except Exception:
            continue
    return None


def targets(pool: PersonalPool) -> list[Target]:
    found = []
    for process in pool.processes():
        cmdline = " ".join(process.cmdline()[:2])
        name = re.search(r"condor_(\w+)", cmdline)
        if not name:
            continue
        if name.group(1) == "procd":
            endpoint = "ipc://" + pool.cfg.get("PROCD_ADDRESS")
        else:
            endpoint = zmq_endpoint(process)
        if endpoint:
            found.append(Target(name.group(1), process, endpoint))
    return found


def internal_errors(logs: Path) -> list[str]:
    """``Log: ERROR handling CMD: ExceptionType: text`` for each handler that failed inside (the
    daemon answered "internal error" and went on: no crash, but a bug in that handler)."""
    found = []
    for path in logs.iterdir():
        lines = path.read_text(errors="replace").splitlines() if path.is_file() else []
        for number, line in enumerate(lines):
            if "ERROR handling " in line or "ERROR in timer " in line:
                tail = next((later for later in lines[number + 1:] if later and not later[0].isspace()
                             and not later.startswith("Traceback")), "?")
                found.append(f"{path.name}: {line.split(' ', 2)[2]} {tail[:160]}")
    return found


def main() -> int:
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    faulthandler.dump_traceback_later(int(sys.argv[3]) if len(sys.argv) > 3 else 600, exit=True)  # never hang the suite
    assert os.getpid() == 1, "run in a PID namespace of its own (unshare --pid --fork --mount-proc)"
    rng = random.Random(seed)
    bystander = subprocess.Popen(["sleep", "86400"], start_new_session=True)  # a process outside the pool
    commands, fields = vocabulary()
    with PersonalPool(config={"NUM_CPUS": "1", "ALIVE_INTERVAL": "1",
                              "GRIDMANAGER_JOB_PROBE_INTERVAL": "0.5",
                              "GRIDMANAGER_RESOURCE_PROBE_INTERVAL": "0.5"}) as pool:
        credentials = pool.dir / "key"
        credentials.write_text("x\n")
        os.chmod(credentials, 0o600)
        for submit in ("executable = /bin/sleep\narguments = 600\nqueue\n",
                       f"universe = grid\ngrid_resource = ec2 http://127.0.0.1:9/\nexecutable = grid\n"
                       f"ec2_access_key_id = {credentials}\nec2_secret_access_key = {credentials}\n"
                       "ec2_ami_id = ami-60bd4609\nqueue\n"):
            assert pool.run("condor_submit", input=submit).returncode == 0
        wanted = {"master", "collector", "negotiator", "schedd", "startd", "starter", "procd", "gridmanager"}
        found = wait_until(lambda: (lambda t: t if {x.name for x in t} >= wanted else None)(targets(pool)),
                           timeout=60, message="every daemon, a starter and a gridmanager included",
                           show=lambda: sorted(x.name for x in targets(pool)))
        values = Values(rng, bystander.pid)
        summary: dict = {}
        for target in found:
            print(f"fuzzing the {target.name} (pid {target.pid}) at {target.endpoint}", file=sys.stderr, flush=True)
            began = time.monotonic()
            for _ in range(count):
                body = message(rng, values, commands, fields)
                try:
                    data = msgpack.packb(body, use_bin_type=True)
                except (ValueError, OverflowError, TypeError):
                    continue
                target.send(data)
            summary[target.name] = {"alive": target.process.is_running() and target.process.status() != "zombie",
                                    "same_pid": target.pid == target.process.pid, "hung": target.hung,
                                    "slowest_ms": round(target.slowest * 1000, 1),
                                    "seconds": round(time.monotonic() - began, 1)}
        logs = pool.dir / "local" / "log"
        summary["internal_errors"] = sorted(set(internal_errors(logs)))
        summary["bystander_alive"] = bystander.poll() is None
        for process in found:
            process.sock.close()
    bystander.send_signal(signal.SIGKILL)
    bystander.wait()
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
