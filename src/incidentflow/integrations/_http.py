"""The HTTP client the dispatcher makes when none is injected: httpx, imported only here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incidentflow.errors import MissingExtra

if TYPE_CHECKING:
    import httpx

__all__ = ["make_client"]


def make_client() -> httpx.Client:
    """A sync ``httpx.Client`` with explicit timeouts; MissingExtra without httpx."""
    try:
        import httpx
    except ImportError as exc:  # pragma: no cover - the test extra installs httpx
        raise MissingExtra(extra="integrations", package="httpx", feature="sinks") from exc
    return httpx.Client(
        timeout=httpx.Timeout(10.0, connect=5.0),
        headers={"user-agent": "incidentflow"},
        follow_redirects=False,
    )
