"""The command table (shared/commands.py) is the protocol: every handler a daemon registers is in
it for that daemon, every entry has a handler, payloads are checked against it, and the README's
protocol section is generated from it (CONDORSIM_WRITE_README=1 rewrites that section)."""
from __future__ import annotations

import ast
import os
from pathlib import Path

from condorsim.shared.commands import ALL, COMMANDS, lookup, markdown, payload_error
from condorsim.shared.security import LEVELS

ROOT = Path(__file__).parent.parent
BEGIN, END = "<!-- protocol-table:begin -->", "<!-- protocol-table:end -->"
# Which daemon each file's handlers belong to ("*": DaemonCore's own, every daemon's).
HANDLER_FILES = {"shared/daemon.py": ALL, "daemons/collector.py": "COLLECTOR", "daemons/master.py": "MASTER",
                 "daemons/negotiator.py": "NEGOTIATOR", "daemons/schedd.py": "SCHEDD",
                 "daemons/grid_jobs.py": "SCHEDD", "daemons/startd.py": "STARTD", "daemons/starter.py": "STARTER",
                 "daemons/procd.py": "PROCD", "daemons/gridmanager.py": "GRIDMANAGER"}


def registered(path: Path) -> set[str]:
    """Command names a file registers: ``handlers = {...}``, ``handlers.update({...})``,
    ``handlers["X"] = ...``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update" \
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "handlers":
            names |= {key.value for arg in node.args if isinstance(arg, ast.Dict) for key in arg.keys
                      if isinstance(key, ast.Constant)}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute) \
                        and target.value.attr == "handlers" and isinstance(target.slice, ast.Constant):
                    names.add(target.slice.value)
                elif isinstance(target, ast.Attribute) and target.attr == "handlers" \
                        and isinstance(node.value, ast.Dict):
                    names |= {key.value for key in node.value.keys if isinstance(key, ast.Constant)}
    return names


def handlers_by_daemon() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path, daemon in HANDLER_FILES.items():
        found.setdefault(daemon, set()).update(registered(ROOT / path))
    return found


def test_every_file_registering_handlers_is_known():
    files = [str(path.relative_to(ROOT)) for path in [*ROOT.glob("daemons/*.py"), ROOT / "shared" / "daemon.py"]
             if registered(path)]
    assert sorted(files) == sorted(HANDLER_FILES)


def test_every_handler_is_in_the_table_and_every_entry_has_a_handler():
    handlers = handlers_by_daemon()
    for daemon, names in handlers.items():
        for name in names:
            command = lookup(name, daemon if daemon != ALL else "ANY")
            assert command is not None and command.served_by(daemon if daemon != ALL else "ANY"), (daemon, name)
    for (name, daemon), command in COMMANDS.items():
        assert command.level in LEVELS, name
        assert name in handlers.get(daemon, set()) or name in handlers[ALL], (name, daemon)


def test_payloads_are_checked_against_the_table():
    submit = lookup("SUBMIT", "SCHEDD")
    assert payload_error(submit, {"cluster": 1, "ads": []}) is None
    assert payload_error(submit, {"cluster": "1", "ads": []}) == "field cluster must be int, not str"
    assert payload_error(submit, {"cluster": True, "ads": []}) == "field cluster must be int, not bool"
    assert payload_error(submit, {"ads": []}) == "field cluster is missing"
    assert payload_error(submit, {"cluster": 1, "ads": [], "owner": None}) is None  # optional: nil is absent
    assert payload_error(lookup("WAIT_FOR_ADS", "COLLECTOR"), {"my_type": "Any", "timeout": 2}) is None
    assert lookup("SUBMIT", "STARTD") is None and lookup(["SUBMIT"], "SCHEDD") is None
    assert lookup("PING", "STARTD").name == "PING"


def test_readme_protocol_section_is_generated_from_the_table():
    table = markdown()
    for (name, _), command in COMMANDS.items():
        assert f"| `{name}` |" in table and command.purpose in table
    readme = ROOT / "README.md"
    text = readme.read_text()
    section = f"{BEGIN}\n{table}{END}"
    if os.environ.get("CONDORSIM_WRITE_README") and BEGIN in text:
        readme.write_text(text[:text.index(BEGIN)] + section + text[text.index(END) + len(END):])
        text = readme.read_text()
    if BEGIN in text:
        assert text[text.index(BEGIN):text.index(END) + len(END)] == section
