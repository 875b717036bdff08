"""Authorization policy: HTCondor's levels, ALLOW/DENY matching, the SECURITY metaknobs; TCP
peers are unauthenticated; condor_ping reports what a requester may do."""
from __future__ import annotations

import os
import pwd
import tempfile

import pytest

from condorsim.shared.config import load_config
from condorsim.shared.locate import query_ads
from condorsim.shared.pool import PersonalPool, PoolError
from condorsim.shared.protocol import Client, RemoteError, zmq_port_of
from condorsim.shared.security import UNAUTHENTICATED, Identity, Policy, denied_text

from .conftest import needs_root

ROOT = Identity("root@host.example", 0, 0, 1)
ALICE = Identity("alice@host.example", 1001, 1001, 2)
ANONYMOUS = Identity(UNAUTHENTICATED)


def policy(text: str = "", owner_uid: int = 0) -> Policy:
    with tempfile.NamedTemporaryFile("w", suffix=".config") as config:
        config.write(f"UID_DOMAIN = host.example\nFULL_HOSTNAME = host.example\n{text}\n")
        config.flush()
        cfg = load_config(subsystem="SCHEDD", root=config.name, env={})
    return Policy(cfg, "SCHEDD", owner_uid=owner_uid)


def allowed(p: Policy, identity: Identity, *levels: str) -> list[bool]:
    return [p.refusal(identity, level) is None for level in levels]


LEVELS = ("READ", "WRITE", "ADMINISTRATOR", "DAEMON", "NEGOTIATOR")


def test_defaults_are_htcondors_recommended_policy_with_the_pool_account_as_service():
    root_pool = policy()
    assert allowed(root_pool, ROOT, *LEVELS) == [True] * 5
    assert allowed(root_pool, ALICE, *LEVELS) == [True, True, False, False, False]
    assert allowed(root_pool, ANONYMOUS, *LEVELS) == [True, False, False, False, False]
    # A pool run by alice: only alice may write (HTCondor's security:user_based); root administers.
    alices_pool = policy(owner_uid=1001)
    bob = Identity("bob@host.example", 1002, 1002, 3)
    assert alices_pool.owner != "root"
    assert allowed(alices_pool, bob, *LEVELS) == [True, False, False, False, False]
    assert allowed(alices_pool, ROOT, "ADMINISTRATOR", "DAEMON") == [True, False]


def test_allow_and_deny_entries_match_users_hosts_and_wildcards():
    p = policy("ALLOW_WRITE = root@*, */127.0.0.1\nDENY_WRITE = alice@host.example\n"
               "ALLOW_ADMINISTRATOR = al*@host.example/localhost\nDENY_READ = carl@*")
    assert allowed(p, ROOT, "WRITE") == [True]
    assert allowed(p, ALICE, "READ", "WRITE", "ADMINISTRATOR") == [True, False, False]  # DENY wins, above too
    alfred = Identity("alfred@host.example", 1005, 1005, 6)
    assert allowed(p, alfred, "ADMINISTRATOR", "WRITE", "DAEMON") == [True, True, False]  # ADMINISTRATOR implies WRITE
    carol = Identity("carol@host.example", 1003, 1003, 4)
    assert allowed(p, carol, "WRITE") == [True]  # */127.0.0.1: any authenticated user from this host
    assert allowed(policy("ALLOW_WRITE_SCHEDD = root@*\nALLOW_WRITE = *"), ALICE, "WRITE") == [False]
    assert "no matching ALLOW entry" in policy("ALLOW_READ = root@*\nALLOW_WRITE = root@*").refusal(ALICE, "READ")
    carl = Identity("carl@host.example", 1004, 1004, 5)
    assert allowed(p, carl, "READ", "WRITE") == [False, False]  # a DENY_READ holds for WRITE too


def test_security_strong_refuses_unauthenticated_reads():
    assert allowed(policy("use SECURITY : Strong"), ANONYMOUS, "READ") == [False]
    assert allowed(policy("use SECURITY : Strong"), ALICE, "READ", "WRITE") == [True, True]
    assert allowed(policy("use SECURITY : Strong\nSEC_READ_AUTHENTICATION = OPTIONAL"), ANONYMOUS, "READ") == [True]


def test_queue_super_users():
    p = policy("QUEUE_SUPER_USERS = alice")
    assert p.is_super_user(ALICE) and p.is_super_user(ROOT)  # root (and the pool's account) always
    assert not policy().is_super_user(ALICE) and not policy().is_super_user(ANONYMOUS)


def tcp(address: str) -> Client:
    """The daemon's ZeroMQ TCP port: no credentials travel there."""
    port = zmq_port_of(address) or int(address.split(":")[1].split("?")[0].rstrip(">"))
    return Client(f"tcp://127.0.0.1:{port}", timeout=5)


def daemons(pool) -> dict[str, str]:
    return {ad_type: query_ads(pool.cfg, ad_type, projection=["MyAddress"])[0].eval("MyAddress")
            for ad_type in ("Collector", "Negotiator", "Scheduler", "Machine", "DaemonMaster")}


def test_messages_without_credentials_are_refused_beyond_read(personal_pool):
    where = daemons(personal_pool)
    writes = {"Collector": ("UPDATE_ADS", {"ads": []}), "Negotiator": ("RESCHEDULE", {}),
              "Scheduler": ("ACT_ON_JOBS", {"action": "remove", "all": True}),
              "Machine": ("ACTIVATE_CLAIM", {"claim_id": "x", "job": {}}), "DaemonMaster": ("DAEMONS_OFF", {})}
    for ad_type, address in where.items():
        assert tcp(address).call("PING")["user"] == UNAUTHENTICATED  # READ: allowed, as HTCondor's default
        command, payload = writes[ad_type]
        with pytest.raises(RemoteError) as refused:
            tcp(address).call(command, **payload)
        assert str(refused.value) == denied_text(Identity(UNAUTHENTICATED), "WRITE"), ad_type
    # With credentials (root, over the Unix socket), the startd still wants a claim it holds.
    with pytest.raises(RemoteError, match="bad ACTIVATE_CLAIM request: unknown claim id"):
        Client(where["Machine"]).call("ACTIVATE_CLAIM", claim_id="<127.0.0.1:1>#1#forged", job={"Cmd": '"/bin/sh"'})
    assert Client(where["DaemonMaster"]).call("PING")["user"].startswith("root@")


@needs_root
def test_security_strong_and_allow_write_change_who_may_do_what(open_pool, other_user):
    strong = open_pool(config_d={"50security": "use SECURITY : Strong\nALLOW_WRITE = root@*\n"})
    schedd = daemons(strong)["Scheduler"]
    with pytest.raises(RemoteError, match="using no authentication method"):
        tcp(schedd).call("QUERY_JOBS")  # READ over TCP: refused once authentication is required
    assert Client(schedd).call("QUERY_JOBS")["jobs"] == []  # root over the Unix socket

    (other_user.home / "job.sub").write_text("executable = /bin/true\nqueue\n")
    refused = other_user.run(strong, "condor_submit", "job.sub")
    domain = strong.cfg.get("UID_DOMAIN")
    assert (refused.returncode, refused.stderr) == (1, "\nERROR: Failed to connect to local queue manager\n"
                                                    f'SECMAN:2010:Received "DENIED" from server for user '
                                                    f"{other_user.name}@{domain} using method FS.\n")
    assert other_user.run(strong, "condor_q").returncode == 0  # READ is still everyone's
    ping = other_user.run(strong, "condor_ping", "-table", "READ", "WRITE")
    assert ping.returncode == 1
    assert ping.stdout.splitlines() == [
        "         Instruction Authentication Encryption Integrity Decision Identity",
        f"                READ             FS       none      none    ALLOW {other_user.name}@{domain}",
        "               WRITE           FAIL       FAIL      FAIL     FAIL FAIL  (use -verbose for more info)"]
    assert strong.run("condor_submit", input="executable = /bin/true\nqueue\n").returncode == 0

    # The same user on a default pool may submit (ALLOW_WRITE = *).
    default = open_pool()
    assert other_user.run(default, "condor_submit", "job.sub").returncode == 0
    assert other_user.run(default, "condor_ping", "WRITE").stdout == (
        f"WRITE command using (no encryption, no integrity, and FS) succeeded as {other_user.name}@{domain} "
        "to local schedd.\n")


def test_condor_ping_output_modes_targets_and_tokens(personal_pool):
    pool = personal_pool
    domain = pool.cfg.get("UID_DOMAIN")
    me = f"{pwd.getpwuid(os.geteuid()).pw_name}@{domain}"
    normal = pool.run("condor_ping", "READ", "ACT_ON_JOBS")
    assert normal.returncode == 0 and normal.stdout.splitlines() == [
        f"READ command using (no encryption, no integrity, and FS) succeeded as {me} to local schedd.",
        f"ACT_ON_JOBS command using (no encryption, no integrity, and FS) succeeded as {me} to local schedd."]
    table = pool.run("condor_ping", "-type", "STARTD", "-table", "ALL")
    assert table.returncode == 0
    assert [line.split()[0] for line in table.stdout.splitlines()[1:]] == [
        "ALLOW", "READ", "WRITE", "NEGOTIATOR", "ADMINISTRATOR", "OWNER", "CONFIG", "DAEMON",
        "ADVERTISE_STARTD", "ADVERTISE_SCHEDD", "ADVERTISE_MASTER"]
    verbose = pool.run("condor_ping", "-type", "collector", "-verbose", "60026")
    lines = verbose.stdout.splitlines()
    assert lines[0] == "Destination:                 local collector"
    assert "Instruction:                 60026" in lines and "Command:                     60026" in lines
    assert f"Remote Mapping:              {me}" in lines and "Authorized:                  TRUE" in lines
    named = pool.run("condor_ping", "-type", "MASTER", "-name", pool.cfg.get("FULL_HOSTNAME"), "DAEMON")
    assert named.stdout.endswith(f"to master {pool.cfg.get('FULL_HOSTNAME')}.\n")
    startd = daemons(pool)["Machine"]
    tcp_address = f"<127.0.0.1:{zmq_port_of(startd) or startd.split(':')[1].split('?')[0]}>"
    anonymous = pool.run("condor_ping", "-address", tcp_address, "READ", "WRITE")
    assert anonymous.returncode == 1 and anonymous.stdout.splitlines() == [
        f"READ command using (no encryption, no integrity, and no authentication) succeeded as "
        f"{UNAUTHENTICATED} to daemon at {tcp_address}.",
        "WRITE failed!  Use -verbose for more information."]
    assert pool.run("condor_ping", "-quiet", "-address", tcp_address, "WRITE").stdout == ""
    bad = pool.run("condor_ping", "NOSUCH")
    assert (bad.returncode, bad.stderr) == (1, 'ERROR: Could not understand TOKEN "NOSUCH".\n')
    assert pool.run("condor_ping", "-help").stdout.startswith("Usage: condor_ping [options] TOKEN")
    assert pool.run("condor_ping", "-version").stdout.startswith("$CondorVersion: ")


@needs_root
def test_a_socket_directory_of_another_user_is_refused(tmp_path, other_user):
    """Another user's directory would let them replace a daemon's socket with their own."""
    planted = tmp_path / "sockets"
    planted.mkdir()
    os.chown(planted, other_user.uid, -1)
    pool = PersonalPool(directory=str(tmp_path / "pool"), config={"DAEMON_SOCKET_DIR": str(planted)})
    with pytest.raises(PoolError):
        pool.start()
    log = (tmp_path / "pool" / "local" / "log" / "MasterLog").read_text()
    assert f"socket directory {planted} is not a directory of this pool's own account" in log
