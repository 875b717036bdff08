"""A second Unix user, FS-authenticated as itself, cannot remove, hold or edit root's jobs."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import htcondor2
import pytest

# The other user cannot run this venv's interpreter (it lives under /root); the system's Python
# of the same version imports the same wheel from where it is installed.
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
WHEEL_DIR = Path(htcondor2.__file__).resolve().parents[1]

CLIENT = """
import sys, htcondor2, classad2
schedd = htcondor2.Schedd(classad2.ClassAd(sys.argv[1]))
print("claims seen", sum("ClaimId" in ad for ad in schedd.query() + schedd.query(projection=["ClaimId"])))
print("remove", schedd.act(htcondor2.JobAction.Remove, "true")["TotalPermissionDenied"])
print("hold", schedd.act(htcondor2.JobAction.Hold, [sys.argv[2]])["TotalPermissionDenied"])
try:
    schedd.edit([sys.argv[2]], "Foo", "1")
    print("edit allowed")
except Exception as exc:
    print("edit refused")
"""

WRITES_REFUSED = """
import sys, htcondor2, classad2
schedd = htcondor2.Schedd(classad2.ClassAd(sys.argv[1]))
print("query", len(schedd.query()))
for what, action in (("remove", lambda: schedd.act(htcondor2.JobAction.Remove, [sys.argv[2]])),
                     ("submit", lambda: schedd.submit(htcondor2.Submit({"executable": "/bin/true"})))):
    try:
        action()
        print(what, "allowed")
    except Exception:
        print(what, "refused")
"""


@pytest.fixture
def readable_bindings():
    """A copy of the wheel's packages the other user can read: the venv may live in a directory
    only root may enter (a CI clone in a mode-0700 temporary directory)."""
    copy = tempfile.mkdtemp(prefix="bindings-")
    os.chmod(copy, 0o755)
    try:
        for package in ("htcondor2", "classad2", "htcondor.libs"):
            shutil.copytree(WHEEL_DIR / package, Path(copy) / package)
        yield copy
    finally:
        shutil.rmtree(copy, ignore_errors=True)


@pytest.fixture
def other_user():
    name = f"cedar{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/false", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], check=False)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd") or not SYSTEM_PYTHON.exists(),
                    reason="needs root, useradd and a system Python of this version")
def test_another_user_cannot_change_roots_jobs(personal_pool, other_user, readable_bindings):
    schedd = personal_pool.schedd()
    cluster = schedd.submit(htcondor2.Submit(
        {"executable": "/bin/sleep", "arguments": "60", "hold": "true"}), count=2).cluster()
    schedd.edit([f"{cluster}.0"], "ClaimId", '"<127.0.0.1:1>#1#1#secret"')  # a capability: for root only
    assert [ad.get("ClaimId") for ad in schedd.query(f"ClusterId == {cluster}", ["ClaimId"])] \
        == ["<127.0.0.1:1>#1#1#secret", None]
    location = str(personal_pool.collector().locate(htcondor2.DaemonType.Schedd))
    result = subprocess.run([str(SYSTEM_PYTHON), "-c", CLIENT, location, f"{cluster}.0"], user=other_user,
                            env={"PATH": "/usr/bin:/bin", "CONDOR_CONFIG": "/dev/null", "HOME": "/tmp",
                                 "PYTHONPATH": readable_bindings},
                            capture_output=True, text=True, timeout=60, cwd="/tmp")
    assert result.stdout.splitlines() == ["claims seen 0", "remove 2", "hold 1", "edit refused"], result.stderr[-2000:]
    ads = schedd.query(f"ClusterId == {cluster}", ["JobStatus", "Foo"])
    assert [ad["JobStatus"] for ad in ads] == [5, 5] and all("Foo" not in ad for ad in ads)
    log = open(personal_pool.cfg.get("SCHEDD_LOG")).read()
    assert f"user {other_user}, authentication YES" in log


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd") or not SYSTEM_PYTHON.exists(),
                    reason="needs root, useradd and a system Python of this version")
def test_allow_write_holds_for_the_bindings_too(pool_factory, other_user, readable_bindings):
    """ALLOW_WRITE = root@*: the other user's writes through the CEDAR door are refused as well."""
    pool = pool_factory(config={"ALLOW_WRITE": "root@*"})
    schedd = pool.schedd()
    cluster = schedd.submit(htcondor2.Submit({"executable": "/bin/sleep", "arguments": "60", "hold": "true"})).cluster()
    location = str(pool.collector().locate(htcondor2.DaemonType.Schedd))
    result = subprocess.run([str(SYSTEM_PYTHON), "-c", WRITES_REFUSED, location, f"{cluster}.0"], user=other_user,
                            env={"PATH": "/usr/bin:/bin", "CONDOR_CONFIG": "/dev/null", "HOME": "/tmp",
                                 "PYTHONPATH": readable_bindings},
                            capture_output=True, text=True, timeout=60, cwd="/tmp")
    assert result.stdout.splitlines() == ["query 1", "remove refused", "submit refused"], result.stderr[-2000:]
    assert [ad["JobStatus"] for ad in schedd.query(f"ClusterId == {cluster}", ["JobStatus"])] == [5]
