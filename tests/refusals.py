"""One check for every test of a refused command: it raised, and it left no trace."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from incidentflow import CommandRefused, Incident

__all__ = ["refused"]


def refused(incident: Incident, command: Callable[[], object]) -> CommandRefused:
    """Run a command that must be refused; check that it left no trace; return the refusal."""
    before = Incident.replay(list(incident.history), policy=incident.policy)
    version = incident.version
    with pytest.raises(CommandRefused) as info:
        command()
    assert before == incident
    assert version == incident.version
    return info.value
