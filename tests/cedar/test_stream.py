"""CEDAR framing, value and ClassAd codecs, AES-GCM packets and the handshake, over real sockets."""
import getpass
import socket
import struct
import threading

import pytest

from condorsim.shared.cedar import ProtocolError, Refused, ServerSecurity, Stream, start_command
from condorsim.shared.cedar.stream import MAX_PACKET
from condorsim.shared.classad import ClassAd


def pair(timeout=5.0):
    a, b = socket.socketpair()
    return Stream(a, timeout), Stream(b, timeout)


def test_values_round_trip_across_packets():
    left, right = pair()
    left.put_int(-5)
    left.put_char(7)
    left.put_double(3.25)
    left.put_str("x" * 40_000)  # spans two packets
    left.put_str(None)
    left.put_str("héllo")
    left.end_message()
    left.flush()
    assert right.get_int() == -5
    assert right.get_char() == 7
    assert right.get_double() == pytest.approx(3.25)
    assert right.get_str() == "x" * 40_000
    assert right.get_str() is None
    assert right.get_str() == "héllo"
    assert right.at_end_of_message()
    right.end_of_input()


def test_integers_are_eight_bytes_big_endian():
    left, right = pair()
    left.put_int(60010)
    left.end_message()
    left.flush()
    header = right.sock.recv(5)
    assert header == b"\x01\x00\x00\x00\x08"
    assert right.sock.recv(8) == struct.pack(">q", 60010)


def test_classad_round_trip_with_projection():
    left, right = pair()
    ad = ClassAd({"Name": 'slot1@h "q"', "Cpus": 4, "Memory": 1.5, "Requirements": True})
    ad.set_expr("Rank", "TARGET.Memory * 2")
    left.put_ad(ad)
    left.put_ad(ad, projection={"name"})
    left.end_message()
    left.flush()
    got = right.get_ad()
    assert got.eval("Name") == 'slot1@h "q"' and got.eval("Cpus") == 4
    assert str(got.lookup("Rank")) == str(ad.lookup("Rank"))
    assert list(right.get_ad()) == ["Name"]


@pytest.mark.parametrize("header", [b"\x01\x00\x00\x00\x00", b"\x01\xff\xff\xff\xff",
                                    b"\x01" + struct.pack(">i", MAX_PACKET + 100), b"\x63\x00\x00\x00\x01"])
def test_bad_headers_are_refused(header):
    left, right = pair()
    left.sock.sendall(header + b"\0" * 8)
    with pytest.raises(ProtocolError):
        right.get_int()


def test_truncated_message_and_unterminated_string():
    left, right = pair()
    left.put_int(3)
    left.end_message()
    left.flush()
    right.get_int()
    with pytest.raises(ProtocolError, match="too soon"):
        right.get_int()
    left.out += b"abc"  # no NUL
    left.end_message()
    left.flush()
    right.end_of_input()
    with pytest.raises(ProtocolError, match="past the end"):
        right.get_str()


def test_a_peer_that_goes_quiet_times_out():
    left, right = pair(timeout=0.2)
    left.sock.sendall(b"\x01\x00\x00\x00\x08\x00")  # promises 8 bytes, sends 1
    with pytest.raises(ProtocolError, match="timed out"):
        right.get_int()


def test_encrypted_packets_round_trip_and_tampering_is_detected():
    left, right = pair()
    key = bytes(range(32))
    left.put_str("clear")
    left.end_message()
    left.flush()
    assert right.get_str() == "clear"
    right.end_of_input()
    left.set_crypto(key)
    right.set_crypto(key)
    for text in ("one", "two"):
        left.put_str(text)
        left.end_message()
        left.flush()
        assert right.get_str() == text
        right.end_of_input()
    right.put_str("back")
    right.end_message()
    right.flush()
    assert left.get_str() == "back"
    left.put_int(1)
    left.end_message()
    left.flush()
    data = bytearray(right.sock.recv(100))
    data[-1] ^= 1
    left.sock.sendall(bytes(data))  # the same packet again, one bit flipped
    with pytest.raises(ProtocolError, match="authentication"):
        right.get_int()


def serve_once(security, listener, results):
    conn, _ = listener.accept()
    stream = Stream(conn, 5)
    try:
        results.append(security.accept(stream))
        if results[-1][0] == 1112:
            stream.put_str(f"hello {results[-1][1].user}")
            stream.end_message()
    except ProtocolError as exc:
        results.append(exc)
    finally:
        stream.close()


def served(security):
    """A one-connection server in a thread; returns the client's stream, the thread, its results."""
    listener = socket.create_server(("127.0.0.1", 0))
    results = []
    thread = threading.Thread(target=serve_once, args=(security, listener, results))
    thread.start()
    return Stream(socket.create_connection(listener.getsockname()), 5), thread, results


@pytest.mark.parametrize("authenticate,encrypt", [(False, False), (True, True)])
def test_handshake_with_fs_and_aes(authenticate, encrypt):
    security = ServerSecurity("$CondorVersion: 25.14.0 $", read_commands={5}, write_commands={1112})
    client, thread, results = served(security)
    command = 1112 if authenticate else 5
    session = start_command(client, command, authenticate=authenticate, encrypt=encrypt)
    if authenticate:
        assert client.get_str() == f"hello {getpass.getuser()}"
    thread.join(5)
    command_seen, server_session = results[0]
    assert command_seen == command and session.eval("Sid") == server_session.sid
    assert server_session.encryption is encrypt and client.encrypting  # the ECDH key seals the stream anyway
    assert server_session.user == (getpass.getuser() if authenticate else None)
    assert ("1112" in session.eval("ValidCommands").split(",")) is authenticate


def test_writes_without_authentication_are_refused():
    client, thread, results = served(ServerSecurity("v", read_commands={5}, write_commands={1112}))
    client.put_int(60010)
    client.put_ad(ClassAd({"Command": 1112, "NewSession": "YES", "Authentication": "NEVER"}))
    client.end_message()
    client.flush()
    thread.join(5)
    assert isinstance(results[0], Refused) and "never" in str(results[0])
