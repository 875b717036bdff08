"""The short paths for many ads (single-literal values, the old-style line cache, && / || chains,
constraint scans) give exactly what the full parser and evaluator give, and what classad2 gives."""
import itertools
import math

from hypothesis import given
from hypothesis import strategies as st

from condorsim.shared.classad import ClassAd, eval_constraint, filter_ads, parse_ad, parse_ads, parse_expr
from condorsim.shared.classad.parser import parse_node, parse_node_prefix, quick_node
from condorsim.shared.classad.unparse import NEW

from .reference import classad2, ours, reference
from .test_conformance_random import SETTINGS

QUICK_TEXTS = ["0", "-0", "7", "-42", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
               "007", '""', '"plain text"', '"é and ü"', '"tab\there"', "1.5", "-0.0", "00.25", "2.5e3", "1.0E-2",
               "true", "FALSE", "Undefined", "error", "Memory", "_x1", "parent", "is", "isnt", "  12  \n", "1.", "1e5",
               '"a" "b"', "1 2", "x.y", '"\\n"', "'quoted'", ""]


def described(node) -> tuple:
    value = getattr(node, "value", None)
    if type(value) is float and math.isnan(value):
        value = "nan"
    return type(node).__name__, type(value).__name__, value, NEW.node(node)


def test_quick_values_read_as_the_full_parser_reads_them():
    for text in QUICK_TEXTS:
        quick = quick_node(text)
        for full_parse in (parse_node, parse_node_prefix):
            try:
                full = full_parse(text)
            except Exception as e:  # the quick path must then decline the text
                assert quick is None, (text, e)
                continue
            if quick is not None:
                assert described(quick[0]) == described(full), text
                assert quick[1] in (None, NEW.node(full)), text
    assert quick_node("1 2") is None and quick_node("is") is None and quick_node('"a\\"b"') is None


def test_old_style_ads_sharing_lines_stay_independent():
    first, second = parse_ads("A = 1\nB = \"x\"\n\nA = 1\nB = \"x\"\n")
    first["A"] = 2
    assert second.eval("A") == 1 and first.eval("A") == 2
    assert parse_ad("a = 5\nA = 6\n").eval("A") == 6 and list(parse_ad("a = 5\nA = 6\n")) == ["a"]


CHAIN_LEAVES = ["true", "false", "undefined", "error", "0", "1", "2.5", '"s"', "t", "f", "u", "missing", "i"]
CHAIN_MY = '[ t = true; f = false; u = undefined; i = 3 ]'


@SETTINGS
@given(st.lists(st.sampled_from(CHAIN_LEAVES), min_size=2, max_size=6),
       st.lists(st.sampled_from(["&&", "||"]), min_size=5, max_size=5))
def test_logic_chains_match_classad2(leaves, ops):
    text = leaves[0] + "".join(f" {op} {leaf}" for op, leaf in zip(ops, leaves[1:]))
    assert ours(text, CHAIN_MY) == reference(text, CHAIN_MY), text


def test_constraint_scans_select_what_classad2_selects():
    values = {"Owner": ['"alice"', '"ALICE"', '"bob"', "undefined", "3"], "JobStatus": ["1", "2", "1.0", '"1"'],
              "RequestMemory": ["2048", "1024", "2048.5", "undefined", "error"]}
    texts = ["\n".join(f"{name} = {v}" for name, v in zip(values, combo)) + "\n"
             for combo in itertools.product(*values.values())]
    ads = [parse_ad(t) for t in texts] + [ClassAd()]
    ref_ads = [classad2.parseOne(t, classad2.ParserType.Old) for t in texts] + [classad2.ClassAd()]
    for constraint in ('Owner == "alice" && JobStatus == 1 && RequestMemory >= 2048',
                       'Owner != "alice" || JobStatus =!= 1 || RequestMemory', "RequestMemory",
                       '(JobStatus < 2) && !(Owner == "bob")', "[a = Owner].a == \"alice\" && JobStatus"):
        want = [i for i, ad in enumerate(ref_ads) if classad2.ExprTree(constraint).eval(ad) is True or (
            type(classad2.ExprTree(constraint).eval(ad)) in (int, float) and classad2.ExprTree(constraint).eval(ad) != 0)]
        assert [i for i, ad in enumerate(ads) if eval_constraint(constraint, ad)] == want, constraint
        assert [ads.index(ad) for ad in filter_ads(parse_expr(constraint), ads)] == want, constraint


TEST_ATTRS = ["i", "r", "s", "t", "u", "e", "x", "c", "missing", "MY.i"]
TEST_MY = '[ i = 3; r = 3.0; s = "Abc"; t = true; u = undefined; e = error; x = i + 1; c = c; big = 9223372036854775807 ]'


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(TEST_ATTRS), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
                          st.sampled_from(["3", "4", "0", '"abc"', '"ABC"', '"x"', "9223372036854775807"])),
                min_size=1, max_size=5),
       st.lists(st.sampled_from(["&&", "||"]), min_size=4, max_size=4))
def test_own_attribute_tests_in_chains_match_classad2(tests, ops):
    """Attribute-vs-literal tests (read inline when the attribute is a literal) give classad2's
    values for every kind of attribute value, alone and as terms of && / || chains."""
    leaves = [f"{name} {op} {literal}" for name, op, literal in tests]
    text = leaves[0] + "".join(f" {op} {leaf}" for op, leaf in zip(ops, leaves[1:]))
    assert ours(text, TEST_MY) == reference(text, TEST_MY), text
