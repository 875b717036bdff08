"""The function sweep: every built-in function called with 0..3 arguments drawn from a set of typed
values, plus function-specific meaningful arguments. Shared by the test and by the dev script that
records classad2's answers (make_function_cases.py)."""
from __future__ import annotations

import itertools

from condorsim.shared.classad.functions import FUNCTIONS, SPECIAL_FORMS

TYPED_VALUES = ["undefined", "error", '"a"', '""', '"1,2"', "1", "0", "-1", "2.5", "true", "false", "{}",
                "{1,undefined}", '{"a","b"}', "[a=1]", "absTime(0)", "relTime(60)"]

# Calls whose value depends on the clock or on chance.
NONDETERMINISTIC = {"random", "time"}
NOW_WHEN_NO_ARGS = {"abstime", "formattime", "splittime"}

# Meaningful arguments per function (see specific_calls).
_REGEX = ['"a"', '"^A"', '"(a)(b)?"', '"["', '"a|x"', '""', '"abcab"', '"\\\\1-\\\\2"', '"i"', '"f"', '"g"',
          '"fg"', '"ig"']
_VERSIONS = ['"1.2.3"', '"1.10"', '"1.02"', '"1.2"', '"8.9.0a"', '"a1"', '"10"']
_STRING_LISTS = ['"a,b"', '" a , B ,c"', '"1,2,3"', '"1.5;2"', '"a;b"', '";"', '" "', '"b"', '"A"', '"x1, -2"']
_LISTS = ["{1,2,3}", '{"a","B"}', "{1,2.5,undefined}", "{[a=1],[a=2]}", "{error}", "{true,1}"]
_TIMES = ["1700000000", "-1", '"%Y-%m-%d %H:%M:%S"', '"%s %Z"', '"%%"', "absTime(1700000000, 3600)",
          "relTime(90061)", "relTime(-61)", "3600", "90061", "-61", "2.7"]
SPECIFIC = {
    **dict.fromkeys(["regexp", "regexps", "replace", "replaceall", "regexpmember",
                     "stringlist_regexpmember"], _REGEX + ['"ab,xb"', '{"ab","c"}', '","']),
    **dict.fromkeys(["versioncmp", "versionlt", "versionle", "versiongt", "versionge", "versioneq",
                     "version_in_range"], _VERSIONS),
    **dict.fromkeys(["stringlistmember", "stringlistimember", "stringlistsubsetmatch",
                     "stringlistisubsetmatch", "stringlistsintersect", "stringlistsize", "stringlistsum",
                     "stringlistavg", "stringlistmin", "stringlistmax", "split"], _STRING_LISTS),
    **dict.fromkeys(["sum", "avg", "min", "max", "member", "identicalmember", "join", "size"],
                    _LISTS + ['"a"', "1", '", "']),
    **dict.fromkeys(["anycompare", "allcompare"], _LISTS + ['"<"', '"=="', '"is"', '"ISNT"', '">="', '"bad"',
                                                           "1", '"a"']),
    **dict.fromkeys(["formattime", "splittime", "interval", "abstime", "reltime"],
                    _TIMES + ['"2004-01-01T00:00:00+01:30"', '"20040101T101010Z"', '"1d"', '"1:00:00"',
                              '"2+03:04:05"', '"2004-13-01 z"', '"2004"', '"1.5"', '"90.5"', '"1d 2.5"',
                              '"- 1h1.5"', '"5."', '"1.5h"', '"::5"', "[Year=2004; Month=7; Day=4]"]),
    **dict.fromkeys(["substr"], ['"abcdef"', "2", "-2", "10", "-10", "0", "1.0"]),
    **dict.fromkeys(["pow", "quantize"], ["2", "3", "-2", "0.5", "0", "10", "{1,5,10}", "{2.5}", "63", "64",
                                          "9223372036854775807"]),
    **dict.fromkeys(["int", "real", "bool", "floor", "ceiling", "ceil", "round", "string"],
                    ['"12abc"', '" 7"', '"1e3"', '"0x10"', '"inf"', '"nan"', '"TRUE"', '"False"', "-2.5",
                     "2.5e20", "real(\"nan\")", "-0.0", "1e300"]),
    **dict.fromkeys(["splitusername", "splitslotname"], ['"user@host"', '"@"', '"a@b@c"', '"slot1@"']),
    **dict.fromkeys(["eval"], ['"1+1"', '"a +"', '"[x=1].x"', '"strcat(\\"a\\")"', "1"]),
    **dict.fromkeys(["evalineachcontext", "countmatches"], ["a", "a > 1", "{[a=1],[a=2],[b=3]}", "{}", "{1}"]),
    **dict.fromkeys(["toupper", "tolower"], ['"aBc"', '"é"', "{1}"]),
    **dict.fromkeys(["strcmp", "stricmp", "strcat"], ['"A"', '"b"', '"a"', "1", "1.0"]),
}
SPECIFIC_BASE = ["undefined", "error", "1"]
MAX_SPECIFIC_ARITY = 4


def function_names() -> list[str]:
    return sorted(n for n in set(FUNCTIONS) | set(SPECIAL_FORMS) if n not in NONDETERMINISTIC)


def call(name: str, args) -> str:
    return f"{name}({', '.join(args)})"


# Functions that take three or more arguments: swept over every 3-argument combination. The others
# reject a third argument whatever it is, so a few combinations show that.
THREE_OR_MORE = {"ifthenelse", "substr", "strcat", "join", "anycompare", "allcompare", "version_in_range",
                 "stringlistmember", "stringlistimember", "stringlistsubsetmatch", "stringlistisubsetmatch",
                 "stringlistsintersect", "regexp", "regexps", "replace", "replaceall", "regexpmember",
                 "stringlist_regexpmember"}
FEW = 3  # typed values used for the arity check of the others


def typed_calls(name: str, arity: int) -> list[tuple[str, ...]]:
    """Argument tuples of one function with `arity` arguments from TYPED_VALUES (product order)."""
    if arity == 0 and name in NOW_WHEN_NO_ARGS:
        return []
    values = TYPED_VALUES if arity < 3 or name in THREE_OR_MORE else TYPED_VALUES[:FEW]
    return list(itertools.product(values, repeat=arity))


def specific_calls(name: str) -> list[tuple[str, ...]]:
    """Meaningful arguments with a few typed ones: all pairs; triples and quadruples of the first
    few meaningful values for the functions that take that many."""
    pool = SPECIFIC.get(name)
    if not pool:
        return []
    out = [args for n in (1, 2) for args in itertools.product(pool + SPECIFIC_BASE, repeat=n)]
    if name in THREE_OR_MORE:
        out += itertools.product(pool[:8] + SPECIFIC_BASE[:1], repeat=3)
        out += itertools.product(pool[:5], repeat=MAX_SPECIFIC_ARITY)
    return out


def all_calls(name: str) -> list[tuple[str, ...]]:
    """Every argument tuple swept for one function, without repeats."""
    return list(dict.fromkeys([a for n in range(4) for a in typed_calls(name, n)] + specific_calls(name)))
