"""condorsim: an HTCondor pool reimplemented in Python, a whole multi-daemon pool on one host.

The repository's top-level folders are this package's parts: ``shared/`` is ``condorsim.shared``,
``daemons/`` is ``condorsim.daemons`` and ``scripts/`` is ``condorsim.scripts``; ``config.d/`` is
the shipped default configuration (``condorsim/config.d``). The test harness is importable from
here: ``from condorsim import PersonalPool, wait_until``.
"""
from __future__ import annotations

from pathlib import Path

# The shipped default configuration (in a source tree, a link to the top-level config.d/).
CONFIG_DIR = (Path(__file__).resolve().parent / "config.d").resolve()

_HARNESS = {"PersonalPool", "wait_until", "PoolError"}


def __getattr__(name: str):
    # The harness pulls in psutil and the config loader; only load it when asked for.
    if name in _HARNESS:
        from condorsim.shared import pool
        return getattr(pool, name)
    raise AttributeError(f"module 'condorsim' has no attribute {name!r}")


__all__ = sorted(_HARNESS)
