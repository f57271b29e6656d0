"""Subscribers: told of every applied event, in order, isolated from each other's failures."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from incidentflow import (
    CommandRefused,
    DeliveryFailure,
    Event,
    Incident,
    InvalidInput,
    ManualClock,
    NoteAdded,
    Priority,
    Role,
    State,
    Subscribers,
    TransitionBlocked,
)


def declare(clock: ManualClock, hub: Subscribers, incident_id: str = "INC-1") -> Incident:
    """A P3 declared by ana with ``hub`` as its subscribers."""
    return Incident.declare(
        incident_id, "t", Priority.P3, actor="ana", clock=clock, subscribers=hub
    )


def test_declaration_is_published(clock: ManualClock) -> None:
    """A hub given at declaration hears of the Declared event itself."""
    hub = Subscribers()
    seen: list[str] = []
    hub.subscribe(lambda incident, event: seen.append(event.type))
    incident = declare(clock, hub)
    assert seen == ["declared"]
    assert hub is incident.subscribers


def test_subscriber_hears_after_the_event_is_applied(clock: ManualClock) -> None:
    """When told, the incident already shows the event: in its history and its state."""
    incident = declare(clock, Subscribers())
    observed: list[tuple[bool, State, int]] = []

    def watch(seen: Incident, event: Event) -> None:
        assert seen is incident
        observed.append((seen.history[-1] is event, seen.state, seen.version))

    incident.subscribers.subscribe(watch)
    incident.dismiss("false alarm", actor="ana")
    assert observed == [(True, State.DISMISSED, 2)]


def test_events_reach_every_subscriber_in_order(clock: ManualClock) -> None:
    """Each event reaches every subscriber, in subscription order, before the next event."""
    log: list[tuple[str, str]] = []
    hub = Subscribers()
    hub.subscribe(lambda incident, event: log.append(("a", event.type)))
    hub.subscribe(lambda incident, event: log.append(("b", event.type)))
    incident = declare(clock, hub)
    incident.assign(Role.INCIDENT_COMMANDER, "bo", actor="ana")
    incident.note("n", actor="bo")
    assert log == [
        ("a", "declared"),
        ("b", "declared"),
        ("a", "role_assigned"),
        ("b", "role_assigned"),
        ("a", "note_added"),
        ("b", "note_added"),
    ]


def test_refused_command_publishes_nothing(clock: ManualClock) -> None:
    """Subscribers hear only of applied events."""
    incident = declare(clock, Subscribers())
    seen: list[Event] = []
    incident.subscribers.subscribe(lambda i, e: seen.append(e))
    with pytest.raises(CommandRefused):
        incident.mitigate("too soon", actor="ana")
    assert seen == []


def test_raising_subscriber_does_not_roll_back_or_starve_others(clock: ManualClock) -> None:
    """A failing subscriber leaves the event applied, others told, and on_error informed."""
    incident = declare(clock, Subscribers())
    failures: list[DeliveryFailure] = []
    later: list[str] = []
    boom = RuntimeError("chat is down")

    def broken(seen: Incident, event: Event) -> None:
        raise boom

    incident.subscribers.subscribe(broken, on_error=failures.append)
    incident.subscribers.subscribe(lambda i, e: later.append(e.type))
    event = incident.note("restarted db-1", actor="ana")
    assert event is incident.history[-1]
    assert later == ["note_added"]
    assert [DeliveryFailure(broken, "INC-1", event, boom)] == failures
    assert (broken, "INC-1", event, boom) == (
        failures[0].subscriber,
        failures[0].incident_id,
        failures[0].event,
        failures[0].error,
    )


def test_failure_is_logged_by_default(clock: ManualClock, caplog: Any) -> None:
    """Without on_error, a failure is logged on the "incidentflow" logger with its traceback."""
    incident = declare(clock, Subscribers())
    boom = RuntimeError("pager unreachable")

    def broken(seen: Incident, event: Event) -> None:
        raise boom

    incident.subscribers.subscribe(broken)
    with caplog.at_level(logging.ERROR, logger="incidentflow"):
        incident.note("n", actor="ana")
    [record] = caplog.records
    assert (record.name, record.levelno) == ("incidentflow", logging.ERROR)
    assert "note_added" in record.getMessage()
    assert "INC-1" in record.getMessage()
    assert record.exc_info is not None
    assert boom is record.exc_info[1]


def test_failing_on_error_falls_back_to_the_log(clock: ManualClock, caplog: Any) -> None:
    """An on_error handler that raises does not escape; the failure is logged instead."""
    incident = declare(clock, Subscribers())

    def broken(seen: Incident, event: Event) -> None:
        raise ValueError("bad subscriber")

    def broken_handler(failure: DeliveryFailure) -> None:
        raise OSError("bad handler")

    incident.subscribers.subscribe(broken, on_error=broken_handler)
    with caplog.at_level(logging.ERROR, logger="incidentflow"):
        incident.note("n", actor="ana")
    assert [r.name for r in caplog.records] == ["incidentflow"]
    assert incident.version == 2


def test_command_from_a_subscriber_is_delivered_after_the_current_event(
    clock: ManualClock,
) -> None:
    """A subscriber reacting with a command: everyone hears the events in the order applied."""
    incident = declare(clock, Subscribers())
    log: list[tuple[str, str]] = []

    def bot(seen: Incident, event: Event) -> None:
        log.append(("bot", event.type))
        if isinstance(event, NoteAdded) and event.text == "ping":
            seen.note("pong", actor="bot")

    def audit(seen: Incident, event: Event) -> None:
        text = event.text if isinstance(event, NoteAdded) else event.type
        log.append(("audit", text))

    incident.subscribers.subscribe(bot)
    incident.subscribers.subscribe(audit)
    incident.note("ping", actor="ana")
    assert log == [
        ("bot", "note_added"),
        ("audit", "ping"),
        ("bot", "note_added"),
        ("audit", "pong"),
    ]
    assert [n.text for n in incident.notes] == ["ping", "pong"]


def test_refused_command_from_a_subscriber_is_a_delivery_failure(clock: ManualClock) -> None:
    """A subscriber whose own command is refused fails like any other subscriber."""
    incident = declare(clock, Subscribers())
    failures: list[DeliveryFailure] = []
    incident.subscribers.subscribe(
        lambda seen, event: seen.mitigate("auto", actor="bot"), on_error=failures.append
    )
    incident.note("n", actor="ana")
    assert [TransitionBlocked] == [type(f.error) for f in failures]
    assert incident.state == State.DECLARED


def test_unsubscribe_stops_delivery(clock: ManualClock) -> None:
    """After unsubscribing, a subscriber hears nothing; unsubscribing twice is harmless."""
    hub = Subscribers()
    seen: list[str] = []
    unsubscribe = hub.subscribe(lambda incident, event: seen.append(event.type))
    incident = declare(clock, hub)
    assert len(hub) == 1
    unsubscribe()
    unsubscribe()
    assert len(hub) == 0
    incident.note("n", actor="ana")
    assert seen == ["declared"]


def test_subscriber_may_unsubscribe_while_being_told(clock: ManualClock) -> None:
    """A subscriber leaving during delivery does not stop the others hearing that event."""
    hub = Subscribers()
    log: list[str] = []

    def once(incident: Incident, event: Event) -> None:
        log.append("once")
        unsubscribe()

    unsubscribe = hub.subscribe(once)
    hub.subscribe(lambda incident, event: log.append("always"))
    incident = declare(clock, hub)
    incident.note("n", actor="ana")
    assert log == ["once", "always", "always"]


@pytest.mark.parametrize("thing", [None, "print", 42])
def test_non_callable_subscriber_is_invalid_input(thing: Any) -> None:
    """Only callables may subscribe."""
    hub = Subscribers()
    with pytest.raises(InvalidInput):
        hub.subscribe(thing)
    assert len(hub) == 0


def test_a_hub_shared_by_two_incidents(clock: ManualClock) -> None:
    """One hub hears both incidents, each event with its own incident."""
    hub = Subscribers()
    seen: list[tuple[str, str]] = []
    hub.subscribe(lambda incident, event: seen.append((incident.id, event.type)))
    first = declare(clock, hub, "INC-1")
    second = declare(clock, hub, "INC-2")
    second.note("n", actor="ana")
    first.dismiss("false alarm", actor="ana")
    assert seen == [
        ("INC-1", "declared"),
        ("INC-2", "declared"),
        ("INC-2", "note_added"),
        ("INC-1", "state_changed"),
    ]
    assert first.subscribers is second.subscribers


def test_command_on_another_incident_of_a_shared_hub_is_queued(clock: ManualClock) -> None:
    """A reaction on a second incident is delivered after the first incident's event."""
    hub = Subscribers()
    log: list[tuple[str, str]] = []
    first = declare(clock, hub, "INC-1")
    second = declare(clock, hub, "INC-2")

    def mirror(incident: Incident, event: Event) -> None:
        log.append((incident.id, event.type))
        if incident is first and isinstance(event, NoteAdded):
            second.note(f"mirrored: {event.text}", actor="bot")

    hub.subscribe(mirror)
    hub.subscribe(lambda incident, event: log.append(("tail", incident.id)))
    first.note("n", actor="ana")
    assert log == [
        ("INC-1", "note_added"),
        ("tail", "INC-1"),
        ("INC-2", "note_added"),
        ("tail", "INC-2"),
    ]
