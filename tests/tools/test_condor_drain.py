"""condor_drain's command line as HTCondor's tool reads it (the live drains are in
tests/pool/test_partitionable.py)."""
import pytest

from condorsim.scripts import condor_drain
from condorsim.shared.tool_options import ToolExit


def test_options_and_their_values():
    opts = condor_drain.parse(["-quick", "-reason", "new kernel", "-reconfig-on-completion", "-check", "Cpus > 0",
                               "-start", "Owner == \"root\"", "-verbose", "-debug", "host1"])
    assert (opts["how_fast"], opts["reason"], opts["on_completion"], opts["check"], opts["start"],
            opts["verbose"], opts["target"]) == ("quick", "new kernel", "reconfig", "Cpus > 0",
                                                 'Owner == "root"', True, "host1")
    assert condor_drain.parse(["-graceful", "-resume-on-completion", "h"])["on_completion"] == "resume"
    assert condor_drain.parse(["-restart-on-completion", "h"])["on_completion"] == "restart"
    cancel = condor_drain.parse(["-cancel", "-request-id", "17.2", "h"])
    assert (cancel["cancel"], cancel["request_id"]) == (True, "17.2")


@pytest.mark.parametrize("argv, status, message", [
    (["-help"], 0, "Usage: condor_drain [OPTIONS] machine\n"),
    ([], 2, "ERROR: must specify one target machine\n"),
    (["-bogus", "h"], 2, "ERROR: unexpected argument: -bogus\n"),
    (["-request-id", "1", "h"], 2, "ERROR: -request-id may only be used with -cancel\n"),
    (["-cancel", "-check", "x", "h"], 2, "ERROR: -check may not be used with -cancel\n"),
    (["-cancel", "-exit-on-completion", "h"], 2, "ERROR: cannot use an -on-completion option with -cancel\n"),
    (["-exit-on-completion", "-resume-on-completion", "h"], 1,
     "condor_drain: '-resume-on-completion' conflicts with previous use of '-exit-on-completion'\n"),
    (["-reason"], 1, "condor_drain: '-reason' requires another argument\n"),
])
def test_errors_as_htcondor_prints_them(capsys, argv, status, message):
    with pytest.raises(ToolExit) as stop:
        condor_drain.parse(argv)
    assert stop.value.status == status
    assert capsys.readouterr().err.startswith(message)
