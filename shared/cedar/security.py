"""The security handshake of a CEDAR connection (HTCondor's DC_AUTHENTICATE), server and client.

condorsim's policy, in HTCondor's terms: AUTHENTICATION, ENCRYPTION and INTEGRITY are OPTIONAL
for reads and AUTHENTICATION is REQUIRED for writes; the only authentication method is FS (the
owner of a directory the client creates proves its Unix user: one host only); the only crypto is
ECDH (prime256v1) + AES-256-GCM. A client that requires something else is refused with a log
line saying what; it is never silently given less.
"""
from __future__ import annotations

import base64
import itertools
import os
import pwd
import secrets
import socket
import stat
import tempfile
import threading
import time
from dataclasses import dataclass

from condorsim.shared.classad import ClassAd
from condorsim.shared.cedar.commands import DC_AUTHENTICATE
from condorsim.shared.cedar.stream import ProtocolError, Stream

AUTH_FS = 4
SESSION_DURATION = 86400
MAX_SESSIONS = 10_000  # past this, the oldest sessions are forgotten (their clients make new ones)
NEGOTIATION_AD_MAX_ATTRIBUTES = 100
LEVELS = ("NEVER", "OPTIONAL", "PREFERRED", "REQUIRED")


class Refused(ProtocolError):
    """The peer asked for something this server does not grant; the text says what."""


@dataclass
class Session:
    sid: str
    user: str | None          # the FS-authenticated Unix user, None for an anonymous session
    key: bytes | None
    encryption: bool
    valid_commands: set[int]
    expires: float


def text(ad: ClassAd, name: str) -> str:
    """A string attribute of a peer's ad; anything else (missing, a number, an error) is ""."""
    value = ad.eval(name)
    return value if isinstance(value, str) else ""


def level(ad: ClassAd, name: str, default: str = "OPTIONAL") -> str:
    value = ad.eval(name)
    value = value.upper() if isinstance(value, str) else default
    return value if value in LEVELS else default


def reconcile(client: str, server: str) -> bool | None:
    """HTCondor's rule for one feature: True (YES), False (NO), or None (the two cannot agree)."""
    if "REQUIRED" in (client, server):
        return None if "NEVER" in (client, server) else True
    if "PREFERRED" in (client, server):
        return "NEVER" not in (client, server)
    return False


def ecdh_keypair():
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1())


def encode_public_key(private) -> str:
    from cryptography.hazmat.primitives import serialization
    raw = private.public_key().public_bytes(serialization.Encoding.X962,
                                            serialization.PublicFormat.UncompressedPoint)
    return base64.b64encode(raw).decode()


def derive_key(private, peer_encoded: str) -> bytes:
    """The session key: HKDF-SHA256 of the ECDH secret, salt 'htcondor', info 'keygen'."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    try:
        peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), base64.b64decode(peer_encoded))
        shared = private.exchange(ec.ECDH(), peer)
    except (ValueError, TypeError):
        raise ProtocolError("the peer's ECDH public key is malformed") from None
    return HKDF(hashes.SHA256(), 32, salt=b"htcondor", info=b"keygen").derive(shared)


class ServerSecurity:
    """One daemon's side of the handshake: its session cache and which commands need a user."""

    def __init__(self, version: str, read_commands: set[int], write_commands: set[int],
                 fs_dir: str = "/tmp", log=lambda message: None, may_write=lambda user: True):
        self.version = version
        self.log = log
        self.may_write = may_write  # the daemon's ALLOW_WRITE/DENY_WRITE policy for an authenticated user
        self.read_commands = set(read_commands) | {DC_AUTHENTICATE}
        self.write_commands = set(write_commands)
        self.fs_dir = fs_dir
        self.sessions: dict[str, Session] = {}
        self.sessions_lock = threading.Lock()  # connection threads share the cache
        self.serial = itertools.count(1)

    def accept(self, stream: Stream) -> tuple[int, Session | None]:
        """Read a connection's command, run the handshake it asks for; return the command and its
        session (None when the client skipped negotiation: then the payload follows at once)."""
        command = stream.get_int()
        if command != DC_AUTHENTICATE:
            return command, None
        request = stream.get_ad(NEGOTIATION_AD_MAX_ATTRIBUTES)
        stream.end_of_input()
        if text(request, "UseSession").upper() == "YES":
            return self.resume(stream, request)
        return self.new_session(stream, request)

    # -- resuming ---------------------------------------------------------------------------
    def resume(self, stream: Stream, request: ClassAd) -> tuple[int, Session]:
        sid = request.eval("Sid")
        with self.sessions_lock:
            self.expire()
            session = self.sessions.get(sid) if isinstance(sid, str) else None
        command = request.eval("Command")
        if not isinstance(command, int):
            raise ProtocolError("resume request without a Command")
        if session is None:
            if request.eval("ResumeResponse") is True:
                reply = ClassAd({"ReturnCode": "SID_NOT_FOUND"})
                stream.put_ad(reply)
                stream.end_message()
            raise Refused(f"unknown security session {str(sid)[:80]!r}")
        if request.eval("ResumeResponse") is True:  # in clear; the session key seals what follows
            stream.put_ad(ClassAd({"ReturnCode": "AUTHORIZED", "RemoteVersion": self.version,
                                   "Nonce": base64.b64encode(os.urandom(33)).decode()}))
            stream.end_message()
        if command not in session.valid_commands:
            raise Refused(f"command {command} is not valid in session {session.sid}")
        stream.set_crypto(session.key)
        return command, session

    # -- a new session ----------------------------------------------------------------------
    def new_session(self, stream: Stream, request: ClassAd) -> tuple[int, Session]:
        command = request.eval("Command")
        if command == DC_AUTHENTICATE and isinstance(request.eval("AuthCommand"), int):
            wanted = request.eval("AuthCommand")
        else:
            wanted = command
        if not isinstance(wanted, int):
            raise ProtocolError("security request without a Command")
        if wanted not in self.read_commands and wanted not in self.write_commands:
            raise Refused(f"command {wanted} is not served here")
        writes = wanted in self.write_commands
        authenticate = reconcile(level(request, "Authentication"), "REQUIRED" if writes else "OPTIONAL")
        encrypt = reconcile(level(request, "Encryption"), "OPTIONAL")
        integrity = reconcile(level(request, "Integrity"), "OPTIONAL")
        if authenticate is None:
            raise Refused(f"command {wanted} needs authentication, which the client will never do")
        if encrypt is None or integrity is None:
            raise Refused("the client's encryption/integrity policy cannot be reconciled")
        methods = {m.strip().upper() for m in text(request, "AuthMethods").split(",")}
        if authenticate and "FS" not in methods:
            if writes or level(request, "Authentication") == "REQUIRED":
                raise Refused(f"no common authentication method (client offers {sorted(methods)}, "
                              f"this server has FS)")
            authenticate = False
        crypto = {m.strip().upper() for m in text(request, "CryptoMethods").split(",")}
        peer_key = text(request, "ECDHPublicKey")
        can_crypt = "AES" in crypto and bool(peer_key)
        encrypt = encrypt or integrity  # AES-GCM gives integrity only by sealing every packet
        if encrypt and not can_crypt:
            raise Refused(f"the client requires encryption or integrity but offers no AES with an ECDH key "
                          f"(methods {sorted(crypto)})")
        private = ecdh_keypair() if can_crypt else None
        reply = ClassAd()
        reply["Authentication"] = "YES" if authenticate else "NO"
        reply["Encryption"] = "YES" if encrypt else "NO"
        reply["Integrity"] = "YES" if encrypt else "NO"
        reply["Enact"] = "YES"
        reply["SessionDuration"] = str(SESSION_DURATION)
        reply["SessionLease"] = 3600
        reply["RemoteVersion"] = self.version
        reply["NegotiatedSession"] = True
        if authenticate:
            reply["AuthMethods"] = "FS"
            reply["AuthMethodsList"] = "FS"
        if private is not None:
            reply["CryptoMethods"] = "AES"
            reply["CryptoMethodsList"] = "AES"
            reply["ECDHPublicKey"] = encode_public_key(private)
        if text(request, "Enact").upper() != "YES":
            stream.put_ad(reply)
            stream.end_message()
        user = self.authenticate_fs(stream) if authenticate else None
        key = derive_key(private, peer_key) if private is not None else None
        stream.set_crypto(key)
        sid = f"{socket.gethostname()}:{os.getpid()}:{int(time.time())}:{next(self.serial)}"
        valid = self.read_commands | (self.write_commands if user and self.may_write(user) else set())
        answer = ClassAd()
        if user:
            answer["User"] = f"{user}@{socket.gethostname()}"
            answer["TriedAuthentication"] = True
        answer["Sid"] = sid
        answer["ValidCommands"] = ",".join(str(c) for c in sorted(valid))
        answer["ReturnCode"] = "AUTHORIZED" if wanted in valid else "DENIED"
        stream.put_ad(answer)
        stream.end_message()
        if wanted not in valid:
            raise Refused(f"command {wanted} needs an authenticated user allowed to write")
        session = Session(sid, user, key, encrypt, valid, time.time() + SESSION_DURATION)
        with self.sessions_lock:
            self.sessions[sid] = session
            while len(self.sessions) > MAX_SESSIONS:
                del self.sessions[next(iter(self.sessions))]
        self.log(f"CEDAR: new session {sid} for command {wanted}: user {user or '(anonymous)'}, "
                 f"authentication {reply.eval('Authentication')}, encryption {reply.eval('Encryption')}")
        return command, session

    def expire(self) -> None:
        """Forget expired sessions (called with sessions_lock held)."""
        now = time.time()
        for sid in [sid for sid, s in self.sessions.items() if s.expires < now]:
            del self.sessions[sid]

    # -- FS authentication ------------------------------------------------------------------
    def authenticate_fs(self, stream: Stream, exchange_key: bool = True) -> str:
        """Run the method handshake and FS; return the Unix user name, or raise Refused.
        Inside DC_AUTHENTICATE the client then expects exchangeKey's answer; a client that skipped
        negotiation authenticates inside the command itself, with no key exchange."""
        offered = stream.get_int()
        stream.end_of_input()
        chosen = AUTH_FS if offered & AUTH_FS else 0
        stream.put_int(chosen)
        stream.end_message()
        if not chosen:
            raise Refused(f"no common authentication method (client bitmask {offered:#x}, this server has FS)")
        my_ip, my_port = stream.sock.getsockname()[:2]
        fd, path = tempfile.mkstemp(prefix=f"FS_{my_ip}_{my_port}_", dir=self.fs_dir)
        os.close(fd)
        os.unlink(path)
        path += "_"
        stream.put_str(path)
        stream.end_message()
        result = stream.get_int()
        extension = "" if stream.at_end_of_message() else (stream.get_str() or "")
        stream.end_of_input()
        user, reason = None, "the client could not create the directory"
        if extension not in ("", f"{my_ip}:{my_port}"):
            reason = f"the FS extension {extension[:80]!r} does not name this server"
        elif result != -1:
            user = self.directory_owner(path + extension)
            reason = "the directory is missing or is not a plain directory"
        stream.put_int(0 if user else -1)
        stream.end_message()
        if not user:
            raise Refused(f"FS authentication failed: {reason}")
        if exchange_key:
            stream.put_int(0)  # exchangeKey: the session key comes from ECDH, not from here
            stream.end_message()
        return user

    @staticmethod
    def directory_owner(path: str) -> str | None:
        try:
            info = os.lstat(path)
        except OSError:
            return None
        try:
            if not stat.S_ISDIR(info.st_mode) or info.st_nlink > 2:
                return None
            return pwd.getpwuid(info.st_uid).pw_name
        except KeyError:
            return None
        finally:
            try:
                os.rmdir(path)
            except OSError:
                pass


def start_command(stream: Stream, command: int, authenticate: bool = False, encrypt: bool = False,
                  version: str = "$CondorVersion: 25.14.0 $") -> ClassAd:
    """Client side: open a new session for `command` on a connected stream; returns the session ad.
    (condorsim's own client: FS authentication and ECDH + AES-GCM when asked, no session reuse.)"""
    private = ecdh_keypair()
    request = ClassAd()
    request["Command"] = command
    request["NewSession"] = "YES"
    request["Authentication"] = "REQUIRED" if authenticate else "OPTIONAL"
    request["Encryption"] = "REQUIRED" if encrypt else "OPTIONAL"
    request["Integrity"] = "REQUIRED" if encrypt else "OPTIONAL"
    request["AuthMethods"] = "FS"
    request["CryptoMethods"] = "AES"
    request["ECDHPublicKey"] = encode_public_key(private)
    request["RemoteVersion"] = version
    request["Enact"] = "NO"
    stream.put_int(DC_AUTHENTICATE)
    stream.put_ad(request)
    stream.end_message()
    reply = stream.get_ad(NEGOTIATION_AD_MAX_ATTRIBUTES)
    stream.end_of_input()
    if reply.eval("Authentication") == "YES":
        fs_client(stream)
    peer_key = reply.eval("ECDHPublicKey")
    key = derive_key(private, peer_key) if isinstance(peer_key, str) else None
    stream.set_crypto(key)
    session = stream.get_ad(NEGOTIATION_AD_MAX_ATTRIBUTES)
    stream.end_of_input()
    if session.eval("ReturnCode") not in ("AUTHORIZED", None):
        raise Refused(f"the server refused command {command}: {session.eval('ReturnCode')}")
    return session


def fs_client(stream: Stream) -> None:
    stream.put_int(AUTH_FS)
    stream.end_message()
    if stream.get_int() != AUTH_FS:
        raise Refused("the server chose no authentication method")
    stream.end_of_input()
    path = stream.get_str() or ""
    stream.end_of_input()
    ip, port = stream.sock.getpeername()[:2]
    extension = f"{ip}:{port}" if path.endswith("_") else ""
    result = 0
    try:
        os.mkdir(path + extension, 0o700)
    except OSError:
        result = -1
    stream.put_int(result)
    if extension:
        stream.put_str(extension)
    stream.end_message()
    ok = stream.get_int() == 0
    stream.end_of_input()
    if not ok:
        raise Refused("FS authentication failed")
    stream.get_int()  # exchangeKey's hasKey
    stream.end_of_input()
