"""Open a report in headless Chromium, offline, and see whether it works and reads well: JavaScript errors,
figures drawn, what a reader sees (its text, anything wider than the window, headings with nothing under them).

A copy of the page gets a first script that records ``console.error`` calls
and uncaught errors into the DOM, and, once the page has loaded, what it shows;
a ``<base>`` makes its relative links (the run folder's shared ``plotly.min.js``)
point where the page is. Chromium loads it from disk with networking off and
prints the DOM after the scripts ran (``--dump-dom``). A figure counts as drawn
when plotly has turned its ``plotly-graph-div`` into a ``js-plotly-plot`` with
an SVG inside.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

RECORDER = """<script>(function(){
var errors=[];function keep(t){errors.push(String(t));document.documentElement.setAttribute('data-segkit-errors',
JSON.stringify(errors));}
var original=console.error;console.error=function(){keep(Array.prototype.join.call(arguments,' '));
original.apply(console,arguments);};
window.addEventListener('error',function(e){keep('uncaught: '+(e.message||e));});
window.addEventListener('unhandledrejection',function(e){
keep('unhandled rejection: '+(e.reason&&e.reason.message||e.reason));});
window.addEventListener('load',function(){setTimeout(function(){
var root=document.documentElement,width=root.clientWidth,wide=[],open=[],sections=[];
if(root.scrollWidth>width)wide.push('the page: '+root.scrollWidth+' px');
document.querySelectorAll('table,pre,.plotly-graph-div').forEach(function(e){
var box=e.closest('.segkit-table')||e,right=box.getBoundingClientRect().right;
if(right>width+1)wide.push(e.tagName.toLowerCase()+' '+(e.innerText||'').trim().slice(0,60)+': '+Math.round(right)
+' px');});
document.querySelectorAll('.jp-Cell').forEach(function(cell){
cell.querySelectorAll('h1,h2,h3,h4,h5,h6').forEach(function(h){var s={level:+h.tagName[1],shown:false,
title:h.innerText.replace(/\u00b6/g,'').trim()};open=open.filter(function(t){return t.level<s.level;});
open.push(s);sections.push(s);});
var out=cell.querySelector('.jp-OutputArea');
if(out&&(out.innerText.trim()!==''||out.querySelector('svg,img,canvas,table')))
open.forEach(function(t){t.shown=true;});});
var empty=sections.filter(function(s){return !s.shown;}).map(function(s){return s.title;});
root.setAttribute('data-segkit-page',JSON.stringify({text:document.body.innerText,wide:wide,empty:empty,width:width}));
},500);});
})();</script>"""
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",
]


@dataclass
class BrowserCheck:
    """What a page did in Chromium: its JavaScript errors, figures and figures drawn; its visible ``text``,
    what was ``wide``r than the window (the page itself, tables outside their scrolling box, figures, text
    blocks) and the headings with nothing shown under them (``empty``)."""

    errors: list[str]
    figures: int
    drawn: int
    text: str = ""
    wide: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.drawn == self.figures


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def check_in_browser(
    page: str | Path, chromium: str | None = None, timeout: float = 120, width: int = 1280
) -> BrowserCheck:
    """Load ``page`` in headless Chromium without network, in a window ``width`` pixels wide; report JavaScript
    errors, figures drawn and what a reader sees."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (Debian: apt-get install chromium)")
    page = Path(page).resolve()
    head = f'<base href="{page.parent.as_uri()}/">{RECORDER}'
    text = page.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="segkit_browser_") as folder:
        copy = Path(folder) / "page.html"
        with_recorder = (
            re.sub(r"(<head[^>]*>)", lambda m: m.group(1) + head, text, count=1)
            if re.search(r"<head[^>]*>", text)
            else head + text
        )
        copy.write_text(with_recorder, encoding="utf-8")
        dom = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--window-size={width},900",
                "--dump-dom",
                f"--user-data-dir={folder}/profile",
                copy.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        ).stdout
    errors = _attribute(dom, "data-segkit-errors") or []
    shown = _attribute(dom, "data-segkit-page") or {}
    divs = re.findall(r'<div[^>]*class="([^"]*plotly-graph-div[^"]*)"', dom)
    drawn = sum("js-plotly-plot" in classes for classes in divs)
    return BrowserCheck(errors, len(divs), drawn, shown.get("text", ""), shown.get("wide", []), shown.get("empty", []))


def screenshot(
    page: str | Path,
    out: str | Path,
    width: int = 1100,
    height: int = 1400,
    chromium: str | None = None,
    timeout: float = 120,
) -> Path:
    """A PNG of the top ``height`` pixels of ``page`` as a reader sees it in a window ``width`` pixels wide."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no Chromium found (Debian: apt-get install chromium)")
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="segkit_browser_") as folder:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--window-size={width},{height}",
                f"--screenshot={out}",
                f"--user-data-dir={folder}/profile",
                Path(page).resolve().as_uri(),
            ],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
    return out


def _attribute(dom: str, name: str):
    """The JSON the recorder left in the ``name`` attribute of the page, or None."""
    import json

    found = re.search(f'{name}="([^"]*)"', dom)
    return json.loads(html.unescape(found.group(1))) if found else None
