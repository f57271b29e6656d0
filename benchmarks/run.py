"""Run incidentflow's benchmarks and print each ratio next to its goal.

    python benchmarks/run.py            # the full run (a few minutes)
    python benchmarks/run.py --quick    # a smoke run at small sizes (a few seconds)
    python benchmarks/run.py --json results.json
    python benchmarks/run.py --only durable_append load_many help_startup
    python benchmarks/run.py --check    # exit status 1 when any goal is missed

Every benchmark compares incidentflow with a baseline measured in the same run, on the same
machine, in the same process, so the figures are ratios, never absolute times.  Each
measurement is repeated (baseline and candidate interleaved, so drift on a shared machine hits
both) and the median is kept; the memory figures come from tracemalloc.  A missed goal is
reported, not fatal: the exit status is 0 whenever every benchmark ran, unless ``--check``
asks for 1 when any goal is missed.  One summary table ends the run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from statistics import median
from typing import TYPE_CHECKING, Any

from _history import START, long_incident, small_incident
from _measure import FULL, QUICK, Result, Sizes, exit_status, seconds, summary, timings
from _store import bench_durable_append, bench_help_startup, bench_load_many
from integrations import bench_dead_sink, bench_drain
from stats import bench_stats
from transitions import Machine

import incidentflow
from incidentflow import (
    ChangeOutcome,
    Incident,
    LinkKind,
    ManualClock,
    Priority,
    Role,
    State,
    Verdict,
    codec,
)
from incidentflow.events import Event

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict  # in the stubs only


@cache
def history(size: int) -> list[Event]:
    """The long incident of ``size`` events, built once per run."""
    return long_incident(size)


# -- 1. replay --------------------------------------------------------------------------------


def bench_replay(sizes: Sizes) -> Result:
    """Decode, validate and fold a history from JSON Lines, against json.loads of its lines."""
    size = sizes.replay_events
    text = codec.dump_lines(history(size))
    events = codec.load_lines(text)

    def baseline() -> list[Any]:
        return [json.loads(line) for line in text.split("\n") if line]

    times = timings(
        {
            "json.loads": baseline,
            "load_lines + replay": lambda: Incident.replay(codec.load_lines(text)),
            "load_lines": lambda: codec.load_lines(text),
            "replay": lambda: Incident.replay(events),
            **orjson_yardstick(text),
        },
        sizes.repeat,
    )
    base, full = median(times["json.loads"]), median(times["load_lines + replay"])
    decode, replay = median(times["load_lines"]), median(times["replay"])
    per = 1e6 / size
    result = Result(
        name="replay",
        title=f"1. Replay of one {size:,}-event history from JSON Lines "
        f"({len(text) / size:.0f} bytes/event)",
        ratio=full / base,
        meaning="load_lines + replay / json.loads",
        goal="<= 1.5x",
        passed=full / base <= 1.5,
        figures={
            "events": size,
            "bytes": len(text),
            "json_loads_s": base,
            "decode_validate_fold_s": full,
            "decode_s": decode,
            "replay_s": replay,
            "runs": times,
        },
        lines=[
            f"json.loads of every line   {seconds(base):>10}  ({base * per:.2f} us/event)",
            f"load_lines + replay        {seconds(full):>10}  ({full * per:.2f} us/event)",
            f"  split: load_lines        {seconds(decode):>10}  ({decode / base:.2f}x json.loads)",
            f"         replay            {seconds(replay):>10}  ({replay / base:.2f}x json.loads)",
        ],
    )
    report_orjson(result, times, full, decode)
    return result


def orjson_yardstick(text: str) -> dict[str, Callable[[], object]]:
    """The second yardstick, when orjson is installed: orjson.loads of every line."""
    try:
        import orjson
    except ImportError:
        return {}
    return {"orjson.loads": lambda: [orjson.loads(line) for line in text.split("\n") if line]}


def report_orjson(
    result: Result, times: dict[str, list[float]], full: float, decode: float
) -> None:
    """The replay's ratios against orjson.loads, the floor of parsing: reported, not gated."""
    if "orjson.loads" not in times:
        result.lines.append("(orjson is not installed: no second yardstick)")
        return
    floor = median(times["orjson.loads"])
    result.figures["orjson_loads_s"] = floor
    result.reported["load_lines + replay / orjson.loads"] = full / floor
    result.lines.append(
        f"orjson.loads of every line {seconds(floor):>10}  (load_lines + replay "
        f"{full / floor:.2f}x, load_lines {decode / floor:.2f}x: reported, not gated)"
    )


# -- 2. per-incident cost ---------------------------------------------------------------------


def bench_per_incident(sizes: Sizes) -> Result:
    """Many small incidents against one big one with as many events, both already decoded."""
    smalls = [small_incident(n) for n in range(sizes.small_incidents)]
    total = sum(len(events) for events in smalls)
    big = history(total)
    declarations = [events[:1] for events in smalls]
    times = timings(
        {
            "one incident": lambda: Incident.replay(big),
            "small incidents": lambda: [Incident.replay(events) for events in smalls],
            "declarations only": lambda: [Incident.replay(events) for events in declarations],
        },
        sizes.repeat,
    )
    one, many = median(times["one incident"]), median(times["small incidents"])
    fixed = median(times["declarations only"])
    per = 1e6 / total
    return Result(
        name="per_incident",
        title=f"2. Per-incident cost: {len(smalls):,} incidents of "
        f"{total // len(smalls)} events vs one of {total:,}",
        ratio=many / one,
        meaning="small incidents / one incident",
        goal="<= 1.2x",
        passed=many / one <= 1.2,
        figures={
            "small_incidents": len(smalls),
            "events": total,
            "one_incident_s": one,
            "small_incidents_s": many,
            "declarations_only_s": fixed,
            "runs": times,
        },
        lines=[
            f"one incident, replayed     {seconds(one):>10}  ({one * per:.2f} us/event)",
            f"{len(smalls):,} incidents, replayed {seconds(many):>10}  "
            f"({many * per:.2f} us/event, {many / len(smalls) * 1e6:.1f} us/incident)",
            f"  of which an incident's fixed cost (built, declared): "
            f"{fixed / len(smalls) * 1e6:.1f} us/incident ({fixed / many:.0%})",
        ],
    )


# -- 3. a whole lifecycle, against transitions ------------------------------------------------


def lifecycle_incidentflow(number: int, clock: ManualClock) -> Incident:
    """A P2 incident from declaration to post-mortem through its commands: 23 commands."""
    i = Incident.declare(f"INC-{number}", "Checkout is slow", Priority.P2, actor="ana", clock=clock)
    i.assign(Role.INCIDENT_COMMANDER, "ana", actor="ana")
    i.validate("p99 latency of checkout at 4 s", actor="ana")
    i.link(LinkKind.TICKET, f"https://jira.example/IM-{number}", actor="ana")
    i.mitigate("mitigating", actor="ana")
    experiment = i.start_experiment(
        hypothesis="the 14:02 deploy slowed checkout",
        action="roll back the 14:02 deploy",
        expected="p99 below 500 ms",
        component="checkout",
        owner="ana",
        actor="ana",
    )
    i.conclude_experiment(
        experiment.experiment_id, observed="p99 at 300 ms", verdict=Verdict.CONFIRMED, actor="ana"
    )
    change = i.log_change(
        what="rolled back deploy 14:02", where="checkout", revert="redeploy", actor="ana"
    )
    i.post_update("Rolled back the 14:02 deploy; checkout is recovering.", actor="ana")
    for depth, answer in enumerate(_WHYS, start=1):
        i.add_why(answer, actor="ana", root_cause=depth == len(_WHYS))
    i.verify_recovery("p99 at 300 ms for 15 minutes", actor="ana")
    i.announce_yellow("resolved (yellow)", actor="ana")
    i.verify_customer("acme", "checkout works again", actor="ana")
    i.reconcile_change(change.change_id, ChangeOutcome.PERMANENT, actor="ana")
    i.announce_green("resolved (green)", actor="ana")
    i.start_report(actor="ana", location="docs/rca")
    i.mark_reported("report started", actor="ana")
    i.schedule_post_mortem(START + timedelta(days=2), ["ana"], actor="ana")
    i.begin_post_mortem("post-mortem scheduled", actor="ana")
    return i


_WHYS = (
    "Checkout is slow.",
    "Every request waits on the pricing service.",
    "The 14:02 deploy removed the pricing cache.",
    "The cache was thought unused.",
    "No test covers the cache's use by checkout.",
)


class TransitionsModel:
    """The same lifecycle as a plain transitions model: guards are plain methods."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.records: list[dict[str, Any]] = []
        self.validated = False
        self.links: set[str] = set()
        self.roles: dict[str, list[str]] = {}
        self.running: set[str] = set()
        self.unreconciled: set[str] = set()
        self.whys = 0
        self.root_cause = False
        self.recovery = False
        self.customer = False
        self.report_started = False
        self.invitees: tuple[str, ...] = ()

    def record(self, event_type: str, actor: str, /, **fields: Any) -> None:
        now = self.clock.now()
        self.records.append(
            {"type": event_type, "actor": actor, "occurred_at": now, "recorded_at": now, **fields}
        )

    # guards
    def is_validated(self) -> bool:
        return self.validated

    def has_links(self) -> bool:
        return "ticket" in self.links

    def has_roles(self) -> bool:
        return bool(self.roles.get("incident_commander"))

    def recovery_verified(self) -> bool:
        return self.recovery

    def experiments_concluded(self) -> bool:
        return not self.running

    def customer_verified(self) -> bool:
        return self.customer

    def changes_reconciled(self) -> bool:
        return not self.unreconciled

    def root_cause_found(self) -> bool:
        return self.root_cause and self.whys >= len(_WHYS)

    def is_report_started(self) -> bool:
        return self.report_started

    def roles_invited(self) -> bool:
        return all(h in self.invitees for h in self.roles.get("incident_commander", ()))


_TRANSITIONS: list[TransitionConfigDict] = [
    {
        "trigger": "mitigate",
        "source": "declared",
        "dest": "mitigating",
        "conditions": ["is_validated", "has_links", "has_roles"],
    },
    {
        "trigger": "announce_yellow",
        "source": "mitigating",
        "dest": "yellow",
        "conditions": ["recovery_verified", "experiments_concluded"],
    },
    {
        "trigger": "announce_green",
        "source": "yellow",
        "dest": "green",
        "conditions": ["customer_verified", "changes_reconciled"],
    },
    {
        "trigger": "mark_reported",
        "source": "green",
        "dest": "reported",
        "conditions": ["root_cause_found", "is_report_started"],
    },
    {
        "trigger": "begin_post_mortem",
        "source": "reported",
        "dest": "post_mortem",
        "conditions": ["roles_invited"],
    },
    {"trigger": "dismiss", "source": "declared", "dest": "dismissed"},
    {"trigger": "reopen", "source": "yellow", "dest": "mitigating"},
]


def lifecycle_transitions(number: int, clock: ManualClock) -> TransitionsModel:
    """The same 23 steps with a transitions Machine built for the incident."""
    m = TransitionsModel(clock)
    Machine(
        model=m,
        states=[s.value for s in State],
        transitions=_TRANSITIONS,
        initial="declared",
        auto_transitions=False,
    )

    def move(trigger: str, message: str) -> None:
        source = m.state  # type: ignore[attr-defined]
        if not getattr(m, trigger)():
            raise AssertionError(f"{trigger} refused")
        m.record("state_changed", "ana", source=source, target=m.state, message=message)  # type: ignore[attr-defined]

    m.record(
        "declared", "ana", incident_id=f"INC-{number}", title="Checkout is slow", priority="P2"
    )
    m.roles["incident_commander"] = ["ana"]
    m.record("role_assigned", "ana", role="incident_commander", holder="ana")
    m.validated = True
    m.record("validated", "ana", evidence="p99 latency of checkout at 4 s")
    m.links.add("ticket")
    m.record("linked", "ana", kind="ticket", url=f"https://jira.example/IM-{number}")
    move("mitigate", "mitigating")
    m.running.add("E1")
    m.record("experiment_started", "ana", experiment_id="E1", component="checkout", owner="ana")
    m.running.discard("E1")
    m.record("experiment_concluded", "ana", experiment_id="E1", verdict="confirmed")
    m.unreconciled.add("C1")
    m.record("change_logged", "ana", change_id="C1", what="rolled back deploy 14:02")
    m.record("update_posted", "ana", message="Rolled back the 14:02 deploy.")
    for depth, answer in enumerate(_WHYS, start=1):
        m.whys = depth
        m.root_cause = depth == len(_WHYS)
        m.record("why_answered", "ana", chain="main", answer=answer, root_cause=m.root_cause)
    m.recovery = True
    m.record("recovery_verified", "ana", evidence="p99 at 300 ms for 15 minutes")
    move("announce_yellow", "resolved (yellow)")
    m.customer = True
    m.record("customer_verified", "ana", customer="acme", evidence="checkout works again")
    m.unreconciled.discard("C1")
    m.record("change_reconciled", "ana", change_id="C1", outcome="permanent")
    move("announce_green", "resolved (green)")
    m.report_started = True
    m.record("report_started", "ana", location="docs/rca")
    move("mark_reported", "report started")
    m.invitees = ("ana",)
    m.record("post_mortem_scheduled", "ana", invitees=m.invitees)
    move("begin_post_mortem", "post-mortem scheduled")
    return m


def bench_lifecycle(sizes: Sizes) -> Result:
    """A whole lifecycle through incidentflow's commands, against a Machine per incident."""
    count = sizes.lifecycles
    clock = ManualClock(START)
    check = lifecycle_incidentflow(0, clock)
    steps = check.version
    if (
        check.state is not State.POST_MORTEM
        or len(lifecycle_transitions(0, clock).records) != steps
    ):
        raise AssertionError("the two lifecycles do not match")
    times = timings(
        {
            "transitions": lambda: [lifecycle_transitions(n, clock) for n in range(count)],
            "incidentflow": lambda: [lifecycle_incidentflow(n, clock) for n in range(count)],
        },
        max(sizes.repeat, 5),
    )
    ours, theirs = median(times["incidentflow"]), median(times["transitions"])
    return Result(
        name="lifecycle",
        title=f"3. A whole lifecycle ({steps} commands), {count:,} incidents: "
        "incidentflow vs a transitions Machine per incident",
        ratio=theirs / ours,
        meaning="speedup: transitions time / incidentflow time",
        goal=">= 3x",
        passed=theirs / ours >= 3,
        figures={
            "incidents": count,
            "commands": steps,
            "incidentflow_s": ours,
            "transitions_s": theirs,
            "runs": times,
        },
        lines=[
            f"incidentflow commands      {seconds(ours):>10}  "
            f"({ours / count * 1e6:.0f} us/incident, {ours / count / steps * 1e6:.1f} us/command)",
            f"transitions Machine        {seconds(theirs):>10}  "
            f"({theirs / count * 1e6:.0f} us/incident)",
        ],
    )


# -- 4. memory per open incident --------------------------------------------------------------


def open_incident(number: int) -> Incident:
    """A typical open P1 incident, through its commands: staffed, validated, linked, mitigating."""
    i = Incident.declare(f"INC-{number}", "Database is down", Priority.P1, actor="ana")
    i.assign(Role.LEAD, "ana", actor="ana")
    i.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    i.validate("primary db refuses connections", actor="ana")
    i.link(LinkKind.TICKET, f"https://jira.example/IM-{number}", actor="ana")
    i.link(LinkKind.WAR_ROOM, "https://chat.example/war-room", actor="ana")
    i.link(LinkKind.ANNOUNCEMENT, "https://chat.example/outage/1", actor="ana")
    i.assign(Role.COMMUNICATOR, "cy", actor="ana")
    i.assign(Role.RECORDER, "di", actor="ana")
    i.mitigate("mitigating", actor="ana")
    return i


def open_incident_records(number: int) -> list[Event]:
    """The same events as :func:`open_incident` records, built alone (one new stamp each)."""
    from incidentflow import events as ev

    def at() -> dict[str, Any]:
        now = datetime.now(UTC)
        return {"occurred_at": now, "recorded_at": now}

    return [
        ev.Declared(
            actor="ana",
            incident_id=f"INC-{number}",
            title="Database is down",
            priority=Priority.P1,
            **at(),
        ),
        ev.RoleAssigned(actor="ana", role=Role.LEAD, holder="ana", **at()),
        ev.RoleAssigned(actor="ana", role=Role.INCIDENT_COMMANDER, holder="bo", **at()),
        ev.Validated(actor="ana", evidence="primary db refuses connections", **at()),
        ev.Linked(
            actor="ana", kind=LinkKind.TICKET, url=f"https://jira.example/IM-{number}", **at()
        ),
        ev.Linked(actor="ana", kind=LinkKind.WAR_ROOM, url="https://chat.example/war-room", **at()),
        ev.Linked(
            actor="ana", kind=LinkKind.ANNOUNCEMENT, url="https://chat.example/outage/1", **at()
        ),
        ev.RoleAssigned(actor="ana", role=Role.COMMUNICATOR, holder="cy", **at()),
        ev.RoleAssigned(actor="ana", role=Role.RECORDER, holder="di", **at()),
        ev.StateChanged(
            actor="ana",
            source=State.DECLARED,
            target=State.MITIGATING,
            message="mitigating",
            **at(),
        ),
    ]


def peak_bytes(build: Callable[[], object]) -> int:
    """The peak memory traced while ``build`` runs and its result is still held."""
    gc.collect()
    tracemalloc.start()
    try:
        result = build()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


_BUDGET = 2048  # bytes: "under 2 KB plus its records"


def bench_memory(sizes: Sizes) -> Result:
    """Peak memory per open incident, and what it costs beyond its own records."""
    count = sizes.open_incidents
    sample = open_incident(0)
    if [type(e) for e in sample.history] != [type(e) for e in open_incident_records(0)]:
        raise AssertionError("the records do not match the incident's history")
    records, incidents = [], []
    for _ in range(max(1, sizes.repeat - 1)):
        records.append(peak_bytes(lambda: [open_incident_records(n) for n in range(count)]))
        incidents.append(peak_bytes(lambda: [open_incident(n) for n in range(count)]))
    total = min(incidents) / count
    own = min(records) / count
    overhead = total - own
    return Result(
        name="memory",
        title=f"4. Peak memory per open incident ({count:,} open P1 incidents, "
        f"{sample.version} events each)",
        ratio=total / own,
        meaning=f"incident / its records alone; overhead {overhead:,.0f} bytes",
        goal=f"overhead under {_BUDGET:,} bytes",
        passed=overhead < _BUDGET,
        figures={
            "incidents": count,
            "bytes_per_incident": total,
            "record_bytes_per_incident": own,
            "overhead_bytes_per_incident": overhead,
            "incident_peaks": incidents,
            "record_peaks": records,
        },
        lines=[
            f"per open incident, total   {total:>8,.0f} bytes",
            f"its records (events) alone {own:>8,.0f} bytes",
            f"overhead beyond records    {overhead:>8,.0f} bytes  (= {overhead / 1024:.2f} KiB)",
        ],
    )


BENCHMARKS: dict[str, Callable[[Sizes], Result]] = {
    "replay": bench_replay,
    "per_incident": bench_per_incident,
    "lifecycle": bench_lifecycle,
    "memory": bench_memory,
    "durable_append": bench_durable_append,
    "load_many": bench_load_many,
    "help_startup": bench_help_startup,
    "stats": bench_stats,
    "dead_sink": bench_dead_sink,
    "drain": bench_drain,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--repeat", type=int, help="rounds per measurement (default 3)")
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 when any goal is missed"
    )
    parser.add_argument(
        "--only",
        action="extend",
        nargs="+",
        choices=sorted(BENCHMARKS),
        metavar="NAME",
        help=f"run only these ({', '.join(BENCHMARKS)})",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.repeat is not None:
        sizes = Sizes(**{**sizes.__dict__, "repeat": max(1, args.repeat)})
    names = args.only or list(BENCHMARKS)
    print(
        f"incidentflow benchmarks ({'quick' if args.quick else 'full'} run) on Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, "
        f"incidentflow from {os.path.dirname(incidentflow.__file__)}",
        flush=True,
    )
    results = []
    for name in names:
        begin = time.perf_counter()
        result = BENCHMARKS[name](sizes)
        result.lines.append(f"(benchmark ran in {time.perf_counter() - begin:.0f} s)")
        results.append(result)
        print(f"\n{result.report()}", flush=True)
    print(f"\n{summary(results)}")
    if args.json:
        payload = {
            "quick": args.quick,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "sizes": sizes.__dict__,
            "results": [
                {
                    "name": r.name,
                    "title": r.title,
                    "ratio": r.ratio,
                    "goal": r.goal,
                    "passed": r.passed,
                    "reported": r.reported,
                    "figures": r.figures,
                }
                for r in results
            ],
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2)
    return exit_status(results, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
