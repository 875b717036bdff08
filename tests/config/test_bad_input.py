"""Each kind of malformed configuration stops loading with a file:line message, and the tool
exits non-zero printing it (nothing runs on half a configuration)."""
from __future__ import annotations

import pytest

from condorsim.scripts import condor_config_val
from condorsim.shared.config import ConfigError, load_config

BAD = {
    "malformed_line": ("A = 1\njust some text\n", 2, "malformed line"),
    "if_without_endif": ("if true\nA = 1\n", 2, "endif"),
    "endif_without_if": ("A = 1\nendif\n", 2, "endif without matching if"),
    "else_without_if": ("else\n", 1, "else without matching if"),
    "elif_after_else": ("if false\nelse\nelif true\nendif\n", 3, "elif after else"),
    "complex_if": ("X = 3\nif $(X) == 3\nendif\n", 2, "complex conditionals are not supported"),
    "unknown_if_word": ("if banana\nendif\n", 1, "not a valid if condition"),
    "unknown_template": ("use ROLE:Bogus\n", 1, "does not recognise Bogus"),
    "unknown_category": ("\nuse BOGUS:Personal\n", 2, "unknown category"),
    "use_without_colon": ("use ROLE\n", 1, "expected 'use CATEGORY : TEMPLATE'"),
    "missing_include": ("A = 1\n\ninclude : /nonexistent/condorsim/x.config\n", 3, "cannot read"),
    "malformed_include": ("include nothing\n", 1, "malformed include"),
    "unterminated_at_block": ("A @=end\nline\n", 1, "'@end'"),
    "error_statement": ("A = 1\nerror : stop here\n", 2, "stop here"),
    "failing_include_command": ("include command : false\n", 1, "exited with status 1"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_line_names_file_and_line(kind, tmp_path):
    text, line, problem = BAD[kind]
    root = tmp_path / "condor_config"
    root.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(env={"CONDOR_CONFIG": str(root)})
    assert f"{root}, line {line}: " in str(info.value)
    assert problem in str(info.value)
    assert (info.value.source, info.value.line) == (str(root), line)


def test_error_in_config_d_file_names_that_file(tmp_path):
    (tmp_path / "config.d").mkdir()
    (tmp_path / "config.d" / "20bad").write_text("# fine\nA = 1\nnot an assignment\n")
    root = tmp_path / "condor_config"
    root.write_text(f"LOCAL_CONFIG_DIR = {tmp_path}/config.d\n")
    with pytest.raises(ConfigError, match=rf"{tmp_path}/config.d/20bad, line 3: malformed line"):
        load_config(env={"CONDOR_CONFIG": str(root)})


@pytest.mark.parametrize("text, error", [
    ("A = 1\nuse ROLE:Personal, Nope\n", r", line 2: .*Nope"),
    ("LOCAL_CONFIG_FILE = {tmp}/absent\n", "cannot read config source .*absent"),
    ("LOCAL_CONFIG_DIR = {tmp}\nLOCAL_CONFIG_DIR_EXCLUDE_REGEXP = ([\n", "LOCAL_CONFIG_DIR_EXCLUDE_REGEXP"),
], ids=["error_inside_metaknob_points_at_the_use_line", "missing_local_config_file", "bad_exclude_regexp"])
def test_bad_root_config_is_an_error_naming_the_cause(text, error, tmp_path):
    root = tmp_path / "condor_config"
    root.write_text(text.format(tmp=tmp_path))
    with pytest.raises(ConfigError, match=error):
        load_config(env={"CONDOR_CONFIG": str(root)})


def test_missing_root_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(env={"CONDOR_CONFIG": str(tmp_path / "nope")})


def test_circular_reference_is_an_error_not_a_hang(tmp_path):
    root = tmp_path / "condor_config"
    root.write_text("A = $(B)\nB = $(A)\n")
    cfg = load_config(env={"CONDOR_CONFIG": str(root)})
    with pytest.raises(ConfigError, match="circular"):
        cfg.get("A")


@pytest.mark.parametrize("kind", ["malformed_line", "if_without_endif", "unknown_template"])
def test_tool_exits_nonzero_with_the_message(kind, tmp_path, monkeypatch, capsys):
    text, line, problem = BAD[kind]
    root = tmp_path / "condor_config"
    root.write_text(text)
    monkeypatch.setenv("CONDOR_CONFIG", str(root))
    assert condor_config_val.main(["A"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{root}, line {line}: " in err and problem in err
