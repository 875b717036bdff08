"""The schedd's job queue log: replay, torn tails, compaction."""
from __future__ import annotations

from condorsim.daemons.job_queue import JobQueue
from condorsim.shared.classad import ClassAd


def job(**attrs) -> ClassAd:
    ad = ClassAd()
    for name, value in attrs.items():
        ad[name] = value
    return ad


def test_committed_changes_survive_a_restart(tmp_path):
    queue = JobQueue(str(tmp_path))
    cluster = queue.new_cluster()
    queue.add((cluster, 0), job(Cmd="/bin/echo", Args='say "hi"\nthere\\', JobStatus=1))
    queue.add((cluster, 1), job(Cmd="/bin/true", JobStatus=1))
    queue.commit()
    queue.set((cluster, 0), "JobStatus", 5)
    queue.delete_attr((cluster, 0), "Args")
    queue.remove((cluster, 1))
    queue.commit()
    again = JobQueue(str(tmp_path))
    assert sorted(again.jobs) == [(1, 0)]
    assert again.jobs[(1, 0)].eval("JobStatus") == 5
    assert again.jobs[(1, 0)].lookup("Args") is None
    assert again.next_cluster == 2


def test_strings_keep_quotes_newlines_and_backslashes(tmp_path):
    queue = JobQueue(str(tmp_path))
    text = 'say "hi"\nthere\\ and \t tab'
    queue.add((1, 0), job(Args=text))
    queue.commit()
    assert JobQueue(str(tmp_path)).jobs[(1, 0)].eval("Args") == text


def test_an_uncommitted_tail_is_ignored_and_logged(tmp_path):
    queue = JobQueue(str(tmp_path))
    queue.add((1, 0), job(JobStatus=1))
    queue.commit()
    with open(queue.path, "a") as log:  # a transaction torn by a crash: no 106
        log.write("105\n103 1.0 JobStatus 2\n101 1.1\n")
    messages = []
    again = JobQueue(str(tmp_path), messages.append)
    assert sorted(again.jobs) == [(1, 0)] and again.jobs[(1, 0)].eval("JobStatus") == 1
    assert any("uncommitted transaction" in message for message in messages)


def test_a_bad_record_is_skipped_with_its_line_number(tmp_path):
    queue = JobQueue(str(tmp_path))
    queue.add((1, 0), job(JobStatus=1))
    queue.commit()
    with open(queue.path, "a") as log:
        log.write("105\n103 1.0 Broken ((\n103 1.0 Fine 7\n106\n")
    messages = []
    again = JobQueue(str(tmp_path), messages.append)
    assert again.jobs[(1, 0)].eval("Fine") == 7
    assert any(", line " in message and "Broken" in message for message in messages)


def test_cluster_ids_are_never_reused(tmp_path):
    queue = JobQueue(str(tmp_path))
    first = queue.new_cluster()
    queue.add((first, 0), job(JobStatus=1))
    queue.commit()
    queue.remove((first, 0))
    queue.commit()
    assert JobQueue(str(tmp_path)).new_cluster() == first + 1


def test_start_up_compacts_the_log(tmp_path):
    queue = JobQueue(str(tmp_path))
    queue.add((1, 0), job(JobStatus=1))
    for status in range(200):
        queue.set((1, 0), "JobStatus", status)
        queue.commit()
    size = queue.path.stat().st_size
    JobQueue(str(tmp_path))
    assert queue.path.stat().st_size < size / 10
