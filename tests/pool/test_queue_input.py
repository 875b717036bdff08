"""A client's bad attribute names never reach the job queue log (issue 12): a name with a newline
could otherwise forge records that a restarted schedd would replay."""
from __future__ import annotations

import getpass

import pytest

from condorsim.shared.locate import schedd_address
from condorsim.shared.pool import wait_until
from condorsim.shared.protocol import Client, RemoteError

pytestmark = pytest.mark.timeout(60)


def test_a_forged_attribute_name_is_refused_and_nothing_is_queued(personal_pool):
    schedd = Client(schedd_address(personal_pool.cfg))
    cluster = schedd.call("NEW_CLUSTER")["cluster"]
    good = {"Cmd": '"/bin/sleep"', "Args": '"600"', "JobStatus": "5", "JobUniverse": "5"}
    forged = {**good, "Foo 1\n103 1.0 Owner": '"mallory"'}
    with pytest.raises(RemoteError, match="invalid job attribute name"):
        schedd.call("SUBMIT", cluster=cluster, owner=getpass.getuser(), ads=[good, forged])
    assert personal_pool.run("condor_q", "-af", "ClusterId").stdout == ""  # not even the good first proc
    log = (personal_pool.dir / "local" / "spool" / "job_queue.log").read_text()
    assert "mallory" not in log
    result = personal_pool.run("condor_submit", input="cmd=/bin/sleep\nargs=600\nhold=true\nqueue\n")
    assert result.returncode == 0
    assert personal_pool.run("condor_restart", "-daemon", "schedd").returncode == 0
    wait_until(lambda: personal_pool.run("condor_q", "-af", "Owner").stdout.split() == [getpass.getuser()],
               timeout=20, message="the queue as it was after a restart")
