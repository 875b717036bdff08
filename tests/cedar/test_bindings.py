"""HTCondor's own Python bindings (htcondor2 from the `htcondor` wheel) drive a condorsim pool."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import htcondor2
import classad2
import pytest

from condorsim import wait_until

CHECK_USERLOG = Path("/work/shared/reference/check_userlog.py")


def af(pool, *attrs: str) -> list[list[str]]:
    """Our own condor_q's view: one row per job."""
    result = pool.run("condor_q", "-allusers", "-af", "ClusterId", "ProcId", *attrs)
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()]


def statuses(schedd) -> list[int]:
    return sorted(ad["JobStatus"] for ad in schedd.query(projection=["JobStatus"]))


def test_collector_query_locate_and_direct_query_on_the_seed_pool(shadow_pool):
    collector = shadow_pool.collector()
    slots = collector.query(htcondor2.AdType.Startd, "true", ["Name", "IsShadowStartd", "MyAddress"])
    assert len(slots) == 8
    shadow = sorted(ad["Name"] for ad in slots if ad.get("IsShadowStartd") is True)
    host = shadow_pool.cfg.get("FULL_HOSTNAME")
    assert shadow == [f"slot{n}@SHADOW_STARTD@{host}" for n in range(1, 5)]
    assert all(set(ad.keys()) <= {"Name", "IsShadowStartd", "MyAddress"} for ad in slots)
    only = collector.query(htcondor2.AdType.Startd, "IsShadowStartd =?= true && SlotID == 2", ["Name"])
    assert [ad["Name"] for ad in only] == [f"slot2@SHADOW_STARTD@{host}"]
    assert len(collector.locateAll(htcondor2.DaemonType.Startd)) == 8
    assert {ad["MyType"] for ad in collector.query()} >= {"Machine", "Scheduler", "Negotiator",
                                                         "Collector", "DaemonMaster"}
    location = collector.locate(htcondor2.DaemonType.Schedd)
    assert location["MyAddress"] == Path(shadow_pool.cfg.get("SCHEDD_ADDRESS_FILE")).read_text().split("\n")[0]
    assert htcondor2.Schedd(location).query() == []
    own = collector.directQuery(htcondor2.DaemonType.Schedd, projection=["Name", "TotalJobAds"])
    assert own["TotalJobAds"] == 0
    collector.advertise([classad2.ClassAd({"MyType": "Generic", "Name": "from-bindings", "Answer": 42})])
    assert [ad["Answer"] for ad in collector.query(htcondor2.AdType.Generic)] == [42]
    gone = classad2.ClassAd({"MyType": "Query", "TargetType": "Generic"})
    gone["Requirements"] = classad2.ExprTree('Name == "from-bindings"')
    collector.advertise([gone], "INVALIDATE_ADS_GENERIC")
    assert collector.query(htcondor2.AdType.Generic) == []
    for ad_type in htcondor2.AdType:  # every type is answered (most have no ads here)
        assert isinstance(collector.query(ad_type), list)


def test_submit_hold_release_edit_remove_on_the_shadow_startd(shadow_pool, tmp_path):
    schedd = shadow_pool.schedd()
    log = tmp_path / "bindings.log"
    description = {"executable": "/bin/sleep", "arguments": "60", "log": str(log),
                   "requirements": "IsShadowStartd =?= TRUE"}
    result = schedd.submit(htcondor2.Submit(description), count=4)
    cluster = result.cluster()
    assert result.num_procs() == 4
    wait_until(lambda: statuses(schedd) == [2, 2, 2, 2], timeout=20, message="4 jobs Running",
               show=lambda: statuses(schedd))
    host = shadow_pool.cfg.get("FULL_HOSTNAME")
    ads = schedd.query(f"ClusterId == {cluster}", ["ProcId", "RemoteHost", "Owner"])
    assert sorted(ad["ProcId"] for ad in ads) == [0, 1, 2, 3]
    assert all(ad["RemoteHost"].endswith(f"@SHADOW_STARTD@{host}") for ad in ads)
    assert len(schedd.query(limit=2)) == 2
    summary = schedd.query(opts=htcondor2.QueryOpt.SummaryOnly)[0]
    assert (summary["MyType"], summary["Running"], summary["AllusersJobs"]) == ("Summary", 4, 4)
    ours = af(shadow_pool, "JobStatus", "Owner")
    assert ours == [[str(cluster), str(p), "2", ads[0]["Owner"]] for p in range(4)]

    held = schedd.act(htcondor2.JobAction.Hold, f"ClusterId == {cluster}", ("a test hold", 7))
    assert held["TotalSuccess"] == 4
    wait_until(lambda: [row[2] for row in af(shadow_pool, "JobStatus") if row[0] == str(cluster)] == ["5"] * 4,
               timeout=10, message="condor_q shows the 4 jobs Held")
    assert {ad["HoldReason"] for ad in schedd.query(f"ClusterId == {cluster}", ["HoldReason"])} \
        == {f"a test hold (by user {ads[0]['Owner']})"}
    released = schedd.act(htcondor2.JobAction.Release, [f"{cluster}.{p}" for p in range(4)])
    assert released["TotalSuccess"] == 4
    schedd.edit(f"ClusterId == {cluster}", "MyTag", '"edited"')
    schedd.edit([f"{cluster}.3"], "Other", "17")
    with pytest.raises(htcondor2.HTCondorException):
        schedd.edit([f"{cluster}.0"], "Owner", '"somebody"')
    assert [row[2:] for row in af(shadow_pool, "MyTag", "Other")] == [["edited", "undefined"]] * 3 + [["edited", "17"]]
    removed = schedd.act(htcondor2.JobAction.Remove, f"ClusterId == {cluster}")
    assert removed["TotalSuccess"] == 4
    wait_until(lambda: schedd.query() == [], timeout=15, message="the queue to empty")
    events = [(event.cluster, event.proc, event.type) for event in htcondor2.JobEventLog(str(log)).events(stop_after=0)]
    T = htcondor2.JobEventType
    for proc in range(4):
        mine = [kind for c, p, kind in events if (c, p) == (cluster, proc) and kind != T.IMAGE_SIZE]
        assert mine[:3] == [T.SUBMIT, T.EXECUTE, T.JOB_HELD] and mine[3] == T.JOB_RELEASED
        assert mine[-1] == T.JOB_ABORTED
    if CHECK_USERLOG.exists():
        check = subprocess.run([sys.executable, str(CHECK_USERLOG), str(log), "--strict"],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


# Attributes that differ by nature: the job's identity and times, and what the submitting client
# says of itself (its version and platform, JobSubmitMethod 2 = the Python bindings).
DIFFERENT_BY_NATURE = {"ClusterId", "GlobalJobId", "QDate", "EnteredCurrentStatus", "CondorVersion",
                       "CondorPlatform", "SubmitVersion", "JobSubmitMethod",
                       "TransferInputSizeMB"}  # HTCondor counts the executable's size; condorsim 0


def test_bindings_and_condor_submit_queue_the_same_job_ad(personal_pool, tmp_path):
    description = {"executable": "/bin/sleep", "arguments": "60", "log": str(tmp_path / "same.log"),
                   "hold": "true", "request_memory": "100", "requirements": "IsShadowStartd =?= TRUE",
                   "environment": "A=1 B=2", "+MyAttr": '"mine"'}
    schedd = personal_pool.schedd()
    schedd.submit(htcondor2.Submit(description))
    text = "".join(f"{k} = {v}\n" for k, v in description.items()) + "queue\n"
    result = personal_pool.run("condor_submit", input=text)
    assert result.returncode == 0, result.stderr
    theirs, ours = schedd.query("ClusterId == 1")[0], schedd.query("ClusterId == 2")[0]
    differing = {key for key in set(theirs.keys()) | set(ours.keys())
                 if str(theirs.lookup(key) if key in theirs else None) != str(ours.lookup(key) if key in ours else None)}
    assert differing <= DIFFERENT_BY_NATURE, {k: (theirs.get(k), ours.get(k)) for k in differing - DIFFERENT_BY_NATURE}
    assert theirs["Owner"] == ours["Owner"] and theirs["MyAttr"] == "mine"


def test_workflow_itemdata_and_job_event_log(pool_factory, tmp_path):
    pool = pool_factory(config={"NUM_CPUS": "4"})
    schedd = pool.schedd()
    log = tmp_path / "workflow.log"
    submit = htcondor2.Submit({"executable": "/bin/sh", "arguments": "\"-c 'exit $(code)'\"",
                               "log": str(log), "output": str(tmp_path / "out.$(ProcId)")})
    result = schedd.submit(submit, itemdata=iter([{"code": str(n % 5)} for n in range(20)]))
    assert result.num_procs() == 20
    codes: dict[int, int] = {}
    events = htcondor2.JobEventLog(str(log))

    def all_terminated():
        for event in events.events(stop_after=0):
            if event.type == htcondor2.JobEventType.JOB_TERMINATED:
                codes[event.proc] = event["ReturnValue"]
        return len(codes) == 20

    wait_until(all_terminated, timeout=40, message="20 terminate events", show=lambda: len(codes))
    assert codes == {proc: proc % 5 for proc in range(20)}


def test_the_bindings_find_the_embedded_personal_pool(tmp_path):
    # The embedded pool keeps its state under ~/.condorsim; a HOME of its own keeps it apart.
    script = ("from condorsim import PersonalPool\n"
              "with PersonalPool(embedded=True) as pool:\n"
              "    print(len(pool.collector().query(pool.bindings().AdType.Startd)), pool.schedd().query())\n")
    env = {key: value for key, value in os.environ.items() if key != "CONDOR_CONFIG"}
    result = subprocess.run([sys.executable, "-c", script], env={**env, "HOME": str(tmp_path)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    slots, jobs = result.stdout.split(maxsplit=1)
    assert int(slots) >= 1 and jobs.strip() == "[]"
