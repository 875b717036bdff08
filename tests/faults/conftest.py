"""The fault and fuzz campaigns: the full versions carry the `long` marker and run only when
asked for (``pytest -m long tests/faults``); the default suite runs their short versions."""
from __future__ import annotations

import os
import shutil

import pytest

NEEDS_NAMESPACE = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                     reason="needs root and unshare for a PID namespace of its own")


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a full fault or fuzz campaign (minutes); run with -m long")


def pytest_collection_modifyitems(config, items):
    if "long" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="a full campaign: run with -m long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)
