"""Hand-picked conformance cases: our engine vs HTCondor's classad2 on the same expression text.

Each test compares both the canonical unparsed text and the value (as canonical text)."""
import itertools

import pytest

from .reference import EVAL_EXCEPTION, ours, reference

MY = '[ a = 1; b = 2.5; s = "Str"; t = true; u = undefined; e = error; l = {1, 2, 3}; n = [x = 7; y = x + a]; ' \
     'c = c + 1; d1 = d2; d2 = d1; neg = -4; big = 9223372036854775807; small = -9223372036854775808 ]'
TARGET = '[ a = 10; Memory = 2048; Arch = "X86_64"; only_target = "T"; t = false ]'

OPERANDS = ["0", "1", "-3", "7", "2.5", "-0.5", "0.0", "true", "false", '"abc"', '"ABC"', '""',
            "undefined", "error", "{1,2}", "[a=1]", "big", "small", "real(\"NaN\")", "a", "u"]
BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "=?=", "=!=", "is", "isnt",
          "&&", "||", "&", "|", "^", "<<", ">>", ">>>"]
UNARY = ["-", "+", "!", "~"]


def check(cases, my=MY, target=TARGET):
    mismatches = []
    for text in cases:
        want = reference(text, my, target)
        got = ours(text, my, target)
        if want[1] == EVAL_EXCEPTION:
            want = (want[0], got[1])
        if want != got:
            mismatches.append(f"{text!r}: classad2 {want} ours {got}")
    assert not mismatches, f"{len(mismatches)} of {len(cases)} differ:\n" + "\n".join(mismatches[:40])


@pytest.mark.parametrize("op", BINARY)
def test_binary_operator_over_typed_operands(op):
    check([f"{x} {op} {y}" for x, y in itertools.product(OPERANDS, OPERANDS)])


def test_unary_operators():
    check([f"{op}{x}" for op in UNARY for x in OPERANDS] + [f"{op} {x}" for op in UNARY for x in OPERANDS])


def test_conditional_and_elvis():
    check([f"{c} ? 1 : 2" for c in OPERANDS] + [f"{c} ?: 5" for c in OPERANDS]
          + ["0 ?: 1 + 2", "-u ?: 3", "u ?: u ?: 4", "true ? 1 : undefined ? 2 : 3", "a ? b : s"])


LEXICAL = [
    "010", "00", "0x1F", "0", "00.5", ".5", "1e3", "2.5E-3", "5.", "1.e5", "1e", "1e+",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "1e309", "-1e309", '"a\\tb\\n"', '"\\101\\7\\400"', '"\\x41"', '"\\0"', '"\\q"', '"a" "b"',
    '"é"', "'a b'", "'true'", "true", "TRUE", "Undefined", "ERROR", "a // c\n+ 1", "a /* c */ + 1",
    "a /* unterminated", "1 # 2", "{1, 2,}", "{}", "[;a=1;;]", "[a=1, b=2]", "[true = 1]",
    "['true' = 1]", "[a = 1; A = 2]", "a.true", "a.1", "a.'true'", "f (1)", "f(1;2)", "(1", "1)",
    '"unterminated', "'x", "a b", "- 5", "-(5)", "-a", "a-1", "1--1", "2 * -1", "f(-1)", "!!a",
    "1 & 1 == 1", "1 < 2 < 3", "-.5", "- .5", "a.b.c", "a[0][1]", ".a",  "a?:b?:c",
    "x = 1", "@", "a $ b", '"\\"quoted\\""', "'it''s'", "1 ? 2", "absTime(\"bad\")", 'relTime("x")',
    'absTime("2004-01-01T00:00:00+01:30")', 'relTime("1d")', "PARENT.x", "'PARENT'.x",
    "a.'x y'", "[ B = 5; _x = 3; a1 = 4; A_ = 7; aa = 2; Zb = 1 ]", "{ [a=1], {2, 3} }",
]


def test_lexical_and_syntax():
    check(LEXICAL)


SCOPING = [
    "a", "A", "b", "MY.a", "TARGET.a", "target.Memory", "Memory", "only_target", "MY.only_target",
    ".a", "TOPLEVEL.a", "ROOT.a", "SELF.a", "n.y", "n.x", "n['X']", "n[0]", "l[0]", "l[3]", "l[-1]",
    "l[true]", "l[1.0]", "l[u]", "u[0]", "s[0]", "n.z", "c", "d1", "isUndefined(c)", "[x = 1; y = x + a].y",
    "{[a=1],[b=2]}.a", "{[a=1],2}.a", "u.x", "s.x", "PARENT.a", "n.PARENT", "CurrentTime > 0",
    "t", "MY.t", "TARGET.t", "other.a", "LEFT.a", "RIGHT.a", "symmetricMatch", "e", "neg * 2",
    "[a = 5].a + a", "l", "n", "size(n)", "size(l)", "unparse(n)", "unparse(l)", "unparse(c)",
    "unparse(nope)", "unparse(1)", "eval(\"a + 1\")", "eval(\"a +\")", "eval(u)", "eval(5)",
]


def test_scoping_with_target():
    check(SCOPING)


def test_scoping_without_target():
    check(SCOPING, target=None)


FUNCTIONS = [
    "isUndefined(u)", "isUndefined(1)", "isError(e)", "isString(s)", "isInteger(true)", "isInteger(1)",
    "isReal(1.0)", "isBoolean(t)", "isList(l)", "isClassAd(n)", "isAbstime(absTime(0))",
    "isReltime(relTime(1))", "isUndefined()", "isUndefined(1, 2)",
    "ifThenElse(t, 1, 2)", "ifThenElse(0, 1, 2)", "ifThenElse(u, 1, 2)", "ifThenElse(s, 1, 2)",
    "ifThenElse(2.5, 1, e)", "ifThenElse(1, 2)",
    "int(2.9)", "int(-2.9)", "int(\"42abc\")", "int(\"3.9\")", "int(\"1e3\")", "int(\"0x10\")", "int(\"abc\")",
    "int(\"\")", "int(true)", "int(u)", "int(e)", "int(l)", "int(1e30)", "int(real(\"NaN\"))", "int(relTime(90))",
    "real(1)", "real(\"INF\")", "real(\"-inf\")", "real(\"nan\")", "real(\" 2.5x\")", "real(true)", "real(\"x\")",
    "real(relTime(1.5))", "real(u)",
    "string(1)", "string(1.5)", "string(s)", "string(t)", "string(l)", "string(n)", "string(u)", "string(e)",
    "string(absTime(0))", "string(relTime(3600))", "string(0.0)", "string(-0.0)",
    "bool(1)", "bool(0.0)", "bool(\"TRUE\")", "bool(\"false\")", "bool(\"x\")", "bool(l)", "bool(u)",
    "floor(2.5)", "floor(-2.5)", "floor(3)", "floor(\"2.7\")", "floor(u)", "floor(e)", "floor(true)",
    "ceiling(2.1)", "ceil(-2.1)", "round(2.5)", "round(3.5)", "round(-0.5)", "round(2.4999)", "round(\"x\")",
    "pow(2, 10)", "pow(-2, 3)", "pow(2, -1)", "pow(2.0, 3)", "pow(10, 30)", "pow(0, 0)", "pow(u, 2)", "pow(s, 2)",
    "quantize(3, 2)", "quantize(-3, 2)", "quantize(4, 2)", "quantize(2.5, 2)", "quantize(3, 2.5)",
    "quantize(3, 0)", "quantize(5, {2, 4, 8})", "quantize(9, {2, 4, 8})", "quantize(3, -2)", "quantize(u, 2)",
    "strcat()", "strcat(\"a\", 1, 2.5, t)", "strcat(\"a\", u)", "strcat(\"a\", e)", "strcat(l)",
    "join(\", \", {1, \"b\", u})", "join({1, 2})", "join(\"-\", 1, 2, 3)", "join(u, {1})", "join(1, {2, 3})",
    "substr(\"abcdef\", 2)", "substr(\"abcdef\", -2)", "substr(\"abcdef\", 1, 2)", "substr(\"abcdef\", 1, -2)",
    "substr(\"abcdef\", 10)", "substr(\"abcdef\", 2, 0)", "substr(\"abcdef\", -10, 2)", "substr(1, 0)",
    "substr(u, 0)", "substr(\"abc\", 1.0)",
    "size(\"abc\")", "size(l)", "size(n)", "size(u)", "size(1)", "size(\"é\")",
    "toUpper(\"abC\")", "toLower(\"ABc\")", "toUpper(true)", "toUpper(u)", "toLower(1.5)",
    "strcmp(\"a\", \"b\")", "strcmp(\"b\", \"a\")", "strcmp(\"A\", \"a\")", "stricmp(\"A\", \"a\")", "strcmp(1, \"1\")",
    "strcmp(u, \"a\")", "versioncmp(\"1.10\", \"1.9\")", "versioncmp(\"a\", \"a\")", "versionLT(\"1.2\", \"1.10\")",
    "versionGE(\"8.9.1\", \"8.9\")", "versionEQ(\"01\", \"1\")", "version_in_range(\"1.5\", \"1.0\", \"2.0\")",
    "member(1, {1, 2})", "member(1.0, {1, 2})", "member(\"A\", {\"a\"})", "member(u, {1})", "member(1, u)",
    "member(l, {1})", "member(1, {u, 1})", "member(1, 1)", "identicalMember(1, {1.0, 1})",
    "identicalMember(u, {u})", "identicalMember(\"A\", {\"a\"})",
    "stringListMember(\"b\", \"a, b, c\")", "stringListMember(\"B\", \"a,b\")", "stringListIMember(\"B\", \"a,b\")",
    "stringListMember(\"b\", \"a;b\", \";\")", "stringListMember(u, \"a\")", "stringListMember(u, u)",
    "stringListMember(1, \"1\")", "stringListSubsetMatch(\"a,b\", \"b,a,c\")", "stringListSubsetMatch(\"a,d\", \"a,b\")",
    "stringListISubsetMatch(\"A\", \"a\")", "stringListSize(\"a, b,,c\")", "stringListSize(\"a\tb\")",
    "stringListSize(u)", "stringListSize(\"\")", "stringListSum(\"1,2,3\")", "stringListSum(\"1,2.5\")",
    "stringListAvg(\"1,2\")", "stringListAvg(\"1.0,2\")", "stringListMin(\"3,1,2\")", "stringListMax(\"-5,-3\")",
    "stringListMin(\"\")", "stringListSum(\"\")", "stringListSum(\"a\")", "stringListsIntersect(\"a,b\", \"b,c\")",
    "stringListsIntersect(\"a\", \"c\")", "stringList_regexpMember(\"^b\", \"a,bb\")", "stringList_regexpMember(\"x\", \"\")",
    "split(\"a b  c\")", "split(\"a,,b\")", "split(\"a, b\")", "split(\"a:b\", \":\")", "split(u)", "split(1)",
    "splitUserName(\"a@b\")", "splitUserName(\"ab\")", "splitSlotName(\"slot1@host\")", "splitSlotName(\"host\")",
    "regexp(\"a.c\", \"xabcx\")", "regexp(\"^A\", \"abc\", \"i\")", "regexp(\"(\", \"a\")", "regexp(u, \"a\")",
    "regexp(1, \"a\")", "regexp(\"a\", e)", "regexps(\"(a)(b)\", \"xaby\", \"\\\\2\\\\1\")", "regexps(\"z\", \"abc\", \"x\")",
    "regexps(\"(a)\", \"abc\", \"\\\\2\")", "replace(\"b\", \"abcb\", \"X\")", "replaceAll(\"b\", \"abcb\", \"X\")",
    "replaceAll(\"x*\", \"abc\", \"Y\")", "regexpMember(\"^a\", {\"b\", \"ab\", \"a\"})", "regexpMember(\"^a\", {\"b\", 1})",
    "regexpMember(\"^a\", {\"a\", 1})", "regexpMember(\"^a\", {u, \"b\"})",
    "sum({1, 2, 3})", "sum({1, 2.5})", "sum({})", "sum({true})", "sum({1, u})", "sum({1, \"a\"})", "sum(u)",
    "avg({1, 2})", "avg({})", "min({3, 1, 2})", "max({3, 2, 1.5})", "min({})", "max({u})", "max({true, 2})",
    "anyCompare(\"<\", {1, 2}, 2)", "anyCompare(\">\", {1, 2}, 5)", "allCompare(\"<\", {1, 2}, 5)",
    "allCompare(\"==\", {}, 1)", "anyCompare(\"<\", {}, 1)", "anyCompare(\"bad\", {1}, 1)",
    "anyCompare(\"<\", {u, 1}, 5)", "anyCompare(\"is\", {1, u}, u)", "allCompare(\"<\", {e}, 1)",
    "interval(0)", "interval(59)", "interval(61)", "interval(3700)", "interval(90061)", "interval(-61)",
    "interval(u)", "interval(\"x\")", "time() > 0", "isInteger(time())", "random(1)", "random(0)",
    "formatTime(0, \"%Y-%m-%d\")", "splitTime(0)", "splitTime(relTime(90061))", "absTime(0)",
    "absTime(\"2004-01-01T00:00:00-00:00\")", "relTime(90061)", "relTime(\"01:00\")", "relTime(-3661)",
    "absTime(0) + relTime(60)", "absTime(60) - absTime(0)", "relTime(60) * 2", "relTime(60) / 2",
    "absTime(0) + 1", "relTime(1) + relTime(2)", "absTime(0) == absTime(0)", "relTime(1) < relTime(2)",
    "evalInEachContext(x, {[x=1], [x=2]})", "countMatches(x > 1, {[x=1], [x=2], [x=3]})",
    "countMatches(x, {1})", "evalInEachContext(a, {[b=1]})", "unknownFunction(1)", "STRCAT(\"a\", \"b\")",
]


def test_functions():
    check(FUNCTIONS)


# A parsed relTime("...") is a real that keeps its relTime form; relTime(x) at run time is a relTime.
TIMES_AND_SUBSCRIPTS = [
    'relTime("1d") + 1', 'relTime("1d") == 86400', 'relTime("1d") == relTime(86400)', 'isReal(relTime("1d"))',
    'isReltime(relTime("1d"))', 'string(relTime("1d"))', 'relTime("01:00:01")', 'relTime("1d") * 2',
    'relTime("1.5")', 'relTime("90.5")', 'relTime("1d 2.5")', 'relTime("-")', 'relTime(".5")', 'relTime("5.")',
    'relTime("1.5h")', 'relTime("1h1.5")', 'relTime("1::")', 'relTime("::5")', 'relTime("- 1d ")', 'relTime("1 2")',
    "string(relTime(1.5))", "string(relTime(-0.5))", "string(relTime(-1.5))", "string(relTime(90061.7))",
    'isReltime(relTime(strcat("1", "d")))', 'relTime(strcat("1", "d"))', 'absTime(strcat("2004"))',
    'absTime("2+03:04:05")', 'absTime("2004-13-01 z")', 'absTime("2004")', 'absTime("2004-01-01T00:00:00 +0100")',
    'formatTime([a = 1])', 'formatTime([Year = 2004; Month = 7; Day = 4], "%j %a %d")',
    'regexps("a", "banana", "o", "g")', 'regexps("(a)(n)?", "banana", "<\\2\\1>", "g")',
    'regexps("a", "banana", "o", "gf")', 'regexps("a", "banana", "o", "f")', 'regexps("x*", "ab", "-", "g")',
    "1 // comment", "1 // comment\n", "a // comment\n + 1",
    '[a = 1; b = 2]["c"]', '[a = 1; b = 2]["a"]', 'n["a"]', 'n["x"]', 'n.n2["a"]', '{[e = c]}[0]["e"]',
    '[q = [e = 5]].q["e"]', '[a = 3; q = [e = a]]["q"]["e"]',
]


def test_times_comments_and_subscripts():
    check(TIMES_AND_SUBSCRIPTS)


def test_enough_cases():
    total = len(BINARY) * len(OPERANDS) ** 2 + 2 * len(UNARY) * len(OPERANDS) + len(LEXICAL) \
        + 2 * len(SCOPING) + len(FUNCTIONS) + len(TIMES_AND_SUBSCRIPTS)
    assert total >= 2000
