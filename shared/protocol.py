"""Wire protocol: ZeroMQ sockets carrying msgpack maps.

A request is a map ``{"cmd": NAME, ...payload}``; every reply is a map with ``"ok"``: true plus
the result fields, or false plus ``"error"``. Daemons bind a ROUTER socket on 127.0.0.1 and
clients talk to it with a DEALER socket (an empty delimiter frame first, as REQ would send), so
a client can give up after a timeout without wedging a REQ state machine. Addresses travel in
HTCondor's "sinful" form ``<127.0.0.1:PORT>``. A daemon also listens on a Unix-domain socket
(``ipc=PATH`` in its sinful), which the kernel tells it the uid of every peer on (security.py):
clients use it whenever the address names one, so every command they send is authenticated.
"""
from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import msgpack
import zmq

_SINFUL = re.compile(r"<([0-9.]+|[A-Za-z0-9_.-]+):(\d+)(\?[^>]*)?>")
_ZMQ_PARAM = re.compile(r"[?&]zmq=(\d+)")
_IPC_PARAM = re.compile(r"[?&]ipc=([^&>]+)")


class CommunicationError(Exception):
    """The peer could not be reached or did not answer in time."""


class RemoteError(Exception):
    """The peer answered, refusing the request; the text is the peer's reason."""


def sinful(host: str, port: int, alias: str | None = None, zmq_port: int | None = None,
           ipc_path: str | None = None) -> str:
    """HTCondor's address form; a daemon's own carries its address list and host alias, as
    HTCondor's do (``<127.0.0.1:9618?addrs=127.0.0.1-9618&alias=host&noUDP>``). A daemon with a
    CEDAR door names that port (what HTCondor's clients connect to) and adds ``zmq=PORT``, where
    condorsim's own peers find its ZeroMQ socket, and ``ipc=PATH``, its Unix-domain socket."""
    if alias is None:
        return f"<{host}:{port}>"
    extra = f"&zmq={zmq_port}" if zmq_port else ""
    extra += f"&ipc={quote(ipc_path, safe='/')}" if ipc_path else ""
    return f"<{host}:{port}?addrs={host}-{port}&alias={alias}&noUDP{extra}>"


def zmq_port_of(address: str) -> int | None:
    """The ZeroMQ port a sinful names in its ``zmq`` parameter, if any."""
    match = _ZMQ_PARAM.search(address)
    return int(match.group(1)) if match else None


def ipc_path_of(address: str) -> str | None:
    """The Unix-domain socket a sinful names in its ``ipc`` parameter, if any."""
    match = _IPC_PARAM.search(address)
    return unquote(match.group(1)) if match else None


def endpoint(address: str) -> str:
    """ZeroMQ endpoint for a sinful string (its Unix-domain socket when it names one), a bare
    host:port, or an ipc:// / tcp:// endpoint."""
    if address.startswith(("ipc://", "tcp://")):
        return address
    match = _SINFUL.fullmatch(address.strip())
    if match:
        path = ipc_path_of(address)
        if path:
            return f"ipc://{path}"
        return f"tcp://{match.group(1)}:{zmq_port_of(address) or match.group(2)}"
    host, sep, port = address.strip().rpartition(":")
    if sep and port.isdigit():
        return f"tcp://{host}:{port}"
    raise CommunicationError(f"malformed daemon address {address!r}")


def pack(message: dict) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def unpack(data: bytes) -> dict:
    """Decode one message; raises ValueError on anything that is not a msgpack map."""
    try:
        message = msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise ValueError(f"undecodable message ({exc.__class__.__name__})") from None
    if not isinstance(message, dict):
        raise ValueError("message is not a map")
    return message


_context_lock = threading.Lock()
_context: zmq.Context | None = None
_context_pid = 0
_parent_contexts: list[zmq.Context] = []  # a forked child keeps, never touches, its parent's


def context() -> zmq.Context:
    """The process's ZeroMQ context, created anew after a fork."""
    global _context, _context_pid
    with _context_lock:
        if _context is None or _context_pid != os.getpid():
            if _context is not None:
                _parent_contexts.append(_context)  # destroying it here would hang on dead threads
            _context = zmq.Context()
            _context_pid = os.getpid()
        return _context


_WAIT_SLICE_MS = 50


def _never() -> bool:
    return False


_abort_waits = _never


def abort_waits_when(predicate) -> None:
    """Make every pending call give up as soon as predicate() is true (a daemon shutting down)."""
    global _abort_waits
    _abort_waits = predicate


def connect_dealer(address: str) -> zmq.Socket:
    """A new socket for one request/reply exchange with the daemon at `address`."""
    target = endpoint(address)
    sock = context().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 200)
    try:
        sock.connect(target)
    except zmq.ZMQError:
        sock.close(linger=0)
        raise
    return sock


class Client:
    """Request/reply to one daemon, with a timeout on every call."""

    def __init__(self, address: str, timeout: float = 5.0):
        self.address = address
        self.timeout = timeout

    def call(self, command: str, **payload: Any) -> dict:
        sock = connect_dealer(self.address)
        try:
            sock.send_multipart([b"", pack({"cmd": command, **payload})])
            deadline = time.monotonic() + self.timeout
            while not sock.poll(_WAIT_SLICE_MS):
                if _abort_waits():
                    raise CommunicationError(f"gave up waiting for {self.address}: shutting down")
                if time.monotonic() >= deadline:
                    raise CommunicationError(
                        f"no answer from {self.address} to {command} within {self.timeout:g} s")
            frames = sock.recv_multipart()
        finally:
            sock.close()
        try:
            reply = unpack(frames[-1])
        except ValueError as exc:
            raise CommunicationError(f"bad reply from {self.address}: {exc}") from None
        if not reply.get("ok"):
            raise RemoteError(str(reply.get("error", "request refused")))
        return reply

    def stream(self, command: str, more: str, **payload: Any) -> Iterator[dict]:
        """A request answered in batches: each reply that names a ``cursor`` is followed by the
        reply to ``more`` for that cursor, until one names none. Each batch has the whole timeout,
        so a long answer is never cut off as a whole, and the reader holds one batch at a time."""
        reply = self.call(command, **payload)
        yield reply
        while reply.get("cursor") is not None:
            reply = self.call(more, cursor=reply["cursor"])
            yield reply

    def send(self, command: str, **payload: Any) -> None:
        """Fire and forget, never blocking: for ad updates, and wherever waiting could deadlock.

        Messages to one address go over one long-lived connection, so they arrive in order;
        ZeroMQ delivers them in the background (queued while the peer is briefly away)."""
        sock = _oneway_socket(self.address)
        while sock.poll(0):  # drop the replies nobody waits for
            sock.recv_multipart()
        try:
            sock.send_multipart([b"", pack({"cmd": command, **payload})], zmq.NOBLOCK)
        except zmq.Again:
            pass  # the peer is gone and its queue is full: the message is lost, as a datagram would be


def reachable(address: str, timeout: float = 5.0) -> bool:
    """Whether a daemon accepts connections at `address` (its ZeroMQ port). A caller may then
    wait long for an answer it knows will come, and give up soon on a stale address."""
    target = endpoint(address)
    try:
        if target.startswith("ipc://"):  # a socket file left by a killed daemon refuses connections
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(timeout)
                probe.connect(target[len("ipc://"):])
            return True
        match = re.fullmatch(r"tcp://(.+):(\d+)", target)
        if match is None:
            return True
        socket.create_connection((match.group(1), int(match.group(2))), timeout=timeout).close()
    except OSError:
        return False
    return True


_oneway_sockets: dict[tuple[int, str], zmq.Socket] = {}


def close_oneway_sockets(linger_ms: int) -> None:
    """Close this process's one-way connections, waiting at most linger_ms for undelivered messages."""
    for key in [key for key in _oneway_sockets if key[0] == os.getpid()]:
        _oneway_sockets.pop(key).close(linger=linger_ms)


def _oneway_socket(address: str) -> zmq.Socket:
    key = (os.getpid(), address)
    sock = _oneway_sockets.get(key)
    if sock is None:
        sock = context().socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 1000)
        sock.setsockopt(zmq.SNDHWM, 1000)
        sock.connect(endpoint(address))
        _oneway_sockets[key] = sock
    return sock
