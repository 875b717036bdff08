"""The schedd's job queue log: replay, torn tails, compaction."""
from __future__ import annotations

import pytest

from condorsim.daemons.job_queue import JobQueue, LoggedAd
from condorsim.shared.classad import ClassAd, parse_expr


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


def test_replay_restores_the_last_committed_state_of_random_changes(tmp_path):
    import random
    rng = random.Random(7)
    queue = JobQueue(str(tmp_path))
    committed = {}
    for step in range(300):
        keys = sorted(queue.jobs)
        action = rng.random()
        if action < 0.25 or not keys:
            cluster = queue.new_cluster()
            for proc in range(rng.randrange(1, 4)):
                queue.add((cluster, proc), job(JobStatus=1, Owner=rng.choice(["a", "b"]), Req="Memory >= 1024 && x",
                                               Args=f'run "{step}"\n\\'))
        elif action < 0.6:
            queue.set(rng.choice(keys), rng.choice(["JobStatus", "Owner", "New"]), rng.choice([2, "x y", 1.5]))
        elif action < 0.75:
            queue.delete_attr(rng.choice(keys), rng.choice(["Owner", "Args", "New"]))
        else:
            queue.remove(rng.choice(keys))
        if rng.random() < 0.5:
            queue.commit()
            committed = {key: ad.to_wire() for key, ad in queue.jobs.items()}
        if step % 60 == 59:  # a restart: replay what was committed, compact, go on from there
            queue = JobQueue(str(tmp_path))
            assert {key: ad.to_wire() for key, ad in queue.jobs.items()} == committed
    with open(queue.path, "a") as log:  # a torn tail changes nothing
        log.write("105\n103 1.0 JobStatus 7\n")
    for _ in range(2):  # before and after the start-up compaction
        again = JobQueue(str(tmp_path))
        assert {key: ad.to_wire() for key, ad in again.jobs.items()} == committed
        assert again.next_cluster == queue.next_cluster


def test_a_bad_line_in_a_job_block_is_skipped_when_the_job_is_first_read(tmp_path):
    (tmp_path / "job_queue.log").write_text("105\n101 0.0\n103 0.0 NextClusterNum 2\n106\n"
                                            "105\n101 1.0\n103 1.0 A 1\n103 1.0 B ((\n103 1.0 C 3\n106\n")
    messages = []
    queue = JobQueue(str(tmp_path), messages.append)
    ad = queue.jobs[(1, 0)]
    assert (ad.eval("A"), ad.eval("C"), "B" in ad) == (1, 3, False)
    assert any("line 8" in message and "B ((" in message for message in messages)
    assert queue.next_cluster == 2


def test_an_attribute_name_that_could_forge_records_is_refused(tmp_path):
    queue = JobQueue(str(tmp_path))
    cluster = queue.new_cluster()
    queue.add((cluster, 0), job(Cmd="/bin/true", JobStatus=1))
    queue.commit()
    for name in ("Foo\n102 1.0", "Foo Bar", "", "9lives", "Owner\r"):
        with pytest.raises(ValueError, match="invalid job attribute name"):
            queue.set((cluster, 0), name, 1)
        with pytest.raises(ValueError, match="invalid job attribute name"):
            queue.add((cluster, 1), ClassAd.from_wire({"Cmd": '"/bin/true"', name: "1"}))  # as from the wire
    queue.commit()
    again = JobQueue(str(tmp_path))
    assert sorted(again.jobs) == [(1, 0)] and again.jobs[(1, 0)].eval("JobStatus") == 1


def shared_cluster(queue: JobQueue, cluster: int, procs: int, **common) -> None:
    """A cluster as the schedd queues a submit: one cluster ad, procs holding only their own."""
    shared = LoggedAd.of((cluster, -1), ClassAd(common).to_wire(), queue.log).share()
    for proc in range(procs):
        queue.add((cluster, proc), LoggedAd.of((cluster, proc), {"ProcId": str(proc)}, queue.log, shared))
    queue.commit()


def test_procs_share_their_cluster_ad_across_restarts(tmp_path):
    queue = JobQueue(str(tmp_path))
    shared_cluster(queue, 1, 3, Cmd="/bin/true", Owner="alice", JobStatus=1, ClusterId=1)
    queue.set((1, 1), "JobStatus", 5)
    queue.commit()
    for again in (queue, JobQueue(str(tmp_path)), JobQueue(str(tmp_path))):
        assert sorted(again.jobs) == [(1, 0), (1, 1), (1, 2)]
        assert [again.jobs[(1, p)].eval("ProcId") for p in range(3)] == [0, 1, 2]
        assert {again.jobs[(1, p)].eval("Cmd") for p in range(3)} == {"/bin/true"}
        assert [again.jobs[(1, p)].eval("JobStatus") for p in range(3)] == [1, 5, 1]
        assert again.index.counts(owner="alice") == {1: 2, 5: 1}
        assert again.jobs[(1, 2)].to_wire()["Cmd"] == '"/bin/true"'
    assert type(JobQueue(str(tmp_path)).jobs[(1, 2)]).__name__ == "LoggedAd"
    for proc in range(3):
        queue.remove((1, proc))
    queue.commit()
    assert "102 1.-1" in (tmp_path / "job_queue.log").read_text()  # the cluster ad left with its last proc
    again = JobQueue(str(tmp_path))
    assert not again.jobs and not again.clusters and not again.index.facts


def test_index_follows_every_change(tmp_path):
    queue = JobQueue(str(tmp_path))
    queue.add((1, 0), job(Owner="bob", JobStatus=1, AccountingGroup="physics.bob"))
    queue.add((1, 1), job(Owner="bob", JobStatus=1, PeriodicHold=parse_expr("NumJobStarts > 2")))
    queue.add((2, 0), job(Owner="carol", JobStatus=2, LeaveJobInQueue=False))
    queue.commit()
    index = queue.index
    assert index.counts() == {1: 2, 2: 1}
    assert index.counts(submitter="physics.bob") == {1: 1} and index.counts(submitter="bob") == {1: 1}
    assert index.with_policy == {(1, 1)}
    queue.set((1, 0), "JobStatus", 5)
    queue.delete_attr((1, 1), "PeriodicHold")
    queue.remove((2, 0))
    queue.commit()
    assert index.counts() == {1: 1, 5: 1} and index.by_owner.keys() == {"bob"}
    assert not index.with_policy and sorted(index.by_cluster) == [1]
