"""Profile the replay path with cProfile: decode a JSON Lines history, then replay it.

    python benchmarks/profile_replay.py                 # 200,000 events, top 25 by own time
    python benchmarks/profile_replay.py --events 50000 --top 40 --sort cumulative

The history is the same long, realistic incident that ``run.py`` replays.  cProfile inflates
the cost of small Python calls, so read the ranking, not the absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats

from _history import long_incident

from incidentflow import Incident, codec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000, help="history length")
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default tottime)")
    args = parser.parse_args(argv)
    text = codec.dump_lines(long_incident(args.events))
    profiler = cProfile.Profile()
    profiler.enable()
    Incident.replay(codec.load_lines(text))
    profiler.disable()
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
