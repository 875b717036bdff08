"""pytest plugin (entry point ``pytest11``): PersonalPool fixtures.

``personal_pool`` is a running default pool for one test; ``pool_factory(config=..., config_d=...)``
starts pools with the test's own configuration. Both are always torn down, and teardown fails the
test if any process of the pool had to be killed.
"""
from __future__ import annotations

import pytest

from condorsim.shared.pool import PersonalPool


@pytest.fixture
def pool_factory(tmp_path):
    pools: list[PersonalPool] = []

    def start(config: dict[str, str] | None = None, config_d: dict[str, str] | None = None,
              **options) -> PersonalPool:
        directory = tmp_path / f"pool{len(pools)}"
        pool = PersonalPool(config=config, config_d=config_d, directory=str(directory), **options)
        pools.append(pool)
        return pool.start()

    yield start
    errors = []
    for pool in pools:
        try:
            pool.stop()
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


@pytest.fixture
def personal_pool(pool_factory) -> PersonalPool:
    return pool_factory()
