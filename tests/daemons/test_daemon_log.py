"""Daemon logs are rotated as HTCondor rotates them (MAX_<SUBSYS>_LOG, MAX_NUM_<SUBSYS>_LOG), and
a peer's bad input is quoted only in part, so no client can fill the disk through a log."""
from __future__ import annotations

import pytest

from condorsim.shared.daemon import DaemonLog, log_size_limit, shorten
from condorsim.shared.pool import wait_until
from condorsim.shared.protocol import Client, RemoteError


def test_a_full_log_becomes_dot_old(tmp_path):
    log = DaemonLog(str(tmp_path / "SchedLog"), max_bytes=1000)
    for n in range(100):
        log(f"line {n:03d} " + "x" * 40)
    current, old = (tmp_path / "SchedLog").read_text(), (tmp_path / "SchedLog.old").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["SchedLog", "SchedLog.old"]
    assert len(current) <= 1100 and old.rstrip().endswith(f'Saving log file to "{tmp_path / "SchedLog.old"}"')
    assert current.splitlines()[0].endswith(f"Now in new log file {tmp_path / 'SchedLog'}")
    assert "line 099" in current


def test_more_old_logs_are_timestamped_and_the_oldest_deleted(tmp_path):
    for stamp in ("20260101T000000", "20260102T000000", "20260103T000000"):
        (tmp_path / f"StartLog.{stamp}").write_text("old\n")
    log = DaemonLog(str(tmp_path / "StartLog"), max_bytes=100, keep=2)
    log("x" * 200)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 3 and names[0] == "StartLog" and "StartLog.20260101T000000" not in names


def test_log_size_units():
    assert [log_size_limit(text) for text in ("1000", "10 Mb", "500Kb", "1 GB", "0")] == \
        [1000, 10 * 1024 ** 2, 500 * 1024, 1024 ** 3, 0]
    assert log_size_limit("lots") == 10 * 1024 ** 2
    assert shorten("a" * 1000, 10) == "aaaaaaaaaa... (1000 characters)"


@pytest.mark.timeout(60)
def test_bad_commands_cannot_grow_a_daemon_log_without_bound(pool_factory):
    pool = pool_factory(config={"MAX_COLLECTOR_LOG": "50000", "DAEMON_LIST": "MASTER, COLLECTOR"})
    collector = Client(pool.collector_address())
    for _ in range(300):
        with pytest.raises(RemoteError):
            collector.call("NO_SUCH_COMMAND_" + "x" * 100_000)
    log_dir = pool.dir / "local" / "log"
    wait_until(lambda: (log_dir / "CollectorLog").exists(), message="the log")
    sizes = [(log_dir / name).stat().st_size for name in ("CollectorLog", "CollectorLog.old")
             if (log_dir / name).exists()]
    assert sum(sizes) < 2 * 50_000 + 2_000
