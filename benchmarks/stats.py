"""The metrics benchmark: what `stats` adds to loading the incidents it measures.

Measuring incidents means loading them first, so the baseline is the load itself: every
incident of a SQLite store rebuilt with ``store.load`` (chain checked, decoded, every rule
replayed), one at a time, as in the ``load_many`` benchmark.  The candidate loads the same
incidents the same way and hands them, as they come, to ``incidentflow.metrics.stats``.
"""

from __future__ import annotations

import time
from datetime import timedelta
from statistics import median

from _history import START
from _measure import Result, Sizes, seconds, timings
from _store import _build, _directory

from incidentflow.metrics import stats
from incidentflow.store import SQLiteStore

NOW = START + timedelta(days=1)  # after every stored incident's last event


def bench_stats(sizes: Sizes) -> Result:
    """Loading every stored incident and measuring it, against loading it alone."""
    count = sizes.stored_incidents
    with _directory() as directory:
        path = directory / "incidents.db"
        begin = time.perf_counter()
        _build(path, count)
        built = time.perf_counter() - begin
        with SQLiteStore(path) as store:
            ids = [s.incident_id for s in store.incidents()]
            check = stats((store.load(incident_id) for incident_id in ids), now=NOW)
            measured = check.group().measures["time_to_post_mortem"]
            if (check.group().incidents, measured.count) != (count, count):
                raise AssertionError("stats did not measure every stored incident")

            def load() -> None:
                for incident_id in ids:
                    store.load(incident_id)

            def load_and_measure() -> object:
                return stats((store.load(incident_id) for incident_id in ids), now=NOW)

            times = timings(
                {"store.load": load, "store.load + stats": load_and_measure}, sizes.repeat
            )
            # The split: stats alone, over the same incidents loaded beforehand (all held in
            # memory, so this runs apart from the rounds above, whose garbage collections it
            # would slow down).
            loaded = [store.load(incident_id) for incident_id in ids]
            total = sum(i.version for i in loaded)
            times.update(
                timings({"stats of loaded incidents": lambda: stats(loaded, now=NOW)}, sizes.repeat)
            )
            loaded.clear()
    base, ours = median(times["store.load"]), median(times["store.load + stats"])
    alone = median(times["stats of loaded incidents"])
    return Result(
        name="stats",
        title=f"8. Metrics over {count:,} stored incidents of {total // count} events "
        f"({total:,} events): load + stats vs load",
        ratio=ours / base,
        meaning="store.load + stats / store.load",
        goal="<= 1.25x",
        passed=ours / base <= 1.25,
        figures={
            "incidents": count,
            "events": total,
            "build_s": built,
            "store_load_s": base,
            "store_load_stats_s": ours,
            "stats_alone_s": alone,
            "runs": times,
        },
        lines=[
            f"store.load of each         {seconds(base):>10}  "
            f"({base / count * 1e6:.0f} us/incident)",
            f"store.load + stats         {seconds(ours):>10}  "
            f"({ours / count * 1e6:.0f} us/incident)",
            f"stats of loaded incidents  {seconds(alone):>10}  "
            f"({alone / count * 1e6:.1f} us/incident, {alone / total * 1e6:.2f} us/event, "
            f"{alone / base:.1%} of the load)",
            f"(database built, untimed, in {built:.1f} s)",
        ],
    )
