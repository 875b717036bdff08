"""Helpers shared by the integration tests that start real pools."""
from __future__ import annotations

from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
SEED_SHADOW_STARTD = (ROOT / "config.d" / "31shadow_startd.config.example").read_text()


@pytest.fixture
def shadow_pool(pool_factory):
    """The seed's pool: NUM_CPUS = 4, static slots, and 31shadow_startd.config verbatim in config.d."""
    return pool_factory(config={"NUM_CPUS": "4", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"},
                        config_d={"31shadow_startd.config": SEED_SHADOW_STARTD})
