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
    ads = [ClassAd.from_wire(ad) for ad in payload["ads"]]
    assert [ad.eval("ProcId") for ad in ads] == list(range(16))
    assert {ad.eval("ClusterId") for ad in ads} == {5}
    assert ads[0].eval("Owner") is Undefined
    assert "isnt" in unparse(ads[0]["Requirements"]) or "=!=" in unparse(ads[0]["Requirements"])


def test_file_argument_and_key_value_arguments(schedd, monkeypatch, capsys, workdir):
    (workdir / "j.sub").write_text("executable = job.sh\narguments = file\nqueue 2\n")
    code, out, _ = run(monkeypatch, capsys, ["j.sub", "arguments=cmdline"])
    assert code == 0 and out.endswith("2 job(s) submitted to cluster 5.\n")
    ads = [ClassAd.from_wire(ad) for ad in schedd.calls[1][1]["ads"]]
    assert [ad.eval("Args") for ad in ads] == ["cmdline", "cmdline"]


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
