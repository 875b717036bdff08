"""HTCondor's print-format language (shared/print_format.py): the parser, the tools' built-in
views written in it, and our own print-format files for condor_q and condor_status."""
from pathlib import Path

import pytest

from tests.tools.conftest import make_ad

from condorsim.scripts import condor_q as cq
from condorsim.scripts import condor_status as cs
from condorsim.shared.print_format import parse_print_format

FORMATS = Path(__file__).parent.parent / "data" / "print_formats"
JOBS_FORMAT = str(FORMATS / "jobs_by_status.cpf")
SLOTS_FORMAT = str(FORMATS / "slots_by_id.cpf")


def jobs():
    common = dict(Owner="alice", JobUniverse=5)
    return [make_ad(ClusterId=1, ProcId=0, JobStatus=2, Args="1d", **common),
            make_ad(ClusterId=1, ProcId=1, JobStatus=2, Args="1d", **common),
            make_ad(ClusterId=2, ProcId=0, JobStatus=5, Args="2d", HoldReasonCode=1, **common),
            make_ad(ClusterId=3, ProcId=0, JobStatus=1, **common)]


def summary():
    counts = dict(Jobs=4, Idle=1, Running=2, Held=1, Removed=0, Completed=0, Suspended=0)
    return make_ad(**counts, **{"Allusers" + name: value for name, value in counts.items()})


JOBS_OUTPUT = """\
 ID     STATUS   ARGS CODE WHO'S
   2.0  Held     2d      1 ali
   1.0  Running  1d   [??] ali
   1.1  Running  1d   [??] ali
   3.0  Idle     -    [??] ali

Total for query: 4 jobs; 0 completed, 0 removed, 1 idle, 2 running, 1 held, 0 suspended 
Total for all users: 4 jobs; 0 completed, 0 removed, 1 idle, 2 running, 1 held, 0 suspended

"""


def test_condor_q_print_format_file_columns_order_and_summary():
    opts = cq.parse_args(["-pr", JOBS_FORMAT])
    # NOTITLE drops the schedd line; GROUP BY JobStatus DESCENDING puts the held job first;
    # a fixed WIDTH cuts (condor_q), OR ?? fills the column, OR - shows a dash
    text = cq.render_queue("batch", jobs(), summary(), "schedd", "<127.0.0.1:1>",
                           print_format=opts.print_format)
    assert text == JOBS_OUTPUT


def test_condor_q_print_format_where_joins_the_query():
    opts, constraint = cq.read_query_command_line(
        ["-print-format", JOBS_FORMAT, "-constraint", "Owner == \"alice\""], cq.parse_args,
        cq.build_constraint, cq.USAGE, "Error: invalid constraint expression")
    assert constraint == '(JobUniverse == 5) && (Owner == "alice")'


SLOTS_OUTPUT = """\
SLOT    CPUS   MEMORY STATE      CODE MISSING AS_V     

slot2@h    2   2.0 GB Claimed    Cb   [?????] undefined
slot1@h    1 1024.0 MB Unclaimed  Ui   [?????] undefined

               Total Owner Claimed Unclaimed Matched Preempting  Drain Backfill BkIdle

  X86_64/LINUX     2     0       1         1       0          0      0        0      0

         Total     2     0       1         1       0          0      0        0      0
"""


def test_condor_status_print_format_file_columns_order_and_totals():
    slots = [make_ad(Name="slot1@h", Machine="h", SlotID=1, Cpus=1, Memory=1024, State="Unclaimed",
                     Activity="Idle", OpSys="LINUX", Arch="X86_64"),
             make_ad(Name="slot2@h", Machine="h", SlotID=2, Cpus=2, Memory=2048, State="Claimed",
                     Activity="Busy", OpSys="LINUX", Arch="X86_64")]
    opts = cs.parse_args(["-print-format", SLOTS_FORMAT])
    assert cs.build_constraint(opts) is None and opts.print_format.where == "SlotID <= 2"
    # a fixed WIDTH does not cut in condor_status (HTCondor's fixed_width_implies_truncate);
    # %v shows an undefined value as `undefined`, %s leaves it to OR
    assert cs.render(opts, slots) == SLOTS_OUTPUT


def test_built_in_views_are_print_formats_without_warnings():
    for view in cq.VIEWS:
        assert cq.view_format(view).warnings == []
    assert parse_print_format(cq.HOLD_CODES_VIEW).warnings == []
    for text in list(cs.VIEWS.values()) + [cs._SLOT_VIEWS[v] for v in cs._SLOT_VIEWS]:
        assert cs.view_format(text).warnings == []
    assert [c.heading for c in cq.view_format("nobatch").table_columns(cq.local_functions())] == [
        " ID", " ", "OWNER", "  SUBMITTED", "    RUN_TIME", "ST", "PRI", "SIZE", "CMD"]


def test_parser_reads_keywords_quotes_and_continuations():
    fmt = parse_print_format(
        "# comment\n"
        "SELECT NOHEADER RECORDPREFIX '<' RECORDSUFFIX '>\\n' FIELDPREFIX '|'\n"
        "   Owner ?: \"nobody\" AS 'WHO IS' WIDTH -6 \\\n"
        "       TRUNCATE\n"
        "   ImageSize / 1024 AS MB PRINTF '%.1f' OR ?\n"
        "WHERE ImageSize > 0\n"
        "GROUP BY\n"
        "   Owner\n"
        "   ImageSize DESCENDING\n")
    assert [(c.expr, c.heading, c.width, c.right, c.truncate) for c in fmt.columns] == [
        ('Owner ?: "nobody"', "WHO IS", 6, False, True), ("ImageSize / 1024", "MB", 2, False, False)]
    assert fmt.where == "ImageSize > 0"
    assert fmt.group_by == [("Owner", False), ("ImageSize", True)]
    assert (fmt.noheader, fmt.summary, fmt.record_prefix, fmt.record_suffix) == (True, False, "<", ">\n")
    ads = [make_ad(Owner="bob", ImageSize=2048), make_ad(ImageSize=1024), make_ad(Owner="bob", ImageSize=4096)]
    assert fmt.render(fmt.sort(ads)) == "<bob   |4.0>\n<bob   |2.0>\n<nobody|1.0>\n"


def test_label_mode_prints_name_value_fields():
    fmt = parse_print_format("SELECT LABEL SEPARATOR ': ' FIELDPREFIX ', '\n"
                             "  ClusterId AS Cluster\n  Missing PRINTF %d OR -\n  Missing AS Other\n")
    assert fmt.render([make_ad(ClusterId=7)]) == "Cluster: 7, Missing: -, Other: undefined\n"


def test_parser_warnings_use_htcondors_words():
    fmt = parse_print_format("SELECT FANCY\n  Owner PRINTAS NO_SUCH_FUNCTION OR !\n  Owner AS\n"
                             "  (Owner AS OWNER\n")
    assert fmt.warnings == ["Warning: Unknown header argument FANCY for SELECT",
                            "Unknown argument NO_SUCH_FUNCTION for PRINTAS",
                            "Unknown argument ! for OR",
                            "expected column name after AS at line 3 offset 8 in SELECT",
                            "attribute or expression is not valid: (Owner"]


def test_print_format_errors_and_exit_codes(tmp_path, capsys):
    assert cq.main(["-print-format"]) == 1
    assert capsys.readouterr().err == "Error: -print-format requires a filename argument\n"
    assert cs.main(["-pr", "-long"]) == 1
    assert capsys.readouterr().err == "Error: Argument -print-format requires a filename argument\n"
    missing = str(tmp_path / "nope.cpf")
    assert cq.main(["-pr", missing]) == 1
    assert capsys.readouterr().err == f"Can't open select file: {missing}\nError: invalid select file {missing}\n"
    aggregate = tmp_path / "agg.cpf"
    aggregate.write_text("SELECT UNIQUE\n  Owner\n")
    assert cs.main(["-pr", str(aggregate)]) == 1
    assert capsys.readouterr().err == ("print-format aggregation not supported\n"
                                       f"Error: invalid select file {aggregate}\n")


def test_condor_q_select_unique_counts_jobs_per_value(tmp_path):
    path = tmp_path / "owners.cpf"
    path.write_text("SELECT UNIQUE NOTITLE\n  JobStatus AS ST PRINTAS JOB_STATUS_RAW\n"
                    "  JobCount AS COUNT PRINTF %5d\n  JobIDs AS IDS\n")
    opts = cq.parse_args(["-pr", str(path)])
    text = cq.render_queue("batch", jobs(), summary(), "", "", print_format=opts.print_format)
    assert text == ("ST      COUNT IDS    \n"
                    "Running     2 1.0 1.1\n"
                    "Held        1 2.0    \n"
                    "Idle        1 3.0    \n")
