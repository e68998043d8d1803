"""Reports a manager can forward: tables formatted for reading, no section whose input was absent, plotly.js
once per run folder, stable stage colours, output files rounded; and a real pipeline's report read in headless
Chromium: no empty section, no NaN/None, nothing wider than the page."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import AS_OF, REPO, require_chromium

from segkit.jobs import run_pipeline
from segkit.jobs.browser import check_in_browser
from segkit.jobs.report import PLOTLY_JS, share_plotly, shown_cells
from segkit.messages import HERE, catalogue, flat_keys
from segkit.plots.segments import STAGE_COLOURS, stage_sankey
from segkit.result import rounded, table_html
from segkit.segment import STAGES

UNREADABLE = re.compile(r"\bNaN\b|<NA>|\bNone\b|\bnan\b|\bNaT\b")


def _cells(page: str) -> list[list[str]]:
    """The text of every row of the first table in ``page``, header first."""
    return [re.findall(r"<t[hd](?: [^>]*)?>(.*?)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", page)]


def test_tables_read_as_people_read_them():
    reason = "usually refills every 15 days; last refill 2026-03-01, 30 days ago; 15 days later than expected"
    frame = pd.DataFrame(
        {
            "member_id": ["0000133", "0000788"],
            "last_purchase": pd.to_datetime(["2026-03-01", None]),
            "p_active": [0.108, np.nan],
            "vip": [True, False],
            "value_at_risk": [1824.34, 995.07],
            "tier": [None, "gold"],
            "purchases": pd.array([12, None], dtype="Int64"),
            "reason": [reason, reason],
            "revenue": [2924862.7, 12.5],
        },
        index=[7, 3],
    )
    page = table_html(frame, language="en")
    head, first, second = _cells(page)
    assert head == [
        "Member",
        "Last purchase",
        "P(still a customer)",
        "VIP",
        "Value at risk",
        "Tier",
        "purchases",
        "Reason",
        "Revenue",
    ]  # no index; labels from the catalogue
    assert first == ["0000133", "2026-03-01", "10.8%", "yes", "1,824", "–", "12", reason, "2,924,863"]
    assert second == ["0000788", "–", "–", "no", "995", "gold", "–", reason, "12.50"]  # a thousandfold apart
    assert not UNREADABLE.search(page) and "overflow-x:auto" in page
    assert _cells(table_html(frame, language="zh-CN"))[0][:2] == ["会员编号", "最近购买"]


def test_a_named_index_is_a_column_and_shares_can_be_asked_for():
    transitions = pd.DataFrame(
        [[0.95, 0.05], [0.0, 1.0]],
        index=pd.Index(["new", "active"], name="stage_from"),
        columns=pd.Index(["new", "active"], name="stage_to"),
    )
    head, first, _ = _cells(table_html(transitions, percent=True, language="en"))
    assert head == ["Stage → a month later", "new", "active"] and first == ["new", "95.0%", "5.0%"]
    summary = pd.DataFrame(
        {"estimate": [0.2426, 4.4136], "std_error": [0.0126, 0.3782]}, index=pd.Index(["r", "alpha"], name="parameter")
    )
    assert _cells(table_html(summary, language="en"))[1] == ["r", "0.24", "0.013"]
    stamps = pd.DataFrame({"when": [pd.Timestamp("2026-03-01 08:30"), pd.Timestamp("2026-03-02")]})
    assert [row[0] for row in _cells(table_html(stamps))[1:]] == ["2026-03-01 08:30", "2026-03-02 00:00"]
    assert table_html(pd.DataFrame(columns=["member_id"])) == ""


def test_output_tables_are_rounded_without_renaming_anything():
    frame = pd.DataFrame(
        {"segment": ["a"], "members": [3], "member_share": [0.1297709923664122], "revenue": [758710.6599999999]}
    )
    before = frame.copy()
    out = rounded(frame, money=["revenue"])
    assert list(out.columns) == list(frame.columns) and out["members"].dtype == frame["members"].dtype
    assert out.to_csv(index=False).splitlines()[1] == "a,3,0.1298,758710.66"
    pd.testing.assert_frame_equal(frame, before, check_exact=True)  # its columns are shared, never rounded in place


def _notebook(*cells):
    """A notebook of ("md", text) and ("code", printed text or "") cells, as if executed."""
    notebook = nbformat.v4.new_notebook()
    for kind, text in cells:
        if kind == "md":
            notebook.cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
            notebook.cells.append(nbformat.v4.new_code_cell("pass", outputs=outputs))
    return notebook


def test_a_section_or_paragraph_whose_input_was_absent_is_left_out():
    notebook = _notebook(
        ("md", "# Title\n\nwhat this is"),
        ("code", ""),
        ("md", "## Data"),
        ("code", "79,976 rows"),
        ("md", "The chart by household size."),
        ("code", ""),
        ("md", "## Backtest against the truth\n\nprecision and recall"),
        ("code", ""),
        ("md", "### By method"),
        ("code", ""),
        ("md", "## Holdout"),
        ("md", "### Forecast"),
        ("code", "forecast"),
        ("md", "## Output files"),
        ("code", "alerts.csv"),
    )
    sources = [cell.source for cell in shown_cells(notebook.cells) if cell.cell_type == "markdown"]
    assert sources == ["# Title\n\nwhat this is", "## Data", "## Holdout", "### Forecast", "## Output files"]
    assert sum(cell.cell_type == "code" for cell in shown_cells(notebook.cells)) == 4  # title's, data, forecast, files


def test_a_run_folder_keeps_one_plotly(tmp_path):
    bundle = "/**\n* plotly.js v9.9.9\n* Copyright\n*/\nwindow.Plotly={};"
    notebook = _notebook(("md", "# Report"))
    notebook.cells.append(
        nbformat.v4.new_code_cell(
            "plots.notebook_mode()",
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={"text/html": f"<script>window.PlotlyConfig={{}};</script>\n<script>{bundle}</script>"},
                )
            ],
        )
    )
    executed = tmp_path / "step.ipynb"
    nbformat.write(notebook, executed)
    charts = tmp_path / "step" / "charts"
    charts.mkdir(parents=True)
    (charts / PLOTLY_JS).write_text(bundle)
    (charts / "a.html").write_text('<html><head><script charset="utf-8" src="plotly.min.js"></script></head></html>')
    # a report beside its charts (CampaignEffect's effect.html) loads their copy from below
    (tmp_path / "step" / "report.html").write_text('<script charset="utf-8" src="charts/plotly.min.js"></script>')
    share_plotly(executed, tmp_path / "step", tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob(PLOTLY_JS)] == [PLOTLY_JS]
    assert (tmp_path / PLOTLY_JS).read_text().startswith("/**\n* plotly.js v9.9.9")
    page = nbformat.read(executed, as_version=4).cells[1].outputs[0].data["text/html"]
    assert "Copyright" not in page and 'src="plotly.min.js"' in page and "window.PlotlyConfig" in page
    assert "cdn.plot.ly/plotly-9.9.9.min.js" in page and "document.readyState==='loading'" in page
    assert 'src="../../plotly.min.js"' in (charts / "a.html").read_text()
    assert (tmp_path / "step" / "report.html").read_text() == '<script charset="utf-8" src="../plotly.min.js"></script>'


def test_each_stage_keeps_its_colour_whatever_the_months():
    def colours(dates, stages):
        snapshots = pd.DataFrame(
            [(pd.Timestamp(d), m, s) for d in dates for m, s in enumerate(stages)],
            columns=["date", "member_id", "stage"],
        )
        node = stage_sankey(snapshots).data[0].node
        return {label.split(" (")[0]: colour for label, colour in zip(node.label, node.color)}

    january = colours(["2026-01-31", "2026-02-28"], ["new", "active", "lost"])
    june = colours(["2026-05-31", "2026-06-30", "2026-07-31"], ["at risk", "dormant"])
    assert set(STAGE_COLOURS) == set(STAGES) and len(set(STAGE_COLOURS.values())) == len(STAGES)
    assert january == june == STAGE_COLOURS


def test_report_texts_are_in_both_catalogues_and_look_like_no_ones_name():
    from segkit.synth.people import _GIVEN, _SURNAMES

    sections = [
        flat_keys(yaml.safe_load((HERE / f"{language}.yaml").read_text(encoding="utf-8"))["report"])
        for language in ("zh-CN", "en")
    ]
    assert sections[0].keys() == sections[1].keys()
    # the privacy check refuses a report that shows a member's name: no label may read like one
    chinese = "".join(sections[0].values())
    assert not [a + b for a, b in zip(chinese, chinese[1:]) if a in _SURNAMES and b in _GIVEN]
    assert catalogue("en").text("report.input_rows", name="members", rows=5000) == "members: 5,000 rows"


@pytest.mark.slow
def test_a_monthly_report_reads_well_in_headless_chromium(supplements_world, tmp_path):
    """The segmentation job (tables of shares, money, dates; seven charts) on a small world, read in a
    1024-pixel window: every figure drawn, no empty section, no NaN/None, nothing wider than the page."""
    require_chromium()
    paths = supplements_world.write(tmp_path / "world")
    run = run_pipeline(
        REPO / "pipelines" / "monthly_segmentation.yaml",
        AS_OF,
        tmp_path / "runs",
        progress=False,
        inputs={"transactions": str(paths["transactions"]), "members": str(paths["members"])},
    )
    assert [p.name for p in run.folder.rglob(PLOTLY_JS)] == [PLOTLY_JS]
    assert (run.folder / "segmentation.html").stat().st_size < 1_500_000  # no plotly.js inside
    check = check_in_browser(run.folder / "segmentation.html", width=1024)
    assert check.errors == [] and check.figures >= 6 and check.drawn == check.figures, check
    assert check.empty == [] and check.wide == [], (check.empty, check.wide)
    assert not UNREADABLE.findall(check.text), sorted(set(UNREADABLE.findall(check.text)))
    assert "会员编号" in check.text and "%" in check.text  # labels and shares as people read them


@pytest.mark.slow
def test_one_language_setting_speaks_for_the_whole_report(supplements_world, tmp_path):
    """``language: en`` in a pipeline: the header, the section headings and the table labels are English;
    by default they are Chinese (the notebooks' own prose stays as written)."""
    paths = supplements_world.write(tmp_path / "world")
    spec = yaml.safe_load((REPO / "pipelines" / "monthly_segmentation.yaml").read_text(encoding="utf-8"))
    spec["language"] = "en"
    spec["inputs"] = {"transactions": str(paths["transactions"]), "members": str(paths["members"])}
    for step in spec["steps"]:
        step["notebook"] = str(REPO / "pipelines" / step["notebook"])
    english = tmp_path / "english.yaml"
    english.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    en = (run_pipeline(english, AS_OF, tmp_path / "en", progress=False).folder / "segmentation.html").read_text()
    zh = (
        run_pipeline(
            REPO / "pipelines" / "monthly_segmentation.yaml",
            AS_OF,
            tmp_path / "zh",
            progress=False,
            inputs={name: str(paths[name]) for name in ("transactions", "members")},
        ).folder
        / "segmentation.html"
    ).read_text()
    for page, language in ((en, "en"), (zh, "zh-CN")):
        texts = catalogue(language)
        assert f">{texts.section('report.header')['job']}<" in page
        assert texts.section("report.headings")["RFM segments"] in page
        assert texts.section("report.headings")["Member segmentation"] in page
    assert "会员分群" not in en and not re.search(r"<h1[^>]*>Member segmentation", zh)


def test_every_section_heading_of_the_notebooks_has_its_translation():
    written = {
        line.lstrip("# ").strip()
        for path in (REPO / "notebooks").glob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"# #{1,6} ", line)
    }
    for language in ("zh-CN", "en"):
        assert written <= set(catalogue(language).section("report.headings")), written - set(
            catalogue(language).section("report.headings")
        )
