"""The submit language beyond keys: include, if/elif/else, function macros, the defaults
condor_submit defines, and the queue forms -- checked against htcondor2.Submit where it tells."""
import os
import time

import pytest

os.environ.setdefault("CONDOR_CONFIG", "/dev/null")
import htcondor2  # noqa: E402  (HTCondor's own submit code: the oracle, test-only)

from condorsim.shared.submit import SubmitError, parse_submit  # noqa: E402


def ours(text: str, cwd, **kw) -> list[str]:
    """The ``output`` (job attribute ``Out``, kept as written) of each proc our code makes."""
    jobs = parse_submit(text, cwd=str(cwd), **kw).build_jobs(42, qdate=1000, cwd=str(cwd))
    return [ad.eval("Out") for ad in jobs]


def agree(text: str, cwd) -> str:
    """Our single proc's ``output``, asserted equal to HTCondor's expansion of it."""
    (got,) = ours(text, cwd)
    assert got == htcondor2.Submit(text).expand("output")
    return got


def test_include_command_output_is_read_in_place(workdir):
    text = ("include : echo B = fromcmd |\ninclude command : echo C = fromcmd2\n"
            "executable = job.sh\noutput = $(B) $(C)\nqueue\n")
    assert agree(text, workdir) == "fromcmd fromcmd2"


def test_include_file_relative_to_the_submit_directory(workdir):
    (workdir / "common.sub").write_text("A = fromfile\nrequest_memory = 300\n")
    text = "include : common.sub\nexecutable = job.sh\noutput = $(A)\nqueue\n"
    jobs = parse_submit(text, cwd=str(workdir)).build_jobs(1, cwd=str(workdir))
    assert jobs[0].eval("Out") == "fromfile" and jobs[0].eval("RequestMemory") == 300
    with pytest.raises(SubmitError, match="missing.sub"):
        parse_submit("include : missing.sub\nqueue\n", cwd=str(workdir))
    assert parse_submit("include ifexist : missing.sub\nqueue\n", cwd=str(workdir)).has_queue


@pytest.mark.parametrize("body", [
    "X = 1\nif defined X\n V = defined\nelse\n V = undefined\nendif\n",
    "if defined X\n V = defined\nelif version >= 9.0\n V = new\nelse\n V = old\nendif\n",
    "if version < 8.0\n V = old\nelif version == 25.14.1\n V = exact\nendif\n",
    "N = 0\nif $(N)\n V = yes\nelse\n V = no\nendif\n",
    "B = true\nif ! $(B)\n V = yes\nelse\n if defined B\n  V = nested\n endif\nendif\n",
    "if false\n V = a\nelif true\n V = b\nelif true\n V = c\nendif\n",
    "E =\nif defined E\n V = e\nelif defined ARCH\n V = $(ARCH)\nendif\n",
    "if defined Process\n V = process-defined\nendif\n",
    "if defined\n V = a\nelif $(NOPE)\n V = b\nelif 1.5\n V = c\nendif\n",
])
def test_if_elif_else_as_htcondor(body, workdir):
    agree(body + "executable = job.sh\noutput = $(V)\nqueue\n", workdir)


@pytest.mark.parametrize("condition", ["$(N) == 4", "version > 24", "x y", "", "!", "version"])
def test_conditions_htcondor_refuses_are_refused(condition, workdir):
    text = f"N = 4\nif {condition}\nV = 1\nendif\nexecutable = job.sh\nqueue\n"
    with pytest.raises(ValueError):
        htcondor2.Submit(text)
    with pytest.raises(SubmitError, match="not a valid if condition"):
        parse_submit(text, cwd=str(workdir))


def test_a_queue_statement_inside_a_false_branch_is_skipped(workdir):
    text = "executable = job.sh\nif false\nqueue 5\nelse\nqueue 2\nendif\n"
    assert len(ours(text, workdir)) == 2


@pytest.mark.parametrize("macro", [
    "$Fp(P)", "$Fd(P)", "$Fdd(P)", "$Fn(P)", "$Fx(P)", "$Fnx(P)", "$Fpn(P)", "$Fdnx(P)",
    "$Fpb(P)", "$Fdb(P)", "$Fxb(P)", "$Fq(P)", "$Fqa(P)", "$Fqn(P)", "$Fw(P)", "$BASENAME(P)",
    "$DIRNAME(P)", "$INT(N)", "$INT(N,%04d)", "$REAL(N)", "$REAL(R,%.2f)", "$INT(3+4)",
    "$CHOICE(1,a,b,c)", "$CHOICE(N2,x,y,z)", "$CHOICE(1,L)", "$SUBSTR(S,1,2)", "$SUBSTR(S,-2)", "$(S:x)$(none:dflt)",
    "$ENV(CONDORSIM_SUBMIT_TEST)", "$ENV(CONDORSIM_NOT_SET)", "$ENV(CONDORSIM_NOT_SET:fallback)",
    "$(ARCH) $(OPSYS) $(OPSYSANDVER) $(OPSYSMAJORVER) $(IsLinux)", "$$(Memory) $$([Cpus * 2])",
])
def test_function_macros_as_htcondor(macro, workdir, monkeypatch):
    monkeypatch.setenv("CONDORSIM_SUBMIT_TEST", "from-env")
    text = (f"P = /data/run7/sample.tar.gz\nN = 7\nN2 = 2\nR = 2.5\nS = abcdef\nL = red, green, blue\n"
            f"executable = job.sh\noutput = {macro}\nqueue\n")
    agree(text, workdir)


def test_random_choice_picks_one_of_its_arguments(workdir):
    got = ours("executable = job.sh\noutput = $RANDOM_CHOICE(a,b,c) $RANDOM_INTEGER(5,7)\n"
               "queue 20\n", workdir)
    assert {g.split()[0] for g in got} <= {"a", "b", "c"}
    assert {g.split()[1] for g in got} <= {"5", "6", "7"}


def test_submit_file_and_time_defaults(workdir):
    when = int(time.mktime((2026, 3, 4, 12, 0, 0, 0, 0, -1)))
    text = ("executable = job.sh\noutput = $(SUBMIT_FILE) $(SUBMIT_TIME) $(Year)-$(Month)-$(Day) "
            "$Fn(SUBMIT_FILE)\nqueue\n")
    jobs = parse_submit(text, "/x/run.sub", cwd=str(workdir), submit_time=when).build_jobs(1, cwd=str(workdir))
    assert jobs[0].eval("Out") == f"/x/run.sub {when} 2026-03-04 run"


def test_ff_makes_a_path_absolute_against_the_submit_directory(workdir):
    (got,) = ours("F = data/in.txt\nexecutable = job.sh\noutput = $Ff(F)\nqueue\n", workdir)
    assert got == f"{workdir}/data/in.txt"


def test_choice_out_of_range_is_an_error(workdir):
    with pytest.raises(SubmitError, match="CHOICE"):
        ours("executable = job.sh\noutput = $CHOICE(5,a)\nqueue\n", workdir)


def _items(text: str) -> list[dict]:
    return [dict(d) for d in htcondor2.Submit(text).itemdata()]


@pytest.mark.parametrize("queue, variables", [
    ("queue from seq 7 9 |", ["Item"]),
    ("queue x, y from (\n a b c\n d,e, f\n)", ["x", "y"]),
    ("queue x, y from rows.txt", ["x", "y"]),
    ("queue a,b from cat rows.txt |", ["a", "b"]),
])
def test_queue_items_as_htcondor(queue, variables, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    text = "executable = job.sh\noutput = " + " ".join(f"$({v})" for v in variables) + f"\n{queue}\n"
    want = [" ".join(row[v] for v in variables) for row in _items(text)]
    assert ours(text, workdir) == want


def test_queue_slices_keep_the_item_index(workdir):
    text = "executable = job.sh\noutput = $(x) $(Row)\nqueue x in [1:4:2] (a b c d e)\n"
    assert ours(text, workdir) == ["b 1", "d 3"]
    text = "executable = job.sh\noutput = $(Item)\nqueue from [-2:] seq 1 5 |\n"
    assert ours(text, workdir) == ["4", "5"]


def test_queue_count_expressions(workdir):
    assert len(ours("N = 3\nexecutable = job.sh\nqueue $(N) * 2\n", workdir)) == 6
    assert len(ours("executable = job.sh\nqueue 2 x in (a b)\n", workdir)) == 4
    with pytest.raises(SubmitError, match="not a number"):
        ours("executable = job.sh\nqueue lots\n", workdir)


def test_standard_universe_is_refused_as_htcondor_refuses_it(workdir):
    with pytest.raises(SubmitError) as err:
        ours("universe = standard\nexecutable = job.sh\nqueue\n", workdir)
    assert str(err.value) == "'Standard' is not a supported universe."


def test_unused_keys_and_queue_variables(workdir):
    text = ("executable = job.sh\nrequst_memory = 2000\nHelper = x\nUsed = 1\noutput = $(Used)\n"
            "+Custom = 1\nMY.Other = 2\nqueue color, shape from (\n red round\n)\n")
    description = parse_submit(text, cwd=str(workdir))
    description.build_jobs(1, cwd=str(workdir))
    assert description.unused_warnings() == [
        "the line 'Helper = x' was unused by condor_submit. Is it a typo?",
        "the line 'requst_memory = 2000' was unused by condor_submit. Is it a typo?",
        "the Queue variable 'color' was unused by condor_submit. Is it a typo?",
        "the Queue variable 'shape' was unused by condor_submit. Is it a typo?",
    ]
