"""The HTML documents in a real browser: headless Chromium lays them out at 1,200 px.

Each page (the demo's RCA document, chart included, and its meeting agenda) is opened in
headless Chromium, in a copy whose content security policy lets one inline script run: once
the page has loaded, the script measures it and writes what it found into the page's title,
which ``--dump-dom`` prints.  A second run takes a screenshot.  Without Chromium the tests are
skipped, with one line saying so, except in CI (``CI`` set), where they fail: CI installs it
(see ``.ci/run``).
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import os
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hostile import Structure, typed_incident
from incidentflow.demo import run_demo
from incidentflow.documents import agenda, rca_document

WIDTH = 1200
CSP = "default-src 'none'; style-src 'unsafe-inline'"

# Measured once the page has loaded: how wide it is, and every heading that cannot be seen.
MEASURE = """
<script>
window.addEventListener("load", () => {
  const page = document.documentElement;
  const hidden = [];
  const headings = document.querySelectorAll("h1, h2, h3");
  for (const heading of headings) {
    const box = heading.getBoundingClientRect();
    const style = getComputedStyle(heading);
    if (box.width === 0 || box.height === 0 || style.visibility !== "visible"
        || style.display === "none" || box.left < 0 || box.right > page.clientWidth) {
      hidden.push(heading.textContent);
    }
  }
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.right > page.clientWidth + 0.5) {
      wide.push(element.tagName.toLowerCase() + (element.id ? "#" + element.id : ""));
    }
  }
  document.title = JSON.stringify({
    viewport: page.clientWidth, scrollWidth: page.scrollWidth,
    headings: headings.length, hidden: hidden, wide: wide.slice(0, 10),
  });
});
</script>
"""


def chromium() -> str:
    """The Chromium executable; skipped without one, but a failure in CI."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is not None:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI for the browser check: apt-get install chromium")
    pytest.skip("chromium is not installed (apt-get install chromium): browser check left to CI")


def run(browser: str, page: Path, profile: Path, *arguments: str) -> str:
    """Chromium, headless and sandboxed from the network by the page's own policy."""
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--force-device-scale-factor=1",
            "--virtual-time-budget=5000",
            *arguments,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return result.stdout


def measured(browser: str, document: str, directory: Path) -> dict[str, Any]:
    """What the measuring script found in ``document``, laid out 1,200 px wide."""
    assert CSP in document
    page = directory / "measured.html"
    page.write_text(
        document.replace(CSP, CSP + "; script-src 'unsafe-inline'").replace(
            "</body>", MEASURE + "</body>"
        ),
        encoding="utf-8",
    )
    dom = run(browser, page, directory / "profile", f"--window-size={WIDTH},900", "--dump-dom")
    title = dom[dom.index("<title>") + len("<title>") : dom.index("</title>")]
    found: dict[str, Any] = json.loads(html.unescape(title))
    return found


def screenshot(browser: str, document: str, directory: Path) -> tuple[int, int]:
    """The size of a screenshot of ``document``, 1,200 px wide."""
    page = directory / "page.html"
    page.write_text(document, encoding="utf-8")
    picture = directory / "page.png"
    run(
        browser,
        page,
        directory / "profile",
        f"--window-size={WIDTH},2400",
        f"--screenshot={picture}",
    )
    data = picture.read_bytes()
    assert b"\x89PNG\r\n\x1a\n" == data[:8]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


LONG = [
    "see https://tickets.example.com/browse/IM-1042?focusedCommentId=123456&page=com.atlassian"
    ".jira.plugin.system.issuetabpanels%3Acomment-tabpanel#comment-123456",
    "Checkout, deploys and the whole EU-West region have been failing since the certificate "
    "rotation at 13:55 UTC this afternoon, for every customer",
    "word",
]


@functools.cache
def documents() -> dict[str, str]:
    """The demo's RCA document (with its timeline chart) and agenda, and those of an incident
    whose every typed field is a long URL or a long sentence, as HTML pages."""
    incident = run_demo(lambda line: None)
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    texts = itertools.cycle(LONG)
    long = typed_incident(lambda: next(texts), experiments=2, update_before=True, update_after=True)
    return {
        "rca": rca_document(incident, now=now, confidentiality="Internal").html(),
        "agenda": agenda(incident).html(),
        "long rca": rca_document(long, now=long.last_recorded_at).html(),
        "long agenda": agenda(long).html(),
    }


@pytest.fixture(scope="module")
def browser() -> str:
    """Headless Chromium, or a skip (a failure in CI) without it."""
    return chromium()


@pytest.mark.parametrize("name", ["rca", "agenda", "long rca", "long agenda"])
def test_page_fits_1200_pixels_with_every_heading_visible(
    browser: str, name: str, tmp_path: Path
) -> None:
    """At 1,200 px nothing runs off the side, and every heading is laid out and visible."""
    document = documents()[name]
    found = measured(browser, document, tmp_path)
    headings = [tag for tag in Structure(document).headings if tag[0] in ("h1", "h2", "h3")]
    expected = {"viewport": WIDTH, "scrollWidth": WIDTH, "headings": len(headings)}
    assert expected == {k: found[k] for k in expected}
    assert ([], []) == (found["hidden"], found["wide"])


@pytest.mark.parametrize("name", ["rca", "agenda"])
def test_page_renders_to_a_screenshot(browser: str, name: str, tmp_path: Path) -> None:
    """Chromium renders the page as it is (its policy loads nothing) to a 1,200 px picture."""
    width, height = screenshot(browser, documents()[name], tmp_path)
    assert (WIDTH, True) == (width, height > 0)


def test_without_chromium_the_check_is_skipped_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No Chromium: a one-line skip on a developer's machine, a failure when CI is set."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is not installed"):
        chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is required in CI"):
        chromium()
