"""classad_eval command line: argument processing, output and errors."""
from condorsim.scripts.classad_eval import main


def run(capsys, *args):
    rc = main(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_context_is_printed_when_it_changed(capsys):
    rc, out, _ = run(capsys, "x = y", "x", "y = 7", "x")
    assert rc == 0 and out == "[ x = y ]\nundefined\n[ x = y; y = 7 ]\n7\n"


def test_quiet_and_values(capsys):
    rc, out, _ = run(capsys, "-quiet", "a = 1; b = 2", "a + b", "{1, 2}", '"x" + 1', "[]", "strcat(\"x\", a)")
    assert rc == 0 and out == '3\n{ 1,2 }\nerror\n"x1"\n'


def test_empty_context_and_bad_expression(capsys):
    rc, out, err = run(capsys, "1 + 2", "1 +")
    assert rc == 1 and out == "[  ]\n3\n"
    assert err == "Unable to turn '1 +' into a ClassAd or an expression.\n"


def test_files(tmp_path, capsys):
    my = tmp_path / "my.ad"
    my.write_text("{\n[ a = 5 ]\n,\n[ a = 6 ]\n}\n")
    target = tmp_path / "target.ad"
    target.write_text("[ b = 10 ]")
    rc, out, _ = run(capsys, "-file", str(my), "-target-file", str(target), "a + TARGET.b", "a + b")
    assert rc == 0 and out == "[ a = 5 ]\n15\n15\n"
    old = tmp_path / "old.ad"
    old.write_text("a = 1\n")
    rc, _, err = run(capsys, "-file", str(old), "a")
    assert rc == 1 and err == f"Unable to turn file '{old}' into a ClassAd.\n"


def test_help_and_missing_file_argument(capsys):
    assert run(capsys, "-help")[0] == 255
    assert run(capsys, "-file")[0] == 255
