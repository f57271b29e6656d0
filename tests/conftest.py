"""Shared fixtures and Hypothesis profiles.

``dev`` (the default) keeps local runs quick; ``ci`` (chosen when CI is set) runs many more
examples and prints statistics-worthy failures with their seeds.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings

from incidentflow import ManualClock
from postgres import (
    HOW_TO_ENABLE,
    POOLER_HOW_TO_ENABLE,
    Cluster,
    Pooler,
    find_binaries,
    find_pooler,
)

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    # A hunt for new examples, by hand: five times the CI's, always drawn afresh.
    "deep",
    max_examples=2_000,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at 2026-03-01 14:00 UTC."""
    return ManualClock(START)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL server for the session (tests/postgres.py).

    Without PostgreSQL the tests using it skip, with one line saying how to enable them; under
    CI (``CI=true``) a missing PostgreSQL fails them instead.
    """
    binaries = find_binaries()
    missing = HOW_TO_ENABLE if binaries is None else None
    if missing is None and importlib.util.find_spec("psycopg") is None:
        missing = "PostgreSQL tests skipped: install the postgres extra (pip install -e '.[test]')"
    if missing is not None or binaries is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs PostgreSQL: {missing}", pytrace=False)
        assert missing is not None  # binaries is None only with HOW_TO_ENABLE
        pytest.skip(missing)
    cluster = Cluster(binaries)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pooler(postgres_cluster: Cluster) -> Iterator[Pooler]:
    """PgBouncer in transaction mode in front of the session's PostgreSQL (tests/postgres.py).

    Skipped with one line saying how to enable it when PgBouncer is not installed; under CI
    (``CI=true``) a missing PgBouncer fails instead.
    """
    binary = find_pooler()
    if binary is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs PgBouncer: {POOLER_HOW_TO_ENABLE}", pytrace=False)
        pytest.skip(POOLER_HOW_TO_ENABLE)
    running = Pooler(binary, postgres_cluster)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
def postgres_url(postgres_cluster: Cluster) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    return postgres_cluster.database()
