"""The hostile-input corpus (tests/data/hostile/corpus.yaml): every file is either loaded with every record accounted
for against the file itself, or refused in one line with exit 2. No case may end in a traceback."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from conftest import REPO

from segkit.cli import main
from segkit.data import load_table

CORPUS = REPO / "tests" / "data" / "hostile"
CASES = yaml.safe_load((CORPUS / "corpus.yaml").read_text(encoding="utf-8"))


def _load_command(case: dict, path, out) -> list[str]:
    args = ["load", case["table"], "--file", str(path), "--out", str(out)]
    return args + (["--mapping", str(CORPUS / case["mapping"])] if "mapping" in case else [])


def test_the_corpus_covers_every_kind_of_hostile_input():
    assert len(CASES) >= 40
    assert {case["outcome"] for case in CASES} == {"load", "refuse"}
    assert all((CORPUS / case["file"]).is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["file"] for case in CASES])
def test_every_record_is_accounted_for_or_the_file_is_refused_in_one_line(case, tmp_path, capsys):
    out = tmp_path / "out" / "table.csv"
    code = main(_load_command(case, CORPUS / case["file"], out))
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    if case["outcome"] == "refuse":
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1, stderr
        assert lines[0].startswith("segkit load: error:") and case["refused"] in lines[0], lines[0]
        assert not out.parent.exists() or not any(out.parent.iterdir()), "a refused file must write nothing"
        return
    assert code == 0, stderr
    result = load_table(CORPUS / case["file"], case["table"], CORPUS / case["mapping"] if "mapping" in case else None)
    report = result.report
    assert report.read == case["records"], f"{case['what']}: read {report.read}, the file has {case['records']}"
    assert report.read == report.used + report.rejected + report.duplicates
    for count in ("used", "rejected", "duplicates"):
        if count in case:
            assert getattr(report, count) == case[count], (count, report)
    for reason, count in case.get("reasons", {}).items():
        assert report.reasons.get(reason) == count, (reason, report.reasons)
    assert report.blanked == case.get("blanked", {})
    written = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rejects = pd.read_csv(
        out.with_name(f"table.{case['table']}_rejects.csv"), dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    assert len(written) == report.rows_out and len(rejects) == report.rejected + report.duplicates
    assert (rejects["reason"] != "").all() if len(rejects) else True
    if "ids" in case:
        assert result.table["member_id"].tolist() == case["ids"]
    if "do_not_call" in case:
        assert result.table.set_index("member_id")["do_not_call"].to_dict() == case["do_not_call"]


@pytest.mark.slow
def test_a_huge_file_with_one_stray_quote_loses_one_line(tmp_path):
    lines = [f"{i:06d},2026-01-{1 + i % 28:02d},{i % 500}.5,O{i}" for i in range(200_000)]
    lines[100_000] = f'{100_000:06d},2026-01-01,"5,O'
    path = tmp_path / "huge.csv"
    path.write_text("member_id,date,amount,order_id\n" + "\n".join(lines) + "\n", encoding="utf-8")
    result = load_table(path, "transactions")
    assert (result.report.read, result.report.used, result.report.rejected) == (200_000, 199_999, 1)
    assert result.rejects["line"].tolist() == [100_002]


@pytest.mark.slow
def test_a_huge_value_is_one_field(tmp_path):
    note = "很长的备注" * 2_000_000  # 30 MB in one cell, quoted, with separators inside
    path = tmp_path / "huge_field.csv"
    path.write_text(f'member_id,name,phone\n001,"{note},x",13800000001\n002,b,13800000002\n', encoding="utf-8")
    result = load_table(path, "members")
    assert result.report.read == result.report.used == 2
    assert len(result.table.at[0, "name"]) == len(note) + 2
