"""Built-in `use CATEGORY : TEMPLATE(args)` templates (HTCondor's metaknobs), same statements as 25.x.

Template text may use arguments: $(N) the N-th argument, $(N:dflt) with a default, $(N+) the N-th
and all later ones, $(N?) 1/0 whether it was given, $(0) all arguments, $(0#) how many.
"""
from __future__ import annotations

import re

from .errors import ConfigError
from .macros import split_top

TEMPLATES: dict[str, dict[str, str]] = {
    "ROLE": {
        "Personal": "CONDOR_HOST=127.0.0.1\n"
                    "COLLECTOR_HOST=$(CONDOR_HOST):0\n"
                    "DAEMON_LIST=MASTER COLLECTOR NEGOTIATOR STARTD SCHEDD\n"
                    "RunBenchmarks=0\n",
        "Execute": "DAEMON_LIST=$(DAEMON_LIST) STARTD\n",
        "Submit": "DAEMON_LIST=$(DAEMON_LIST) SCHEDD\n",
        "CentralManager": "DAEMON_LIST=$(DAEMON_LIST) COLLECTOR NEGOTIATOR\n",
    },
    "FEATURE": {
        "PartitionableSlot": "NUM_SLOTS_TYPE_$(1:1)=1\n"
                             "SLOT_TYPE_$(1:1)_PARTITIONABLE=true\n"
                             "SLOT_TYPE_$(1:1)=$(2+:100%)\n",
        "StaticSlots": "NUM_SLOTS_TYPE_$(1:1)=$(2:$(NUM_CPUS))\n"
                       "SLOT_TYPE_$(1:1)_PARTITIONABLE=false\n"
                       "SLOT_TYPE_$(1:1)=$(3+:1/$(NUM_SLOTS_TYPE_$(1:1)))\n"
                       "SLOT_TYPE_$(1:1)=$(3+)\n",
    },
    "POLICY": {
        "Always_Run_Jobs": "START = True\n"
                           "SUSPEND = False\n"
                           "CONTINUE = True\n"
                           "PREEMPT = False\n"
                           "KILL = False\n"
                           "WANT_SUSPEND = False\n",
    },
    "SECURITY": {
        "With_Authentication": "SEC_DEFAULT_AUTHENTICATION=required\n"
                               "SEC_DEFAULT_INTEGRITY=required\n",
        "Strong": "SEC_DEFAULT_ENCRYPTION=required\n"
                  "SEC_DEFAULT_INTEGRITY=required\n"
                  "SEC_DEFAULT_AUTHENTICATION=required\n",
    },
}

_ARG = re.compile(r"\$\((\d+)(\+?)(\?|#)?(?::([^()]*(?:\([^()]*(?:\([^()]*\))*[^()]*\))*[^()]*))?\)")


def find_template(category: str, name: str) -> tuple[str, str, str]:
    """(canonical category, canonical name, text) for a `use` line, case-insensitively."""
    for cat, templates in TEMPLATES.items():
        if cat == category.upper():
            for tname, text in templates.items():
                if tname.lower() == name.lower():
                    return cat, tname, text
            raise ConfigError(f"use {category}:{name}: does not recognise {name}")
    raise ConfigError(f"use {category}:{name}: unknown category {category}")


def substitute_args(text: str, args: list[str]) -> str:
    def arg(m: re.Match) -> str:
        n, plus, flag, default = int(m.group(1)), m.group(2), m.group(3), m.group(4)
        if n == 0:
            given = args
        elif plus:
            given = args[n - 1:]
        else:
            given = args[n - 1:n]
        given = [a for a in given if a]
        if flag == "?":
            return "1" if given else "0"
        if flag == "#":
            return str(len(given))
        if given:
            return ", ".join(given)
        return default if default is not None else ""
    return _ARG.sub(arg, text)


def parse_use(spec: str) -> list[tuple[str, str, list[str]]]:
    """`ROLE : CentralManager, Submit` or `FEATURE : PartitionableSlot(2, 50%)`
    -> [(category, template, args), ...]."""
    category, sep, rest = spec.partition(":")
    if not sep or not category.strip() or not rest.strip():
        raise ConfigError(f"use {spec.strip()}: expected 'use CATEGORY : TEMPLATE'")
    out = []
    for item in split_top(rest, ","):
        item = item.strip()
        if not item:
            continue
        name, paren, args = item.partition("(")
        arglist = [a.strip() for a in split_top(args.rstrip()[:-1], ",")] if paren else []
        out.append((category.strip(), name.strip(), arglist))
    return out
