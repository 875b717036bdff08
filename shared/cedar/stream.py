"""A CEDAR stream over TCP: packet framing, value codecs, ClassAds, and AES-256-GCM packets.

A message is a run of packets (5-byte header: end flag, big-endian body length) ending with the
first packet whose flag is set. Every read is bounded: a packet length outside 1 .. 1 MiB, too
many packets in one message, or a message over MAX_MESSAGE bytes ends the connection with a
ProtocolError, as does a peer that goes quiet for longer than the stream's timeout.
"""
from __future__ import annotations

import hashlib
import math
import os
import socket
import struct

from condorsim.shared.classad import ClassAd, ClassAdSyntaxError, parse_expr
from condorsim.shared.classad.expr import Expr
from condorsim.shared.classad.parser import parse_node_prefix

MAX_PACKET = 1024 * 1024
MAX_PACKETS_PER_MESSAGE = 1024
MAX_MESSAGE = 16 * 1024 * 1024
MAX_AD_ATTRIBUTES = 100_000
SEND_CHUNK = 32 * 1024
FRAC_CONST = 2147483647
IV_SIZE, TAG_SIZE = 16, 16
NULL_STRING = b"\xff"


# (name, wire text) -> the string "Name = old text" as a stream puts it, in clear and sealed streams
_LINES: dict[tuple[str, str], bytes] = {}
_SEALED_LINES: dict[tuple[str, str], bytes] = {}


def old_text(text: str) -> str:
    """The old-ClassAd form of an expression's (new-style) text, as put_ad sends a parsed one."""
    if text.isascii() and text.isdigit() or text in ("true", "false", "undefined") \
            or (text[:1] == '"' and text.count('"') == 2 and text[-1] == '"' and "\\" not in text):
        return text  # a plain integer, boolean or string reads the same in both forms
    return parse_expr(text).old_text()  # parse_expr keeps each distinct text's Expr, and so its old text


class ProtocolError(Exception):
    """The peer broke the protocol (or went away); the connection must be closed."""


class AesGcm:
    """One direction's AES-256-GCM state: the IV picked for it and the packet counter."""

    def __init__(self, key: bytes, iv: bytes | None = None):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        self.aead = AESGCM(key)
        self.iv = iv
        self.count = 0

    def packet_iv(self) -> bytes:
        counter = (int.from_bytes(self.iv[:4], "big") + self.count) & 0xFFFFFFFF
        return counter.to_bytes(4, "big") + self.iv[4:]

    def seal(self, body: bytes, aad: bytes) -> bytes:
        first = self.iv is None
        if first:
            self.iv = os.urandom(IV_SIZE)
        sealed = self.aead.encrypt(self.packet_iv(), body, aad)
        self.count += 1
        return (self.iv if first else b"") + sealed

    def open(self, data: bytes, aad: bytes) -> bytes:
        if self.iv is None:
            if len(data) < IV_SIZE + TAG_SIZE:
                raise ProtocolError("first encrypted packet is shorter than its IV and tag")
            self.iv, data = data[:IV_SIZE], data[IV_SIZE:]
        from cryptography.exceptions import InvalidTag
        try:
            body = self.aead.decrypt(self.packet_iv(), data, aad)
        except (InvalidTag, ValueError):
            raise ProtocolError("an encrypted packet failed authentication") from None
        self.count += 1
        return body


class Stream:
    """Both directions of one CEDAR connection (blocking, with a timeout on every read)."""

    def __init__(self, sock: socket.socket, timeout: float = 20.0):
        self.sock = sock
        sock.settimeout(timeout)
        self.out = bytearray()
        self.unsent = bytearray()  # whole packets waiting for one sendall (flushed before any read)
        self.inbuf = b""
        self.inpos = 0
        self.in_started = False
        self.in_complete = False
        self.in_packets = 0
        self.encrypting = False
        self.sealer: AesGcm | None = None
        self.opener: AesGcm | None = None
        self.sent_digest = hashlib.sha256()   # cleartext packets sent before encryption began
        self.recv_digest = hashlib.sha256()
        self.handshake_digests: tuple[bytes, bytes] | None = None  # (sent, received), once final
        self.first_sealed = self.first_opened = False

    # -- encryption -----------------------------------------------------------------------
    def set_crypto(self, key: bytes | None) -> None:
        """Install the session key: from here on every packet in both directions is sealed
        (an AES-GCM stream in HTCondor has no clear mode once its key is set)."""
        if key is None:
            return
        if len(key) != 32:
            raise ProtocolError("AES-256-GCM needs a 32-byte session key")
        if self.sealer is None:
            self.sealer, self.opener = AesGcm(key), AesGcm(key)
        self.encrypting = True

    def _aad(self, header: bytes, sending: bool) -> bytes:
        first = not self.first_sealed if sending else not self.first_opened
        if not first:
            return header
        if self.handshake_digests is None:
            self.handshake_digests = (self.sent_digest.digest(), self.recv_digest.digest())
        sent, received = self.handshake_digests
        return (sent + received if sending else received + sent) + header

    # -- sending --------------------------------------------------------------------------
    def put_int(self, value: int) -> None:
        self.out += struct.pack(">q", int(value))

    def put_char(self, value: int) -> None:
        self.out.append(value & 0xFF)

    def put_double(self, value: float) -> None:
        frac, exp = math.frexp(value)
        self.put_int(int(frac * FRAC_CONST))
        self.put_int(exp)

    def put_str(self, value: str | None) -> None:
        self.out += self._string(value)

    def _string(self, value: str | None) -> bytes:
        data = NULL_STRING if value is None else value.encode("utf-8", "surrogateescape") + b"\0"
        return struct.pack(">q", len(data)) + data if self.encrypting else data

    def put_ad(self, ad: ClassAd, projection: set[str] | None = None) -> None:
        """An ad as CEDAR sends it: a count, one ``Name = expr`` line per attribute, two legacy slots."""
        names = ad._names
        lines = [f"{names[key]} = {expr.old_text()}" for key, expr in ad._exprs.items()
                 if projection is None or key in projection]
        self.put_int(len(lines))
        self.out += b"".join(map(self._string, lines)) + self._string("") * 2

    def put_wire(self, wire: dict[str, str], projection: set[str] | None = None) -> None:
        """The same for an ad in its wire form (name -> expression text), as the schedd's queries
        project it. Each line is made once: the attributes jobs share read the same in every ad."""
        made = _SEALED_LINES if self.encrypting else _LINES
        items = wire.items() if projection is None else [item for item in wire.items()
                                                          if item[0].lower() in projection]
        lines = [made.get(item) or self._wire_line(made, item) for item in items]
        self.put_int(len(lines))
        self.out += b"".join(lines) + self._string("") * 2

    def _wire_line(self, made: dict[tuple[str, str], bytes], item: tuple[str, str]) -> bytes:
        line = made[item] = self._string(f"{item[0]} = {old_text(item[1])}")
        if len(made) > 20_000:
            made.clear()
        return line

    def end_message(self) -> None:
        """Send what was put since the last end of message (nothing at all when nothing was)."""
        data, self.out = bytes(self.out), bytearray()
        for start in range(0, len(data), SEND_CHUNK):
            body = data[start:start + SEND_CHUNK]
            last = start + SEND_CHUNK >= len(data)
            self._send_packet(body, last)

    def _send_packet(self, body: bytes, last: bool) -> None:
        flag = b"\x01" if last else b"\x00"
        if self.encrypting:
            length = len(body) + TAG_SIZE + (IV_SIZE if self.sealer.iv is None else 0)
            header = flag + struct.pack(">i", length)
            body = self.sealer.seal(body, self._aad(header, sending=True))
            self.first_sealed = True
        else:
            header = flag + struct.pack(">i", len(body))
            if self.handshake_digests is None:
                self.sent_digest.update(header + body)
        self.unsent += header + body
        if len(self.unsent) >= SEND_CHUNK:
            self.flush()

    def flush(self) -> None:
        """Put every finished packet on the wire (done before each read and at close)."""
        if self.unsent:
            data, self.unsent = bytes(self.unsent), bytearray()
            try:
                self.sock.sendall(data)
            except OSError as exc:
                raise ProtocolError(f"send failed: {exc}") from None

    # -- receiving ------------------------------------------------------------------------
    def _recv_exact(self, count: int) -> bytes:
        self.flush()
        chunks, left = [], count
        while left:
            try:
                chunk = self.sock.recv(min(left, 65536))
            except socket.timeout:
                raise ProtocolError("timed out waiting for the peer") from None
            except OSError as exc:
                raise ProtocolError(f"receive failed: {exc}") from None
            if not chunk:
                raise ProtocolError("the peer closed the connection")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _read_packet(self) -> None:
        header = self._recv_exact(5)
        end, length = header[0], struct.unpack(">i", header[1:])[0]
        if end > 10:
            raise ProtocolError(f"unrecognized packet header {header.hex()}")
        if length <= 0 or length > MAX_PACKET + IV_SIZE + TAG_SIZE:
            raise ProtocolError(f"bad packet length {length}")
        self.in_packets += 1
        if self.in_packets > MAX_PACKETS_PER_MESSAGE or len(self.inbuf) + length > MAX_MESSAGE:
            raise ProtocolError("message too large")
        body = self._recv_exact(length)
        if self.encrypting:
            body = self.opener.open(body, self._aad(header, sending=False))
            self.first_opened = True
        elif self.handshake_digests is None:
            self.recv_digest.update(header + body)
        self.inbuf = self.inbuf[self.inpos:] + body
        self.inpos = 0
        self.in_started = True
        self.in_complete = end != 0

    def _need(self, count: int) -> None:
        while len(self.inbuf) - self.inpos < count:
            if self.in_complete:
                raise ProtocolError("message ended too soon")
            self._read_packet()

    def get_bytes(self, count: int) -> bytes:
        self._need(count)
        data = self.inbuf[self.inpos:self.inpos + count]
        self.inpos += count
        return data

    def get_int(self) -> int:
        return struct.unpack(">q", self.get_bytes(8))[0]

    def get_char(self) -> int:
        return self.get_bytes(1)[0]

    def get_double(self) -> float:
        frac, exp = self.get_int(), self.get_int()
        if not -2100 < exp < 2100:
            raise ProtocolError(f"bad double exponent {exp}")
        return math.ldexp(frac / FRAC_CONST, exp)

    def get_str(self) -> str | None:
        if self.encrypting:
            length = self.get_int()
            if length < 0 or length > MAX_MESSAGE:
                raise ProtocolError(f"bad string length {length}")
            data = self.get_bytes(length)
            if data[:1] == NULL_STRING:
                return None
            return data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        self._need(1)
        if self.inbuf[self.inpos] == 0xFF:
            self.inpos += 1
            return None
        while True:
            end = self.inbuf.find(b"\0", self.inpos)
            if end >= 0:
                data = self.inbuf[self.inpos:end]
                self.inpos = end + 1
                return data.decode("utf-8", "surrogateescape")
            if self.in_complete:
                raise ProtocolError("string runs past the end of its message")
            self._read_packet()

    def get_ad(self, max_attributes: int = MAX_AD_ATTRIBUTES) -> ClassAd:
        """An ad sent with putClassAd; a malformed line is a ProtocolError naming it."""
        count = self.get_int()
        if count < 0 or count > max_attributes:
            raise ProtocolError(f"bad ClassAd attribute count {count}")
        ad = ClassAd()
        for _ in range(count):
            line = self.get_str() or ""
            if line == "ZKM":  # a private attribute; with no session crypto it travels in clear
                line = self.get_str() or ""
            name, eq, text = line.partition("=")
            name = name.strip()
            if not eq or not name:
                raise ProtocolError(f"bad ClassAd line {line[:80]!r}")
            try:
                ad[name] = Expr(parse_node_prefix(text))
            except (ClassAdSyntaxError, RecursionError) as exc:
                raise ProtocolError(f"bad expression for {name}: {exc}") from None
        for _ in range(2):  # legacy MyType / TargetType slots
            legacy = self.get_str()
            if legacy and "MyType" not in ad:
                ad["MyType"] = legacy
        return ad

    def at_end_of_message(self) -> bool:
        """True when everything of the current, fully received message has been read."""
        return self.in_started and self.in_complete and self.inpos >= len(self.inbuf)

    def end_of_input(self) -> None:
        """Finish reading a message: the rest of it, if any, is discarded."""
        if self.in_started:
            while not self.in_complete:
                self._read_packet()
        self.inbuf, self.inpos = b"", 0
        self.in_started = self.in_complete = False
        self.in_packets = 0

    def close(self) -> None:
        try:
            self.flush()
        except ProtocolError:
            pass  # the peer is gone; nothing more to tell it
        try:
            self.sock.close()
        except OSError:
            pass
