"""HTML reports of executed notebooks (no code, plotly drawn offline, a header that says what ran, no section
whose input was absent), and the privacy check that every report and executed notebook passes before it may
stay on disk.

plotly.js (4.8 MB) is kept once per run folder: ``share_plotly`` replaces the copy a
notebook embeds and the copy beside each step's ``charts/`` by a reference to
``plotly.min.js`` at the top of the run folder, so the folder still opens offline; a
page opened away from its folder (a report sent on its own) loads the same version from
plotly's CDN instead.

The notebooks mask names and phones themselves; as a last guard, ``member_data``
reads the names and phones of the job's inputs through the loader (encoding,
separator and header detection, the pipeline's column mappings) and
``check_private`` refuses a text that shows any of them, or any unmasked
mainland mobile number at all.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..messages import catalogue
from ..privacy import MOBILE

INPUT_TABLES = {".csv", ".tsv", ".txt", ".parquet", ".pq"}  # inputs the privacy check reads
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_CHARACTER = re.compile(f"[{CJK}]")
CJK_RUN = re.compile(f"[{CJK}\u00b7\u2022]+")  # names like 阿卜杜·热西提 keep their dot
SPACE_IN_CJK = re.compile(f"(?<=[{CJK}])\\s+(?=[{CJK}])")  # 张 三, 张　三: the name 张三 spaced out
WORD = re.compile(f"[^\\W{CJK}]+")  # a word of other scripts (Ann, José), not Chinese
DIGIT_GROUPS = re.compile(r"(?<![0-9A-Za-z])\(?\d+\)?(?:[ .-]{1,2}\(?\d+\)?)*(?![0-9A-Za-z])")
MAX_GROUPS = 5  # +86 571 8888 6666: at most five groups
BINARY_OUTPUTS = ("image/png", "image/jpeg", "image/gif")


class PrivacyError(ValueError):
    """A report or notebook would show a member's name or phone number."""


@dataclass
class MemberData:
    """What no report may show: the phone numbers (digits only; mobile numbers are refused whoever's they are)
    and full names (2+ characters) of members.

    Names with Chinese characters are found anywhere, also inside longer runs of text; other names
    as whole words. Lookups are by set, so 100k members cost no more than a few."""

    phones: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    checked: dict[str, list[str]] = field(default_factory=dict)  # input -> its columns read ("name", "phone")

    def __post_init__(self):
        self.names = {_spaced(str(name)) for name in self.names}  # ZEBEDIAH QUUX is a name
        self.names = {name for name in self.names if len(name) >= 2}
        self.phones = {phone for phone in self.phones if len(phone) >= 7 and not MOBILE.fullmatch(phone)}
        self._cjk_lengths = sorted({len(n) for n in self.names if CJK_CHARACTER.search(n)})
        self._by_first_word: dict[str, list[str]] = {}
        for name in self.names:
            first = WORD.match(name)
            if not CJK_CHARACTER.search(name) and first:
                self._by_first_word.setdefault(first.group(0), []).append(name)

    def leaks(self, text: str) -> list[str]:
        """What ``text`` shows of members, one description per kind (empty: nothing)."""
        text = html.unescape(text)
        found = []
        mobiles = {re.sub(r"\D", "", m.group(0))[-11:] for m in MOBILE.finditer(text)}
        if mobiles:
            found.append(f"{len(mobiles)} unmasked mobile phone number(s)")
        phones = self._phones_in(text) - mobiles
        if phones:
            found.append(f"{len(phones)} member phone number(s)")
        names = self._names_in(_spaced(text))
        if names:
            found.append(f"{len(names)} member name(s)")
        return found

    def _phones_in(self, text: str) -> set[str]:
        if not self.phones:
            return set()
        seen = set()
        for match in DIGIT_GROUPS.finditer(text):
            groups = re.findall(r"\d+", match.group(0))
            for start in range(len(groups)):
                for end in range(start + 1, min(len(groups), start + MAX_GROUPS) + 1):
                    digits = "".join(groups[start:end])
                    if digits in self.phones:
                        seen.add(digits)
        return seen

    def _names_in(self, text: str) -> set[str]:
        seen = set()
        if self._cjk_lengths:
            for run in CJK_RUN.findall(text):
                for length in self._cjk_lengths:
                    seen.update(
                        run[i : i + length] for i in range(len(run) - length + 1) if run[i : i + length] in self.names
                    )
        if self._by_first_word:
            for word in WORD.finditer(text):
                for name in self._by_first_word.get(word.group(0), ()):
                    end = word.start() + len(name)
                    if text.startswith(name, word.start()) and not WORD.match(text, end):
                        seen.add(name)
        return seen


def _spaced(text: str) -> str:
    """``text`` as names are compared: folded case, one space between words, none between Chinese characters."""
    return SPACE_IN_CJK.sub("", " ".join(text.casefold().split()))


def member_data(inputs: dict[str, Path], mappings: dict[str, Path] | None = None) -> MemberData:
    """The phones of every table among ``inputs`` and the names of every members table (one with a
    ``member_id``), read through the loader with the column mapping ``mappings`` names for that input."""
    from ..data import LoadConfig
    from ..data.sources import clean_column_names, read_source

    phones, names, checked = set(), set(), {}
    for name, path in inputs.items():
        path = Path(path)
        if path.suffix.lower() not in INPUT_TABLES or not path.is_file():
            continue
        config = LoadConfig.from_yaml(mappings[name]) if mappings and name in mappings else LoadConfig()
        canonical = dict(config.columns)
        header = [canonical.get(column, column) for column in _header(path, config.source)]
        if "phone" not in header and "name" not in header:
            continue
        frame = read_source(path, config.source, keep_damaged=True).frame
        frame.columns = [canonical.get(column, column) for column in clean_column_names(frame.columns)]
        if "phone" in frame:
            phones.update(frame["phone"].dropna().astype(str).str.replace(r"\D", "", regex=True))
            checked[name] = ["phone"]
        if "name" in frame and "member_id" in frame:
            names.update(frame["name"].dropna().astype(str))
            checked[name] = ["name", *checked.get(name, [])]
    return MemberData(phones, names, checked)


def _header(path: Path, source: dict) -> list[str]:
    """The column names of a table as the loader reads them, from its first line only (a 10M-row
    transactions file costs nothing); the whole file if the loader cannot read that line alone."""
    from ..data.sources import clean_column_names, read_source

    if path.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return clean_column_names(pq.read_schema(path).names)
    with open(path, "rb") as handle:
        first = handle.readline()
    with tempfile.TemporaryDirectory(prefix="segkit_header_") as folder:
        head = Path(folder) / path.name
        head.write_bytes(first)
        try:
            return clean_column_names(read_source(head, source).frame.columns)
        except ValueError:
            return clean_column_names(read_source(path, source).frame.columns)


def notebook_text(path: Path) -> str:
    """Every text of an executed notebook (sources, outputs, metadata, errors), as a reader would see it;
    images are left out."""

    def strings(value, key=""):
        if isinstance(value, str):
            if key not in BINARY_OUTPUTS:
                yield value
        elif isinstance(value, dict):
            for name, item in value.items():
                yield from strings(item, name)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item, key)

    return "\n".join(strings(json.loads(Path(path).read_text(encoding="utf-8"))))


def check_private(text: str, members: MemberData, where: str) -> None:
    """Refuse ``text`` if it shows a member's name or phone, or any unmasked mobile number."""
    leaks = members.leaks(text)
    if leaks:
        raise PrivacyError(
            f"{where} shows {' and '.join(leaks)}; mask them (segkit.privacy.mask_personal) before they reach a report"
        )


def notebook_html(executed: Path, header: dict[str, str], language: str | None = None) -> str:
    """The executed notebook as HTML without code cells, prompts or empty sections, with a header block and
    the section headings in ``language`` (the catalogue's ``report.headings``)."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    notebook = nbformat.read(executed, as_version=4)
    notebook.cells = translated_headings(shown_cells(notebook.cells), catalogue(language).section("report.headings"))
    body, _ = exporter.from_notebook_node(notebook)
    rows = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in header.items()
    )
    block = (
        "<div class='segkit-report-header' style='font-family:sans-serif;border-bottom:1px solid #ccc;"
        f"margin:1em 2em;padding-bottom:.5em'><table>{rows}</table></div>"
    )
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + block, body, count=1)


HEADING = re.compile(r"\s*(#{1,6})\s")
HEADING_LINE = re.compile(r"^(#{1,6}[ \t]+)(.+?)[ \t]*$", re.M)


def translated_headings(cells: list, headings: dict[str, str]) -> list:
    """``cells`` with the markdown headings that ``headings`` knows replaced by their translation."""
    for cell in cells:
        if cell.cell_type == "markdown":
            cell.source = HEADING_LINE.sub(lambda m: m.group(1) + headings.get(m.group(2), m.group(2)), cell.source)
    return cells


PLOTLY_JS = "plotly.min.js"
PLOTLY_VERSION = r"/\*\*\s*\* plotly\.js v([0-9][0-9A-Za-z.-]*)"
PLOTLY_BUNDLE = re.compile(r"<script[^>]*>(\s*" + PLOTLY_VERSION + r".*?)</script>", re.S)
PLOTLY_BESIDE = re.compile(r'<script[^>]*src="plotly\.min\.js"[^>]*></script>')


def shown_cells(cells: list) -> list:
    """The cells a report shows: a section (a heading of level 2 or more, down to the next heading as high)
    whose code cells all showed nothing is left out, and so is a paragraph whose code cells (up to the next
    text cell) showed nothing: their input was absent (no truth file, nobody held back)."""
    shown, at = [], 0
    while at < len(cells):
        level = _heading_level(cells[at])
        if cells[at].cell_type == "markdown" and level != 1:
            end = at + 1
            while end < len(cells) and not (
                (0 < _heading_level(cells[end]) <= level) if level else cells[end].cell_type == "markdown"
            ):
                end += 1
            code = [cell for cell in cells[at:end] if cell.cell_type == "code"]
            if code and not any(_shows_something(cell) for cell in code):
                at = end
                continue
        shown.append(cells[at])
        at += 1
    return shown


def _heading_level(cell) -> int:
    """1 to 6 for a text cell that starts with a heading, else 0."""
    found = HEADING.match(cell.source) if cell.cell_type == "markdown" else None
    return len(found.group(1)) if found else 0


def _shows_something(cell) -> bool:
    """Whether a code cell showed anything: text, a table, a figure or an error."""
    for output in cell.get("outputs", []):
        if output.output_type == "error" or (output.output_type == "stream" and output.text.strip()):
            return True
        if output.output_type in ("display_data", "execute_result") and any(
            kind != "text/plain" or str(value).strip() for kind, value in output.data.items()
        ):
            return True
    return False


def share_plotly(executed: Path, folder: Path, run_folder: Path) -> None:
    """Keep one plotly.js per run: the executed notebook's embedded copy and the ``plotly.min.js`` beside any
    page under ``folder`` (a step's charts) become references to ``run_folder/plotly.min.js``, which is made
    from the first copy found; so do the references of pages that load such a copy from a folder below them
    (``effect.html`` beside its ``charts/``)."""
    import nbformat

    shared = run_folder / PLOTLY_JS
    if executed.is_file():
        notebook = nbformat.read(executed, as_version=4)
        changed = False
        for cell in notebook.cells:
            for output in cell.get("outputs", []):
                page = output.get("data", {}).get("text/html")
                found = PLOTLY_BUNDLE.search(page) if isinstance(page, str) else None
                if found:
                    if not shared.exists():
                        shared.write_text(found.group(1).strip() + "\n", encoding="utf-8")
                    output.data["text/html"] = PLOTLY_BUNDLE.sub(
                        lambda bundle: plotly_tags(PLOTLY_JS, bundle.group(2)), page
                    )
                    changed = True
        if changed:
            nbformat.write(notebook, executed)
    for beside in sorted(folder.rglob(PLOTLY_JS)):
        if beside == shared:
            continue
        with open(beside, encoding="utf-8") as handle:
            version = re.match(PLOTLY_VERSION, handle.read(100))
        if shared.exists():
            beside.unlink()
        else:
            beside.replace(shared)
        reference = Path(os.path.relpath(shared, beside.parent)).as_posix()
        for page in beside.parent.glob("*.html"):
            text = page.read_text(encoding="utf-8")
            page.write_text(
                PLOTLY_BESIDE.sub(
                    lambda _, reference=reference, version=version: plotly_tags(
                        reference, version and version.group(1)
                    ),
                    text,
                ),
                encoding="utf-8",
            )
        for page in sorted(folder.rglob("*.html")):
            if page.parent == beside.parent:
                continue
            below = f'src="{Path(os.path.relpath(beside, page.parent)).as_posix()}"'
            text = page.read_text(encoding="utf-8")
            if below in text:
                page.write_text(
                    text.replace(below, f'src="{Path(os.path.relpath(shared, page.parent)).as_posix()}"'),
                    encoding="utf-8",
                )


def plotly_tags(source: str, version: str | None) -> str:
    """The script tag loading plotly.js from ``source`` (a path relative to the page) and, for a page opened
    away from its run folder, from plotly's CDN (``version``) when that failed; only while the page loads
    (never in JupyterLab, where ``document.write`` would replace the whole page)."""
    tag = f'<script charset="utf-8" src="{source}"></script>'
    if not version:
        return tag
    cdn = f"https://cdn.plot.ly/plotly-{version}.min.js"
    return tag + (
        "<script>if(!window.Plotly&&document.readyState==='loading'){document.write("
        f'\'<script charset="utf-8" src="{cdn}"><\\/script>\')}}</script>'
    )
