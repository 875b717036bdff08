"""condor_status views rendered from synthetic ads, compared with the texts of tools.md §1."""
import pytest

from tests.tools.conftest import make_ad

from condorsim.scripts import condor_status as cs

HOST = "host1.example.com"

SPEC_EXAMPLE = """\
Name                                  OpSys      Arch     State     Activity LoadAv Mem     ActvtyTime

slot1@SHADOW_STARTD@host1.example.com LINUX      X86_64   Unclaimed Idle      0.000    987  0+00:00:05
slot1@host1.example.com               LINUX      X86_64   Unclaimed Idle      0.000    987  0+00:00:05
slot2@SHADOW_STARTD@host1.example.com LINUX      X86_64   Unclaimed Idle      0.000    987  0+00:00:06
slot2@host1.example.com               LINUX      X86_64   Claimed   Busy      1.000    987  0+00:01:10
slot3@SHADOW_STARTD@host1.example.com LINUX      X86_64   Unclaimed Idle      0.000    987  0+00:00:07
slot3@host1.example.com               LINUX      X86_64   Unclaimed Idle      0.000    987  0+00:00:07
slot4@SHADOW_STARTD@host1.example.com LINUX      X86_64   Unclaimed Idle      0.000    987  0+00:00:08
slot4@host1.example.com               LINUX      X86_64   Unclaimed Idle      0.000    987  0+00:00:08

               Total Owner Claimed Unclaimed Matched Preempting  Drain Backfill BkIdle

  X86_64/LINUX     8     0       1         7       0          0      0        0      0

         Total     8     0       1         7       0          0      0        0      0
"""


def slot(ad_factory, n, startd="", state="Unclaimed", activity="Idle", load=0.0, heard=None):
    return ad_factory(Name=f"slot{n}@{startd}{HOST}", Machine=HOST, MyType="Machine",
                      OpSys="LINUX", Arch="X86_64", State=state, Activity=activity,
                      CondorLoadAvg=load, Memory=987, EnteredCurrentActivity=1000,
                      LastHeardFrom=heard if heard is not None else 1004 + n)


@pytest.fixture
def eight_slots(ad_factory):
    ads = []
    for startd in ("", "SHADOW_STARTD@"):
        for n in range(1, 5):
            if startd == "" and n == 2:
                ads.append(slot(ad_factory, n, startd, "Claimed", "Busy", 1.0, heard=1070))
            else:
                ads.append(slot(ad_factory, n, startd))
    return ads


def test_default_view_matches_spec_example(eight_slots):
    assert cs.render_slots(cs.sort_ads(eight_slots)) == SPEC_EXAMPLE


def test_default_sort_is_natural_by_machine_then_name(ad_factory):
    ads = [slot(ad_factory, n) for n in (10, 2, 1)]
    names = [ad.eval("Name") for ad in cs.sort_ads(ads)]
    assert names == [f"slot1@{HOST}", f"slot2@{HOST}", f"slot10@{HOST}"]


def test_sort_expression_replaces_default_order(ad_factory):
    ads = [slot(ad_factory, 1, load=0.5), slot(ad_factory, 2, load=0.1)]
    assert [a.eval("Name") for a in cs.sort_ads(ads, ["CondorLoadAvg"])][0] == f"slot2@{HOST}"


def test_no_ads_prints_nothing():
    assert cs.render_slots([]) == ""
    assert cs.render(cs.parse_args(["-total"]), []) == ""


def test_total_only_starts_with_blank_line(eight_slots):
    opts = cs.parse_args(["-total"])
    assert cs.render(opts, eight_slots) == SPEC_EXAMPLE[SPEC_EXAMPLE.index("\n\n   ") + 1:]


def test_totals_count_states_and_keys(ad_factory):
    ads = [slot(ad_factory, 1, state="Owner"), slot(ad_factory, 2, state="Drained"),
           slot(ad_factory, 3, state="Matched")]
    other = slot(ad_factory, 4)
    other["Arch"] = "aarch64"
    text = cs.render_totals(ads + [other])
    assert "\n  X86_64/LINUX     3     1       0         0       1          0      1        0      0\n" in text
    assert "\n aarch64/LINUX     1     0       0         1       0" in text


def test_missing_values_fill_with_question_marks(ad_factory):
    ad = ad_factory(Name=f"slot1@{HOST}", Machine=HOST, State="Unclaimed", Activity="Idle")
    row = cs.render_slots([ad]).splitlines()[2]
    assert row == f"slot1@{HOST}            [????????] [??????] Unclaimed Idle     [????] [????]           -"


def test_wide_activity_time_column(eight_slots):
    text = cs.render_slots(cs.sort_ads(eight_slots), wide=True)
    assert text.splitlines()[0].endswith("Mem    ActivityTime")
    assert text.splitlines()[2].endswith("   987   0+00:00:05")


def test_long_sorted_attributes_blank_line_after_each(ad_factory):
    ads = [ad_factory(Name="slot1@h", Cpus=1, arch="X86_64")]
    assert cs.render(cs.parse_args(["-long"]), ads) == \
        'arch = "X86_64"\nCpus = 1\nName = "slot1@h"\n\n'
    opts = cs.parse_args(["-l", "-attributes", "Name,Cpus"])
    assert cs.render(opts, ads) == 'Cpus = 1\nName = "slot1@h"\n\n'


def test_autoformat_and_format_through_the_command_line(eight_slots):
    opts = cs.parse_args(["-af", "Name", "Memory", "-constraint", "true"])
    lines = cs.render(opts, eight_slots).splitlines()
    assert lines[0] == f"slot1@SHADOW_STARTD@{HOST} 987" and len(lines) == 8
    assert opts.constraints == ["true"]
    opts = cs.parse_args(["-format", r"%s\n", "Name"])
    assert cs.render(opts, eight_slots[:1]) == f"slot1@{HOST}\n"


def test_json_output_is_array_of_ads(ad_factory):
    import json
    text = cs.render(cs.parse_args(["-json"]), [ad_factory(Name="slot1@h", Cpus=2)])
    assert json.loads(text) == [{"Cpus": 2, "Name": "slot1@h"}]


def test_schedd_view_and_totals(ad_factory):
    ads = [ad_factory(Name="alice@h1", Machine="h1", TotalRunningJobs=3, TotalIdleJobs=5,
                      TotalHeldJobs=1)]
    assert cs.render(cs.parse_args(["-schedd"]), ads) == (
        "Name     Machine RunningJobs   IdleJobs   HeldJobs\n\n"
        "alice@h1 h1                3          5          1\n"
        "\n" + " " * 14 + "  TotalRunningJobs      TotalIdleJobs      TotalHeldJobs\n\n"
        + " " * 14 + "\n\n"
        "         Total                 3                  5                  1\n")


def test_submitters_view_totals_keyed_by_name(ad_factory):
    ads = [ad_factory(Name="alice@h", Machine="h", RunningJobs=1, IdleJobs=2, HeldJobs=0)]
    text = cs.render(cs.parse_args(["-submitters"]), ads)
    assert text.splitlines()[2] == "alice@h h                 1          2          0"
    # the totals' keys are as wide as the longest submitter name, -wide or not (as in HTCondor)
    assert text.endswith("\n\n" + " " * 7 + "RunningJobs   IdleJobs   HeldJobs\n\n"
                         "alice@h          1          2          0\n\n"
                         "  Total          1          2          0\n")


def test_master_view_version_memory_uptime(ad_factory):
    ad = ad_factory(Name="h1", CondorVersion="$CondorVersion: 25.14.0 2026-09-24 BuildID: 0 $",
                    DetectedCpus=4, DetectedMemory=15872, DaemonStartTime=100,
                    LastHeardFrom=200)
    assert cs.render(cs.parse_args(["-master"]), [ad]).splitlines()[2] == \
        "h1   25.14.0.0         4    15.5 GB    0+00:01:40"


def test_any_view_shows_types(ad_factory):
    ads = [ad_factory(MyType="Scheduler", Name="s@h"), ad_factory(MyType="Machine",
                                                                  TargetType="Job", Name="x")]
    lines = cs.render(cs.parse_args(["-any"]), ads).splitlines()
    assert lines[0].split() == ["MyType", "TargetType", "Name"]
    assert "Scheduler          None               s@h" in [line.rstrip() for line in lines]


def test_positional_unknown_host_is_an_error(capsys):
    assert cs.main(["no-such-condorsim-host"]) == 1
    assert "condor_status: unknown host no-such-condorsim-host" in capsys.readouterr().err


def test_positional_names_with_a_domain_or_at_sign_are_taken_as_given():
    opts = cs.parse_args(["h1.example.org", "slot1@h2"])
    assert cs.build_constraint(opts) == ('((Name == "h1.example.org" || Machine == "h1.example.org") || '
                                         '(Name == "slot1@h2" || Machine == "slot1@h2"))')


def test_bad_option_and_missing_af_argument(capsys):
    assert cs.main(["-bogus-option"]) == 1
    assert cs.main(["-af"]) == 1
    assert "requires at least one attribute" in capsys.readouterr().err


def test_bad_constraint_is_an_error(capsys):
    assert cs.main(["-constraint", "Name =="]) == 1
    assert capsys.readouterr().err


def test_unreachable_collector_message_and_exit_code(monkeypatch, capsys):
    from condorsim.shared import locate
    from condorsim.shared.protocol import CommunicationError

    def unreachable(*args, **kwargs):
        raise CommunicationError("no answer")
    monkeypatch.setattr(locate, "query_ads", unreachable)
    monkeypatch.setattr(cs, "_collector_host", lambda cfg: "<127.0.0.1:9>")
    assert cs.main([]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Error: communication error\n" in captured.err
    assert "Error: Couldn't contact the condor_collector on <127.0.0.1:9>.\n" in captured.err
    assert "Extra Info:" in captured.err


def test_main_queries_slot_ads_with_constraint(monkeypatch, capsys, eight_slots):
    from condorsim.shared import locate
    calls = []

    def fake_query(cfg, ad_type, constraint=None, projection=None):
        calls.append((ad_type, constraint))
        return eight_slots
    monkeypatch.setattr(locate, "query_ads", fake_query)
    assert cs.main(["-constraint", "Memory > 0"]) == 0
    assert calls == [("Machine", "(Memory > 0)")]
    assert capsys.readouterr().out == SPEC_EXAMPLE
    assert cs.main(["-schedd", "-af", "Name"]) == 0
    assert calls[-1] == ("Scheduler", None)


def test_compact_folds_a_machines_static_slots_into_one_row(ad_factory):
    # Two of four static slots busy: 4 slots ("S"), the free ones' CPUs and memory, the largest
    # slot's memory, and `*` where the slots' states and activities differ. Folding sums the
    # slots' job starts, so an undefined RecentJobStarts shows as 0.00 (as in HTCondor).
    ads = [ad_factory(Name=f"slot{n}@{HOST}", Machine=HOST, MyType="Machine", OpSys="LINUX", Arch="X86_64",
                      OpSysAndVer="Debian12", SlotType="Static", SlotTypeID=0, TotalSlotCpus=1,
                      TotalSlotMemory=1024, Cpus=1, Memory=1024, TotalLoadAvg=2.0, TotalCpus=4.0,
                      State="Claimed" if n <= 2 else "Unclaimed", Activity="Busy" if n <= 2 else "Idle")
           for n in range(1, 5)]
    out = cs.render_compact(ads).splitlines()
    assert out[2] == (f"{HOST} x64/Debian12    4S    1          1.00      2     2.00    0.50 **     0.00"
                      "      1.00")
    assert out[-1].split() == ["Total", "4", "0", "2", "2", "0", "0", "0", "0", "0"]
    assert cs.platform(ad_factory(Arch="X86_64", OpSys="LINUX", OpSysAndVer="AlmaLinux9")) == "x64/AlmaLinux9"


# --- the slot views: -avail, -claimed, -state, -server; schedd -run --------------------------

def view_slots(ad_factory):
    """A partitionable slot with one claimed dynamic slot, as a pool now advertises them."""
    common = dict(Machine=HOST, MyType="Machine", OpSys="LINUX", Arch="X86_64", KeyboardIdle=3605,
                  LastHeardFrom=1100)
    return [
        ad_factory(Name=f"slot1@{HOST}", State="Unclaimed", Activity="Idle", CondorLoadAvg=0.0,
                   LoadAvg=0.25, Memory=2048, Disk=100000, Cpus=3, EnteredCurrentState=1000,
                   EnteredCurrentActivity=1000, PartitionableSlot=True, **common),
        ad_factory(Name=f"slot1_1@{HOST}", State="Claimed", Activity="Busy", CondorLoadAvg=1.0,
                   LoadAvg=1.0, Memory=1024, Disk=5000, Cpus=1, EnteredCurrentState=1050,
                   EnteredCurrentActivity=1060, RemoteUser="alice@example.com",
                   ClientMachine="submit.example.com", DynamicSlot=True, **common),
    ]


def test_avail_and_claimed_constraints():
    assert cs.build_constraint(cs.parse_args(["-avail"])) == \
        '(State == "Unclaimed" && Cpus > 0 && Memory > 0)'
    assert cs.build_constraint(cs.parse_args(["-cl", "-const", "Cpus > 1"])) == \
        '(Cpus > 1) && (State == "Claimed")'
    assert cs.build_constraint(cs.parse_args(["-claimed", "-compact"])) == (
        '((State == "Claimed" && DynamicSlot =!= true) || '
        '(NumDynamicSlots isnt undefined && NumDynamicSlots > 0))')
    assert cs.build_constraint(cs.parse_args(["-avail", "-compact"])) == \
        '(State == "Unclaimed" && Cpus > 0 && Memory > 0)'


def test_avail_shows_the_default_columns_and_totals(ad_factory):
    ads = view_slots(ad_factory)[:1]
    assert cs.render(cs.parse_args(["-avail"]), ads) == (
        "Name                               OpSys      Arch     State     Activity LoadAv Mem     ActvtyTime\n"
        "\n"
        "slot1@host1.example.com            LINUX      X86_64   Unclaimed Idle      0.000   2048  0+00:01:40\n"
        "\n"
        "               Total Owner Claimed Unclaimed Matched Preempting  Drain Backfill BkIdle\n"
        "\n"
        "  X86_64/LINUX     1     0       0         1       0          0      0        0      0\n"
        "\n"
        "         Total     1     0       0         1       0          0      0        0      0\n")


CLAIMED = """\
Name                               OpSys      Arch     LoadAv RemoteUser           ClientMachine   

slot1_1@host1.example.com          LINUX      X86_64    1.000 alice@example.com    submit.example.com

               Machines         MIPS       KFLOPS   AvgLoadAvg

  X86_64/LINUX        1            0            0   1.000

         Total        1            0            0   1.000

              (Omitted 1 malformed ads in computed attribute totals)

"""


def test_claimed_view_user_client_and_run_totals(ad_factory):
    # Slots advertise no Mips/KFlops (no benchmarks), so HTCondor counts them as malformed.
    ads = view_slots(ad_factory)[1:]
    assert cs.render(cs.parse_args(["-claimed"]), ads) == CLAIMED
    assert cs.render(cs.parse_args(["-slots", "-run"]), ads) == CLAIMED
    ads[0]["Mips"], ads[0]["KFlops"] = 5000, 1200000
    assert cs.render_totals(ads, view="claimed").splitlines()[-1] == \
        "         Total        1         5000      1200000   1.000"


def test_state_view_times_and_totals_by_activity(ad_factory):
    # HTCondor 25's -state totals never count their Total column: it stays 0.
    assert cs.render(cs.parse_args(["-state"]), view_slots(ad_factory)) == (
        "Name                               Cpu  Mem  LoadAv   KbdIdle    State     StateTime  Activ"
        "   ActvtyTime\n"
        "\n"
        "slot1@host1.example.com            3    2048  0.000   0+01:00:05 Unclaimed   0+00:01:40 Idle "
        "   0+00:01:40\n"
        "slot1_1@host1.example.com          1    1024  1.000   0+01:00:05 Claimed   0+00:00:50 Busy "
        "   0+00:00:40\n"
        "\n"
        "               Total Owner Unclaimed Claimed Preempting Matched  Drain Backfill BkIdle\n"
        "\n"
        "          Busy     0     0         0       1          0       0      0        0      0\n"
        "          Idle     0     0         1       0          0       0      0        0      0\n"
        "\n"
        "         Total     0     0         1       1          0       0      0        0      0\n")


def test_server_view_resources_and_totals(ad_factory):
    ads = view_slots(ad_factory)
    ads[0]["Mips"], ads[0]["KFlops"] = 4000, 900000
    assert cs.render(cs.parse_args(["-server"]), ads) == (
        "Name                               OpSys      Arch     LoadAv Memory   Disk      Mips    KFlops   \n"
        "\n"
        "slot1@host1.example.com            LINUX      X86_64    0.000     2048    100000    4000    900000\n"
        "slot1_1@host1.example.com          LINUX      X86_64    1.000     1024      5000 [?????] [???????]\n"
        "\n"
        "                  Slots Avail  Memory        Disk        MIPS      KFLOPS\n"
        "\n"
        "  X86_64/LINUX        2     2        3072      105000        4000      900000\n"
        "\n"
        "         Total        2     2        3072      105000        4000      900000\n"
        "\n"
        "              (Omitted 1 malformed ads in computed attribute totals)\n"
        "\n")


def test_bare_run_shows_schedds_running_jobs(ad_factory):
    opts = cs.parse_args(["-run"])
    assert (opts.mode, cs.build_constraint(opts)) == \
        ("schedd", "((ShadowsRunning+TotalSchedulerJobsRunning) > 0)")
    ad = ad_factory(Name="submit.example.com", TotalJobAds=12, ShadowsRunning=3,
                    TotalSchedulerJobsRunning=1, TotalSchedulerJobsIdle=0, RecentJobsCompleted=7,
                    RecentJobsStarted=4)
    assert cs.render(opts, [ad]) == (
        "Name               TotalJobs Shadows ActiveDAGs IdleDAGs RcntDone RcntStart\n"
        "\n"
        "submit.example.com        12       3          1        0        7         4\n")
    assert cs.render(cs.parse_args(["-run", "-total"]), [ad]) == ""


def test_views_that_contradict_each_other_are_errors(capsys):
    assert cs.main(["-avail", "-claimed"]) == 1
    assert capsys.readouterr().err == "Error:  Arg 2 (-claimed) contradicts arg 1 (-avail)\n"
    assert cs.parse_args(["-schedd", "-run"]).view == "run"
    assert cs.parse_args(["-claimed", "-run"]).view == "claimed"


def test_totals_spelling_and_wide_totals_fit_the_keys(ad_factory):
    ads = view_slots(ad_factory)
    assert cs.render(cs.parse_args(["-totals"]), ads) == cs.render(cs.parse_args(["-t"]), ads) \
        == cs.render(cs.parse_args(["-total"]), ads)
    assert cs.render(cs.parse_args(["-state", "-totals", "-wide"]), ads).splitlines()[1:6] == [
        "      Total Owner Unclaimed Claimed Preempting Matched  Drain Backfill BkIdle", "",
        " Busy     0     0         0       1          0       0      0        0      0",
        " Idle     0     0         1       0          0       0      0        0      0", ""]


def test_compact_totals_keys_as_wide_as_the_longest_platform(ad_factory):
    ad = ad_factory(Name=f"slot1@{HOST}", Machine=HOST, OpSys="LINUX", Arch="X86_64",
                    OpSysAndVer="Ubuntu22.04", SlotType="Static", State="Unclaimed", Activity="Idle")
    lines = cs.render_compact([ad]).splitlines()
    assert lines[-3:] == ["x64/Ubuntu22.04     1     0       0         1       0          0      0"
                          "        0      0", "", "          Total     1     0       0         1"
                          "       0          0      0        0      0"]


def test_limit_keeps_the_first_ads_found(ad_factory):
    ads = [slot(ad_factory, n) for n in (3, 1, 2)]
    text = cs.render(cs.parse_args(["-limit", "2", "-af", "Name"]), ads)
    assert text == f"slot1@{HOST}\nslot3@{HOST}\n"
    assert cs.parse_args(["-limit", "x"]).limit == 0   # atoi, as HTCondor reads it: no limit


def test_limit_and_direct_need_an_argument(capsys):
    assert cs.main(["-limit"]) == 1
    assert capsys.readouterr().err == ('condor_status: -limit requires one additional argument\n'
                                       'Use "condor_status -help" for details\n')
    assert cs.main(["-direct"]) == 1
    assert "condor_status: -direct requires another argument\n" in capsys.readouterr().err


def test_version_prints_the_version_lines(capsys):
    from condorsim.scripts.condor_version import version_lines
    assert cs.main(["-version", "-bogus"]) == 0
    assert capsys.readouterr().out == version_lines()


def test_direct_asks_the_daemon_found_at_the_collector(monkeypatch, capsys, eight_slots):
    from condorsim.shared import locate
    located, asked = [], []

    def fake_query(cfg, ad_type, constraint=None, projection=None):
        located.append((ad_type, constraint, projection))
        return [make_ad(MyAddress="<127.0.0.1:5>")] if HOST in constraint else []
    monkeypatch.setattr(locate, "query_ads", fake_query)
    monkeypatch.setattr(cs, "direct_query", lambda address, ad_type, constraint:
                        asked.append((address, ad_type, constraint)) or eight_slots)
    assert cs.main(["-direct", "slot1@" + HOST, "-claimed"]) == 0
    assert located == [("Machine", f'Name == "slot1@{HOST}" || Machine == "slot1@{HOST}"', ["MyAddress"])]
    assert asked == [("<127.0.0.1:5>", "Machine", '(State == "Claimed")')]
    assert capsys.readouterr().out.startswith("Name ")
    assert cs.main(["-direct", "nobody@nowhere", "-master"]) == 1
    assert capsys.readouterr().err == ("Error: Failed to locate master nobody@nowhere\n"
                                       "Can't find address for master nobody@nowhere\n")


def busy_partitionable_slot(ad_factory):
    """A partitionable slot with 3 of its 4 CPUs left and two claimed dynamic slots."""
    ad = ad_factory(Name=f"slot1@{HOST}", Machine=HOST, OpSys="LINUX", Arch="X86_64",
                    OpSysAndVer="AlmaLinux9", State="Unclaimed", Activity="Idle", PartitionableSlot=True,
                    SlotType="Partitionable", SlotTypeID=1, NumDynamicSlots=2, TotalSlotCpus=4,
                    TotalSlotGpus=0, TotalSlotMemory=8192, Cpus=3, Memory=6144, Disk=1000,
                    TotalLoadAvg=1.0, TotalCpus=4.0, RecentJobStarts=2)
    ad.set_expr("ChildState", '{"Claimed", "Claimed"}')
    ad.set_expr("ChildActivity", '{"Busy", "Busy"}')
    ad.set_expr("ChildRemoteUser", '{"bob@x", "alice@x", "bob@x"}')
    return ad


def test_compact_state_totals_by_activity_roll_up_dynamic_slots(ad_factory):
    assert cs.render(cs.parse_args(["-compact", "-state"]), [busy_partitionable_slot(ad_factory)]) == (
        "Machine           Platform       Slots Cpus Gpus  TotalGb CpuLoad ST Jobs/Min\n"
        "\n"
        "host1.example.com x64/AlmaLinux9    2     4    0     8.00    0.25 **     0.10\n"
        "\n"
        "               Total Owner Unclaimed Claimed Preempting Matched  Drain Backfill BkIdle\n"
        "\n"
        "          Idle     0     0         1       2          0       0      0        0      0\n"
        "\n"
        "         Total     0     0         1       2          0       0      0        0      0\n")


def test_compact_server_and_claimed_views(ad_factory):
    ad = busy_partitionable_slot(ad_factory)
    server = cs.render(cs.parse_args(["-compact", "-server"]), [ad]).splitlines()
    assert server[0] == ("Machine           Platform       Slots Cpus Gpus  TotalGb  Mips    KFlops   "
                         "CpuLoad ST Jobs/Min")
    assert server[2] == ("host1.example.com x64/AlmaLinux9    2     4    0     8.00 -       -          "
                         "  0.25 **     0.10")
    # HTCondor totals a partitionable slot with CPUs left twice here (its rollup, then itself)
    assert server[6] == "x64/AlmaLinux9        2     2       12288        2000           0           0"
    claimed = cs.render(cs.parse_args(["-compact", "-claimed"]), [ad]).splitlines()
    assert claimed[:3] == ["Machine           Platform       Slots Users         ", "",
                           "host1.example.com x64/AlmaLinux9    2  alice@x, bob@x"]
    assert claimed[4].split() == ["Machines", "MIPS", "KFLOPS", "AvgLoadAvg"]
