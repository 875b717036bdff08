"""The job queue log's damage campaign (issue 12): a log cut at every byte of its last transaction,
and single bit flips anywhere in it. In no case may an acknowledged job be lost or changed without
a log line (or the schedd's refusal) naming it."""
from __future__ import annotations

import random
import re
import stat

import pytest

from condorsim.daemons.job_queue import JobQueue, QueueLogDamaged
from condorsim.shared.classad import ClassAd


def make_log(spool) -> tuple[bytes, dict, dict, int]:
    """A log of several transactions: (its bytes, the jobs committed before its last transaction,
    those committed after it, the offset where the last transaction starts)."""
    queue = JobQueue(str(spool))
    for cluster_jobs in (3, 2):
        cluster = queue.new_cluster()
        for proc in range(cluster_jobs):
            ad = ClassAd()
            ad["Cmd"], ad["Args"], ad["JobStatus"] = "/bin/echo", f'job "{proc}"\n', 1
            queue.add((cluster, proc), ad)
        queue.commit()
    queue.set((1, 0), "JobStatus", 2)
    queue.remove((1, 2))
    queue.commit()
    before = {key: ad.to_wire() for key, ad in queue.jobs.items()}
    last = queue.path.stat().st_size
    queue.set((2, 1), "JobStatus", 5)
    queue.set((1, 1), "HoldReason", "a string with 106 and\n105 in it")
    queue.commit()
    after = {key: ad.to_wire() for key, ad in queue.jobs.items()}
    return queue.path.read_bytes(), before, after, last


def named_jobs(messages: list[str]) -> set[tuple[int, int]]:
    return {(int(c), int(p)) for message in messages for c, p in re.findall(r"\b(\d+)\.(\d+)\b", message)}


def job_id_hit(data: bytes, offset: int) -> set[tuple[int, int]]:
    """The job whose record a flip at `offset` garbled before or in its id, the newline before it
    included (a damaged record cannot be trusted to name its own job)."""
    for match in re.finditer(rb"^10[1-4] ((\d+)\.(\d+)) ?", data, re.MULTILINE):
        if match.start(0) - 1 <= offset < match.end(0):
            return {(int(match.group(2)), int(match.group(3)))}
    return set()


def changed_jobs(state: dict, expected: dict) -> set[tuple[int, int]]:
    return {key for key in set(state) | set(expected) if state.get(key) != expected.get(key)}


def replay(spool, data: bytes) -> tuple[dict | None, list[str]]:
    """Replay `data` as the log; (the jobs, messages), or (None, messages) if the queue refused."""
    for leftover in spool.iterdir():
        leftover.unlink()
    (spool / "job_queue.log").write_bytes(data)
    messages: list[str] = []
    try:
        queue = JobQueue(str(spool), messages.append)
    except QueueLogDamaged as damaged:
        return None, [*messages, str(damaged)]
    return {key: ad.to_wire() for key, ad in queue.jobs.items()}, messages


def test_a_log_cut_at_every_byte_of_its_last_transaction_loses_only_that_transaction_and_says_so(tmp_path):
    data, before, after, last = make_log(tmp_path / "make")
    spool = tmp_path / "spool"
    spool.mkdir()
    for cut in range(last, len(data) + 1):
        state, messages = replay(spool, data[:cut])
        assert state is not None, (cut, messages)
        if cut in (last, len(data)):  # a whole number of transactions: nothing to say
            assert state == (before if cut == last else after) and not messages, cut
            continue
        assert state == before, cut
        assert len(messages) == 1 and "dropping an uncommitted transaction" in messages[0], (cut, messages)
        assert JobQueue(str(spool)).jobs.keys() == before.keys()  # the tail is gone from the file


def test_bit_flips_anywhere_never_change_a_job_without_naming_it(tmp_path):
    data, before, after, last = make_log(tmp_path / "make")
    spool = tmp_path / "spool"
    spool.mkdir()
    rng = random.Random(20261206)
    outcomes = {"refused": 0, "tail dropped": 0}
    for _ in range(400):
        offset, bit = rng.randrange(len(data)), rng.randrange(8)
        damaged = bytearray(data)
        damaged[offset] ^= 1 << bit
        state, messages = replay(spool, bytes(damaged))
        where = (offset, bit, messages)
        if state is None:  # refused: the original kept aside, a repaired log that replays cleanly
            outcomes["refused"] += 1
            kept = [path for path in spool.iterdir() if path.name.startswith("job_queue.log.damaged-")]
            assert len(kept) == 1 and kept[0].read_bytes() == bytes(damaged), where
            assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600
            repaired = {key: ad.to_wire() for key, ad in JobQueue(str(spool)).jobs.items()}
        else:
            assert messages, where  # every flip is noticed
            outcomes["tail dropped"] += "dropping an uncommitted transaction" in messages[0]
            repaired = state
        assert changed_jobs(repaired, after) <= named_jobs(messages) | job_id_hit(data, offset), where
    assert outcomes["refused"] > 300 and outcomes["tail dropped"] > 0, outcomes


def test_the_log_is_private_and_old_logs_without_checksums_still_replay(tmp_path):
    (tmp_path / "job_queue.log").write_text("105\n101 0.0\n103 0.0 NextClusterNum 3\n106\n"
                                            "105\n101 2.0\n103 2.0 JobStatus 1\n106\n103 2.0 JobStatus 2\n106\n")
    queue = JobQueue(str(tmp_path))
    assert queue.jobs[(2, 0)].eval("JobStatus") == 2 and queue.next_cluster == 3
    assert stat.S_IMODE(queue.path.stat().st_mode) == 0o600
    assert re.fullmatch(r"105\n(.*\n)*106 [0-9a-f]{8}\n", queue.path.read_text())  # rewritten with a checksum


@pytest.mark.parametrize("value", ["x\n106 00000000\n102 1.0", "\r\n105\n", "é\u2028\x85", "'q'\n"])
def test_no_value_can_forge_a_record(tmp_path, value):
    queue = JobQueue(str(tmp_path))
    ad = ClassAd()
    ad["Cmd"] = "/bin/true"
    queue.add((1, 0), ad)
    queue.add((1, 1), ad.copy() if hasattr(ad, "copy") else ClassAd.from_wire(ad.to_wire()))
    queue.set((1, 0), "Args", value)
    queue.jobs[(1, 0)].set_expr("Env", f"'{value.replace(chr(39), '')}' + 1")  # a quoted attribute name
    queue.set((1, 0), "Env", queue.jobs[(1, 0)].lookup("Env"))
    queue.commit()
    raw = queue.path.read_bytes()
    assert raw.isascii() and all(line[:3] in (b"101", b"103", b"105", b"106") for line in raw.splitlines())
    again = JobQueue(str(tmp_path))
    assert sorted(again.jobs) == [(1, 0), (1, 1)] and again.jobs[(1, 0)].eval("Args") == value
