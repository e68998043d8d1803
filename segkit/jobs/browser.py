"""Open a report in headless Chromium, offline, and see whether it works: JavaScript errors, figures drawn.

A copy of the page gets a first script that records ``console.error`` calls
and uncaught errors into the DOM; Chromium loads it from disk with networking
off and prints the DOM after the scripts ran (``--dump-dom``). A figure
counts as drawn when plotly has turned its ``plotly-graph-div`` into a
``js-plotly-plot`` with an SVG inside.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

RECORDER = """<script>(function(){
var errors=[];function keep(t){errors.push(String(t));document.documentElement.setAttribute('data-segkit-errors',
JSON.stringify(errors));}
var original=console.error;console.error=function(){keep(Array.prototype.join.call(arguments,' '));
original.apply(console,arguments);};
window.addEventListener('error',function(e){keep('uncaught: '+(e.message||e));});
window.addEventListener('unhandledrejection',function(e){keep('unhandled rejection: '+(e.reason&&e.reason.message||e.reason));});
})();</script>"""
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--virtual-time-budget=15000", "--dump-dom"]


@dataclass
class BrowserCheck:
    errors: list[str]
    figures: int
    drawn: int

    @property
    def ok(self) -> bool:
        return not self.errors and self.drawn == self.figures


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def check_in_browser(page: str | Path, chromium: str | None = None, timeout: float = 120) -> BrowserCheck:
    """Load ``page`` in headless Chromium without network; report JavaScript errors and figures drawn."""
    import json

    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (Debian: apt-get install chromium)")
    text = Path(page).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="segkit_browser_") as folder:
        copy = Path(folder) / "page.html"
        with_recorder = (re.sub(r"(<head[^>]*>)", lambda m: m.group(1) + RECORDER, text, count=1)
                         if re.search(r"<head[^>]*>", text) else RECORDER + text)
        copy.write_text(with_recorder, encoding="utf-8")
        dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={folder}/profile", copy.as_uri()],
                             capture_output=True, text=True, timeout=timeout).stdout
    recorded = re.search(r'data-segkit-errors="([^"]*)"', dom)
    errors = json.loads(recorded.group(1).replace("&quot;", '"').replace("&amp;", "&")) if recorded else []
    divs = re.findall(r'<div[^>]*class="([^"]*plotly-graph-div[^"]*)"', dom)
    drawn = sum("js-plotly-plot" in classes for classes in divs)
    return BrowserCheck(errors, len(divs), drawn)
