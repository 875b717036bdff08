"""Dev script: regenerate tests/config/data/*/expected.json by asking HTCondor itself.

Needs the reference tool built by ../shared/reference/build-htcondor-config-val (default
/work/refbuild/htcondor-config-val, or $HTCONDOR_CONFIG_VAL) and the `htcondor` bindings.
Each case directory holds a config tree (root file `condor_config`) and case.json listing the
queries (subsystem, local name, extra environment, names).  Paths inside the case are stored as
<ROOT> so the expectations do not depend on where the repo lives.

    .venv/bin/python tests/config/make_expected.py [CASE...]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = os.environ.get("HTCONDOR_CONFIG_VAL", "/work/refbuild/htcondor-config-val")
BASE_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent/condorsim-test-home"}


def case_env(case_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    return {**BASE_ENV, **extra, "CONDOR_CONFIG": str(case_dir / "condor_config")}


def reference_query(case_dir: Path, query: dict, name: str) -> dict | None:
    args = [REFERENCE, "-subsystem", query["subsystem"]]
    if query["local_name"]:
        args += ["-local-name", query["local_name"]]
    done = subprocess.run(args + ["-verbose", name], capture_output=True, text=True,
                          env=case_env(case_dir, query["env"]), cwd=case_dir)
    if done.returncode != 0:
        if "Configuration Error" in done.stderr:
            raise SystemExit(f"{case_dir.name}: HTCondor rejected the config: {done.stderr}")
        return None
    head, _, rest = done.stdout.partition("\n # at: ")
    name_used, _, value = head.partition(" = ")
    where, _, raw = rest.partition("\n # raw: ")
    return {"name_used": name_used, "value": value, "where": where, "raw": raw.removesuffix("\n")}


def python_param(case_dir: Path, query: dict, names: list[str]) -> dict:
    """Cross-check of the plain TOOL view with htcondor2.param (values only)."""
    code = ("import htcondor2, json, sys\n"
            "print(json.dumps({n: htcondor2.param.get(n) for n in sys.argv[1:]}, default=str))")
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True,
                          env=case_env(case_dir, query["env"]), cwd=case_dir, check=True)
    return json.loads(done.stdout)


def normalise(value, case_dir: Path):
    if isinstance(value, str):
        return value.replace(str(case_dir), "<ROOT>")
    if isinstance(value, dict):
        return {k: normalise(v, case_dir) for k, v in value.items()}
    return value


def regenerate(case_dir: Path) -> None:
    spec = json.loads((case_dir / "case.json").read_text())
    out = []
    for query in spec["queries"]:
        results = {n: reference_query(case_dir, query, n) for n in query["names"]}
        if query["subsystem"] == "TOOL" and not query["local_name"]:
            for name, value in python_param(case_dir, query, query["names"]).items():
                ours = results[name]["value"] if results[name] else None
                if value is not None and str(value) != ours and str(value).lower() != str(ours).lower():
                    print(f"  note {case_dir.name} {name}: htcondor2.param={value!r} tool={ours!r}")
        out.append({**query, "results": normalise(results, case_dir)})
    (case_dir / "expected.json").write_text(json.dumps({"queries": out}, indent=1) + "\n")
    print(f"{case_dir.name}: {sum(len(q['names']) for q in out)} values")


def main(argv: list[str]) -> None:
    cases = [DATA / n for n in argv] if argv else sorted(p for p in DATA.iterdir() if (p / "case.json").exists())
    for case_dir in cases:
        regenerate(case_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
