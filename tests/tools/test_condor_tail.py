"""condor_tail's command line: HTCondor's messages and exit codes for what it cannot tail."""
from condorsim.scripts import condor_tail as ct


def test_command_line_errors(capsys):
    for argv, message in ((["-no-stdout", "1.0"], "No file transfer specified.\n\n"),
                          ([], "Job ID not specified.\n"),
                          (["x.y"], "Invalid Job ID: x.y\n"),
                          (["-maxbytes"], "-maxbytes requires an argument.\n\n"),
                          (["-maxbytes", "ten", "1"], "Error: maxbytes (ten) is not valid\n\n")):
        assert ct.main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith(message) and "Usage: condor_tail [options] <job-id>" in err, argv


def test_options_and_job_ids():
    opts = ct.parse(["-stderr", "-f", "-maxbytes", "10", "12", "a.log", "b.log"])
    assert (opts["job"], opts["stdout"], opts["stderr"], opts["follow"], opts["max_bytes"], opts["files"]) == \
        ("12.0", False, True, True, 10, ["a.log", "b.log"])
    assert ct.parse(["3.4"])["job"] == "3.4" and ct.parse(["3.4"])["stdout"] is True


def test_version(capsys):
    assert ct.main(["-version"]) == 0
    assert capsys.readouterr().out.startswith("$CondorVersion: ")
