"""Read a postmortem's fact sheet: the TOML file next to each example.

A fact sheet holds only facts and times, in our own words, with the sources they come from.
Times are UTC.  A time written ``"~2017-01-31T23:00:00Z"`` is approximate (the source says
"around" or "-ish"); a bare date, ``"2021-05-12"``, means the source gives only the day and
is read as that day's midnight, approximate.  ``published`` lists every duration the
postmortem publishes, with the measure that should reproduce it, or why none can.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import incidentflow
from incidentflow import ChangeOutcome, ImpactLevel, Incident, ManualClock, approximately

RECORDED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
"""When the examples write the incidents down: long after, as a team would from a postmortem."""

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Published:
    """A duration the postmortem publishes, in seconds, and the measure meant to match it."""

    quote: str
    seconds: int
    measure: str | None
    source: str | None
    unreproducible: str | None


@dataclass(frozen=True)
class Sheet:
    """One postmortem's fact sheet."""

    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, name: str) -> Sheet:
        """The sheet called ``name`` (its file name without ``.toml``)."""
        path = HERE / f"{name}.toml"
        with path.open("rb") as f:
            return cls(path, tomllib.load(f))

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def title(self) -> str:
        return str(self.data["title"])

    @property
    def organisation(self) -> str:
        return str(self.data["organisation"])

    @property
    def sources(self) -> list[dict[str, str]]:
        return list(self.data["sources"])

    def source(self, key: str | None = None) -> dict[str, str]:
        """The source called ``key`` (default: the first)."""
        if key is None:
            return self.sources[0]
        return next(s for s in self.sources if s["key"] == key)

    def at(self, name: str) -> datetime:
        """The time called ``name`` in the sheet's ``[times]``."""
        return parse(self.data["times"][name])[0]

    def approximate(self, name: str) -> bool:
        """Whether the time called ``name`` is approximate."""
        return parse(self.data["times"][name])[1]

    def when(self, name: str) -> datetime:
        """The time called ``name``, wrapped in ``approximately()`` when the sheet says so."""
        value, rough = parse(self.data["times"][name])
        return approximately(value) if rough else value

    def clock(self) -> ManualClock:
        """The clock the recording runs on: it stands at :data:`RECORDED_AT`."""
        return ManualClock(RECORDED_AT)

    def record_impact(self, incident: Incident, *, actor: str) -> None:
        """Record the sheet's impact phases, each at its time, in order."""
        for phase in self.impact:
            incident.change_impact(
                ImpactLevel(phase["level"]),
                phase.get("description", ""),
                actor=actor,
                components=phase.get("components", ()),
                share=phase.get("share"),
                at=self.when(phase["at"]),
            )

    def has(self, name: str) -> bool:
        """Whether the sheet gives a time called ``name``."""
        return name in self.data["times"]

    @property
    def impact(self) -> list[dict[str, Any]]:
        return list(self.data.get("impact", []))

    @property
    def data_loss(self) -> dict[str, Any]:
        return dict(self.data.get("data_loss", {}))

    @property
    def published(self) -> list[Published]:
        return [
            Published(
                quote=p["quote"],
                seconds=int(p["seconds"]),
                measure=p.get("measure"),
                source=p.get("source"),
                unreproducible=p.get("unreproducible"),
            )
            for p in self.data.get("published", [])
        ]

    @property
    def discrepancies(self) -> list[str]:
        return [" ".join(d["text"].split()) for d in self.data.get("discrepancies", [])]


def parse(value: str) -> tuple[datetime, bool]:
    """A sheet's time and whether it is approximate."""
    approximate = value.startswith("~")
    text = value.lstrip("~")
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC), True
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC), approximate


def computed(measure: str, incident: Incident) -> float | None:
    """The seconds the measure called ``measure`` gives for ``incident`` (``None``: unknown).

    ``impact_by_level.<level>`` names the time spent at one impact level.
    """
    figures = incident.measures().to_dict()
    if measure.startswith("impact_by_level."):
        levels = figures["impact_by_level"] or {}
        value = levels.get(measure.split(".", 1)[1])
    else:
        value = figures[measure]
    return None if value is None else float(value)


def duration(seconds: float) -> str:
    """Seconds as days, hours, minutes and seconds: ``1 d 11 min``, ``43 s``."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
    parts += [f"{minutes} min" if minutes else "", f"{secs} s" if secs else ""]
    return " ".join(p for p in parts if p) or "0 s"


def report(sheet: Sheet, incident: Incident) -> str:
    """What the postmortem publishes beside what the record measures, one line each."""
    lines = [f"{sheet.organisation}: {sheet.title}"]
    for p in sheet.published:
        value = None if p.measure is None else computed(p.measure, incident)
        shown = "—" if value is None else duration(value)
        lines.append(
            f'  "{p.quote}": published {duration(p.seconds)}, '
            f"{p.measure or 'no measure'} {shown}"
            + (" (not reproducible)" if p.unreproducible else "")
        )
    figures = incident.measures().to_dict()
    for name, value in figures.items():
        if name not in ("impact_by_level", "approximate") and value is not None:
            lines.append(f"  {name}: {duration(value)}")
    return "\n".join(lines)


# -- what a library with the corrections features records better -----------------------------
#
# Discrepancy notes, data-loss records and irreversible changes come with the corrections
# features. Where the installed incidentflow has them, these helpers use them; otherwise they
# fall back to plain notes (and an unreconciled change), saying the same thing in words.


def discrepancy(incident: Incident, text: str, *, actor: str) -> None:
    """Record that the sources disagree: a discrepancy note, or a note saying so."""
    kind = getattr(incidentflow, "NoteKind", None)
    extra = {} if kind is None else {"kind": kind.DISCREPANCY}
    incident.note(f"Discrepancy: {text}", actor=actor, **extra)


def data_loss(incident: Incident, sheet: Sheet, *, actor: str, at: datetime) -> None:
    """Record the sheet's data loss: a data-loss record, or a note saying the same.

    A window the sheet does not give stays unknown (``None``).
    """
    loss = sheet.data_loss
    start = parse(loss["window_start"])[0] if "window_start" in loss else None
    end = parse(loss["window_end"])[0] if "window_end" in loss else None
    if hasattr(incident, "record_data_loss"):
        incident.record_data_loss(
            loss["what"],
            window_start=start,
            window_end=end,
            amount=loss["how_much"],
            actor=actor,
            at=at,
        )
        return
    written = (
        f"written between {start:%H:%M} and {end:%H:%M} UTC"
        if start is not None and end is not None
        else "written at times not known"
    )
    incident.note(f"Data loss: {loss['what']}, {written}; {loss['how_much']}.", actor=actor, at=at)


def irreversible(incident: Incident, change_id: str, *, actor: str, at: datetime) -> bool:
    """Mark a change that cannot be undone, where the library knows that outcome."""
    outcome = getattr(ChangeOutcome, "IRREVERSIBLE", None)
    if outcome is None:
        return False
    incident.reconcile_change(change_id, outcome, actor=actor, at=at)
    return True
