"""Every code block of the README runs, in order, on a fresh HOME, as a new user would type it.

Each block is introduced by a `<!-- readme-test: KIND [NAME] -->` line saying how it is run:
`setup` (the two set-up commands: the demo is run here, the rest is what .ci/run runs), `sh NAME`
(a bash script, checked by CHECKS[NAME]), `python` (a Python script) or `file PATH` (the text of
a file shipped in the repository)."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import sysconfig
import uuid
from pathlib import Path

import psutil
import pytest

from condorsim import wait_until
from condorsim.shared.daemon import POOL_MARKER

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^<!-- readme-test: (?P<kind>\w+)(?: (?P<arg>\S+))? -->\n```(?P<lang>\w*)\n(?P<body>.*?)^```$",
                   re.M | re.S)


def readme_blocks() -> list[dict]:
    text = (ROOT / "README.md").read_text()
    blocks = [match.groupdict() for match in BLOCK.finditer(text)]
    assert len(blocks) == text.count("\n```") // 2, "a README code block has no readme-test line"
    return blocks


def pool_processes(marker: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(POOL_MARKER) == marker:
                found.append(process)
        except psutil.Error:
            continue
    return found


def check_walk_through(out: str, home: Path) -> None:
    cluster = re.search(r"All jobs in cluster (\d+) have been marked for removal", out)
    assert cluster and int(cluster.group(1)) > 2, out  # the demo's clusters 1 and 2 came first
    assert "Couldn't find" not in out and "-- Schedd:" in out


def check_shadow_pool(out: str, home: Path) -> None:
    assert out.splitlines()[-2] == f"{home}/shadow-pool/local/log/StartLog.shadow", out
    master_log = (home / "shadow-pool" / "local" / "log" / "MasterLog").read_text()
    assert "-local-name SHADOW_STARTD" in master_log


CHECKS = {"walk-through": check_walk_through, "shadow-pool": check_shadow_pool}


def ci_commands() -> set[str]:
    return {line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()}


@pytest.mark.timeout(300)
def test_every_readme_block_runs_in_order_on_a_fresh_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    marker = f"readme-{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if k not in ("CONDOR_CONFIG", "CONDOR_INHERIT")}
    env.update(HOME=str(home), **{POOL_MARKER: marker})
    env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env["PATH"]])
    blocks = readme_blocks()
    assert [b["kind"] for b in blocks][:1] == ["setup"]
    try:
        for block in blocks:
            body = block["body"]
            if block["kind"] == "setup":
                install, tests = body.splitlines()
                *steps, demo = install.split(" && ")
                assert set(steps) | {tests} <= ci_commands(), "the README's set-up is not what .ci/run runs"
                argv = shlex.split(demo)
                assert argv[:2] == [".venv/bin/python", "-m"]
                result = subprocess.run([sys.executable, *argv[1:]], cwd=ROOT, env=env,
                                        capture_output=True, text=True, timeout=120)
            elif block["kind"] == "sh":
                result = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=ROOT, env=env,
                                        capture_output=True, text=True, timeout=120)
            elif block["kind"] == "python":
                result = subprocess.run([sys.executable, "-"], input=body, cwd=tmp_path, env=env,
                                        capture_output=True, text=True, timeout=120)
            else:
                assert block["kind"] == "file", block
                assert body == (ROOT / block["arg"]).read_text()
                continue
            assert result.returncode == 0, f"{block['kind']} {block['arg']}:\n{result.stdout}\n{result.stderr}"
            if block["kind"] == "sh":
                CHECKS[block["arg"]](result.stdout, home)
            wait_until(lambda: not pool_processes(marker), timeout=15,
                       message=f"no process left after the {block['kind']} {block['arg'] or ''} block",
                       show=lambda: [p.cmdline() for p in pool_processes(marker)])
    finally:
        for process in pool_processes(marker):
            process.kill()
