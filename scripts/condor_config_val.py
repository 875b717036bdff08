"""condor_config_val: query the local configuration as a given daemon would see it."""
from __future__ import annotations

import re
import socket
import sys

from condorsim.shared.config import ConfigError, load_config
from condorsim.shared.config.defaults import PARAM_DEFAULTS

USAGE = """Usage: condor_config_val [options] <variable> [<variable>...]
   or: condor_config_val [options] -dump [<pattern>]
   or: condor_config_val [options] -config
Options:
  -verbose              print the value, where it was set, its raw and default values
  -raw                  print the value without macro expansion
  -default              print the built-in default value
  -expanded             with -dump, print expanded values
  -subsystem <name>     look up values as the subsystem <name> does (default TOOL)
  -local-name <name>    look up values as the daemon started with -local-name <name> does
  -root-config <file>   read <file> instead of $CONDOR_CONFIG
  -help                 print this message
"""


class UsageError(Exception):
    pass


def parse_options(argv: list[str]) -> dict:
    opts = {"names": [], "verbose": False, "raw": False, "default": False, "expanded": False,
            "dump": False, "pattern": None, "config": False, "subsystem": "TOOL",
            "local_name": None, "root": None, "help": False}
    with_value = {"-subsystem": "subsystem", "-local-name": "local_name", "-root-config": "root"}
    flags = {"-verbose": "verbose", "-raw": "raw", "-default": "default", "-expanded": "expanded",
             "-config": "config", "-dump": "dump", "-help": "help", "-h": "help"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg.startswith("-") and len(arg) > 1:
            key = arg.lower()
            if key in with_value:
                if i >= len(argv):
                    raise UsageError(f"{arg} requires an argument")
                opts[with_value[key]] = argv[i]
                i += 1
            elif key in flags:
                opts[flags[key]] = True
            else:
                raise UsageError(f"unknown option {arg}")
        elif opts["dump"] and opts["pattern"] is None and not opts["names"]:
            opts["pattern"] = arg
        else:
            opts["names"].append(arg)
    if not (opts["names"] or opts["dump"] or opts["config"] or opts["help"]):
        raise UsageError("no variable name given")
    return opts


def print_config_sources(cfg) -> None:
    print("Configuration source:")
    print(f"\t{cfg.files[0]}")
    if len(cfg.files) > 1:
        print("Local configuration sources:")
        for path in cfg.files[1:]:
            print(f"\t{path}")
    print()


def dump(cfg, pattern: str | None, expanded: bool) -> None:
    regex = re.compile(pattern, re.I) if pattern else None
    names = {key: e.name for key, e in cfg.table.entries.items()}
    for key in PARAM_DEFAULTS:
        names.setdefault(key, cfg.name_used(key))
    print(f"# Configuration from machine: {socket.getfqdn()}")
    for key in sorted(names):
        if regex and not regex.search(names[key]):
            continue
        entry = cfg.table.get(key)
        value = entry.raw if entry else PARAM_DEFAULTS.get(key, "")
        if expanded:
            value = cfg.expand(value)
        print(f"{names[key]} = {value}")
    print()
    print("# Contributing configuration file(s):")
    for path in cfg.files:
        print(f"#\t{path}")


def query(cfg, names: list[str], opts: dict) -> int:
    undefined = 0
    for name in names:
        value = cfg.raw(name) if opts["raw"] else cfg.default(name) if opts["default"] else cfg.get(name)
        if value is None:
            print(f"Not defined: {name.upper()}", file=sys.stderr)
            undefined += 1
            continue
        if not opts["verbose"]:
            print(value)
            continue
        print(f"{cfg.name_used(name)} = {value}")
        print(f" # at: {cfg.where(name)}")
        print(f" # raw: {cfg.raw(name) or ''}")
        if cfg.default(name) is not None:
            print(f" # default: {cfg.default(name)}")
        print()
    return 1 if undefined else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_options(argv)
    except UsageError as e:
        print(f"condor_config_val: {e}\n{USAGE}", file=sys.stderr, end="")
        return 1
    if opts["help"]:
        print(USAGE, end="")
        return 0
    try:
        cfg = load_config(opts["subsystem"], opts["local_name"], root=opts["root"])
        if opts["config"]:
            print_config_sources(cfg)
        if opts["dump"]:
            dump(cfg, opts["pattern"], opts["expanded"])
            return 0
        return query(cfg, opts["names"], opts) if opts["names"] else 0
    except ConfigError as e:
        print(f"ERROR: Configuration error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
