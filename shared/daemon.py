"""The core every daemon runs on (HTCondor's DaemonCore, in small).

One thread, one event loop: a ROUTER socket on 127.0.0.1 and on a Unix-domain socket answers
commands (each authorized and checked against the command table, shared/commands.py), timers fire, and
signals (SIGTERM: shut down, SIGHUP: reconfigure, SIGCHLD: reap) wake the loop at once through
a wakeup pipe. A daemon started by a master learns the master's pid from ``CONDOR_INHERIT`` and
exits as soon as that master is gone, so a killed master leaves nothing behind.
"""
from __future__ import annotations

import ctypes
import fcntl
import gc
import glob
import hashlib
import heapq
import itertools
import math
import os
import re
import signal
import stat
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import zmq

from condorsim.shared import protocol, runtime_config
from condorsim.shared.commands import lookup, payload_error
from condorsim.shared.security import LEVELS, METHOD, Identity, Policy, denied_text, identity_of, user_name
from condorsim.shared.classad import ClassAd, eval_constraint, parse_expr
from condorsim.shared.config import ConfigError, load_config
from condorsim.shared.locate import collector_address
from condorsim.shared.peer_limits import PeerLimits

CONDOR_VERSION = "$CondorVersion: 25.14.0 2026-09-24 BuildID: 0 $"
CONDOR_PLATFORM = "$CondorPlatform: X86_64-Debian_12 $"
POOL_MARKER = "CONDORSIM_POOL"  # environment variable every process of a pool carries
TERMINATING = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
DEFER = object()  # a handler's return value meaning "I will reply later with reply_to()"
TURN_SECONDS = 0.05  # a turn of the loop reads messages for about this long before its timers run
DAEMON_NO_RESTART = 99  # a daemon's exit status asking its master not to start it again

Handler = Callable[[dict, bytes], Any]


@dataclass
class PendingCall:
    """A call_later request awaiting its reply."""
    deadline: float  # monotonic
    on_reply: Callable[[dict | str], Any]
    address: str
    command: str
    timeout: float


def ads_reply(ads: list[ClassAd], projection: list[str] | None) -> dict:
    """The reply to QUERY_ADS: the ads on the wire, only the `projection` attributes if given."""
    wanted = {name.lower() for name in projection} if projection else None
    wires = [ad.to_wire() for ad in ads]
    if wanted:
        wires = [{key: value for key, value in wire.items() if key.lower() in wanted} for wire in wires]
    return {"ads": wires}


class DaemonLog:
    """A daemon's log file, in HTCondor's line format ``MM/DD/YY HH:MM:SS message``, rotated as
    HTCondor rotates it: past `max_bytes` the file becomes ``<log>.old`` (or, when more than one
    old file is kept, ``<log>.<YYYYMMDDTHHMMSS>``, the oldest beyond `keep` deleted)."""

    def __init__(self, path: str | None, echo: bool = False, max_bytes: int = 10 * 1024 * 1024,
                 keep: int = 1):
        self.echo = echo
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        self.file = None
        self.lock = threading.Lock()  # CEDAR connection threads log too
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "a", buffering=1)

    def __call__(self, message: str) -> None:
        now = time.time()
        line = f"{time.strftime('%m/%d/%y %H:%M:%S', time.localtime(now))} {message}\n"
        with self.lock:
            if self.file:
                self.file.write(line)
                if self.max_bytes and self.file.tell() > self.max_bytes:
                    self.rotate()
            if self.echo or not self.file:
                sys.stderr.write(line)

    def rotate(self) -> None:
        stamp = "old" if self.keep <= 1 else time.strftime("%Y%m%dT%H%M%S")
        target = f"{self.path}.{stamp}"
        self.file.write(f"{time.strftime('%m/%d/%y %H:%M:%S')} Saving log file to \"{target}\"\n")
        self.file.close()
        os.replace(self.path, target)
        self.file = open(self.path, "a", buffering=1)
        self.file.write(f"{time.strftime('%m/%d/%y %H:%M:%S')} Now in new log file {self.path}\n")
        if self.keep > 1:
            rotated = sorted(glob.glob(glob.escape(self.path) + ".[0-9]*T[0-9]*"))
            for old in rotated[:max(0, len(rotated) - self.keep)]:
                os.unlink(old)


def shorten(text: str, limit: int = 200) -> str:
    """What a log line quotes of a peer's input: a bad request cannot fill the disk."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def log_size_limit(text: str | None, default: int = 10 * 1024 * 1024) -> int:
    """A MAX_<SUBSYS>_LOG value: bytes, or a number with a unit (``10 Mb``, ``500Kb``, ``1 GB``)."""
    match = re.fullmatch(r"\s*(\d+)\s*([kmg]?)b?\s*", text or "", re.IGNORECASE)
    if not match:
        return default
    return int(match.group(1)) * 1024 ** " kmg".index(match.group(2).lower() or " ")


def parse_daemon_args(argv: list[str]) -> dict:
    """The command-line options HTCondor daemons share: -f, -t, -local-name NAME."""
    options = {"foreground": False, "log_to_terminal": False, "local_name": None, "rest": []}
    args = iter(argv)
    for arg in args:
        if arg == "-f":
            options["foreground"] = True
        elif arg == "-t":
            options["log_to_terminal"] = True
        elif arg in ("-local-name", "-localname"):
            options["local_name"] = next(args, None)
            if not options["local_name"]:
                raise SystemExit("-local-name needs a name")
        else:
            options["rest"].append(arg)
    return options


def set_parent_death_signal() -> None:
    """Ask Linux to SIGTERM us the moment our parent dies (no-op elsewhere)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def write_address_file(path: str, address: str) -> None:
    """Atomically publish our address the way HTCondor's address files look."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{address}\n{CONDOR_VERSION}\n{CONDOR_PLATFORM}\n")
    os.replace(tmp, target)


def take_exclusive_lock(path: str):
    """Lock `path` for this process alone (recording our pid in it); returns the open file, which
    holds the lock, or raises HeldLock naming the holder's pid."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise HeldLock(holder) from None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


class HeldLock(Exception):
    """Another live process holds the lock; the argument is its pid as it recorded it."""


class Daemon:
    """Base class: subclasses set ``subsystem``, register handlers and timers in ``setup``."""

    subsystem = "DAEMON"

    def __init__(self, argv: list[str] | None = None):
        self.options = parse_daemon_args(sys.argv[1:] if argv is None else argv)
        self.local_name: str | None = self.options["local_name"]
        self.runtime_settings: dict[str, str] = {}   # condor_config_val -rset
        self.cfg = self.load_config()
        self.log = DaemonLog(self.param(f"{self.subsystem}_LOG"), self.options["log_to_terminal"],
                             log_size_limit(self.param(f"MAX_{self.subsystem}_LOG", self.param("MAX_DEFAULT_LOG"))),
                             self.cfg.get_int(f"MAX_NUM_{self.subsystem}_LOG", 1))
        self.peer_limits = PeerLimits(self.param, self.log, log_size_limit)
        self.start_time = int(time.time())
        self.reconfig_time = self.start_time
        self.sequence = itertools.count()
        self.policy = Policy(self.cfg, self.subsystem)
        # The requester of the command being handled (a daemon acting on its own: itself).
        self.own_identity = Identity(f"{user_name(os.geteuid())}@{self.policy.uid_domain}", os.geteuid(),
                                     os.getegid(), os.getpid())
        self.peer = self.own_identity
        self._identities: dict[str, Identity] = {}  # by ZeroMQ Peer-Address (one per client process)
        self.handlers: dict[str, Handler] = {
            "PING": self.on_ping,
            "CHILD_ALIVE": lambda msg, ident: {},
            "CONFIG_VAL": lambda msg, ident: runtime_config.query(self.cfg, msg),
            "SET_CONFIG": lambda msg, ident: runtime_config.set_config(
                self.cfg, self.subsystem, self.local_name, self.runtime_settings, msg),
            "QUERY_ADS": self.on_query_own_ads}
        self._ad_makers: list[Callable[[], list[ClassAd]]] = []  # what keep_advertised sends
        self._timers: list[tuple[float, int, Callable[[], Any], float | None]] = []
        self._timer_ids = itertools.count()
        self._running = True
        self.exit_status = 0
        self._signals: list[int] = []
        self.child_exited = False  # a SIGCHLD came: poll_children reaps
        self.master_pid, self.master_address = self._inherited_master()
        self.hostname = self.cfg.get("FULL_HOSTNAME")  # detected by the configuration
        self.sock: zmq.Socket | None = None
        self.ipc_path: str | None = None
        self.address = ""
        self.cedar = None  # a CedarServer, for daemons HTCondor's own clients talk to
        self.lock = threading.RLock()  # held by the event loop while it works; CEDAR threads share it
        self._poller = zmq.Poller()
        self._calls: dict[int, PendingCall] = {}  # call_later's requests awaiting replies, by rid
        self._call_deadlines: list[tuple[float, int]] = []  # (deadline, rid), a heap
        self._call_ids = itertools.count(1)
        self._call_sockets: dict[str, zmq.Socket] = {}  # call_later's connection to each peer
        self._loop_thread = threading.get_ident()  # the event loop's (run() sets it)

    # -- configuration ------------------------------------------------------------------
    def load_config(self):
        cfg = load_config(subsystem=self.subsystem, local_name=self.local_name)
        return runtime_config.apply(cfg, self.subsystem, self.local_name, self.runtime_settings)

    def param(self, name: str, default: str | None = None) -> str | None:
        value = self.cfg.get(name)
        return default if value is None else value

    def reconfig(self) -> None:
        """Re-read the configuration in our own context (SIGHUP / condor_reconfig)."""
        try:
            self.cfg = self.load_config()
        except ConfigError as exc:
            self.log(f"ERROR: reconfig failed, keeping the old configuration: {exc}")
            return
        self.reconfig_time = int(time.time())
        self.policy = Policy(self.cfg, self.subsystem)
        self.log("Reconfig complete")
        self.on_reconfig()

    def on_reconfig(self) -> None:
        """Subclasses re-read their knobs here."""

    # -- sockets ---------------------------------------------------------------------------
    def bind(self, port: int = 0, cedar=None) -> None:
        """Bind the ZeroMQ socket; with a CedarServer, that takes `port` and the sinful names it
        first (what HTCondor's clients connect to) and the ZeroMQ port in its ``zmq`` parameter."""
        self.sock = protocol.context().socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.ROUTER_MANDATORY, 0)
        self.peer_limits.configure(self.sock)
        zmq_port = port if cedar is None else 0
        if zmq_port:
            self.sock.bind(f"tcp://127.0.0.1:{zmq_port}")
        else:
            zmq_port = self.sock.bind_to_random_port("tcp://127.0.0.1")
        self.ipc_path = self.socket_path()
        self.sock.bind(f"ipc://{self.ipc_path}")
        os.chmod(self.ipc_path, 0o777)  # every local user may connect; the kernel tells us who did
        if cedar is None:
            self.address = protocol.sinful("127.0.0.1", zmq_port, alias=self.hostname, ipc_path=self.ipc_path)
        else:
            self.cedar = cedar
            self.address = protocol.sinful("127.0.0.1", cedar.bind(port), alias=self.hostname, zmq_port=zmq_port,
                                           ipc_path=self.ipc_path)
        address_file = self.param(f"{self.subsystem}_ADDRESS_FILE")
        if address_file:
            write_address_file(address_file, self.address)
            if cedar is not None:  # HTCondor's clients look for a daemon on this host here first
                write_address_file(self.param(f"{self.subsystem}_SUPER_ADDRESS_FILE") or f"{address_file}.super",
                                   self.address)

    def socket_path(self) -> str:
        """Our Unix-domain socket: in DAEMON_SOCKET_DIR (default $(LOCK)/daemon_sock, HTCondor's
        name), or, when that path is too long for a socket, a directory of its own under /tmp."""
        directory = self.param("DAEMON_SOCKET_DIR") or os.path.join(self.param("LOCK") or "/tmp", "daemon_sock")
        name = f"{(self.local_name or self.subsystem).lower()}-{os.getpid()}"
        if len(os.path.join(directory, name)) > 100:  # sun_path holds 108 bytes
            directory = os.path.join(tempfile.gettempdir(), f"condorsim_sock_{hashlib.sha1(directory.encode()).hexdigest()[:12]}")
        os.makedirs(directory, exist_ok=True)
        info = os.lstat(directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():  # another user's: they could swap sockets
            raise DaemonStartError(f"socket directory {directory} is not a directory of this pool's own account")
        os.chmod(directory, 0o755)
        path = os.path.join(directory, name)
        if os.path.lexists(path):
            os.unlink(path)  # left by a dead process with our pid
        return path

    def reply_to(self, ident: bytes, reply: dict) -> None:
        try:
            self.sock.send_multipart([ident, b"", protocol.pack(reply)], zmq.NOBLOCK)
        except zmq.ZMQError:
            pass  # the requester is gone; nothing to do

    def identity(self, peer: str | None) -> Identity:
        """Who sent a message, from ZeroMQ's Peer-Address (cached: one entry per client process)."""
        identity = self._identities.get(peer or "")
        if identity is None:
            if len(self._identities) > 10000:
                self._identities.clear()
            identity = self._identities[peer or ""] = identity_of(peer, self.policy.uid_domain)
        return identity

    def _handle(self, frames: list) -> None:
        """One request: decoded, looked up in the command table, authorized, its payload
        checked, then handed to its handler with self.peer naming the requester."""
        ident, payload = frames[0].bytes, frames[-1].bytes
        refusal = self.peer_limits.refusal(ident, payload)
        if refusal:
            self.reply_to(ident, {"ok": False, "error": refusal})
            return
        rid: dict = {}  # a call_later request's id, echoed in every reply to it
        try:
            message = protocol.unpack(payload)
            if type(message.get("rid")) is int:
                rid = {"rid": message["rid"]}
            command = lookup(message.get("cmd"), self.subsystem)
            handler = self.handlers.get(command.name) if command else None
            if handler is None:
                raise ValueError(f"unknown command {shorten(repr(message.get('cmd')))}")
        except (ValueError, RecursionError) as exc:  # RecursionError: repr of a deeply nested "cmd"
            self.log(f"Received a malformed or unknown message: {exc}")
            self.reply_to(ident, {"ok": False, "error": str(exc), **rid})
            return
        identity = self.identity(frames[-1].get("Peer-Address"))
        level = command.level
        if command.name == "PING" and message.get("level") in (*LEVELS, "ALLOW"):
            level = message["level"]  # condor_ping asks about one level
        refusal = None if level == "ALLOW" else self.policy.refusal(identity, level)
        if refusal is not None:
            self.log(f"PERMISSION DENIED to {identity.user} from host 127.0.0.1 for command {command.name}, "
                     f"access level {level}: reason: {refusal}")
            self.reply_to(ident, {"ok": False, "error": denied_text(identity, level), **rid})
            return
        problem = payload_error(command, message)
        if problem is not None:
            self.log(f"Bad {command.name} request from {identity.user}: {problem}")
            self.reply_to(ident, {"ok": False, "error": f"bad {command.name} request: {problem}", **rid})
            return
        if command.identity and not (self.policy.is_super_user(identity) and message.get(command.identity)):
            message[command.identity] = identity.name  # only a super user may act for someone else
        self.peer = identity
        try:
            result = handler(message, ident)
        except (KeyError, TypeError, ValueError, AttributeError, RecursionError, OverflowError) as exc:  # a field of the wrong type or shape
            self.log(f"Bad {command.name} request: {shorten(repr(exc))}")
            self.reply_to(ident, {"ok": False, "error": f"bad {command.name} request: {exc}", **rid})
            return
        except Exception:  # a daemon never dies from what a peer sends
            self.log(f"ERROR handling {command.name}:\n{traceback.format_exc()}")
            self.reply_to(ident, {"ok": False, "error": f"internal error handling {command.name}", **rid})
            return
        finally:
            self.peer = self.own_identity
        if result is not DEFER:
            self.reply_to(ident, {"ok": True, **(result or {}), **rid})

    def on_ping(self, message: dict, ident: bytes) -> dict:
        """Alive, and (the dispatcher checked the level asked about) authorized: who we think you are."""
        return {"pid": os.getpid(), "user": self.peer.user, "method": METHOD if self.peer.authenticated else "",
                "version": CONDOR_VERSION}

    def check_command_table(self) -> None:
        """Every handler must be a command the table lists for this daemon."""
        missing = sorted(name for name in self.handlers if lookup(name, self.subsystem) is None)
        if missing:
            raise DaemonStartError(f"handlers not in the command table for {self.subsystem}: {', '.join(missing)}")

    # -- timers ----------------------------------------------------------------------------
    def every(self, interval: float, callback: Callable[[], Any], first: float | None = None) -> None:
        """Run callback every `interval` seconds (first after `first`, default interval)."""
        due = time.monotonic() + (interval if first is None else first)
        heapq.heappush(self._timers, (due, next(self._timer_ids), callback, interval))

    def after(self, delay: float, callback: Callable[[], Any]) -> None:
        heapq.heappush(self._timers, (time.monotonic() + delay, next(self._timer_ids), callback, None))

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, callback, interval = heapq.heappop(self._timers)
            if interval is not None:
                heapq.heappush(self._timers, (now + interval, next(self._timer_ids), callback, interval))
            try:
                callback()
            except Exception:
                self.log(f"ERROR in timer {getattr(callback, '__name__', callback)}:\n{traceback.format_exc()}")

    # -- asynchronous calls ------------------------------------------------------------------
    def call_later(self, address: str, command: str, payload: dict, on_reply: Callable[[dict | str], Any],
                   timeout: float) -> None:
        """Ask a peer without waiting for it: on_reply gets the reply, or the reason there is
        none (no answer within `timeout` s, a refusal, a bad address), later, on the event
        loop's thread. A slow or dead peer thus holds up nothing, and many requests to many peers
        are outstanding at once. Requests to one peer share one connection; the peer echoes each
        request's ``rid`` in its reply (commands answered at once, not DEFERred)."""
        if threading.get_ident() != self._loop_thread:  # (a CEDAR thread: the sockets are the loop's)
            self.after(0, lambda: self.call_later(address, command, payload, on_reply, timeout))
            return
        rid = next(self._call_ids)
        try:
            sock = self._call_sockets.get(address)
            if sock is None:
                sock = self._call_sockets[address] = protocol.connect_dealer(address)
                sock.setsockopt(zmq.SNDHWM, 10000)  # (beyond that a dead peer's calls fail at once)
                self._poller.register(sock, zmq.POLLIN)
            sock.send_multipart([b"", protocol.pack({"cmd": command, "rid": rid, **payload})], zmq.NOBLOCK)
        except (protocol.CommunicationError, zmq.ZMQError, ValueError, TypeError) as exc:
            why = f"could not send {command} to {address}: {exc}"
            self.after(0, lambda: on_reply(why))
            return
        deadline = time.monotonic() + timeout
        self._calls[rid] = PendingCall(deadline, on_reply, address, command, timeout)
        heapq.heappush(self._call_deadlines, (deadline, rid))

    def _finish_calls(self, events: dict) -> None:
        """Hand the replies that came, and the calls that ran out of time, to their callbacks."""
        for sock in list(self._call_sockets.values()):  # (a callback may connect to a new peer)
            if sock not in events:
                continue
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                try:
                    reply = protocol.unpack(frames[-1])
                except ValueError:
                    continue  # no rid to give it to: that call times out
                call = self._calls.pop(reply.get("rid"), None) if isinstance(reply.get("rid"), int) else None
                if call is not None:
                    self._reply(call, reply if reply.get("ok") else str(reply.get("error", "request refused")))
        now = time.monotonic()
        while self._call_deadlines and self._call_deadlines[0][0] <= now:
            _, rid = heapq.heappop(self._call_deadlines)
            call = self._calls.pop(rid, None)
            if call is not None:
                self._reply(call, f"no answer from {call.address} to {call.command} within {call.timeout:g} s")

    def _reply(self, call: PendingCall, result: dict | str) -> None:
        try:
            call.on_reply(result)
        except Exception:
            self.log(f"ERROR handling the reply to {call.command}:\n{traceback.format_exc()}")

    # -- master supervision ----------------------------------------------------------------
    @staticmethod
    def _inherited_master() -> tuple[int | None, str | None]:
        inherit = os.environ.get("CONDOR_INHERIT", "").split()
        if len(inherit) >= 2 and inherit[0].isdigit():
            return int(inherit[0]), inherit[1]
        return None, None

    def _master_gone(self) -> bool:
        return self.master_pid is not None and os.getppid() != self.master_pid

    # -- ads -------------------------------------------------------------------------------
    def common_ad_attributes(self, ad: ClassAd, my_type: str, name: str) -> ClassAd:
        now = int(time.time())
        ad["MyType"] = my_type
        ad["Name"] = name
        ad["Machine"] = self.hostname
        ad["MyAddress"] = self.address
        ad["CondorVersion"] = CONDOR_VERSION
        ad["CondorPlatform"] = CONDOR_PLATFORM
        ad["MyCurrentTime"] = now
        ad["DaemonStartTime"] = self.start_time
        ad["DaemonLastReconfigTime"] = self.reconfig_time
        ad["UpdateSequenceNumber"] = next(self.sequence)
        return ad

    def collector_address(self) -> str | None:
        try:
            return collector_address(self.cfg)
        except protocol.CommunicationError:
            return None

    def advertise(self, ads: list[ClassAd]) -> bool:
        """Send ads to the collector, one-way like HTCondor's updates; False while it has no address yet."""
        address = self.collector_address()
        if not address:
            return False
        protocol.Client(address).send("UPDATE_ADS", ads=[ad.to_wire() for ad in ads])
        return True

    def keep_advertised(self, interval: float, make_ads: Callable[[], list[ClassAd]]) -> Callable[[], None]:
        """Send make_ads() to the collector now and every `interval` s; retry soon while it is unreachable.

        Returns a function to call after a state change: it sends an update within a few
        milliseconds, one for a whole burst of changes."""
        pending = False
        self._ad_makers.append(make_ads)

        def update() -> None:
            nonlocal pending
            pending = False
            if not self.advertise(make_ads()):
                schedule(0.1)

        def schedule(delay: float) -> None:
            nonlocal pending
            if not pending:
                pending = True
                self.after(delay, update)

        self.every(interval, update, first=0)
        return lambda: schedule(0.02)

    def on_query_own_ads(self, message: dict, ident: bytes) -> dict:
        """The ads this daemon advertises, made now (`condor_status -direct`): those of
        `my_type` ("Any": all) matching `constraint`."""
        constraint = message.get("constraint")
        expr = parse_expr(constraint) if constraint else None
        ads = [ad for make in self._ad_makers for ad in make()
               if message["my_type"] in ("Any", ad.eval("MyType"))
               and (expr is None or eval_constraint(expr, ad))]
        return ads_reply(ads, message.get("projection"))

    def invalidate(self, my_type: str, names: list[str]) -> None:
        if self._master_gone():
            return  # the whole pool is going down with our master; the collector is gone too
        address = self.collector_address()
        if address and names:
            protocol.Client(address).send("INVALIDATE_ADS", my_type=my_type, names=names)

    # -- life cycle ------------------------------------------------------------------------
    def setup(self) -> None:
        """Subclasses bind, register handlers and timers here."""
        self.bind()

    def shutdown(self) -> None:
        """Subclasses release what they hold (invalidate ads, stop children) here."""

    def stop(self, status: int = 0) -> None:
        self._running = False
        self.exit_status = self.exit_status or status

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._signals.append(signum)

    def run(self) -> int:
        set_parent_death_signal()
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT):
            signal.signal(signum, self._on_signal)
        # A request to a peer that died with our master must not hold up our own shutdown.
        protocol.abort_waits_when(lambda: self._master_gone() or any(s in TERMINATING for s in self._signals))
        if self._master_gone():
            return 0
        self.setup()
        self.check_command_table()
        # What set-up made lives as long as the daemon: out of the collector's sight. Young
        # collections every 20,000 allocations, not 700: a daemon's per-message objects are
        # freed by reference counting, and walking them so often cost a tenth of a busy one's time.
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)
        self.log("******************************************************")
        self.log(f"** condor_{self.subsystem.lower()} (condorsim) pid {os.getpid()}"
                 + (f" local name {self.local_name}" if self.local_name else "")
                 + f" at {self.address}")
        self.log("******************************************************")
        self.started()
        self._loop_thread = threading.get_ident()
        self._poller.register(self.sock, zmq.POLLIN)
        self._poller.register(wake_read, zmq.POLLIN)
        while self._running:
            timeout = 500.0
            for heap in (self._timers, self._call_deadlines):
                if heap:  # whole milliseconds, rounded up: zmq truncates, and a timer due in 0.9 ms would spin the loop
                    timeout = min(timeout, max(0, math.ceil((heap[0][0] - time.monotonic()) * 1000)))
            events = dict(self._poller.poll(timeout))
            if wake_read in events:
                os.read(wake_read, 4096)
            with self.lock:
                if self._call_sockets:
                    self._finish_calls(events)
                self._work()
        self.log("Shutting down")
        if self.cedar is not None:
            self.cedar.close()
        try:
            with self.lock:  # a CEDAR thread may still be at work
                self.shutdown()
            for sock in self._call_sockets.values():  # unanswered calls: nobody is left to care
                sock.close(linger=0)
            # A live collector takes our last messages in a few ms (up to a second on a loaded
            # host, whose invalidations must not be lost); an orphan has nobody to wait for.
            protocol.close_oneway_sockets(0 if self._master_gone() else 1000)
        finally:
            if self.ipc_path and os.path.exists(self.ipc_path):
                os.unlink(self.ipc_path)
            self.log(f"**** condor_{self.subsystem.lower()} (condorsim) pid {os.getpid()} "
                     f"EXITING WITH STATUS {self.exit_status}")
        return self.exit_status

    def _work(self) -> None:
        """One turn of the loop: signals, queued messages, due timers, children."""
        self._dispatch_signals()
        turn_ends = time.monotonic() + TURN_SECONDS
        for _ in range(1000):  # bounded so timers (and end_of_turn's work) still run under a flood
            try:
                frames = self.sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            self._handle(frames)
            if time.monotonic() >= turn_ends:
                break
        self._run_timers()
        self.end_of_turn()
        self.poll_children()
        if self._master_gone():
            self.log("My master is gone; shutting down")
            self._running = False

    def end_of_turn(self) -> None:
        """Called once per turn of the loop, after its messages and timers (e.g. to commit what
        they changed together)."""

    def _dispatch_signals(self) -> None:
        while self._signals:
            signum = self._signals.pop(0)
            if signum in TERMINATING:
                self.log(f"Got signal {signal.Signals(signum).name}. Performing graceful shutdown.")
                self._running = False
            elif signum == signal.SIGHUP:
                self.reconfig()
            elif signum == signal.SIGCHLD:
                self.child_exited = True

    def started(self) -> None:
        """Called once the socket is bound, before the loop starts: tell our parent we are up."""
        if self.master_address and self.master_address.startswith("<"):
            try:  # answered at once; waiting only while a master busy starting 100 daemons catches up
                protocol.Client(self.master_address, timeout=30).call(
                    "CHILD_ALIVE", pid=os.getpid(), address=self.address, subsystem=self.subsystem)
            except (protocol.CommunicationError, protocol.RemoteError) as exc:
                self.log(f"Could not tell my parent I am alive: {exc}")

    def poll_children(self) -> None:
        """Subclasses with child processes reap them here (called every loop turn)."""


def daemon_main(cls: type[Daemon], argv: list[str] | None = None) -> int:
    """Entry point shared by every daemon program: configuration errors end it with a message."""
    try:
        daemon = cls(argv)
    except (ConfigError, DaemonStartError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    try:
        return daemon.run()
    except DaemonStartError as exc:
        daemon.log(f"ERROR: {exc}")
        print(f"ERROR: {exc}", file=sys.stderr)
        return exc.exit_status


class DaemonStartError(Exception):
    """A daemon cannot start (e.g. a resource it needs is taken); the message says why."""
    exit_status = 1  # DAEMON_NO_RESTART where starting again could not help
