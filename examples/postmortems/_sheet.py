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
