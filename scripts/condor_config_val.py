"""condor_config_val: query the local configuration as a given daemon would see it."""
from __future__ import annotations

import re
import socket
import sys

from condorsim.shared.config import ConfigError, load_config
from condorsim.shared.config.defaults import PARAM_DEFAULTS
from condorsim.shared.daemon import CONDOR_VERSION
from condorsim.shared.protocol import CommunicationError, RemoteError

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
  -summary              print the settings the config files change from the defaults
  -set "NAME = value"   set NAME persistently in a running daemon (ENABLE_PERSISTENT_CONFIG)
  -rset "NAME = value"  set NAME in a running daemon's memory (ENABLE_RUNTIME_CONFIG)
  -unset NAME, -runset NAME   undo a -set / -rset
  -master, -schedd, -startd, -collector, -negotiator
                        ask that running daemon (default for -set/-rset: the master)
  -name <name>          ask the daemon named <name>
  -evaluate             evaluate the value against the daemon's ClassAd
  -help                 print this message
"""
DAEMON_TYPES = {"-master": ("master", "DaemonMaster"), "-schedd": ("schedd", "Scheduler"),
                "-startd": ("startd", "Machine"), "-collector": ("collector", "Collector"),
                "-negotiator": ("negotiator", "Negotiator")}


class UsageError(Exception):
    pass


def parse_options(argv: list[str]) -> dict:
    opts = {"names": [], "verbose": False, "raw": False, "default": False, "expanded": False,
            "dump": False, "pattern": None, "config": False, "subsystem": "TOOL",
            "local_name": None, "root": None, "help": False, "summary": False, "evaluate": False,
            "daemon": None, "name": None, "set": [], "rset": []}
    with_value = {"-subsystem": "subsystem", "-local-name": "local_name", "-root-config": "root",
                  "-name": "name"}
    flags = {"-verbose": "verbose", "-raw": "raw", "-default": "default", "-expanded": "expanded",
             "-config": "config", "-dump": "dump", "-help": "help", "-h": "help",
             "-summary": "summary", "-evaluate": "evaluate"}
    settings = {"-set": ("set", "{}"), "-rset": ("rset", "{}"), "-unset": ("set", "{} ="),
                "-runset": ("rset", "{} =")}
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
            elif key in DAEMON_TYPES:
                opts["daemon"] = key
            elif key in settings:
                if i >= len(argv):
                    raise UsageError(f"{arg} requires an argument")
                kind, shape = settings[key]
                opts[kind].append(shape.format(argv[i]))
                i += 1
            else:
                raise UsageError(f"unknown option {arg}")
        elif opts["dump"] and opts["pattern"] is None and not opts["names"]:
            opts["pattern"] = arg
        else:
            opts["names"].append(arg)
    if not (opts["names"] or opts["dump"] or opts["config"] or opts["help"] or opts["summary"]
            or opts["set"] or opts["rset"]):
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


def summary(cfg) -> None:
    """-summary: each setting whose value the config files change from the default, grouped
    under the file that sets it (detected values left out)."""
    print(f"# condor_config_val {CONDOR_VERSION}")
    by_source: dict[str, list] = {}
    for key, entry in cfg.table.entries.items():
        if entry.source.startswith("<Detected") or entry.source == "<Default>":
            continue
        if entry.raw == PARAM_DEFAULTS.get(key):
            continue
        by_source.setdefault(entry.source, []).append(entry)
    order = {path: n for n, path in enumerate(cfg.files)}
    for source in sorted(by_source, key=lambda s: (order.get(s, len(order)), s)):
        print(f"\n#\n# from {source}\n#")
        for entry in sorted(by_source[source], key=lambda e: (e.line, e.name.lower())):
            print(f"{entry.name} = {entry.raw}")


def locate_daemon(cfg, option: str | None, name: str | None) -> tuple[str, str, str]:
    """(kind, name, address) of the running daemon condor_config_val should ask."""
    from condorsim.shared.locate import collector_address, query_ads, read_address_file
    kind, ad_type = DAEMON_TYPES[option or "-master"]
    if kind == "collector" and not name:
        return kind, cfg.get("FULL_HOSTNAME") or "", collector_address(cfg)
    if kind == "master" and not name:
        address = read_address_file(cfg.get("MASTER_ADDRESS_FILE"))
        if address:
            return kind, cfg.get("FULL_HOSTNAME") or "", address
    for ad in query_ads(cfg, ad_type):
        ad_name, machine = ad.eval("Name"), ad.eval("Machine")
        if name is None or name in (ad_name, machine) or str(ad_name).endswith("@" + name):
            return kind, str(ad_name), str(ad.eval("MyAddress"))
    raise LookupError(f"Can't find address for {kind} {name or ''}".rstrip())


def set_remote(cfg, opts: dict) -> int:
    from condorsim.shared.protocol import Client
    kind, name, address = locate_daemon(cfg, opts["daemon"], opts["name"])
    status = 0
    for persistent, setting in [(True, s) for s in opts["set"]] + [(False, s) for s in opts["rset"]]:
        try:
            done = Client(address).call("SET_CONFIG", setting=setting, persistent=persistent).get("ok")
        except RemoteError:           # the daemon refused (runtime/persistent config disabled)
            done = False
        if done:
            print(f'Successfully set configuration "{setting}" on {kind} {name} {address}. '
                  "The change will take effect on the next condor_reconfig.")
        else:
            print(f'Attempt to set configuration "{setting}" on {kind} {name} {address} failed.',
                  file=sys.stderr)
            status = 1
    return status


def query_remote(cfg, opts: dict) -> int:
    from condorsim.shared.classad import parse_expr, unparse
    from condorsim.shared.protocol import Client
    kind, name, address = locate_daemon(cfg, opts["daemon"], opts["name"])
    values = Client(address).call("CONFIG_VAL", names=opts["names"])["values"]
    daemon_ad = _daemon_ad(cfg, kind, name) if opts["evaluate"] else None
    undefined = 0
    for wanted in opts["names"]:
        value = values.get(wanted)
        if value is None:
            print(f"Not defined: {wanted.upper()}", file=sys.stderr)
            undefined += 1
            continue
        if daemon_ad is not None:
            try:
                value = unparse(parse_expr(value).eval(daemon_ad))
            except Exception:  # not an expression: print it as it is, as HTCondor does
                print(f"Warning: Failed to evaluate '{value}', returning it as config value",
                      file=sys.stderr)
        print(value)
    return 1 if undefined else 0


def _daemon_ad(cfg, kind: str, name: str):
    from condorsim.shared.classad import ClassAd
    from condorsim.shared.locate import query_ads
    ad_type = next(t for k, t in DAEMON_TYPES.values() if k == kind)
    for ad in query_ads(cfg, ad_type):
        if ad.eval("Name") == name:
            return ad
    return ClassAd()


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
        if opts["set"] or opts["rset"]:
            return set_remote(cfg, opts)
        if opts["daemon"] or opts["name"]:
            return query_remote(cfg, opts)
        if opts["summary"]:
            summary(cfg)
            return 0
        if opts["config"]:
            print_config_sources(cfg)
        if opts["dump"]:
            dump(cfg, opts["pattern"], opts["expanded"])
            return 0
        return query(cfg, opts["names"], opts) if opts["names"] else 0
    except ConfigError as e:
        print(f"ERROR: Configuration error: {e}", file=sys.stderr)
        return 1
    except LookupError as e:
        print(str(e).strip("'\""), file=sys.stderr)
        return 1
    except (CommunicationError, RemoteError) as e:
        print(f"Can't connect to the daemon: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
