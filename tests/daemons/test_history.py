"""The schedd's history file: records, banners, rotation, torn tails, and the queue's hand-over."""
from __future__ import annotations

import os

from condorsim.daemons.history import HistoryWriter, backups, read_history, read_records
from condorsim.daemons.job_queue import JobQueue
from condorsim.shared.classad import ClassAd


def job(cluster: int, proc: int = 0, **attrs) -> ClassAd:
    ad = ClassAd()
    ad["ClusterId"], ad["ProcId"], ad["Owner"], ad["CompletionDate"] = cluster, proc, "alice", 1000 + cluster
    for name, value in attrs.items():
        ad[name] = value
    return ad


def test_records_end_with_htcondors_banner_and_read_back_newest_first(tmp_path):
    path = tmp_path / "history"
    writer = HistoryWriter(str(path))
    writer.append(job(1, Cmd="/bin/true", Args='a "b"'))
    first_size = path.stat().st_size
    writer.append(job(2))
    lines = path.read_text().splitlines()
    banners = [line for line in lines if line.startswith("*** ")]
    assert banners[0].startswith('*** Offset = 0 ClusterId = 1 ProcId = 0 Owner = "alice" CompletionDate = 1001 '
                                 "CurrentTime = ")
    # Offset: where the previous record's banner line starts
    previous_banner = first_size - len(banners[0]) - 1
    assert banners[1].startswith(f"*** Offset = {previous_banner} ClusterId = 2 ")
    assert lines[:2] == ['Args = "a \\"b\\""', "ClusterId = 1"]  # sorted by name
    assert [ad.eval("ClusterId") for ad in read_history(str(path))] == [2, 1]
    assert [ad.eval("ClusterId") for ad in read_history(str(path), backwards=False)] == [1, 2]
    assert next(read_history(str(path), backwards=False)).eval("Args") == 'a "b"'


def test_a_torn_tail_is_ignored(tmp_path):
    path = tmp_path / "history"
    HistoryWriter(str(path)).append(job(1))
    with open(path, "a") as handle:
        handle.write("ClusterId = 2\nProcId = 0\n*** Offset = 9 Cluster")  # a record cut short
    assert [ad.eval("ClusterId") for ad in read_records(str(path))] == [1]


def test_rotation_keeps_max_history_rotations_backups(tmp_path):
    path = tmp_path / "history"
    record_size = 400  # about one record of these
    writer = HistoryWriter(str(path), max_size=record_size * 2, rotations=2, log=lambda _: None)
    for cluster in range(1, 13):
        writer.append(job(cluster, Padding="x" * 100))
    kept = backups(str(path))
    assert len(kept) == 2
    assert all(os.path.basename(name).startswith("history.") for name in kept)
    clusters = [ad.eval("ClusterId") for ad in read_history(str(path))]
    assert clusters == sorted(clusters, reverse=True) and clusters[0] == 12
    assert len(clusters) < 12  # the oldest backups were deleted
    assert path.stat().st_size <= record_size * 2


def test_the_queue_hands_over_removed_jobs_once_committed(tmp_path):
    handed: list[int] = []
    queue = JobQueue(str(tmp_path), on_removed=lambda ads: handed.extend(ad.eval("ClusterId") for ad in ads))
    queue.add((1, 0), job(1))
    queue.add((2, 0), job(2))
    queue.commit()
    queue.remove((1, 0))
    assert handed == []  # not before the removal is durable
    queue.commit()
    assert handed == [1]
