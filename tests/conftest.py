"""Shared fixtures: small, fast runs reused across tests."""

from __future__ import annotations

import pytest
from hypothesis import settings

import sim

# Timing varies with machine load; correctness, not speed, is tested here.
settings.register_profile("scamsim", deadline=None, print_blob=True)
settings.load_profile("scamsim")


@pytest.fixture(scope="session")
def crackdown_teaching():
    """A Mekong crackdown on the teaching world, with the model kept for inspection."""
    return sim.run("mekong_crackdown", world="teaching", seed=7, steps=60, keep_model=True)


@pytest.fixture(scope="session")
def crackdown_world():
    """The Mekong crackdown on the full world table."""
    return sim.run("mekong_crackdown", world="world", seed=1, keep_model=True)
