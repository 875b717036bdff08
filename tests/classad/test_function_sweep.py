"""Every built-in function over typed and meaningful arguments, against classad2's answers stored in
data/function_cases.json.gz (made by make_function_cases.py). Compares value and unparsed text.

For speed each distinct argument is parsed once and the call tree built from the parsed arguments
(parsing whole calls is covered by the other conformance tests), except absTime/relTime of one
literal string, which the parser itself turns into a time."""
import gzip
import json
import pathlib

import pytest

from condorsim.shared.classad import ClassAdSyntaxError, Expr, parse_expr
from condorsim.shared.classad import nodes as N

from .function_sweep import call, function_names
from .reference import our_text, ours

DATA = json.loads(gzip.decompress((pathlib.Path(__file__).with_name("data") / "function_cases.json.gz")
                                  .read_bytes()))
ARGS = DATA["args"]


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """absTime(0) and formatTime show local time; the data was recorded in UTC."""
    import time
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_every_function_is_swept():
    assert sorted(DATA["cases"]) == function_names()


def _parse_arg(text: str):
    try:
        return parse_expr(text).node
    except ClassAdSyntaxError:
        return None


ARG_NODES = [_parse_arg(text) for text, _ in ARGS]


def our_call(name: str, arg_ids: list[int], text: str) -> tuple[str, str]:
    nodes = [ARG_NODES[i] for i in arg_ids]
    if None in nodes or (name in ("abstime", "reltime") and len(nodes) == 1 and type(nodes[0]) is N.Literal
                         and type(nodes[0].value) is str):
        return ours(text)
    expr = Expr(N.Call(name, nodes))
    return str(expr), our_text(expr.eval())


@pytest.mark.parametrize("name", sorted(DATA["cases"]))
def test_function_matches_classad2(name):
    mismatches, rows = [], DATA["cases"][name]
    for row in rows:
        args = [ARGS[i] for i in row[0]]
        text = call(name, [a for a, _ in args])
        want = (row[2] if len(row) > 2 else f"{name}({','.join(c for _, c in args)})", row[1])
        got = our_call(name, row[0], text)
        if got != want:
            mismatches.append(f"{text}: classad2 {want}, ours {got}")
    assert not mismatches, f"{len(mismatches)} of {len(rows)} differ:\n" + "\n".join(mismatches[:30])
