"""Job event logs written by shared.userlog are read back by HTCondor's own JobEventLog, and
pass the text rules HTCondor's reader is lenient about (each event: header, body, '...')."""
import calendar
import os
import re
import threading
import time

import htcondor2
import pytest

from condorsim.shared.userlog import UserLog, format_date, parse_format_options

SCHEDD = "<127.0.0.1:9618?addrs=127.0.0.1-9618&alias=host1&noUDP&sock=schedd_1_a>"
STARTD = "<127.0.0.1:9619?addrs=127.0.0.1-9619&alias=host1&noUDP&sock=startd_1_b>"
# 2026-11-25 10:00:00.250 UTC
CLOCK = calendar.timegm((2026, 11, 25, 10, 0, 0)) + 0.25

# HTCondor also writes "LEGACY UTC" (a legacy date with a Z) and its reader takes it.
HEADER = re.compile(r"^(?P<num>\d{3}) \(\d{3,}\.\d{3,}\.\d{3,}\) "
                    r"(?:\d{2}/\d{2}|\d{4}-\d{2}-\d{2}) \d{2}:\d{2}:\d{2}(?:\.\d{3})?Z? .+$")
USAGE = re.compile(r"^\t\tUsr \d+ \d{2}:\d{2}:\d{2}, Sys \d+ \d{2}:\d{2}:\d{2}  -  (Run|Total) (Remote|Local) Usage$")
BYTES = re.compile(r"^\t\d+  -  (Run|Total) Bytes (Sent|Received) By Job$")


def job(cluster=42, proc=0, **attrs):
    ad = {"ClusterId": cluster, "ProcId": proc, "RequestCpus": 1, "RequestDisk": 1024,
          "RequestMemory": 128}
    ad.update(attrs)
    return ad


def read_events(path):
    with htcondor2.JobEventLog(str(path)) as log:
        return list(log.events(stop_after=0))


def lint(path):
    """The checks HTCondor's reader does not make loudly; returns the number of events."""
    text = path.read_text()
    assert text.endswith("...\n")
    blocks = text[:-len("...\n")].split("\n...\n")
    for block in blocks:
        lines = block.split("\n")
        match = HEADER.match(lines[0])
        assert match, f"bad header {lines[0]!r}"
        assert all(not line.startswith("...") for line in lines[1:])
        if match["num"] == "012":
            assert any(re.fullmatch(r"\tCode -?\d+ Subcode -?\d+", line) for line in lines)
        if match["num"] == "005":
            assert sum(bool(USAGE.match(line)) for line in lines) == 4
            assert sum(bool(BYTES.match(line)) for line in lines) == 4
        if match["num"] == "004":
            assert sum(bool(USAGE.match(line)) for line in lines) == 2
    return len(blocks)


@pytest.fixture
def log(tmp_path):
    return UserLog(str(tmp_path / "job.log"), "ISO_DATE", clock=lambda: CLOCK)


def test_every_event_is_read_by_htcondor(log, tmp_path):
    ad = job(CpusProvisioned=1, DiskProvisioned=2048, MemoryProvisioned=256, MemoryUsage=3,
             DiskUsage=25, CpusUsage=0.5)
    log.submit(ad, SCHEDD)
    log.execute(ad, STARTD, "slot1@host1", {"Cpus": 1, "Memory": 128, "CondorScratchDir": "/x/dir_1"})
    log.image_size(ad, 2500, memory_mb=2, rss_kb=2048)
    log.evicted(ad, reason="startd shut down")
    log.held(ad, "via condor_hold (by user alice)", 1, 0)
    log.released(ad, "via condor_release (by user alice)")
    log.terminated(ad, exit_code=3, usage={"remote_user_cpu": 3725, "remote_sys_cpu": 90061})
    log.aborted(ad, "via condor_rm (by user alice)")
    events = read_events(tmp_path / "job.log")
    assert lint(tmp_path / "job.log") == len(events) == 8
    assert [int(e.type) for e in events] == [0, 1, 6, 4, 12, 13, 5, 9]
    assert all((e.cluster, e.proc) == (42, 0) for e in events)
    assert events[0]["SubmitHost"] == SCHEDD
    assert events[1]["ExecuteHost"] == STARTD and events[1]["SlotName"] == "slot1@host1"
    props = events[1]["ExecuteProps"]
    assert (props["Cpus"], props["Memory"], props["CondorScratchDir"]) == (1, 128, "/x/dir_1")
    assert (events[2]["Size"], events[2]["MemoryUsage"], events[2]["ResidentSetSize"]) == (2500, 2, 2048)
    assert events[3]["Reason"] == "startd shut down" and not events[3]["TerminatedAndRequeued"]
    assert (events[4]["HoldReason"], events[4]["HoldReasonCode"], events[4]["HoldReasonSubCode"]) == \
        ("via condor_hold (by user alice)", 1, 0)
    assert events[5]["Reason"] == "via condor_release (by user alice)"
    term = events[6]
    assert term["TerminatedNormally"] and term["ReturnValue"] == 3
    assert term["RunRemoteUsage"] == "Usr 0 01:02:05, Sys 1 01:01:01"
    assert (term["RequestMemory"], term["Memory"], term["MemoryUsage"]) == (128, 256, 3)
    assert term["CpusUsage"] == pytest.approx(0.5)
    assert events[7]["Reason"] == "via condor_rm (by user alice)"


def test_terminated_by_signal(log, tmp_path):
    log.terminated(job(), exit_signal=9)
    (event,) = read_events(tmp_path / "job.log")
    assert not event["TerminatedNormally"] and event["TerminatedBySignal"] == 9
    assert "\t(0) No core file\n" in (tmp_path / "job.log").read_text()
    lint(tmp_path / "job.log")


def test_terminated_needs_exactly_one_outcome(log):
    with pytest.raises(ValueError):
        log.terminated(job())
    with pytest.raises(ValueError):
        log.terminated(job(), exit_code=0, exit_signal=9)


def test_usage_table_layout(log, tmp_path):
    log.terminated(job(CpusUsage=0, DiskUsage=25, MemoryUsage=2), exit_code=0,
                   slot_ad={"Cpus": 1, "Disk": 1024, "Memory": 128})
    table = (tmp_path / "job.log").read_text().split("Total Bytes Received By Job\n")[1]
    assert table == ("\tPartitionable Resources :    Usage  Request Allocated \n"
                     "\t   Cpus                 :        0        1         1 \n"
                     "\t   Disk (KB)            :       25     1024      1024 \n"
                     "\t   Memory (MB)          :        2      128       128 \n"
                     "...\n")


def test_fractional_usage_aligns_integers(log, tmp_path):
    log.terminated(job(CpusUsage=0.25), exit_code=0)
    text = (tmp_path / "job.log").read_text()
    assert "\t   Cpus                 :     0.25        1           \n" in text
    assert "\t   Memory (MB)          :               128           \n" in text


def test_held_without_reason_still_has_code_line(log, tmp_path):
    log.held(job(), None, 15)
    text = (tmp_path / "job.log").read_text()
    assert "Job was held.\n\tReason unspecified\n\tCode 15 Subcode 0\n...\n" in text
    (event,) = read_events(tmp_path / "job.log")
    assert event["HoldReasonCode"] == 15


def test_multiline_reason_stays_on_one_line(log, tmp_path):
    log.aborted(job(), "first\nsecond")
    (event,) = read_events(tmp_path / "job.log")
    assert event["Reason"] == "first|second"
    assert lint(tmp_path / "job.log") == 1


def test_wide_ids_are_not_cut(log, tmp_path):
    log.submit(job(cluster=12345, proc=1001), SCHEDD)
    assert (tmp_path / "job.log").read_text().startswith("000 (12345.1001.000) ")
    (event,) = read_events(tmp_path / "job.log")
    assert (event.cluster, event.proc) == (12345, 1001)


@pytest.mark.parametrize("options, expected", [
    ("ISO_DATE", "{iso}"),
    ("", "{iso}"),
    ("LEGACY", "11/25 {hms}"),
    ("!ISO_DATE", "11/25 {hms}"),
    ("ISO_DATE SUB_SECOND", "{iso}.250"),
    ("UTC", "2026-11-25 10:00:00Z"),
    ("utc, sub_second", "2026-11-25 10:00:00.250Z"),
    ("LEGACY UTC", "11/25 10:00:00Z"),
    ("UTC SUB_SECOND LEGACY", "11/25 {hms}"),
    ("LEGACY !LEGACY", "{iso}"),
])
def test_date_formats(options, expected, tmp_path):
    local = time.localtime(int(CLOCK))
    expected = expected.format(iso=time.strftime("%Y-%m-%d %H:%M:%S", local),
                               hms=time.strftime("%H:%M:%S", local))
    path = tmp_path / "job.log"
    UserLog(str(path), options, clock=lambda: CLOCK).submit(job(), SCHEDD)
    assert path.read_text().startswith(f"000 (042.000.000) {expected} Job submitted from host: ")
    (event,) = read_events(path)
    if "/" not in expected:    # a LEGACY date has no year: the reader guesses it
        assert event.timestamp == int(CLOCK)
    lint(path)


def test_parse_format_options():
    assert parse_format_options(None) == {"ISO_DATE"}
    assert parse_format_options("XML, !ISO_DATE") == {"XML"}
    assert parse_format_options("Sub_Second bogus") == {"ISO_DATE", "SUB_SECOND"}


def test_format_date_rounds_down_milliseconds():
    assert format_date(CLOCK + 0.7499, frozenset({"UTC", "SUB_SECOND", "ISO_DATE"})) == \
        "2026-11-25 10:00:00.999Z"


def test_one_write_per_event(log, monkeypatch):
    writes = []
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: writes.append(data) or real_write(fd, data))
    log.terminated(job(), exit_code=0)
    log.held(job(), "x", 3)
    assert len(writes) == 2
    assert all(w.endswith(b"\n...\n") for w in writes)


def test_concurrent_writers_never_interleave(tmp_path):
    path = tmp_path / "job.log"

    def writer(cluster):
        log = UserLog(str(path))
        for proc in range(50):
            log.terminated(job(cluster, proc), exit_code=proc)

    threads = [threading.Thread(target=writer, args=(c,)) for c in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    events = read_events(path)
    assert lint(path) == len(events) == 200
    assert all(e["ReturnValue"] == e.proc for e in events)


def test_unwritable_log_reports_failure(tmp_path):
    log = UserLog(str(tmp_path / "missing-dir" / "job.log"))
    assert log.submit(job(), SCHEDD) is False


def test_job_ad_without_ids_is_rejected(log):
    with pytest.raises(ValueError):
        log.submit({"ClusterId": 1}, SCHEDD)
