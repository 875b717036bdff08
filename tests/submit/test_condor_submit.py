"""condor_submit's command line, output and errors, against a fake schedd client."""
import io

import pytest

from condorsim.scripts import condor_submit
from condorsim.shared.classad import ClassAd, Undefined, unparse

SEED = ("cmd=/bin/sleep\nargs=1d\nrequirements=IsShadowStartd=!=TRUE\nqueue 8\n"
        "requirements=IsShadowStartd=?=TRUE\nqueue 8\n")


class FakeSchedd:
    def __init__(self):
        self.calls = []

    def __call__(self, address, timeout=5.0):
        return self

    def call(self, command, **payload):
        self.calls.append((command, payload))
        if command == "NEW_CLUSTER":
            return {"cluster": 5}
        return {"ok": True}


def sent_ads(payload: dict) -> list[ClassAd]:
    """The job ads a SUBMIT request carries: the cluster ad with each proc's own attributes."""
    return [ClassAd.from_wire({**payload["cluster_ad"], **own}) for own in payload["procs"]]


@pytest.fixture
def schedd(monkeypatch, workdir):
    fake = FakeSchedd()
    monkeypatch.setattr(condor_submit, "Client", fake)
    monkeypatch.setattr(condor_submit, "schedd_address", lambda cfg, name=None: "<127.0.0.1:1>")
    monkeypatch.setattr(condor_submit, "load_config", lambda subsystem: {})
    monkeypatch.chdir(workdir)
    return fake


def run(monkeypatch, capsys, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = condor_submit.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_seed_from_stdin(schedd, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, [], SEED)
    assert code == 0
    assert out == "Submitting job(s)................\n16 job(s) submitted to cluster 5.\n"
    (new, _), (submit, payload) = schedd.calls
    assert (new, submit) == ("NEW_CLUSTER", "SUBMIT")
    assert payload["cluster"] == 5 and payload["owner"]
    ads = sent_ads(payload)
    assert [ad.eval("ProcId") for ad in ads] == list(range(16))
    assert {ad.eval("ClusterId") for ad in ads} == {5}
    assert ads[0].eval("Owner") is Undefined
    assert "isnt" in unparse(ads[0]["Requirements"]) or "=!=" in unparse(ads[0]["Requirements"])


def test_file_argument_and_key_value_arguments(schedd, monkeypatch, capsys, workdir):
    # key=value is read as if it began the description (the man page): the file's own value
    # wins, and the file may refer to the key.
    (workdir / "j.sub").write_text("executable = job.sh\narguments = file $(extra)\nqueue 2\n")
    code, out, _ = run(monkeypatch, capsys, ["j.sub", "arguments=cmdline", "extra=more"])
    assert code == 0 and out.endswith("2 job(s) submitted to cluster 5.\n")
    ads = sent_ads(schedd.calls[1][1])
    assert [ad.eval("Args") for ad in ads] == ["file more", "file more"]


def test_terse(schedd, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, ["-terse"], "executable = job.sh\nqueue 3\n")
    assert (code, out) == (0, "5.0 - 5.2\n")


def test_dash_is_verbose(schedd, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, ["-"], "executable = job.sh\nqueue 2\n")
    assert code == 0
    assert "Submitting" not in out and "submitted to cluster" not in out
    assert out.startswith("\n** Proc 5.0:\n") and "\n** Proc 5.1:\n" in out
    assert "ClusterId = 5" in out


@pytest.mark.parametrize("text, message", [
    ("executable = job.sh\nbad line\nqueue\n", "\nERROR: Failed to parse command file (line 2).\n"),
    ("executable = job.sh\n", '\nERROR: "(stdin)" doesn\'t contain any "queue" commands -- no jobs queued\n'),
])
def test_bad_description_queues_nothing(schedd, monkeypatch, capsys, text, message):
    code, out, err = run(monkeypatch, capsys, [], text)
    assert (code, out, err) == (1, "", message)
    assert schedd.calls == []


def test_missing_executable_queues_nothing(schedd, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, [], "executable = nope\nqueue\n")
    assert code == 1 and "ERROR: Executable file" in err and "does not exist" in err
    assert [c for c, _ in schedd.calls] == ["NEW_CLUSTER"]


def test_unreadable_file(schedd, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, ["no-such.sub"])
    assert code == 1 and "ERROR: Failed to open command file" in err


def test_unknown_option(schedd, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, ["-bogus"])
    assert code == 1 and "Usage: condor_submit" in err


def test_misspelled_key_warns_as_htcondor_and_still_queues(schedd, monkeypatch, capsys, workdir):
    (workdir / "t.sub").write_text("executable = job.sh\nrequst_memory = 2000\nqueue\n")
    code, out, err = run(monkeypatch, capsys, ["t.sub"])
    assert code == 0 and out == "Submitting job(s).\n1 job(s) submitted to cluster 5.\n"
    assert err == "\nWARNING: the line 'requst_memory = 2000' was unused by condor_submit. Is it a typo?\n"
    assert [c for c, _ in schedd.calls] == ["NEW_CLUSTER", "SUBMIT"]
    code, _, err = run(monkeypatch, capsys, ["-unused", "t.sub"])      # -unused toggles it off
    assert code == 0 and err == ""


def test_dry_run_writes_the_attributes_and_queues_nothing(schedd, monkeypatch, capsys, workdir):
    (workdir / "d.sub").write_text("executable = job.sh\narguments = $(Process)\nqueue 2\n")
    code, out, err = run(monkeypatch, capsys, ["-dry-run", "ads.txt", "d.sub"])
    assert (code, out, err) == (0, "Dry-Run job(s)..\n2 job(s) dry-run to cluster 1.\n", "")
    assert schedd.calls == []
    blocks = (workdir / "ads.txt").read_text().split("\n\n")
    assert blocks[0].startswith("\n") and "ClusterId=1" in blocks[0] and 'Args="0"' in blocks[0]
    assert blocks[1].splitlines() == ["ProcId=1", 'Args="1"']
    code, out, _ = run(monkeypatch, capsys, ["-dry-run", "-", "d.sub"])
    # to standard output: each proc's attributes, then its dot, as they are made
    assert code == 0 and out.startswith("Dry-Run job(s)\n") and '\nArgs="0"\n' in out
    assert out.endswith('\nProcId=1\nArgs="1"\n.\n2 job(s) dry-run to cluster 1.\n')


def test_queue_option_batch_name_and_file(schedd, monkeypatch, capsys, workdir):
    (workdir / "q.sub").write_text("executable = job.sh\narguments = $(Item)\n")
    code, out, _ = run(monkeypatch, capsys, ["-batch-name", "nightly", "-file", "q.sub",
                                             "-queue", "in", "(a", "b", "c)"])
    assert code == 0 and out.endswith("3 job(s) submitted to cluster 5.\n")
    ads = sent_ads(schedd.calls[1][1])
    assert [ad.eval("Args") for ad in ads] == ["a", "b", "c"]
    assert {ad.eval("JobBatchName") for ad in ads} == {"nightly"}
    (workdir / "q2.sub").write_text("executable = job.sh\nqueue\n")
    code, _, err = run(monkeypatch, capsys, ["q2.sub", "-queue", "2"])
    assert code == 1 and err == "\nERROR: -queue argument conflicts with queue statement in submit file\n"


def test_key_value_and_queue_need_no_file(schedd, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, ["executable=job.sh", "-queue", "2"])
    assert code == 0 and out == "Submitting job(s)..\n2 job(s) submitted to cluster 5.\n"


def test_maxjobs(schedd, monkeypatch, capsys, workdir):
    (workdir / "m.sub").write_text("executable = job.sh\nqueue 3\n")
    code, _, err = run(monkeypatch, capsys, ["-maxjobs", "2", "m.sub"])
    assert code == 1 and err == "\nERROR: Number of submitted jobs would exceed -maxjobs (2)\n"
    assert [c for c, _ in schedd.calls if c == "SUBMIT"] == []
    code, _, _ = run(monkeypatch, capsys, ["-maxjobs", "3", "-single-cluster", "m.sub"])
    assert code == 0
    code, _, err = run(monkeypatch, capsys, ["-maxjobs", "x", "m.sub"])
    assert code == 1 and "Unable to convert argument (x) to a number for -maxjobs" in err


def test_verbose_prints_each_ad_one_attribute_a_line(schedd, monkeypatch, capsys, workdir):
    (workdir / "v.sub").write_text("executable = job.sh\nqueue 2\n")
    code, out, _ = run(monkeypatch, capsys, ["-verbose", "v.sub"])
    assert code == 0 and out.startswith("Submitting job(s)\n** Proc 5.0:\n")
    assert "\n** Proc 5.1:\n" in out and "\nClusterId = 5\n" in out and "\nProcId = 1\n" in out
    assert "job(s) submitted" not in out


def test_help_and_spool(schedd, monkeypatch, capsys, workdir):
    code, out, _ = run(monkeypatch, capsys, ["-help"])
    assert code == 0 and out.startswith("Usage: condor_submit") and "-dry-run" in out
    (workdir / "s.sub").write_text("executable = job.sh\nqueue\n")
    code, out, _ = run(monkeypatch, capsys, ["-spool", "s.sub"])
    assert code == 0 and out.endswith("1 job(s) submitted to cluster 5.\n")


def test_standard_universe_error_output(schedd, monkeypatch, capsys, workdir):
    (workdir / "u.sub").write_text("universe = standard\nexecutable = job.sh\nqueue\n")
    code, out, err = run(monkeypatch, capsys, ["u.sub"])
    assert (code, out, err) == (1, "", "\nERROR: 'Standard' is not a supported universe.\n")


def test_warn_on_unused_knob_and_unused_toggle(schedd, monkeypatch, capsys, workdir):
    class Config(dict):
        def get_bool(self, name, default=None):
            return {"WARN_ON_UNUSED_SUBMIT_FILE_MACROS": False}.get(name, default)
    monkeypatch.setattr(condor_submit, "load_config", lambda subsystem: Config())
    (workdir / "k.sub").write_text("executable = job.sh\nColour = red\nqueue\n")
    assert run(monkeypatch, capsys, ["k.sub"])[2] == ""
    code, _, err = run(monkeypatch, capsys, ["-unused", "k.sub"])
    assert code == 0 and err == "\nWARNING: the line 'Colour = red' was unused by condor_submit. Is it a typo?\n"


def test_name_picks_the_schedd(schedd, monkeypatch, capsys, workdir):
    asked = []
    monkeypatch.setattr(condor_submit, "schedd_address",
                        lambda cfg, name=None: asked.append(name) or "<127.0.0.1:1>")
    (workdir / "n.sub").write_text("executable = job.sh\nqueue\n")
    assert run(monkeypatch, capsys, ["-name", "other@host", "n.sub"])[0] == 0
    assert asked == ["other@host"]
