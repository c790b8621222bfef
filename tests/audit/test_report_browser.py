"""The HTML report in a real headless browser (Debian's Chromium): the DOM it builds holds every release and the
timeline, and the screenshot shows the timeline's colours. Skips, saying why, only where Chromium is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.audit import report_svg
from tests.audit.history import History
from tests.audit.png import colours, hex_rgb, pixels
from tests.audit.test_report import clone, run_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/install-test-deps.sh "
                                "installs Debian's chromium when run as root)")


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a fresh profile and no network of its own; bounded by a timeout."""
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=180)


@pytest.fixture(scope="module")
def page(recorded: History, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The HTML report of the recorded history, and its JSON twin."""
    import json

    tmp = tmp_path_factory.mktemp("html")
    root = clone(recorded, tmp / "clone")
    html, js = tmp / "report.html", tmp / "report.json"
    assert run_report(root, "--format", "html", "--output", str(html)) == 0
    assert run_report(root, "--format", "json", "--output", str(js)) == 0
    return html, json.loads(js.read_text())


def test_the_html_report_is_self_contained(page: tuple[Path, dict[str, Any]]) -> None:
    text = page[0].read_text()
    for outside in ("<script", "<link", "src=\"http", "url(http", "@import"):
        assert outside not in text
    assert "<style>" in text and "<svg class=\"timeline\"" in text


def test_the_browser_dom_holds_every_release_and_the_timeline(page: tuple[Path, dict[str, Any]],
                                                             tmp_path: Path) -> None:
    html, doc = page
    done = chromium(tmp_path, "--dump-dom", html.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert '<svg class="timeline"' in dom
    for r in doc["releases"]:
        assert f'id="{r["id"]}"' in dom, r["id"]
    lanes = {(lane["stack"], lane["target"]) for lane in doc["timeline"]}
    assert lanes == {("staging", "aws"), ("staging", "gcp"), ("prod", "aws"), ("prod", "gcp")}
    for stack, target in lanes:
        assert f"{stack} · {target}</text>" in dom
    assert dom.count('class="failed"') >= 1 and dom.count('class="rollback"') >= 1
    assert dom.count('class="drift"') == 2 and dom.count('class="break-glass"') == 1


def test_the_screenshot_shows_the_timeline_in_its_colours(page: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    html, _doc = page
    shot = tmp_path / "report.png"
    done = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,1000", html.as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    width, height, _rows = pixels(shot)
    assert (width, height) == (1400, 1000)
    found = colours(shot)
    assert len(found) > 50, "the screenshot is (nearly) blank"
    for name, colour in (("failed release", report_svg.FAILED), ("drift window", report_svg.DRIFT),
                         ("break-glass window", report_svg.GLASS), ("first release", report_svg.PALETTE[0])):
        assert found[hex_rgb(colour)] > 5, f"no {name} colour {colour} in the screenshot"
    keep = os.environ.get("LOCKSTEP_AUDIT_SCREENSHOT")  # a path: keep the screenshot there, for a person to look at
    if keep:
        shutil.copy(shot, keep)
