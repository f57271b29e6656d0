"""Shared fixtures and Hypothesis profiles.

``dev`` (the default) keeps local runs quick; ``ci`` (chosen when CI is set) runs many more
examples and prints statistics-worthy failures with their seeds.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

from incidentflow import ManualClock

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at 2026-03-01 14:00 UTC."""
    return ManualClock(START)
