"""HTML reports of executed notebooks: no code, plotly drawn offline, a header that says what ran, no phones.

The notebooks embed plotly.js in their first figure (``plots.notebook_mode``),
so the report needs no network. Names and phones are masked by the notebooks
themselves; as a last guard the report is refused if it contains any phone
number of the job's input files.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Iterable

PHONE_LIKE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


class PrivacyError(ValueError):
    """A report would show a member's phone number."""


def notebook_html(executed: Path, header: dict[str, str]) -> str:
    """The executed notebook as HTML without code cells or prompts, with a header block."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    rows = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                   f"<td>{html.escape(v)}</td></tr>" for k, v in header.items())
    block = ("<div class='segkit-report-header' style='font-family:sans-serif;border-bottom:1px solid #ccc;"
             f"margin:1em 2em;padding-bottom:.5em'><table>{rows}</table></div>")
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + block, body, count=1)


def phones_in(paths: Iterable[Path]) -> set[str]:
    """Every phone number in the ``phone`` column of the given CSV or Parquet files."""
    import pandas as pd

    phones: set[str] = set()
    for path in paths:
        suffix = path.suffix.lower()
        try:
            if suffix in {".parquet", ".pq"}:
                frame = pd.read_parquet(path)
            elif suffix in {".csv", ".txt", ".tsv"}:
                header = pd.read_csv(path, nrows=0, encoding="utf-8-sig", sep=None, engine="python")
                if "phone" not in header.columns:
                    continue
                frame = pd.read_csv(path, usecols=["phone"], dtype=str, encoding="utf-8-sig")
            else:
                continue
        except (ValueError, UnicodeDecodeError, OSError):
            continue
        if "phone" in frame:
            phones.update(frame["phone"].dropna().astype(str))
    return phones


def check_no_phones(text: str, phones: set[str], where: str) -> None:
    """Refuse ``text`` if it shows any of ``phones``."""
    leaked = {match for match in PHONE_LIKE.findall(text) if match in phones}
    if leaked:
        raise PrivacyError(f"{where} shows {len(leaked)} member phone number(s) in full; mask them "
                           "(segkit.privacy.mask_personal) before they reach a report")
