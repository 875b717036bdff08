"""A daemon's CEDAR door: a listening TCP socket, one thread per connection.

Connection threads do all their socket I/O on their own and take the daemon's lock only while a
handler reads or changes daemon state, so a slow or hostile client never stalls the event loop.
Whatever a client sends, the worst outcome is its connection closed with a line in the log.
"""
from __future__ import annotations

import socket
import threading
import traceback
from typing import Callable

from condorsim.shared.cedar.commands import DC_AUTHENTICATE, NAMES
from condorsim.shared.cedar.security import ServerSecurity, Session
from condorsim.shared.cedar.stream import ProtocolError, Stream

Handler = Callable[[Stream, "Session | None", int], None]
MAX_CONNECTIONS = 64


class CedarServer:
    def __init__(self, security: ServerSecurity, handlers: dict[int, Handler],
                 log: Callable[[str], None], timeout: float = 20.0):
        self.security = security
        self.handlers = handlers
        self.log = log
        self.timeout = timeout
        self.listener: socket.socket | None = None
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.port = 0

    def bind(self, port: int = 0) -> int:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, name="cedar-accept", daemon=True).start()
        return self.port

    def _accept_loop(self) -> None:
        while True:
            try:
                conn, peer = self.listener.accept()
            except OSError:
                return  # closed at shutdown
            if not self.slots.acquire(blocking=False):
                self.log(f"CEDAR: too many connections; closing the one from {peer[0]}:{peer[1]}")
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn, peer), daemon=True).start()

    def _serve(self, conn: socket.socket, peer) -> None:
        stream = Stream(conn, self.timeout)
        where = f"{peer[0]}:{peer[1]}"
        command = None
        try:
            command, session = self.security.accept(stream)
            if command == DC_AUTHENTICATE:
                return  # the client only wanted a session
            handler = self.handlers.get(command)
            if handler is None:
                raise ProtocolError(f"unknown command {command}")
            handler(stream, session, command)
        except ProtocolError as exc:
            name = NAMES.get(command, command) if command is not None else "(none)"
            self.log(f"CEDAR: closed the connection from {where} (command {name}): {exc}")
        except Exception:  # a daemon never dies from what a client sends
            self.log(f"CEDAR: ERROR serving {where}:\n{traceback.format_exc()}")
        finally:
            stream.close()
            self.slots.release()

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()
