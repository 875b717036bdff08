"""condor_q views rendered from synthetic job ads, compared with the texts of tools.md §2."""
import time

import pytest

from condorsim.scripts import condor_q as cq

QDATE = time.mktime((2026, 11, 25, 10, 0, 0, 0, 0, -1))
NOW = QDATE + 3
ADDRESS = "<127.0.0.1:9618?addrs=127.0.0.1-9618&alias=host1>"


def job(ad_factory, cluster, proc, status=1, owner="alice", **extra):
    attrs = dict(ClusterId=cluster, ProcId=proc, Owner=owner, JobStatus=status, QDate=QDATE,
                 TotalSubmitProcs=2, RemoteUserCpu=0.0, ServerTime=NOW, Cmd="/bin/sleep",
                 Args="1d", JobPrio=0, ImageSize=100, EnteredCurrentStatus=QDATE)
    attrs.update(extra)
    return ad_factory(**attrs)


def summary(ad_factory, my_name=None, idle=1, running=1, held=0):
    attrs = {}
    for prefix in ("", "My", "Allusers"):
        attrs.update({prefix + "Jobs": idle + running + held, prefix + "Idle": idle,
                      prefix + "Running": running, prefix + "Held": held,
                      prefix + "Removed": 0, prefix + "Completed": 0, prefix + "Suspended": 0})
    if my_name:
        attrs["MyName"] = my_name
    return ad_factory(**attrs)


@pytest.fixture
def two_jobs(ad_factory):
    return [job(ad_factory, 42, 1), job(ad_factory, 42, 0, status=2, ShadowBday=QDATE)]


BATCH_EXAMPLE = """

-- Schedd: host1.example.com : <127.0.0.1:9618?... @ 11/25/26 10:00:03
OWNER BATCH_NAME    SUBMITTED   DONE   RUN    IDLE  TOTAL JOB_IDS
alice ID: 42      11/25 10:00      _      1      1      2 42.0-1

Total for query: 2 jobs; 0 completed, 0 removed, 1 idle, 1 running, 0 held, 0 suspended 
Total for all users: 2 jobs; 0 completed, 0 removed, 1 idle, 1 running, 0 held, 0 suspended

"""


def test_batch_view_matches_spec_example(two_jobs, ad_factory):
    text = cq.render_queue("batch", two_jobs, summary(ad_factory), "host1.example.com",
                           ADDRESS, now=NOW)
    assert text == BATCH_EXAMPLE


def test_other_user_gets_middle_summary_line(ad_factory):
    text = cq.render_summary(summary(ad_factory, my_name="bob"))
    assert text.splitlines()[2].startswith("Total for bob: 2 jobs; ")
    assert text.splitlines()[2].endswith("suspended ")
    assert "Total for bob" not in cq.render_summary(summary(ad_factory, "bob"), allusers=True)


def test_old_summary_form(ad_factory):
    assert cq.render_summary(summary(ad_factory), old_style=True) == \
        "\n2 jobs; 0 completed, 0 removed, 1 idle, 1 running, 0 held, 0 suspended\n"


def test_empty_queue_shows_unreduced_heading(ad_factory):
    text = cq.render_queue("batch", [], summary(ad_factory, idle=0, running=0), "h", ADDRESS,
                           now=NOW)
    assert text.splitlines()[3] == \
        "OWNER BATCH_NAME      SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL JOB_IDS"
    assert "Total for query: 0 jobs;" in text


def test_batch_groups_by_batch_name_and_shows_hold_column(ad_factory):
    jobs = [job(ad_factory, 7, 0, JobBatchName="sweep", TotalSubmitProcs=1),
            job(ad_factory, 9, 0, status=5, JobBatchName="sweep", TotalSubmitProcs=3),
            job(ad_factory, 10, 0, owner="bo", TotalSubmitProcs=1)]
    lines = cq.render_batch(jobs).splitlines()
    assert lines[0] == "OWNER BATCH_NAME    SUBMITTED   DONE   RUN    IDLE   HOLD  TOTAL JOB_IDS"
    assert lines[1] == "alice sweep       11/25 10:00      2      _      1      1      4 7.0 ... 9.0"
    assert lines[2] == "bo    ID: 10      11/25 10:00      _      _      1      _      1 10.0"


def test_batch_short_owners_widen_owner_column(ad_factory):
    lines = cq.render_batch([job(ad_factory, 3, 0, owner="bo")]).splitlines()
    assert lines[0].startswith("OWNER    BATCH_NAME")
    assert lines[1].startswith("bo       ID: 3 ")


def test_batch_without_total_submit_procs_prints_underscores(ad_factory):
    ad = job(ad_factory, 5, 0)
    del ad["TotalSubmitProcs"]
    assert cq.render_batch([ad]).splitlines()[1] == \
        "alice ID: 5       11/25 10:00      _      _      1      _ 5.0"


NOBATCH_HEAD = " ID      OWNER            SUBMITTED     RUN_TIME ST PRI SIZE CMD"


def test_nobatch_view(two_jobs, ad_factory):
    with_v2_args = job(ad_factory, 42, 10, status=2, ShadowBday=QDATE - 13, MemoryUsage=1953.1,
                       Arguments="one two")
    del with_v2_args["Args"]
    two_jobs.append(with_v2_args)
    text = cq.render_queue("nobatch", two_jobs, summary(ad_factory), "h", ADDRESS, now=NOW)
    lines = text.splitlines()
    assert lines[3] == NOBATCH_HEAD
    assert lines[4] == "  42.0   alice          11/25 10:00   0+00:00:03 R  0    0.1 sleep 1d"
    assert lines[5] == "  42.1   alice          11/25 10:00   0+00:00:00 I  0    0.1 sleep 1d"
    assert lines[6] == "  42.10  alice          11/25 10:00   0+00:00:16 R  0   1953 sleep one two"
    assert lines[7] == ""
    assert lines[8].startswith("Total for query: 2 jobs")


def test_nobatch_wide_ids_long_owner_description_and_status_letters(ad_factory):
    jobs = [job(ad_factory, 12345, 1000, status=5, owner="a-very-long-owner-name",
                JobDescription="my job"),
            job(ad_factory, 1, 0, status=6), job(ad_factory, 1, 1, TransferringInput=True)]
    lines = cq.render_nobatch(jobs).splitlines()
    assert lines[0] == " ID        OWNER            SUBMITTED     RUN_TIME ST PRI SIZE CMD"
    assert lines[1].startswith("    1. 0   alice          11/25 10:00   0+00:00:00  > 0")
    assert lines[2].startswith("    1. 1   alice          11/25 10:00   0+00:00:00 <  0")
    assert lines[3] == \
        "12345.1000 a-very-long-ow 11/25 10:00   0+00:00:00 H  0    0.1 (my job)"


def test_run_time_blank_without_remote_user_cpu(ad_factory):
    ad = job(ad_factory, 1, 0)
    del ad["RemoteUserCpu"]
    assert cq.render_nobatch([ad]).splitlines()[1] == \
        "   1.0   alice          11/25 10:00              I  0    0.1 sleep 1d"


def test_run_view_only_running_jobs_no_summary(two_jobs, ad_factory):
    two_jobs[1]["RemoteHost"] = "slot1@eeyore.local"
    text = cq.render_queue("run", two_jobs, summary(ad_factory), "h", ADDRESS, now=NOW)
    assert text.splitlines()[3:] == [
        " ID      OWNER            SUBMITTED     RUN_TIME HOST(S)",
        "  42.0   alice          11/25 10:00   0+00:00:03 slot1@eeyore.local"]


def test_hold_view(ad_factory):
    held = job(ad_factory, 42, 1, status=5, HoldReasonCode=1, HoldReasonSubCode=0,
               HoldReason="via condor_hold (by user alice)")
    assert cq.render_hold([held, job(ad_factory, 42, 0)]) == (
        " ID      OWNER          HELD_SINCE  CODE/SUB HOLD_REASON\n"
        "  42.1   alice          11/25 10:00    1/0   via condor_hold (by user alice)\n")


def test_title_line():
    assert cq.render_title("host1.example.com", ADDRESS, NOW) == \
        "\n\n-- Schedd: host1.example.com : <127.0.0.1:9618?... @ 11/25/26 10:00:03\n"
    assert cq.address_summary("<127.0.0.1:9618>") == "<127.0.0.1:9618>"


def test_ad_outputs_have_no_title_or_summary(two_jobs):
    opts = cq.parse_args(["-af", "ClusterId", "ProcId", "Owner"])
    assert opts.ad_output
    assert cq.render_ads(two_jobs, opts) == "42 0 alice\n42 1 alice\n"
    opts = cq.parse_args(["-format", "%d.", "ClusterId", "-format", r"%d\n", "ProcId"])
    assert cq.render_ads(two_jobs, opts) == "42.0\n42.1\n"
    long_text = cq.render_ads(two_jobs, cq.parse_args(["-long"]))
    assert long_text.startswith("Args = \"1d\"\nClusterId = 42\n")
    assert long_text.count("\n\n") == 2


def test_restrictions_build_constraint():
    opts = cq.parse_args(["42", "43.1", "bob", "-constraint", "JobPrio > 0"])
    # owners and job ids are ANDed (the fix): bob's jobs among 42 and 43.1
    assert cq.build_constraint(opts) == ('(JobPrio > 0) && (Owner == "bob") && (ClusterId == 42 || '
                                         '(ClusterId == 43 && ProcId == 1))')


def test_view_options():
    assert cq.parse_args([]).view == "batch"
    assert cq.parse_args(["-nobatch"]).view == "nobatch"
    assert cq.parse_args(["-run"]).view == "run"
    assert cq.parse_args(["-hold"]).view == "hold"
    assert cq.parse_args(["-allusers"]).allusers


def test_bad_constraint_and_bad_option(capsys):
    assert cq.main(["-constraint", "Owner =="]) == 1
    assert cq.main(["-nosuchoption"]) == 1
    assert capsys.readouterr().err


class FakeSchedd:
    """Stands in for shared.protocol.Client: records QUERY_JOBS and answers with wire ads."""
    calls: list = []
    reply: dict = {}

    def __init__(self, address, timeout=5.0):
        self.address = address

    def call(self, command, **payload):
        FakeSchedd.calls.append((command, payload))
        return FakeSchedd.reply

    def stream(self, command, more, **payload):
        yield self.call(command, **payload)


@pytest.fixture
def fake_pool(monkeypatch, two_jobs, ad_factory):
    from condorsim.shared import locate
    from condorsim.shared import protocol
    FakeSchedd.calls = []
    FakeSchedd.reply = {"jobs": [j.to_wire() for j in two_jobs],
                        "summary": summary(ad_factory).to_wire()}
    monkeypatch.setattr(protocol, "Client", FakeSchedd)
    monkeypatch.setattr(locate, "schedd_address", lambda cfg, name=None: ADDRESS)
    monkeypatch.setattr(cq, "_schedd_name", lambda cfg, address, wanted: "host1.example.com")
    monkeypatch.setattr(cq.getpass, "getuser", lambda: "alice")
    return FakeSchedd


def test_main_default_asks_for_callers_jobs(fake_pool, capsys):
    assert cq.main([]) == 0
    command, payload = fake_pool.calls[-1]
    assert command == "QUERY_JOBS" and payload["owner"] == "alice"
    out = capsys.readouterr().out
    assert out.startswith("\n\n-- Schedd: host1.example.com : <127.0.0.1:9618?... @ ")
    assert out.endswith(BATCH_EXAMPLE[BATCH_EXAMPLE.index("OWNER"):])


def test_main_allusers_and_restrictions_drop_owner(fake_pool, capsys):
    assert cq.main(["-allusers", "-af", "ClusterId", "ProcId"]) == 0
    assert fake_pool.calls[-1][1]["owner"] is None
    assert fake_pool.calls[-1][1]["projection"] == ["clusterid", "procid"]  # projected in the schedd
    assert capsys.readouterr().out == "42 0\n42 1\n"
    assert cq.main(["42", "-nobatch"]) == 0
    payload = fake_pool.calls[-1][1]
    assert {k: payload[k] for k in ("constraint", "projection", "owner")} == {
        "constraint": "(ClusterId == 42)", "projection": None, "owner": None}


def test_main_unreachable_schedd(monkeypatch, capsys):
    from condorsim.shared import locate
    from condorsim.shared.protocol import CommunicationError

    def unreachable(cfg, name=None):
        raise CommunicationError("cannot find the address of schedd (local)")
    monkeypatch.setattr(locate, "schedd_address", unreachable)
    assert cq.main([]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "cannot find the address" in captured.err


@pytest.fixture(params=["UTC", "Pacific/Auckland", "America/Los_Angeles"])
def time_zone(request, monkeypatch):
    """The date columns are local time, as HTCondor's: run them under several zones."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


# Local wall-clock times, and how condor_q's QDATE columns and title print them.
FIXED_DATES = [
    ((2027, 1, 5, 9, 3, 7), " 1/5  09:03", "01/05/27 09:03:07"),
    ((2026, 12, 3, 8, 38, 0), "12/3  08:38", "12/03/26 08:38:00"),
    ((2026, 10, 23, 23, 59, 59), "10/23 23:59", "10/23/26 23:59:59"),
]


@pytest.mark.parametrize("wall_clock, qdate, stamp", FIXED_DATES)
def test_date_views_on_fixed_dates(time_zone, ad_factory, wall_clock, qdate, stamp):
    when = time.mktime(wall_clock + (0, 0, -1))
    held = job(ad_factory, 7, 0, status=5, QDate=when, EnteredCurrentStatus=when, ServerTime=when,
               HoldReasonCode=1, HoldReasonSubCode=0, HoldReason="via condor_hold (by user alice)")
    assert cq.render_hold([held]).splitlines()[1] == \
        f"   7.0   alice          {qdate}    1/0   via condor_hold (by user alice)"
    assert cq.render_nobatch([held]).splitlines()[1] == \
        f"   7.0   alice          {qdate}   0+00:00:00 H  0    0.1 sleep 1d"
    batch = cq.render_queue("batch", [held], summary(ad_factory, idle=0, running=0, held=1), "h",
                            ADDRESS, now=when).splitlines()
    assert batch[2] == f"-- Schedd: h : <127.0.0.1:9618?... @ {stamp}"
    assert batch[4].split()[:5] == ["alice", "ID:", "7", *qdate.split()]


def test_more_options_parse(capsys):
    opts = cq.parse_args(["-name", "s1", "-currentrun", "-wide:120", "-reverse-analyze",
                          "-machine", "slot1@h", "-limit", "3"])
    assert (opts.name, opts.cumulative, opts.analyze, opts.machine, opts.limit) == \
        ("s1", False, "reverse", "slot1@h", 3)
    assert cq.parse_args(["-cumulative-time"]).cumulative
    assert cq.parse_args(["-better-analyze:reverse"]).analyze == "reverse"
    assert cq.parse_args(["-better-analyze"]).analyze == "better"
    assert cq.parse_args(["-analyze"]).analyze == "analyze"
    assert cq.parse_args(["-hold", "-nobatch"]).view == cq.parse_args(["-nobatch", "-hold"]).view == "hold"
    assert cq.main(["-help"]) == 0 and "-better-analyze" in capsys.readouterr().out
    assert cq.main(["-limit", "many"]) == 1
    assert "-limit requires a number" in capsys.readouterr().err


@pytest.mark.parametrize("wire", [
    {"ClusterId": "3", "ProcId": "7", "Owner": '"alice"', "QDate": "1700000000", "JobStatus": "2",
     "TotalSubmitProcs": "10"},
    {"ClusterId": "3", "ProcId": "7", "Owner": '"al\\\\ice"', "QDate": "1700000000", "JobStatus": "2",
     "TotalSubmitProcs": "10"},
    {"ClusterId": "3", "ProcId": "7", "Owner": '"bob"', "QDate": "1.5", "JobStatus": "1 + 1", "JobBatchName": '"b"'},
    {"ClusterId": "3", "ProcId": "0", "Owner": "undefined", "QDate": "5", "JobStatus": "1", "TotalSubmitProcs": "1"},
])
def test_batch_facts_from_the_wire_are_what_the_ad_gives(wire):
    from condorsim.shared.classad import ClassAd
    assert cq.batch_facts(wire) == cq.batch_facts(ClassAd.from_wire(wire))


def test_batch_view_counts_batches_as_they_stream():
    from condorsim.shared.classad import ClassAd
    wires = [{"ClusterId": str(c), "ProcId": str(p), "Owner": f'"{owner}"', "QDate": str(1700000000 + c),
              "JobStatus": str(status), "TotalSubmitProcs": "4"}
             for c, owner in ((5, "bob"), (3, "alice"), (9, "alice")) for p, status in enumerate((1, 2, 5, 1))]
    wires[2]["JobBatchName"] = '"nightly"'

    class Streaming:
        def stream(self, command, more, **payload):
            yield {"jobs": wires[:5], "cursor": 1}
            yield {"jobs": wires[5:], "cursor": None, "summary": {"Jobs": "12"}}

    counted, summary = cq.fetch_jobs(Streaming(), None, None, cq.parse_args([]))
    assert all(isinstance(batch, cq.Batch) for batch in counted) and summary.eval("Jobs") == 12
    assert cq.render_batch(counted) == cq.render_batch([ClassAd.from_wire(w) for w in wires])
    assert "alice ID: 3 " in cq.render_batch(counted) and " nightly " in cq.render_batch(counted)
