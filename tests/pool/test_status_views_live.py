"""condor_status's slot views in a real pool (issue 14): one partitionable slot per startd, a job
running in its dynamic slot slot1_1; -claimed, -avail, -state, -server, their -compact forms, schedds' -run, -direct, -limit, -totals."""
from __future__ import annotations

import pytest

from condorsim.shared.pool import wait_until

pytestmark = pytest.mark.timeout(90)


def status(pool, *args: str) -> str:
    result = pool.run("condor_status", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def rows(lines: list[str]) -> list[str]:
    """The first word of each row of the table (between the heading's blank line and the next)."""
    return [line.split()[0] for line in lines[2:lines.index("", 2)]]


def test_slot_views_with_a_running_job(pool_factory):
    pool = pool_factory(config={"NUM_CPUS": "2"})
    host = pool.cfg.get("FULL_HOSTNAME")
    assert pool.run("condor_submit", input="executable = /bin/sleep\narguments = 1d\nqueue\n").returncode == 0
    wait_until(lambda: len(pool.query("Machine", 'State == "Claimed" && Activity == "Busy"')) == 1,
               timeout=20, message="the job to run in a dynamic slot")

    claimed = status(pool, "-claimed").splitlines()
    assert claimed[0].split() == ["Name", "OpSys", "Arch", "LoadAv", "RemoteUser", "ClientMachine"]
    assert rows(claimed) == [f"slot1_1@{host}"]
    assert claimed[2].split()[1:3] == ["LINUX", "X86_64"] and claimed[2].split()[5] == host
    assert claimed[4].split() == ["Machines", "MIPS", "KFLOPS", "AvgLoadAvg"]
    assert claimed[8].split()[:2] == ["Total", "1"]
    # slots advertise no benchmark results (Mips, KFlops): HTCondor reports them as malformed
    assert claimed[10].strip() == "(Omitted 1 malformed ads in computed attribute totals)"
    assert status(pool, "-slots", "-run") == "\n".join(claimed) + "\n"

    avail = status(pool, "-avail").splitlines()
    assert rows(avail) == [f"slot1@{host}"]

    state = status(pool, "-state").splitlines()
    assert state[0].split() == ["Name", "Cpu", "Mem", "LoadAv", "KbdIdle", "State", "StateTime",
                                "Activ", "ActvtyTime"]
    assert rows(state) == [f"slot1@{host}", f"slot1_1@{host}"]
    assert [line.split()[0] for line in state[7:] if line.strip()] == ["Busy", "Idle", "Total"]

    server = status(pool, "-server").splitlines()
    assert server[0].split() == ["Name", "OpSys", "Arch", "LoadAv", "Memory", "Disk", "Mips", "KFlops"]
    assert server[9].split()[:3] == ["Total", "2", "2"]

    compact_state = status(pool, "-compact", "-state").splitlines()
    assert compact_state[0].split() == ["Machine", "Platform", "Slots", "Cpus", "Gpus", "TotalGb", "CpuLoad",
                                        "ST", "Jobs/Min"]
    assert rows(compact_state) == [host] and compact_state[2].split()[2] == "1"
    assert compact_state[6].split() == ["Idle", "0", "0", "1", "1", "0", "0", "0", "0", "0"]
    assert rows(status(pool, "-compact", "-claimed").splitlines()) == [host]

    # bare -run: schedds running jobs, one shadow and one recent start here
    wait_until(lambda: status(pool, "-run") != "", timeout=10, message="the schedd's ad with the running job")
    run = status(pool, "-run").splitlines()
    assert run[0].split() == ["Name", "TotalJobs", "Shadows", "ActiveDAGs", "IdleDAGs", "RcntDone", "RcntStart"]
    assert run[2].split()[1:] == ["1", "1", "0", "0", "0", "1"] and len(run) == 3

    assert rows(status(pool, "-direct", host).splitlines()) == [f"slot1@{host}", f"slot1_1@{host}"]
    assert status(pool, "-limit", "1", "-af", "Name").count("\n") == 1
    assert status(pool, "-totals") == status(pool, "-total")
    missing = pool.run("condor_status", "-direct", "nobody@nowhere.invalid")
    assert missing.returncode == 1 and "Can't find address for startd nobody@nowhere.invalid" in missing.stderr
