"""The PostgreSQL benchmarks run and report their ratios (at tiny sizes; timings never asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from postgres import Cluster

ROOT = Path(__file__).resolve().parent.parent


def _benchmarks() -> ModuleType:
    if str(ROOT / "benchmarks") not in sys.path:
        sys.path.append(str(ROOT / "benchmarks"))  # its helpers: _history, _measure
    spec = importlib.util.spec_from_file_location("pg_store", ROOT / "benchmarks" / "pg_store.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_postgres_benchmark_gives_a_ratio(postgres_cluster: Cluster) -> None:
    """Appends, loads and the feed each measure the store against raw psycopg, in one run."""
    bench = _benchmarks()
    admin = postgres_cluster.url()
    append = bench.bench_append(bench._database(admin, "tiny_append"), 3)
    load = bench.bench_load(bench._database(admin, "tiny_load"), 2)
    feed = bench.bench_feed(bench._database(admin, "tiny_feed"), 2_500)
    assert all(result["ratio"] > 0 for result in (append, load, feed))
    assert feed["ratio_decoded"] > 0
    assert load["ratio_decoded"] > 0


def test_only_the_benchmarks_named_run(
    postgres_cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--only`` runs the benchmarks named (here the append) and prints their lines alone."""
    bench = _benchmarks()
    url = postgres_cluster.url()
    assert 0 == bench.main(["--url", url, "--quick", "--only", "durable_append"])
    printed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert ["PostgreSQL", "[pg_durable_append]"] == printed


def test_the_stores_can_be_set_for_a_transaction_pooler(
    postgres_cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--transaction-pooler`` opens the stores with that setting, and says so."""
    bench = _benchmarks()
    url = postgres_cluster.url()
    opened: list[object] = []
    real = bench.PostgresStore

    def store(*args: object, **options: object) -> object:
        opened.append(options.get("transaction_pooler"))
        return real(*args, **options)

    bench.PostgresStore = store  # type: ignore[attr-defined]
    assert 0 == bench.main(["--url", url, "--quick", "--only", "load", "--transaction-pooler"])
    assert [True] == opened
    out = capsys.readouterr().out
    assert "(quick, transaction_pooler=True)" in out
    assert "[pg_load] ratio" in out
