"""Security as HTCondor's clients expect it: a client with `use security:recommended` gets an
encrypted session; one that requires what condorsim cannot give is refused, never downgraded."""
from __future__ import annotations

import getpass
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT = """
import htcondor2
collector = htcondor2.Collector()
print("slots", len(collector.query(htcondor2.AdType.Startd)))
schedd = htcondor2.Schedd()
result = schedd.submit(htcondor2.Submit({"executable": "/bin/sleep", "arguments": "60", "hold": "true"}), count=2)
print("queued", len(schedd.query(f"ClusterId == {result.cluster()}")))
print("removed", schedd.act(htcondor2.JobAction.Remove, f"ClusterId == {result.cluster()}")["TotalSuccess"])
"""


def run_client(pool, extra_config: str) -> subprocess.CompletedProcess:
    """The bindings in a process of their own, configured as the pool plus `extra_config`."""
    config = Path(pool.dir) / "client_config"
    config.write_text(Path(pool.env["CONDOR_CONFIG"]).read_text() + extra_config)
    return subprocess.run([sys.executable, "-c", CLIENT], env=dict(pool.env, CONDOR_CONFIG=str(config)),
                          capture_output=True, text=True, timeout=60)


def log_of(pool, daemon: str) -> str:
    return Path(pool.cfg.get(f"{daemon}_LOG")).read_text()


def test_security_recommended_gets_encrypted_sessions(personal_pool):
    result = run_client(personal_pool, "use security:recommended\n")
    assert result.returncode == 0, result.stderr
    slots = len(personal_pool.query("Machine"))
    assert result.stdout.splitlines() == [f"slots {slots}", "queued 2", "removed 2"]
    for daemon in ("COLLECTOR", "SCHEDD"):
        sessions = [line for line in log_of(personal_pool, daemon).splitlines() if "CEDAR: new session" in line]
        assert sessions and all("encryption YES" in line for line in sessions), sessions
    assert f"user {getpass.getuser()}, authentication YES" in log_of(personal_pool, "SCHEDD")


@pytest.mark.parametrize("config,reason", [
    ("SEC_CLIENT_AUTHENTICATION = REQUIRED\nSEC_CLIENT_AUTHENTICATION_METHODS = SSL\n",
     "no common authentication method"),
    ("SEC_CLIENT_ENCRYPTION = REQUIRED\nSEC_CLIENT_CRYPTO_METHODS = BLOWFISH\n", "offers no AES"),
])
def test_a_client_requiring_what_we_lack_is_refused_with_a_reason(personal_pool, config, reason):
    result = run_client(personal_pool, config)
    assert result.returncode != 0
    assert "slots" not in result.stdout
    assert reason in log_of(personal_pool, "COLLECTOR")


def test_a_client_that_skips_negotiation_authenticates_in_band(personal_pool):
    result = run_client(personal_pool, "SEC_CLIENT_NEGOTIATION = NEVER\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["queued 2", "removed 2"]
    assert "CEDAR: new session" not in log_of(personal_pool, "SCHEDD")
