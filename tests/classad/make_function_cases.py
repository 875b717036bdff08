"""Dev script: record classad2's answers for the function sweep (function_sweep.py) into
data/function_cases.json.gz, which test_function_sweep.py checks our engine against.

    .venv/bin/python -m tests.classad.make_function_cases          # rewrite the data file
    .venv/bin/python -m tests.classad.make_function_cases --diff   # list where we differ now

Calls classad2 cannot parse are left out; so are calls it parses but cannot hand back a value for."""
from __future__ import annotations

import gzip
import json
import pathlib
import sys

from .function_sweep import SPECIFIC, SPECIFIC_BASE, TYPED_VALUES, all_calls, call, function_names
from .reference import EVAL_EXCEPTION, PARSE_ERROR, ours, reference

DATA = pathlib.Path(__file__).with_name("data") / "function_cases.json.gz"


def record() -> dict:
    arg_texts = list(dict.fromkeys(TYPED_VALUES + SPECIFIC_BASE + [v for pool in SPECIFIC.values() for v in pool]))
    index = {t: i for i, t in enumerate(arg_texts)}
    canonical = [reference(t)[0] for t in arg_texts]
    cases = {}
    for name in function_names():
        rows = []
        for args in all_calls(name):
            unparsed, value = reference(call(name, args))
            if unparsed == PARSE_ERROR or value == EVAL_EXCEPTION:
                continue
            row = [[index[a] for a in args], value]
            if unparsed != f"{name}({','.join(canonical[index[a]] for a in args)})":
                row.append(unparsed)
            rows.append(row)
        cases[name] = rows
    return {"about": "classad2 (HTCondor 25.x) values of built-in function calls; made by "
                     "tests/classad/make_function_cases.py",
            "args": [[t, c] for t, c in zip(arg_texts, canonical)], "cases": cases}


def diff() -> int:
    mismatches = 0
    for name in function_names():
        for args in all_calls(name):
            text = call(name, args)
            want = reference(text)
            if want[0] == PARSE_ERROR or want[1] == EVAL_EXCEPTION:
                continue
            got = ours(text)
            if got != want:
                mismatches += 1
                print(f"{text}: classad2 {want} ours {got}")
    return mismatches


def main() -> None:
    if "--diff" in sys.argv[1:]:
        sys.exit(1 if diff() else 0)
    data = record()
    DATA.parent.mkdir(exist_ok=True)
    with gzip.open(DATA, "wt", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"), ensure_ascii=False)
    print(f"{sum(len(r) for r in data['cases'].values())} cases -> {DATA}")


if __name__ == "__main__":
    main()
