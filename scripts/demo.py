"""The pool demo: a personal pool on the shipped default configuration, from start to clean stop.

    python -m condorsim.scripts.demo

Starts condor_master with CONDOR_CONFIG unset (so the embedded config.d/ applies and the state
lives in ~/.condorsim), shows the slots, runs jobs, removes some, reads a job event log, and
stops everything with condor_off -master, checking that no process is left behind.
"""
from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from condorsim.shared.pool import PersonalPool


def show(pool: PersonalPool, *argv: str, input: str | None = None) -> str:
    print(f"$ {' '.join(argv)}")
    result = pool.run(*argv, input=input)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    print()
    if result.returncode != 0:
        raise SystemExit(f"demo: {argv[0]} failed with exit status {result.returncode}")
    return result.stdout


def cluster_of(submit_output: str) -> str:
    """The cluster number condor_submit printed (earlier runs' clusters may still be queued)."""
    return re.search(r"submitted to cluster (\d+)\.", submit_output).group(1)


def wait_for(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"demo: timed out waiting for {what}")
        time.sleep(0.1)


FINISHED = "# demo: the pool has stopped and no condorsim process is left."


def main() -> int:
    started = time.monotonic()
    pool = PersonalPool(embedded=True)
    pool.start()
    work = Path(tempfile.mkdtemp(prefix="condorsim-demo-"))
    try:
        print(f"Personal pool up in {time.monotonic() - started:.2f} s; "
              f"state in {pool.cfg.get('LOCAL_DIR')}\n")
        show(pool, "condor_status")
        cpus = sum(ad.eval("Cpus") for ad in pool.query("Machine"))  # one partitionable slot holds them all
        sleeps = cluster_of(show(pool, "condor_submit",
                                 input=f"executable = /bin/sleep\narguments = 1d\nqueue {cpus}\n"))
        show(pool, "condor_submit", input=f"executable = /bin/echo\narguments = hello from condorsim\n"
                                          f"output = {work}/hello.out\nlog = {work}/hello.log\nqueue\n")
        wait_for(lambda: len(pool.query("Machine", 'State == "Claimed"')) == cpus, "the sleep jobs to run")
        show(pool, "condor_q", "-nobatch")
        show(pool, "condor_q", "-run")
        show(pool, "condor_status")
        show(pool, "condor_rm", sleeps)
        wait_for(lambda: (work / "hello.out").exists() and "005 (" in (work / "hello.log").read_text(),
                 "the echo job to finish")
        print(f"$ cat {work}/hello.out\n{(work / 'hello.out').read_text()}")
        print(f"$ cat {work}/hello.log\n{(work / 'hello.log').read_text()}")
        show(pool, "condor_q")
        show(pool, "condor_off", "-master")
        pool.master_address = None  # stopped: the harness only checks that nothing is left
    finally:
        pool.stop()  # first: nothing, not even a closed stdout, may leave the pool running
        shutil.rmtree(work, ignore_errors=True)
    print(FINISHED)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
