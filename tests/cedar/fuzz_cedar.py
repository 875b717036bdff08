"""Malformed CEDAR messages against a pool's two CEDAR doors (run by test_fuzz.py in a PID
namespace of its own): every connection must be closed by the daemon with a log line, no daemon
may die or stop answering. Usage: fuzz_cedar.py COUNT_PER_PORT SEED; prints a JSON summary."""
from __future__ import annotations

import json
import random
import socket
import struct
import sys
import time
from pathlib import Path

from condorsim import PersonalPool
from condorsim.shared.cedar import ProtocolError, Stream, start_command
from condorsim.shared.locate import read_address_file
from condorsim.shared.protocol import endpoint

DC_AUTHENTICATE = 60010


def packet(body: bytes, last: bool = True) -> bytes:
    return bytes([1 if last else 0]) + struct.pack(">i", len(body)) + body


def cint(value: int) -> bytes:
    return struct.pack(">q", value)


def cstr(text: str | bytes) -> bytes:
    return (text.encode() if isinstance(text, str) else text) + b"\0"


def ad(lines: list[str], count: int | None = None) -> bytes:
    return cint(len(lines) if count is None else count) + b"".join(cstr(line) for line in lines) + cstr("") + cstr("")


def request(command: int, extra: list[str] = ()) -> list[str]:
    return [f"Command = {command}", 'NewSession = "YES"', 'Authentication = "OPTIONAL"',
            'Encryption = "OPTIONAL"', 'Integrity = "OPTIONAL"', 'AuthMethods = "FS"', *extra]


def cases(read_command: int, write_command: int):
    """Each case: rng -> the bytes one connection sends before it closes. None is malformed
    enough to be a valid conversation."""
    yield lambda r: r.randbytes(r.randint(1, 300))
    yield lambda r: bytes([r.randint(11, 255)]) + struct.pack(">i", 8) + cint(DC_AUTHENTICATE)
    yield lambda r: b"\x01" + struct.pack(">i", r.choice([0, -1, -2**31, 1024 * 1024 + 100, 2**31 - 1]))
    yield lambda r: b"\x01" + struct.pack(">i", 1000) + r.randbytes(r.randint(0, 999))
    yield lambda r: packet(cint(DC_AUTHENTICATE) + cint(r.choice([-5, 10**9, 2**40])))
    yield lambda r: packet(cint(DC_AUTHENTICATE) + ad(request(read_command), count=r.randint(7, 50)))
    yield lambda r: packet(cint(DC_AUTHENTICATE) + cint(3) + b"A = " + b"x" * r.randint(10, 60000), last=True)
    yield lambda r: packet(cint(DC_AUTHENTICATE) + ad(['UseSession = "YES"', f'Sid = "bogus:{r.random()}"',
                                                       f"Command = {read_command}", "ResumeResponse = true"]))
    yield lambda r: packet(cint(DC_AUTHENTICATE) + ad(request(write_command) + ['Authentication = "NEVER"']))
    yield lambda r: packet(cint(DC_AUTHENTICATE) + ad(request(read_command))) + packet(r.randbytes(40))
    yield lambda r: packet(cint(read_command) + ad(["Requirements = ((((", 'MyType = "Query"']))
    yield lambda r: packet(cint(r.randint(100000, 2**40)))
    yield lambda r: b""
    yield lambda r: packet(cint(DC_AUTHENTICATE) + ad(request(read_command) + ["ECDHPublicKey = \"AAAA\""]))
    yield lambda r: packet(cint(read_command), last=False) + packet(b"\xff" * r.randint(1, 100))


def attack(port: int, data: bytes, deadline: float) -> bool:
    """Send `data`, stop sending, and wait for the daemon to close; False if it does not in time."""
    with socket.create_connection(("127.0.0.1", port), timeout=deadline) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(65536):
                pass
        except socket.timeout:
            return False
        except OSError:
            pass  # the daemon closed first (reset, broken pipe, not connected)
    return True


QMGMT_CALLS = [10002, 10003, 10004, 10005, 10006, 10007, 10012, 10021, 10023, 10024, 10027, 10030,
               10031, 10032, 10035, 10036, 10018, 99999]


def qmgmt_session(port: int, rng: random.Random) -> None:
    """An FS-authenticated QMGMT_WRITE_CMD connection sending random remote calls with random
    arguments: the job queue protocol itself must be as robust as the handshake."""
    stream = Stream(socket.create_connection(("127.0.0.1", port), timeout=10), 10)
    try:
        start_command(stream, 1112, authenticate=True)
        for _ in range(rng.randint(1, 8)):
            stream.put_int(rng.choice(QMGMT_CALLS))
            for _ in range(rng.randint(0, 4)):
                kind = rng.random()
                if kind < 0.4:
                    stream.put_int(rng.choice([-1, 0, 1, 2, 10**12, rng.randint(-5, 5)]))
                elif kind < 0.8:
                    stream.put_str(rng.choice(["x", "", "Foo", "(((", "1 + ", "true", "Owner", "\xff"]))
                else:
                    stream.put_char(rng.randint(0, 255))
            stream.end_message()
            if rng.random() < 0.5:
                stream.get_int()
                stream.end_of_input()
    except ProtocolError:
        pass
    finally:
        stream.close()


def main() -> int:
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    summary = {}
    with PersonalPool(config={"NUM_CPUS": "1"}) as pool:
        import htcondor2
        targets = {"COLLECTOR": (5, 58), "SCHEDD": (516, 1112)}
        for daemon, (read_command, write_command) in targets.items():
            address = read_address_file(pool.cfg.get(f"{daemon}_ADDRESS_FILE"))
            port = int(address.split(":")[1].split("?")[0])
            pid = next(p.pid for p in pool.processes() if f"condor_{daemon.lower()}" in " ".join(p.cmdline()))
            log = Path(pool.cfg.get(f"{daemon}_LOG"))
            before = log.read_text().count("CEDAR: closed the connection")
            kinds = list(cases(read_command, write_command))
            hung = 0
            started = time.monotonic()
            for n in range(count):
                hung += not attack(port, kinds[n % len(kinds)](rng), deadline=10)
            elapsed = time.monotonic() - started
            closed = log.read_text().count("CEDAR: closed the connection") - before
            alive = any(p.pid == pid for p in pool.processes())
            summary[daemon] = {"sent": count, "closed_with_log_line": closed, "hung": hung,
                               "alive": alive, "seconds": round(elapsed, 2), "zmq": endpoint(address)}
        schedd_port = int(read_address_file(pool.cfg.get("SCHEDD_ADDRESS_FILE")).split(":")[1].split("?")[0])
        for _ in range(count // 50):
            qmgmt_session(schedd_port, rng)
        logs = [Path(pool.cfg.get(f"{daemon}_LOG")).read_text() for daemon in targets]
        summary["tracebacks"] = sum(text.count("CEDAR: ERROR") for text in logs)
        summary["schedd_alive_after_qmgmt"] = bool(pool.processes()) and all(
            any(f"condor_{d.lower()}" in " ".join(p.cmdline()) for p in pool.processes()) for d in targets)
        bindings = pool.bindings()
        summary["slots_after"] = len(bindings.Collector().query(bindings.AdType.Startd))
        summary["jobs_after"] = len(pool.schedd().query())
        del htcondor2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
