"""Pools for the tests that drive condorsim with HTCondor's own bindings (the `htcondor` wheel)."""
from __future__ import annotations

import pytest

htcondor2 = pytest.importorskip("htcondor2")  # imported before classad2, as the wheel needs

from condorsim import CONFIG_DIR  # noqa: E402

SEED_SHADOW_STARTD = (CONFIG_DIR / "31shadow_startd.config.example").read_text()


@pytest.fixture
def shadow_pool(pool_factory):
    """The seed's pool: NUM_CPUS = 4, static slots, and its shadow-startd file verbatim in config.d."""
    return pool_factory(config={"NUM_CPUS": "4", "SLOT_TYPE_0_PARTITIONABLE": "FALSE"},
                        config_d={"31shadow_startd.config": SEED_SHADOW_STARTD})
