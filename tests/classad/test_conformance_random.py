"""Property-based conformance: random expressions over a few ads, ours vs classad2."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .reference import EVAL_EXCEPTION, ours, reference

MY = ('[ i = 3; j = -7; r = 2.5; z = 0; s = "Hello"; s2 = "hello"; t = true; f = false; u = undefined; '
      'e = error; l = {1, 2.5, "x"}; ad = [p = 1; q = i + p]; expr = i * 2 + r; names = "a, b,c" ]')
TARGET = '[ i = 100; Memory = 4096; Arch = "X86_64"; s = "World"; only = 42; k = MY.i + 1 ]'
NAMES = ["i", "j", "r", "z", "s", "s2", "t", "f", "u", "e", "l", "ad", "expr", "names", "Memory", "only",
         "k", "missing", "MY.i", "MY.s", "TARGET.i", "TARGET.Memory", "TARGET.k", "ad.q", "ad.p", "l[0]", "l[2]"]
INTS = st.sampled_from(["0", "1", "-1", "2", "3", "7", "-5", "10", "64", "9223372036854775807",
                        "-9223372036854775808", "1000000"])
REALS = st.sampled_from(["0.0", "-0.0", "1.5", "-2.25", "0.1", "3.0", "1e10", "1e300", "-1e-5", "2.5E2"])
STRINGS = st.sampled_from(['""', '"a"', '"A"', '"abc"', '"Hello"', '"hello"', '"1"', '"2.5"', '"true"',
                           '"a,b"', '"x y"', '"\\n"', '"é"'])
CONSTANTS = st.sampled_from(["true", "false", "undefined", "error"])

BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "=?=", "=!=", "is", "isnt",
          "&&", "||", "&", "|", "^", "<<", ">>", ">>>"]
FUNCTIONS = {
    1: ["isUndefined", "isError", "isString", "isInteger", "isReal", "isBoolean", "isList", "int", "real",
        "string", "bool", "floor", "ceiling", "round", "size", "toUpper", "toLower", "sum", "avg", "min", "max",
        "interval", "split", "isClassAd", "strcat"],
    2: ["pow", "quantize", "strcat", "substr", "strcmp", "stricmp", "member", "identicalMember",
        "stringListMember", "stringListIMember", "versioncmp", "regexp", "join", "ifThenElse"],
    3: ["ifThenElse", "substr", "strcat", "anyCompare", "allCompare", "regexps"],
}


def expressions(leaves):
    def extend(children):
        binary = st.builds(lambda a, op, b: f"{a} {op} {b}", children, st.sampled_from(BINARY), children)
        unary = st.builds(lambda op, a: f"{op}{a}", st.sampled_from(["-", "!", "~", "+", "- "]), children)
        paren = children.map(lambda a: f"({a})")
        cond = st.builds(lambda c, a, b: f"{c} ? {a} : {b}", children, children, children)
        elvis = st.builds(lambda a, b: f"{a} ?: {b}", children, children)
        lst = st.lists(children, max_size=3).map(lambda xs: "{" + ", ".join(xs) + "}")
        sub = st.builds(lambda a, i: f"{a}[{i}]", lst, st.sampled_from(["0", "1", "-1", "3", "1.0"]))
        call = st.integers(1, 3).flatmap(lambda n: st.builds(
            lambda name, args: f"{name}({', '.join(args)})",
            st.sampled_from(FUNCTIONS[n]), st.lists(children, min_size=n, max_size=n)))
        return st.one_of(binary, binary, unary, paren, cond, elvis, lst, sub, call)
    return st.recursive(leaves, extend, max_leaves=8)


ALL_LEAVES = st.one_of(INTS, REALS, STRINGS, CONSTANTS, st.sampled_from(NAMES))
NUMERIC_LEAVES = st.one_of(INTS, REALS, st.sampled_from(["i", "j", "r", "z", "TARGET.i", "Memory", "expr"]))
STRING_LEAVES = st.one_of(STRINGS, st.sampled_from(["s", "s2", "TARGET.s", "names", "Arch"]))

SETTINGS = settings(max_examples=400, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def same(text, target=TARGET):
    want = reference(text, MY, target)
    got = ours(text, MY, target)
    if want[1] == EVAL_EXCEPTION:
        want = (want[0], got[1])
    assert got == want, f"{text!r}: classad2 {want}, ours {got}"


@SETTINGS
@given(expressions(NUMERIC_LEAVES))
def test_well_typed_numeric_expressions(text):
    same(text)


@SETTINGS
@given(expressions(STRING_LEAVES))
def test_string_expressions(text):
    same(text)


@SETTINGS
@given(expressions(ALL_LEAVES))
def test_mixed_and_ill_typed_expressions_with_target(text):
    same(text)


@SETTINGS
@given(expressions(ALL_LEAVES))
def test_mixed_and_ill_typed_expressions_without_target(text):
    same(text, target=None)


@SETTINGS
@given(st.lists(st.sampled_from(list("ab1.2e+-*/()[]{}\"'=<>!&|?:;, \\_xyzT") + ["true", "is", "&&", ".5"]),
                max_size=12).map("".join))
def test_token_soup_parses_and_prints_alike(text):
    same(text)
