"""A second Unix user made for the test, condorsim's tools runnable as that user, and pools in a
directory every user may enter (pytest's own temporary directories are root's alone).

The other user cannot use this venv (it may sit in a directory only root may enter, as a CI
clone in a mode-0700 temporary directory does): the system's Python of the same version runs a
copy of condorsim and of the packages its programs import (msgpack, pyzmq, psutil), with a
bin/ of its programs started that way (for a pool run by an ordinary user).
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Iterator

import msgpack
import psutil
import pytest
import zmq

import condorsim
import condorsim.daemons
import condorsim.scripts
import condorsim.shared
from condorsim.shared.pool import PersonalPool

SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("useradd") or not SYSTEM_PYTHON.exists(),
    reason="needs root, useradd and a system Python of this version")


def _readable_copy() -> str:
    """condorsim, msgpack and pyzmq copied where any user can read them."""
    copy = tempfile.mkdtemp(prefix="condorsim-readable-")
    os.chmod(copy, 0o755)
    target = Path(copy) / "condorsim"
    shutil.copytree(Path(condorsim.__file__).parent, target, symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for package in (condorsim.shared, condorsim.daemons, condorsim.scripts):
        shutil.copytree(Path(package.__file__).parent, target / package.__name__.split(".")[-1],
                        ignore=shutil.ignore_patterns("__pycache__"))
    site = Path(zmq.__file__).parents[1]
    for name in ("zmq", "pyzmq.libs"):
        if (site / name).exists():
            shutil.copytree(site / name, Path(copy) / name, ignore=shutil.ignore_patterns("__pycache__"))
    for package in (msgpack, psutil):
        shutil.copytree(Path(package.__file__).parent, Path(copy) / package.__name__,
                        ignore=shutil.ignore_patterns("__pycache__"))
    # Every program of condorsim, started by the system's Python from this copy.
    programs = Path(copy) / "bin"
    programs.mkdir()
    for entry in metadata.entry_points(group="console_scripts"):
        if entry.value.startswith("condorsim."):
            module, _, function = entry.value.partition(":")
            script = programs / entry.name
            script.write_text(f"#!{SYSTEM_PYTHON}\nimport sys\nsys.path.insert(0, {copy!r})\n"
                              f"from {module} import {function}\nsys.exit({function}())\n")
            script.chmod(0o755)
    return copy


@dataclass
class OtherUser:
    name: str
    uid: int
    home: Path  # a directory of the user's own (mode 0700), where it submits from
    pythonpath: str

    def run(self, pool: PersonalPool, tool: str, *args: str, module: str | None = None,
            input: str | None = None) -> subprocess.CompletedProcess:
        """A condorsim tool (condor_submit, condor_hold, ...) run as this user against `pool`."""
        module = module or tool
        code = (f"import sys; sys.argv[0] = {tool!r}; "
                f"from condorsim.scripts.{module} import main; sys.exit(main())")
        return self.python(pool, "-c", code, *args, input=input)

    def python(self, pool: PersonalPool, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/bin:/bin", "CONDOR_CONFIG": pool.env["CONDOR_CONFIG"], "HOME": str(self.home),
               "PYTHONPATH": self.pythonpath, "USER": self.name, "LOGNAME": self.name}
        return subprocess.run([str(SYSTEM_PYTHON), *args], user=self.name, env=env, input=input,
                              capture_output=True, text=True, timeout=60, cwd=self.home)


@contextmanager
def unix_user_for_test(readable: str) -> Iterator[OtherUser]:
    """A new Unix user with a directory of its own; removed afterwards."""
    name = f"csim{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/false", name], check=True)
    home = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    try:
        entry = pwd.getpwnam(name)
        os.chown(home, entry.pw_uid, entry.pw_gid)
        yield OtherUser(name, entry.pw_uid, home, readable)
    finally:
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run(["userdel", name], check=False)


@pytest.fixture(scope="module")
def readable_copy():
    copy = _readable_copy()
    yield copy
    shutil.rmtree(copy, ignore_errors=True)


@pytest.fixture(scope="module")
def other_user(readable_copy):
    with unix_user_for_test(readable_copy) as user:
        yield user


@pytest.fixture
def pool_user(readable_copy):
    """A user to run a pool as (its programs: the readable copy's bin/)."""
    with unix_user_for_test(readable_copy) as user:
        yield user


@pytest.fixture
def open_pool():
    """Start pools in directories every user may enter (the other user's tools read the
    configuration and reach the daemons' sockets there)."""
    pools: list[PersonalPool] = []

    def start(config: dict[str, str] | None = None, **options) -> PersonalPool:
        directory = tempfile.mkdtemp(prefix="condorsim-auth-")
        os.chmod(directory, 0o755)
        pool = PersonalPool(config=config, directory=directory, **options)
        pools.append(pool)
        return pool.start()

    yield start
    for pool in pools:
        try:
            pool.stop()
        finally:
            shutil.rmtree(pool.dir, ignore_errors=True)
