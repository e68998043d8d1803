"""Re-make the screenshots in docs/images/ (``.venv/bin/python docs/screenshots.py``): a report, the call sheet.

Each runs a scheduled job on a small generated world in a temporary folder and takes the
top of its HTML report in headless Chromium, as a manager opening it sees it. Chinese
labels need a CJK font (Debian: ``apt-get install fonts-wqy-microhei``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
AS_OF = "2026-03-31"


def segmentation_report(out: Path = IMAGES / "report_segmentation.png") -> Path:
    """The monthly segmentation report (header, segments table, first chart) of a 2,000-member world."""
    from segkit.jobs import run_pipeline
    from segkit.jobs.browser import screenshot
    from segkit.synth import generate

    with tempfile.TemporaryDirectory(prefix="segkit_screenshot_") as folder:
        paths = generate("supplements", 2000, seed=1, as_of=AS_OF).write(Path(folder) / "world")
        run = run_pipeline(
            REPO / "pipelines" / "monthly_segmentation.yaml",
            AS_OF,
            Path(folder) / "runs",
            progress=False,
            inputs={name: str(paths[name]) for name in ("transactions", "members")},
        )
        return screenshot(run.folder / "segmentation.html", out, width=1000, height=1250)


def call_sheet(out: Path = IMAGES / "call_sheet.png") -> Path:
    """The first advisor's sheet of the daily call sheet (call_list.xlsx) of a 3,000-household gas world, drawn
    from the XLSX as a spreadsheet shows it: column letters, the bold header, widths, wrapped text, dates."""
    import datetime
    import html

    import openpyxl
    from openpyxl.utils import get_column_letter

    from segkit.callcenter import Ledger
    from segkit.jobs import run_pipeline
    from segkit.jobs.browser import screenshot
    from segkit.privacy import mask_phone
    from segkit.synth import generate

    with tempfile.TemporaryDirectory(prefix="segkit_screenshot_") as folder:
        folder = Path(folder)
        paths = generate("gas", 3000, seed=1, as_of=AS_OF).write(folder / "world")
        Ledger(folder / "runs" / "daily_alerts.ledger.sqlite", create=True)
        run = run_pipeline(
            REPO / "pipelines" / "daily_alerts.yaml",
            AS_OF,
            folder / "runs",
            progress=False,
            inputs={name: str(paths[name]) for name in ("transactions", "members", "advisors")},
        )
        book = openpyxl.load_workbook(run.folder / "call_list" / "calls" / "call_list.xlsx")
        sheet = book.worksheets[1]
        widths = [sheet.column_dimensions[get_column_letter(i)].width or 8 for i in range(1, sheet.max_column + 1)]

        phone = [cell.value for cell in sheet[1]].index("电话")

        def shown(value, column: int) -> str:
            if isinstance(value, datetime.datetime):
                return f"{value:%Y-%m-%d}"
            if column == phone and value != "电话":  # generated numbers, masked all the same
                return mask_phone(value)
            return "" if value is None else html.escape(str(value))

        rows = "".join(
            f"<tr><th class=n>{number}</th>"
            + "".join(f"<td{' class=h' if number == 1 else ''}>{shown(cell, i)}</td>" for i, cell in enumerate(row))
            + "</tr>"
            for number, row in enumerate(sheet.iter_rows(max_row=14, values_only=True), start=1)
        )
        columns = "".join(f"<col style='width:{w * 7.5:.0f}px'>" for w in widths)
        letters = "".join(f"<th>{get_column_letter(i)}</th>" for i in range(1, len(widths) + 1))
        tabs = "".join(
            f"<span class='tab{' on' if name == sheet.title else ''}'>{html.escape(name)}</span>"
            for name in book.sheetnames
        )
        page = folder / "sheet.html"
        page.write_text(
            "<html><head><meta charset='utf-8'><style>body{margin:0;font:13px 'WenQuanYi Micro Hei',sans-serif}"
            "table{border-collapse:collapse;table-layout:fixed}td,th{border:1px solid #d4d4d4;padding:2px 4px;"
            "vertical-align:top;overflow:hidden;white-space:normal}th{background:#f3f3f3;font-weight:normal;"
            "color:#555}td.h{font-weight:bold;background:#fafafa}.n{width:28px}.tabs{padding:4px;background:#eee;"
            "border-top:1px solid #ccc}.tab{padding:3px 10px;margin-right:2px;background:#ddd}.tab.on{background:#fff;"
            f"font-weight:bold}}</style></head><body><table style='width:{28 + sum(w * 7.5 for w in widths):.0f}px'>"
            f"<col style='width:28px'>{columns}<tr><th></th>{letters}"
            f"</tr>{rows}</table><div class=tabs>{tabs}</div></body></html>",
            encoding="utf-8",
        )
        return screenshot(page, out, width=2500, height=640)


if __name__ == "__main__":
    for made in (segmentation_report(), call_sheet()):
        print(f"{made.relative_to(REPO)}: {made.stat().st_size / 1024:.0f} KB")
