"""Benchmark: load a 2,000-line configuration plus 20 config.d files (goal: under 50 ms).

    python -m condorsim.scripts.bench_config [--runs N]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from condorsim.shared.config import load_config


def write_tree(root: Path, lines: int = 2000, configd_files: int = 20) -> Path:
    """A root file mixing plain values, macros, self-appends, prefixes, if blocks and
    continuations, and config.d files in the same style."""
    body = ["LOCAL_DIR = /tmp/bench", f"LOCAL_CONFIG_DIR = {root}/config.d", "use ROLE:Personal"]
    i = 0
    while len(body) < lines:
        kind = i % 8
        if kind == 0:
            body.append(f"PARAM_{i} = value {i}")
        elif kind == 1:
            body.append(f"PATH_{i} = $(LOG)/file_{i}.$(PARAM_{i - 1})")
        elif kind == 2:
            body.append(f"LIST_{i % 50} = $(LIST_{i % 50}), item{i}")
        elif kind == 3:
            body.append(f"SHADOW_STARTD.KNOB_{i} = $(STARTD_LOG).k{i}")
        elif kind == 4:
            body += [f"if defined PARAM_{i - 4}", f"  COND_{i} = yes", "else", f"  COND_{i} = no", "endif"]
        elif kind == 5:
            body += [f"LONG_{i} = a \\", "   b \\", "   c"]
        elif kind == 6:
            body.append(f"# comment {i}")
        else:
            body.append(f"EXPR_{i} = ($(PARAM_{i - 7}) == \"x\") && $$(Memory) > $INT(PARAM_COUNT_{i}:1)")
        i += 1
    (root / "condor_config").write_text("\n".join(body[:lines]) + "\n")
    configd = root / "config.d"
    configd.mkdir()
    for n in range(configd_files):
        lines_d = [f"D{n}_{k} = $(PARAM_{k * 8}) from file {n}" for k in range(20)]
        lines_d.append(f"DAEMON_LIST = $(DAEMON_LIST), EXTRA{n}")
        (configd / f"{n:02d}-bench.config").write_text("\n".join(lines_d) + "\n")
    return root / "condor_config"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = write_tree(Path(tmp))
        env = {"CONDOR_CONFIG": str(root), "HOME": tmp}
        load_config(env=env)                      # warm-up: imports, host detection
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            cfg = load_config(subsystem="STARTD", local_name="SHADOW_STARTD", env=env)
            times.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        names = list(cfg.names())
        for name in names:
            cfg.get(name)
        lookup_ms = (time.perf_counter() - start) * 1000
    print(f"load 2000-line config + 20 config.d files: median {statistics.median(times):.1f} ms, "
          f"min {min(times):.1f} ms over {args.runs} runs (goal < 50 ms); {len(cfg.files)} files")
    print(f"expand all {len(names)} defined names: {lookup_ms:.1f} ms "
          f"({lookup_ms * 1000 / max(len(names), 1):.1f} us per name)")


if __name__ == "__main__":
    main()
