"""Dev script: list the options of the HTCondor man pages issue 14 names into
tests/data/man_options.json (the rows of the README's option table, see test_option_table.py).

    python3 tests/make_man_options.py /path/to/htcondor/docs/man-pages

Only the option names are taken: each definition-list entry `` **-name** ...`` of the page.
"""
import json
import re
import sys
from pathlib import Path

TOOLS = ("condor_submit", "condor_q", "condor_status", "condor_version", "condor_who",
         "condor_ping", "condor_userprio", "condor_tail", "condor_drain", "condor_config_val")
ENTRY = re.compile(r"^ \*\*(-[A-Za-z][\w-]*(?:\s*\|\s*-[A-Za-z][\w-]*)*)")


def options(text: str) -> list[str]:
    found: list[str] = []
    for line in text.splitlines():
        match = ENTRY.match(line)
        if match:
            for name in re.split(r"\s*\|\s*", match.group(1)):
                if name not in found:
                    found.append(name)
    return found


def main() -> None:
    pages = Path(sys.argv[1])
    table = {tool: options((pages / f"{tool}.rst").read_text()) for tool in TOOLS}
    out = Path(__file__).parent / "data" / "man_options.json"
    out.write_text(json.dumps(table, indent=1) + "\n")
    print(sum(len(v) for v in table.values()), "options")


if __name__ == "__main__":
    main()
