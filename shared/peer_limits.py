"""What one peer may ask of a daemon: the size of a message and how many may wait for it.

- ``MAX_MESSAGE_SIZE`` (bytes, or with a unit: ``64 Mb``; default 64 MiB) bounds every request.
  ``SUBMIT`` carries a whole cluster's ads in one message, so it is bounded by
  ``MAX_SUBMIT_MESSAGE_SIZE`` instead (default 1 GiB). A bigger message is refused before it is
  decoded, and answered with an error and a log line naming the command (when it can be read cheaply) and the sizes.
  A message past even that limit makes ZeroMQ drop the connection before it is read into memory.
- ``MAX_PEER_QUEUE_LENGTH`` (default 1000) messages from one connection may wait in the daemon's
  socket; past that ZeroMQ stops reading from that peer (its sends wait or, one-way, are dropped),
  while every other peer is served as before.
A peer that keeps sending oversized messages gets one log line per ``LOG_EVERY`` seconds, so it
cannot fill the disk either.
"""
from __future__ import annotations

import re
import time
from typing import Callable

import zmq

DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024
DEFAULT_MAX_SUBMIT_MESSAGE_SIZE = 1024 * 1024 * 1024
DEFAULT_MAX_PEER_QUEUE_LENGTH = 1000
BULK_COMMANDS = {b"SUBMIT"}
LOG_EVERY = 10.0  # seconds between log lines about one peer
_COMMAND = re.compile(rb"\xa3cmd[\xa0-\xbf]([A-Z_]{1,31})")  # msgpack "cmd": short string


class PeerLimits:
    def __init__(self, param: Callable[[str], str | None], log: Callable[[str], None],
                 size: Callable[[str | None, int], int]):
        """`size` parses a size knob (bytes, or a number with a unit: ``64 Mb``)."""
        self.log = log
        self.max_size = size(param("MAX_MESSAGE_SIZE"), DEFAULT_MAX_MESSAGE_SIZE)
        self.max_bulk_size = max(self.max_size, size(param("MAX_SUBMIT_MESSAGE_SIZE"), DEFAULT_MAX_SUBMIT_MESSAGE_SIZE))
        self.queue_length = size(param("MAX_PEER_QUEUE_LENGTH"), DEFAULT_MAX_PEER_QUEUE_LENGTH)
        self._last_logged: dict[bytes, float] = {}

    def configure(self, sock) -> None:
        """Set a daemon's ZeroMQ socket's limits (before it binds): the queue per peer, and a size
        past which ZeroMQ drops the connection instead of reading the message at all."""
        sock.setsockopt(zmq.RCVHWM, self.queue_length)
        sock.setsockopt(zmq.MAXMSGSIZE, self.max_bulk_size + 4096)

    def refusal(self, peer: bytes, payload: bytes) -> str | None:
        """Why this message from `peer` is refused, or None to handle it (logged when refused)."""
        if len(payload) <= self.max_size:
            return None
        command = _COMMAND.search(payload[:64])
        name = command.group(1) if command else b"?"
        limit = self.max_bulk_size if name in BULK_COMMANDS else self.max_size
        if len(payload) <= limit:
            return None
        reason = (f"message of {len(payload):,} bytes ({name.decode()}) is larger than "
                  f"{'MAX_SUBMIT_MESSAGE_SIZE' if name in BULK_COMMANDS else 'MAX_MESSAGE_SIZE'} ({limit:,} bytes)")
        now = time.monotonic()
        if now - self._last_logged.get(peer, -LOG_EVERY) >= LOG_EVERY:
            if len(self._last_logged) > 10_000:
                self._last_logged.clear()
            self._last_logged[peer] = now
            self.log(f"Refused a {reason} from peer {peer.hex()}, without decoding it")
        return reason
