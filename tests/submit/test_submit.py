"""The submit language beyond the HTCondor comparison: errors, queue forms the bindings cannot
show, defaults taken from the configuration."""
import pytest

from condorsim.shared.daemon import CONDOR_VERSION
from condorsim.shared.submit import SubmitError, parse_submit


def build(text, workdir, **kw):
    return parse_submit(text).build_jobs(7, qdate=5, cwd=str(workdir), **kw)


@pytest.mark.parametrize("text, line", [
    ("executable = job.sh\nthis is not a key\nqueue\n", 2),
    ("# c\n\nexecutable = job.sh\n= value\nqueue\n", 4),
    ("executable = job.sh\nqueue in (a, b\n", 2),
])
def test_syntax_errors_name_the_line(text, line, workdir):
    with pytest.raises(SubmitError) as info:
        build(text, workdir)
    assert info.value.line == line
    assert f"(line {line})" in str(info.value)


def test_bad_expression_names_its_line(workdir):
    with pytest.raises(SubmitError) as info:
        build("executable = job.sh\nrequirements = (Memory > \nqueue\n", workdir)
    assert info.value.line == 2


def test_missing_executable_is_rejected(workdir):
    with pytest.raises(SubmitError, match=r"Executable file .*/nope does not exist"):
        build("executable = nope\nqueue\n", workdir)


def test_description_without_queue(workdir):
    desc = parse_submit("executable = job.sh\n", "my.sub")
    assert not desc.has_queue
    with pytest.raises(SubmitError, match='"my.sub" doesn\'t contain any "queue" commands'):
        desc.build_jobs(1, cwd=str(workdir))


def test_queue_zero_queues_nothing(workdir):
    assert build("executable = job.sh\nqueue 0\n", workdir) == []


def test_bad_queue_count(workdir):
    with pytest.raises(SubmitError) as info:
        build("executable = job.sh\nqueue lots\n", workdir)
    assert info.value.line == 2


def test_unknown_universe(workdir):
    with pytest.raises(SubmitError, match="universe"):
        build("executable = job.sh\nuniverse = martian\nqueue\n", workdir)


def test_queue_matching_files_and_dirs(workdir):
    (workdir / "sub" / "d.dat").mkdir()
    files = build("executable = job.sh\narguments = $(Item)\nqueue matching files sub/*.dat\n", workdir)
    assert [ad.eval("Args") for ad in files] == ["sub/a.dat", "sub/b.dat"]
    dirs = build("executable = job.sh\narguments = $(Item)\nqueue matching dirs sub/*.dat\n", workdir)
    assert [ad.eval("Args") for ad in dirs] == ["sub/d.dat/"]     # HTCondor appends the slash


def test_process_numbers_continue_across_queue_statements(workdir):
    jobs = build("executable = job.sh\narguments = $(Process)\nqueue 2\narguments = p$(Process)\nqueue\n",
                 workdir)
    assert [(ad.eval("ProcId"), ad.eval("Args")) for ad in jobs] == [(0, "0"), (1, "1"), (2, "p2")]


def test_owner_and_build_dependent_attributes(workdir):
    (ad,) = parse_submit("executable = job.sh\nqueue\n").build_jobs(3, owner="alice", cwd=str(workdir))
    assert ad.eval("Owner") == "alice"
    assert ad.eval("CondorVersion") == CONDOR_VERSION
    assert ad.eval("JobSubmitMethod") == 0
    assert ad.eval("ClusterId") == 3


class FakeConfig(dict):
    def get(self, name, default=None):
        return super().get(name, default)


def test_defaults_come_from_the_configuration(workdir):
    cfg = FakeConfig(JOB_DEFAULT_REQUESTMEMORY="512", JOB_DEFAULT_REQUESTDISK="2048",
                     FILESYSTEM_DOMAIN="example.org")
    (ad,) = build("executable = job.sh\nqueue\n", workdir, config=cfg)
    assert ad.eval("RequestMemory") == 512
    assert ad.eval("RequestDisk") == 2048
    assert ad.eval("FileSystemDomain") == "example.org"


def test_append_lines_go_before_the_first_queue(workdir):
    desc = parse_submit("executable = job.sh\narguments = file\nqueue\n")
    desc.insert_before_first_queue("arguments = cmdline")
    (ad,) = desc.build_jobs(1, cwd=str(workdir))
    assert ad.eval("Args") == "cmdline"


def test_self_referencing_macro_is_an_error(workdir):
    with pytest.raises(SubmitError, match="refers to itself"):
        build("executable = job.sh\nA = $(B)\nB = $(A)x\narguments = $(A)\nqueue\n", workdir)


def test_initialdir_must_exist(workdir):
    with pytest.raises(SubmitError, match=f"No such directory: {workdir}/nowhere0"):
        parse_submit("executable = job.sh\ninitialdir = nowhere$(Process)\nqueue\n").build_jobs(
            1, cwd=str(workdir))


def test_unbalanced_quote_message_as_htcondor(workdir):
    with pytest.raises(SubmitError) as err:
        parse_submit("executable = job.sh\narguments = \"a'b x\"\nqueue\n").build_jobs(1, cwd=str(workdir))
    assert str(err.value) == "Unbalanced quote starting here: 'b x\nThe full arguments you specified were: \"a'b x\""


@pytest.mark.parametrize("text, message", [
    ("hold = maybe\n", "hold=maybe is invalid, must eval to a boolean."),
    ('environment = "A"\n', "Missing '=' after environment variable 'A'.\nThe environment you specified was: '\"A\"'"),
    ("requirements = Memory >\n", "Parse error in expression: \n\tRequirements = (Memory >) && "),
    ("arguments = a \"b c\" d\n", 'Found illegal unescaped double-quote: "b c" d\n'
     'The full arguments you specified were: a "b c" d'),
    ("arguments = \"a\"\"b\" 'c d'\"\n", "Unexpected characters following double-quote.  Did you forget "
     "to escape the double-quote by repeating it?  Here is the quote and trailing characters: \" 'c d'\"\n\n"),
])
def test_error_texts_as_htcondor(text, message, workdir):
    with pytest.raises(SubmitError) as err:
        parse_submit("executable = job.sh\n" + text + "queue\n").build_jobs(1, cwd=str(workdir))
    assert str(err.value).startswith(message)
