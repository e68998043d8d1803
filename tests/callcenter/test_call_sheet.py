"""The call sheet (call_list.xlsx) as the call center reads and fills it, and the outcomes read back from it."""

from __future__ import annotations

import datetime
import string
import tracemalloc
import warnings
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from segkit.callcenter import (
    HOLD_RULES,
    OUTCOMES,
    ContactSettings,
    Ledger,
    export_calls,
    export_list,
    import_outcomes,
    retention_summary,
)
from segkit.callcenter.ledger import LedgerError
from segkit.callcenter.sheet import _sheet_name, read_call_sheet, sheets_by_caller
from segkit.churn import churn_alerts
from segkit.cli import main
from segkit.messages import LANGUAGES, catalogue, flat_keys

AS_OF = pd.Timestamp("2026-03-31")
ZH = catalogue("zh-CN").section("call_sheet.columns")
EN = catalogue("en").section("call_sheet.columns")


@pytest.fixture(scope="module")
def gas_alerts(gas_world):
    return churn_alerts(gas_world.transactions, AS_OF, gas_world.members).alerts


def _rows(sheet) -> list[dict]:
    lines = list(sheet.iter_rows(values_only=True))
    return [dict(zip(lines[0], line)) for line in lines[1:]]


def _fill(path, outcomes: dict[str, list], out):
    """Fill in outcomes as an agent would: per sheet, (row, outcome, date, note) in the sheet's own columns."""
    book = openpyxl.load_workbook(path)
    for title, rows in outcomes.items():
        sheet = book[title]
        header = [cell.value for cell in sheet[1]]
        for row, outcome, day, note in rows:
            for label, value in zip(("outcome", "outcome_date", "note"), (outcome, day, note)):
                column = header.index(ZH[label] if ZH[label] in header else EN[label]) + 1
                sheet.cell(row=row, column=column).value = value
    book.save(out)
    return out


def test_the_call_sheet_has_one_sheet_per_advisor_in_chinese_and_comes_back_filled_in(
    gas_world, gas_alerts, tmp_path, capsys
):
    world = tmp_path / "world"
    gas_world.write(world)
    gas_alerts.to_csv(tmp_path / "alerts.csv", index=False)
    ledger = str(tmp_path / "ledger.sqlite")
    assert main(["ledger", "init", "--ledger", ledger]) == 0
    assert (
        main(
            [
                "export",
                "--alerts",
                str(tmp_path / "alerts.csv"),
                "--members",
                str(world / "members.csv"),
                "--advisors",
                str(world / "advisors.csv"),
                "--as-of",
                "2026-03-31",
                "--ledger",
                ledger,
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    calls = pd.read_csv(tmp_path / "out" / "call_list.csv", dtype=str, encoding="utf-8-sig")
    book = openpyxl.load_workbook(tmp_path / "out" / "call_list.xlsx")
    names = dict(zip(gas_world.advisors["advisor_id"], gas_world.advisors["name"]))
    by_advisor = calls.loc[calls["call_by"] != "queue"].groupby("call_by").size()
    assert book.sheetnames[0] == "汇总"
    assert book.sheetnames[1 : 1 + len(by_advisor)] == [names[a] for a in sorted(by_advisor.index)]
    for advisor in by_advisor.index:
        sheet = book[names[advisor]]
        rows = _rows(sheet)
        assert [row[ZH["alert_id"]] for row in rows] == calls.loc[calls["call_by"] == advisor, "alert_id"].tolist()
        assert [row[ZH["priority"]] for row in rows] == sorted(row[ZH["priority"]] for row in rows)
        assert sheet.freeze_panes == "A2"
        header = [cell.value for cell in sheet[1]]
        assert header[-5:] == ["呼叫编号", "结果", "结果日期", "备注", "核对编号"]
        assert [row["核对编号"] for row in rows] == [row["呼叫编号"] for row in rows]
        # protected without a password: filter, never sort (a sort of the agent's columns alone would move
        # outcomes to other members, and the check column would not see it); only the agent's cells open
        assert sheet.protection.sheet and sheet.protection.sort and not sheet.protection.autoFilter
        assert sheet.protection.password is None
        open_columns = {
            header[cell.column - 1]
            for line in sheet.iter_rows(min_row=2)
            for cell in line
            if not cell.protection.locked
        }
        assert open_columns == {"结果", "结果日期", "备注"}
        (check,) = sheet.data_validations.dataValidation
        outcome_column = openpyxl.utils.get_column_letter(header.index("结果") + 1)
        assert check.type == "list" and str(check.sqref).startswith(f"{outcome_column}2:")
        assert check.formula1.strip('"').split(",") == list(catalogue("zh-CN").section("outcomes").values())
        phone = sheet.cell(row=2, column=header.index("电话") + 1)
        assert (
            phone.data_type == "s"
            and phone.value == calls.loc[calls["alert_id"] == rows[0]["呼叫编号"], "phone"].item()
        )
    first = _rows(book[names[sorted(by_advisor.index)[0]]])[0]
    alert = gas_alerts.set_index("member_id").loc[first["会员编号"]]
    assert first["致电原因"].startswith(f"平时每{int(round(alert['typical_interval']))}天购买一次")
    assert first["上次购买日期"] == pd.Timestamp(alert["last_purchase"]).to_pydatetime()
    assert first["预计购买日"] == pd.Timestamp(alert["expected_next_purchase"]).to_pydatetime()
    assert first["上次购买商品"].startswith(str(alert["last_product"]))
    assert first["家庭人数"] > 0 and first["建议话术"] and first["类型"] == "流失预警"
    assert first["生日"] is None and first["节日"] is None
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert (
        summary[0][0].startswith("呼叫清单 2026-03-31")
        and ("合计", len(calls), int((calls["vip"] == "True").sum())) in summary
    )

    # agents fill in outcomes on two sheets (one in English words), leave the rest blank, and hand it back
    first_two = sorted(by_advisor.index)[:2]
    filled = _fill(
        tmp_path / "out" / "call_list.xlsx",
        {
            names[first_two[0]]: [
                (2, "已挽回", datetime.date(2026, 4, 1), "下周订气"),
                (3, "未接通", "2026-04-01", None),
            ],
            names[first_two[1]]: [(2, "wrong number", datetime.date(2026, 4, 2), None)],
        },
        tmp_path / "filled.xlsx",
    )
    capsys.readouterr()
    assert main(["outcomes", "--file", str(filled), "--ledger", ledger]) == 0
    assert capsys.readouterr().out.startswith("3 outcomes imported")
    assert main(["outcomes", "--file", str(filled), "--ledger", ledger]) == 0
    assert capsys.readouterr().out.startswith("0 outcomes imported; 3 already in the ledger")
    recorded = Ledger(ledger).outcomes()
    assert sorted(recorded["outcome"]) == ["no_answer", "won_back", "wrong_number"]
    assert recorded.loc[recorded["outcome"] == "won_back", "note"].item() == "下周订气"


def test_a_sheet_with_a_bad_outcome_is_refused_whole_naming_every_bad_row(gas_world, gas_alerts, tmp_path, capsys):
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out", advisors=gas_world.advisors)
    title = openpyxl.load_workbook(tmp_path / "out" / "call_list.xlsx").sheetnames[1]
    filled = _fill(
        export.files[1],
        {
            title: [
                (2, "已接通", "2026-04-01", None),
                (3, "挂断了", "2026-04-01", None),
                (4, None, "2026-04-01", "没说结果"),
                (5, None, "2026-04-01", None),  # a date filled down before calling: says nothing, passed over
            ]
        },
        tmp_path / "bad.xlsx",
    )
    assert main(["outcomes", "--file", str(filled), "--ledger", str(tmp_path / "ledger.sqlite")]) == 2
    err = capsys.readouterr().err
    assert f"sheet '{title}' row 3: unknown outcome '挂断了'" in err and f"sheet '{title}' row 4: no outcome" in err
    assert "row 5" not in err
    assert len(err.strip().splitlines()) == 1 and "nothing was imported" in err
    assert ledger.row_counts()["outcomes"] == 0


def test_english_sheets_queues_and_the_last_contact(gas_world, gas_alerts, tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    settings = ContactSettings(language="en", window_days=1, advisor_daily_calls=1, purchase_noun="refill")
    members = gas_world.members.assign(advisor_id="A001")  # one advisor's book: VIPs overflow to the queue
    first = export_calls(
        gas_alerts, members, AS_OF, ledger, tmp_path / "d1", advisors=gas_world.advisors, settings=settings
    )
    book = openpyxl.load_workbook(first.files[1])
    assert book.sheetnames[0] == "Summary" and "VIP queue" in book.sheetnames
    assert any(name.startswith("Queue-") for name in book.sheetnames)
    queued = _rows(book["VIP queue"])
    assert queued and all(row["VIP"] == "yes" for row in queued)
    assert queued[0]["Why we call"].startswith("usually one refill every ")
    filled = _fill(first.files[1], {"VIP queue": [(2, "no answer", "2026-03-31", None)]}, tmp_path / "f.xlsx")
    assert import_outcomes(filled, ledger).added == 1
    second = export_calls(
        gas_alerts,
        members,
        AS_OF + pd.Timedelta(days=1),
        ledger,
        tmp_path / "d2",
        advisors=gas_world.advisors,
        settings=settings,
    )
    rows = pd.DataFrame(
        [
            row
            for title in openpyxl.load_workbook(second.files[1]).sheetnames[1:]
            for row in _rows(openpyxl.load_workbook(second.files[1])[title])
        ]
    )
    again = rows.loc[rows["Member"] == queued[0]["Member"]]
    assert again["Last contact"].item() == "Mar 31 overdue: no answer"
    assert set(rows.loc[rows["Member"] != queued[0]["Member"], "Last contact"]) <= {
        "Mar 31 overdue: no outcome recorded",
        None,
    }


def test_care_rows_show_the_day_they_are_about_and_no_value_at_risk(tmp_path):
    members = pd.DataFrame(
        {
            "member_id": ["1", "2"],
            "name": ["甲乙", "丙丁"],
            "phone": ["13800000001", "13800000002"],
            "advisor_id": "A1",
            "household_size": [3, None],
        }
    )
    candidates = pd.DataFrame(
        {
            "member_id": ["1", "2"],
            "campaign": ["birthday", "holiday"],
            "reason": "",
            "due_date": [AS_OF + pd.Timedelta(days=2), pd.Timestamp("2026-04-05")],
            "vip": [False, True],
            "value_at_risk": 0.0,
        }
    )
    export = export_list(
        candidates, members, AS_OF, Ledger(tmp_path / "l.sqlite", create=True), tmp_path / "out", run="care"
    )
    rows = {
        row["会员编号"]: row
        for title in openpyxl.load_workbook(export.files[1]).sheetnames[1:]
        for row in _rows(openpyxl.load_workbook(export.files[1])[title])
    }
    assert rows["1"]["致电原因"] == "4月2日生日（2天后）" and rows["1"]["生日"] == datetime.datetime(2026, 4, 2)
    assert rows["2"]["致电原因"] == "春节（4月5日）节日问候" and rows["2"]["节日"] == datetime.datetime(2026, 4, 5)
    assert rows["1"]["风险金额（元）"] is None and rows["2"]["风险金额（元）"] is None
    assert rows["1"]["建议话术"] == catalogue("zh-CN").text("call_sheet.actions.birthday")


def test_sheet_names_are_valid_and_unique():
    taken = {"汇总"}
    assert _sheet_name("王明", "A1", taken) == "王明"
    assert _sheet_name("王明", "A2", taken) == "王明 (A2)"
    assert _sheet_name("a/b:c*?[x]", "A3", taken) == "a_b_c___x_"
    assert len(_sheet_name("x" * 40, "A4", taken)) <= 31
    # found by a helper: two advisors of one name with long ids made a name of 33 characters
    emails = [_sheet_name("高玉", f"{who}@callcenter-example.com", taken) for who in ("gao.yu", "chen.j", "chen.j")]
    assert emails == ["高玉", "高玉 (chen.j@callcenter-exampl)", "高玉 (2)"]
    longer = [_sheet_name("y" * 40, "B", taken) for _ in range(3)]
    assert all(len(name) <= 31 for name in longer) and len({name.lower() for name in taken}) == len(taken)


def test_advisors_who_share_a_name_all_show_their_id():
    # found by a helper: of three advisors named 王明 the first's sheet was 王明, which either other could take
    advisors = pd.DataFrame({"advisor_id": ["A1", "A2", "A3", "B1"], "name": ["王明", "王明", "王明 ", "李丽"]})
    call_list = pd.DataFrame({"call_by": ["A3", "A1", "A2", "B1", "queue"], "queue": ["", "", "", "", "VIP"]})
    names = [name for name, _ in sheets_by_caller(call_list, advisors, "zh-CN")]
    assert names[:4] == ["王明 (A1)", "王明 (A2)", "王明 (A3)", "李丽"]


def test_a_workbook_that_is_not_a_call_sheet_is_refused(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["member_id", "phone"])
    book.save(tmp_path / "other.xlsx")
    with pytest.raises(ValueError, match="no sheet with a call id and an outcome column"):
        read_call_sheet(tmp_path / "other.xlsx")


def test_a_call_sheet_of_no_calls_comes_back_as_no_outcomes(gas_world, tmp_path, capsys):
    """A day without anyone to call still writes the summary sheet; handed back, it was refused as not a call
    sheet."""
    ledger = str(tmp_path / "ledger.sqlite")
    Ledger(ledger, create=True)
    no_alerts = churn_alerts(gas_world.transactions, AS_OF, gas_world.members).alerts.iloc[:0]
    export = export_calls(no_alerts, gas_world.members, AS_OF, Ledger(ledger), tmp_path / "out")
    assert len(export.call_list) == 0 and openpyxl.load_workbook(export.files[1]).sheetnames == ["汇总"]
    assert read_call_sheet(export.files[1]).empty
    capsys.readouterr()
    assert main(["outcomes", "--file", str(export.files[1]), "--ledger", ledger]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("0 outcomes imported") and "no call listed" in captured.out
    assert captured.err == ""


def test_call_rows_missing_from_the_sheet_are_a_warning_and_the_rest_is_imported(
    gas_world, gas_alerts, tmp_path, capsys
):
    """An agent who deletes a sheet or rows hands back fewer calls than the summary lists: their outcomes cannot
    be imported, and the import says so (refusing would lose the outcomes that are there, do-not-call among
    them). A sheet renamed keeps its calls: no warning."""
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out", advisors=gas_world.advisors)
    book = openpyxl.load_workbook(export.files[1])
    first, second, third = book.sheetnames[1:4]
    listed = {line[0]: line[1] for line in book["汇总"].iter_rows(values_only=True)}
    book[first].title = "王明的表"
    book.save(tmp_path / "renamed.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_call_sheet(tmp_path / "renamed.xlsx").empty
    book.remove(book[second])
    book[third].delete_rows(3, 2)
    book.save(tmp_path / "cut.xlsx")
    filled = _fill(tmp_path / "cut.xlsx", {"王明的表": [(2, "勿扰", "2026-04-01", None)]}, tmp_path / "filled.xlsx")
    with pytest.warns(UserWarning) as caught:
        assert len(read_call_sheet(filled)) == 1
    total = listed["合计"]
    assert [str(w.message).split(": ", 1)[1] for w in caught] == [
        f"the summary lists {total:,} call(s), the workbook holds {total - listed[second] - 2:,} (sheet '{first}': "
        f"0 of {listed[first]:,}; sheet '{second}': 0 of {listed[second]:,}; sheet '{third}': {listed[third] - 2:,} "
        f"of {listed[third]:,}): outcomes written on the missing rows (a sheet or rows deleted?) are not imported"
    ]
    capsys.readouterr()
    assert main(["outcomes", "--file", str(filled), "--ledger", str(tmp_path / "ledger.sqlite")]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("1 outcomes imported")
    assert captured.err.startswith("segkit outcomes: warning: ") and len(captured.err.splitlines()) == 1
    assert ledger.outcomes()["outcome"].tolist() == ["do_not_call"]
    unsummed = openpyxl.load_workbook(filled)  # a summary that does not add up checks nothing
    unsummed["汇总"].cell(row=5, column=2).value = 1
    unsummed.save(tmp_path / "unsummed.xlsx")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_call_sheet(tmp_path / "unsummed.xlsx")) == 1


def _edited(path, out, edit) -> str:
    book = openpyxl.load_workbook(path)
    edit(book)
    book.save(out)
    return str(out)


def test_a_sheet_the_import_would_misread_is_refused_whole_naming_it(gas_world, gas_alerts, tmp_path, capsys):
    """What Excel and agents do to a returned sheet that made the import skip outcomes with exit 0 (a helper's
    round trip: each lost a do-not-call): a header renamed or moved down (the sheet was skipped), a second outcome
    or call id column (the last won), merged outcome cells (read on their first row), a formula without a saved
    value (read as blank). And files that are no workbook: exit 3 (BadZipFile), or read as CSV text."""
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out", advisors=gas_world.advisors)
    title = openpyxl.load_workbook(export.files[1]).sheetnames[1]
    filled = _fill(export.files[1], {title: [(2, "勿扰", "2026-04-01", None)]}, tmp_path / "filled.xlsx")
    header = [cell.value for cell in openpyxl.load_workbook(filled)[title][1]]
    outcome = header.index("结果") + 1

    def rename(book):
        book[title].cell(row=1, column=outcome).value = "通话结果"

    def move_down(book):
        book[title].insert_rows(1, 11)

    def second_outcome(book):
        book[title].cell(row=1, column=len(header) + 1).value = "结果"
        book[title].cell(row=2, column=len(header) + 1).value = "已接通"

    def merged(book):
        book[title].cell(row=3, column=outcome).value = None
        book[title].merge_cells(start_row=2, start_column=outcome, end_row=3, end_column=outcome)

    def formula(book):
        book[title].cell(row=3, column=outcome).value = f"={openpyxl.utils.get_column_letter(outcome)}2"

    def notes_sheet(book):  # a sheet of the call center's own that holds calls: a call sheet without its header
        book.create_sheet("备忘").append(["明天再打", _rows(book[title])[0]["呼叫编号"]])

    cases = {
        rename: f"sheet '{title}': call ids without the call id and outcome columns (呼叫编号 / Call id; 结果 / ",
        move_down: f"sheet '{title}': call ids without the call id and outcome columns",
        second_outcome: f"sheet '{title}': the column 结果 / Outcome is there 2 times",
        merged: f"sheet '{title}': cells {openpyxl.utils.get_column_letter(outcome)}2:",
        formula: f"sheet '{title}' row 3: outcome is a formula without a saved value",
        notes_sheet: "sheet '备忘': call ids without the call id and outcome columns",
    }
    for edit, said in cases.items():
        path = _edited(filled, tmp_path / f"{edit.__name__}.xlsx", edit)
        capsys.readouterr()
        assert main(["outcomes", "--file", path, "--ledger", str(tmp_path / "ledger.sqlite")]) == 2, edit.__name__
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and "nothing was imported" in err and said in err, (edit.__name__, err)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(Path(filled).read_bytes()[:5000])
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + bytes(508))
    for path, said in ((cut, "cannot be read as an Excel workbook (.xlsx) (BadZipFile"), (old, "(.xls) or password")):
        assert main(["outcomes", "--file", str(path), "--ledger", str(tmp_path / "ledger.sqlite")]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and said in err, err
    assert ledger.row_counts()["outcomes"] == 0

    def own_sheets_and_a_two_row_header(book):  # what the call center adds that holds no call: left alone
        book.create_sheet("统计").append(["已拨", "=COUNTA(S2:S100)"])
        book.create_sheet("lists").append(["要求勿扰"])
        book[title].insert_rows(2)
        for column in range(1, len(header) + 1):
            book[title].merge_cells(start_row=1, start_column=column, end_row=2, end_column=column)
        book["汇总"].insert_rows(1, 3)
        book["汇总"].cell(row=1, column=1).value = "组长备注：周五前交回"
        book[title].cell(row=100_000, column=outcome).font = openpyxl.styles.Font(bold=True)  # a styled cell far down

    kept = _edited(filled, tmp_path / "kept.xlsx", own_sheets_and_a_two_row_header)
    tracemalloc.start()
    assert read_call_sheet(kept)["outcome"].tolist() == ["勿扰"]
    assert tracemalloc.get_traced_memory()[1] < 100e6  # read a row at a time: held whole, this took 4.6 GB
    tracemalloc.stop()
    assert main(["outcomes", "--file", kept, "--ledger", str(tmp_path / "ledger.sqlite")]) == 0


def test_an_outcome_goes_only_to_the_member_its_row_names(gas_world, gas_alerts, tmp_path, capsys):
    """Sorting some columns and not the call id moved a do-not-call to another member, who was never called
    again, while the one who asked was called the next day. A row without a date said the ledger could not be
    written (NaN to integer); the day after today in UTC is today in Beijing."""
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out", advisors=gas_world.advisors)
    title = openpyxl.load_workbook(export.files[1]).sheetnames[1]
    filled = _fill(export.files[1], {title: [(2, "勿扰", "2026-04-01", None)]}, tmp_path / "filled.xlsx")
    header = [cell.value for cell in openpyxl.load_workbook(filled)[title][1]]

    def sorted_apart(book):
        sheet, member = book[title], header.index("会员编号") + 1
        first, second = sheet.cell(row=2, column=member).value, sheet.cell(row=3, column=member).value
        sheet.cell(row=2, column=member).value, sheet.cell(row=3, column=member).value = second, first

    def sorted_apart_with_the_call_id(book):  # columns A to 呼叫编号 sorted, the agent's columns left in place
        sheet = book[title]
        for column in range(1, header.index("呼叫编号") + 2):
            first, second = sheet.cell(row=2, column=column).value, sheet.cell(row=3, column=column).value
            sheet.cell(row=2, column=column).value, sheet.cell(row=3, column=column).value = second, first

    def no_date(book):
        book[title].cell(row=2, column=header.index("结果日期") + 1).value = None

    tomorrow = (pd.Timestamp.today().normalize() + pd.Timedelta(days=1)).date()
    two_days = tomorrow + datetime.timedelta(days=1)

    def dated(day):
        def edit(book):
            book[title].cell(row=2, column=header.index("结果日期") + 1).value = day

        return edit

    row = _rows(openpyxl.load_workbook(filled)[title])[:2]

    def as_number(book):  # Excel made the member id a number: its leading zeros go, it is the same member
        book[title].cell(row=2, column=header.index("会员编号") + 1).value = int(row[0]["会员编号"])

    for edit, said in (
        (sorted_apart, f"sheet '{title}' row 2: member '{row[1]['会员编号']}' is not the member of call "),
        (sorted_apart_with_the_call_id, f"sheet '{title}' row 2: the call id '{row[1]['呼叫编号']}' is not its check"),
        (no_date, f"sheet '{title}' row 2: no outcome_date for '勿扰' (the day of the call)"),
        (dated(two_days), f"sheet '{title}' row 2: outcome_date {two_days:%Y-%m-%d} is in the future"),
    ):
        path = _edited(filled, tmp_path / "edited.xlsx", edit)
        capsys.readouterr()
        assert main(["outcomes", "--file", path, "--ledger", str(tmp_path / "ledger.sqlite")]) == 2
        assert said in capsys.readouterr().err
    assert (
        main(
            [
                "outcomes",
                "--file",
                _edited(filled, tmp_path / "t.xlsx", dated(tomorrow)),
                "--ledger",
                str(tmp_path / "ledger.sqlite"),
            ]
        )
        == 0
    )
    assert ledger.outcomes()["member_id"].tolist() == [row[0]["会员编号"]]
    assert row[0]["会员编号"].startswith("0")
    number = _edited(filled, tmp_path / "n.xlsx", as_number)
    assert main(["outcomes", "--file", number, "--ledger", str(tmp_path / "ledger.sqlite")]) == 0


def test_a_call_both_won_back_and_lost_on_one_day_is_refused_and_a_sheet_without_its_extension_is_read(
    gas_world, gas_alerts, tmp_path, capsys
):
    """The same call on two sheets, won back on one and switched supplier on the other, on one day: both were
    recorded and the retention summary counted whichever came last. A call sheet saved without its extension was
    read as CSV text (not gb18030)."""
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out", advisors=gas_world.advisors)
    first, second = openpyxl.load_workbook(export.files[1]).sheetnames[1:3]
    alert = _rows(openpyxl.load_workbook(export.files[1])[first])[0]["呼叫编号"]

    def moved(book):
        sheet = book[second]
        sheet.cell(row=sheet.max_row + 1, column=[c.value for c in sheet[1]].index("呼叫编号") + 1).value = alert

    both = _fill(
        _edited(export.files[1], tmp_path / "moved.xlsx", moved),
        {first: [(2, "已挽回", "2026-04-02", None)]},
        tmp_path / "both.xlsx",
    )
    rows = openpyxl.load_workbook(both)[second].max_row
    both = _fill(both, {second: [(rows, "已换供应商", "2026-04-02", None)]}, tmp_path / "both.xlsx")
    assert main(["outcomes", "--file", both, "--ledger", str(tmp_path / "ledger.sqlite")]) == 2
    said = f"sheet '{first}' row 2 and sheet '{second}' row {rows}: alert_id '{alert}' both won back and switched"
    assert said in capsys.readouterr().err
    no_extension = tmp_path / "call_list"
    no_extension.write_bytes(
        Path(_fill(export.files[1], {first: [(2, "已挽回", "2026-04-02", None)]}, tmp_path / "w.xlsx")).read_bytes()
    )
    assert main(["outcomes", "--file", str(no_extension), "--ledger", str(tmp_path / "ledger.sqlite")]) == 0
    assert ledger.outcomes()["outcome"].tolist() == ["won_back"]


def test_an_outcomes_csv_reads_the_sheet_labels_and_skips_rows_of_separators(gas_world, gas_alerts, tmp_path, capsys):
    """The call sheet saved as CSV (Chinese headers, Excel's trailing rows of commas) was refused; a column named
    where took the place of the row numbers in errors. An outcome of a call held out as control is recorded
    (pacing must honour a do-not-call) and said, and the retention summary leaves it out."""
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out", advisors=gas_world.advisors)
    called, held_out = export.call_list["alert_id"].iloc[0], export.control["alert_id"].iloc[0]
    member = export.call_list["member_id"].iloc[0]
    sheet_csv = tmp_path / "sheet.csv"
    sheet_csv.write_text(
        f"会员编号,呼叫编号,结果,结果日期,备注,where\n{member},{called},已挽回,２０２６年４月１号（周三）,,x\n,,,,,\n,,,,,\n",
        encoding="utf-8-sig",
    )
    assert main(["outcomes", "--file", str(sheet_csv), "--ledger", str(tmp_path / "ledger.sqlite")]) == 0
    renoted = tmp_path / "renoted.csv"  # the same outcome again with a note added: kept out, and said
    renoted.write_text(f"alert_id,outcome,outcome_date,note\n{called},won_back,2026-04-01,新号13912345678\n")
    with pytest.warns(UserWarning, match=r"^1 outcome\(s\) already in the ledger come with another note") as said:
        assert import_outcomes(renoted, ledger) == (0, 1, 0)
    assert "'新号139****5678' not" in str(said[0].message)  # an agent's note quoted in a message: numbers masked
    bad = tmp_path / "bad.csv"
    bad.write_text(f"Alert_ID,Outcome,Outcome_Date,where\n{called},hung up,2026-04-01,x\n,reached,2026-04-01,\n")
    capsys.readouterr()
    assert main(["outcomes", "--file", str(bad), "--ledger", str(tmp_path / "ledger.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "row 2: unknown outcome 'hung up'" in err and "row 3: no call id" in err
    control = tmp_path / "control.csv"
    control.write_text(f"alert_id,outcome,outcome_date\n{held_out},do_not_call,2026-04-01\n")
    with pytest.warns(UserWarning, match=r"^1 outcome\(s\) of calls held out as the control group \(row 2\)"):
        import_outcomes(control, ledger)
    recorded = ledger.outcomes().sort_values("outcome")
    assert recorded["outcome"].tolist() == ["do_not_call", "won_back"]
    assert recorded["outcome_date"].astype(str).tolist() == ["2026-04-01", "2026-04-01"]
    summary = retention_summary(ledger)
    assert summary[["won_back", "do_not_call", "won_back_share"]].values.tolist() == [[1, 0, 1.0]]


def test_what_is_written_where_the_import_does_not_read_refuses_the_file_or_is_said(
    gas_world, gas_alerts, tmp_path, capsys
):
    """Found by a helper, each exit 0 with the do-not-call lost: a CSV's check column was not read (a sort apart
    put a do-not-call on another member); a column 勿扰 with √, or an outcome typed in a column of the agent's own,
    was dropped; a sheet the call center added, with 结果 and no call ids, was skipped. Full-width outcome words
    were refused; --summary with a bad name failed after the import had been recorded."""
    ledger_path = tmp_path / "ledger.sqlite"
    ledger = Ledger(ledger_path, create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out", advisors=gas_world.advisors)
    first, second = export.call_list["alert_id"].iloc[:2]
    member = export.call_list["member_id"].iloc[0]

    def refused(text: str, *said: str) -> None:
        path = tmp_path / "outcomes.csv"
        path.write_text(text, encoding="gbk")
        capsys.readouterr()
        assert main(["outcomes", "--file", str(path), "--ledger", str(ledger_path)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and all(part in err for part in said), err

    refused(
        f"呼叫编号,结果,结果日期,核对编号\n{first},要求勿扰,2026-04-01,{second}\n",
        f"row 2: the call id '{first}' is not its check",
    )
    refused(
        f"呼叫编号,结果,结果日期,勿扰\n{first},,,√\n", "row 2: '√' in the column '勿扰', which the import does not read"
    )
    refused(f"呼叫编号,结果,结果日期,回访\n{first},已接通,2026-04-01,拒绝来电\n", "'拒绝来电' in the column '回访'")
    refused(
        f"呼叫编号,结果,结果日期\n\n\n{first},挂断,2026-04-01\n", "row 4: unknown outcome '挂断'"
    )  # the file's line
    assert ledger.outcomes().empty

    def added_sheet(book):
        sheet = book.create_sheet("补充记录")
        sheet.append(["会员编号", "结果", "结果日期"])
        sheet.append([member, "要求勿扰", "2026-04-01"])

    def marked_beside(book):
        title = book.sheetnames[1]
        book[title].cell(row=2, column=book[title].max_column + 2).value = "√"

    for edit, said in (
        (added_sheet, "sheet '补充记录': the column '结果' holds values, but the sheet has no call ids"),
        (marked_beside, "'√' in the column 'column "),
    ):
        path = _edited(export.files[1], tmp_path / "edited.xlsx", edit)
        capsys.readouterr()
        assert main(["outcomes", "--file", path, "--ledger", str(ledger_path)]) == 2
        assert said in capsys.readouterr().err
    assert ledger.outcomes().empty

    # the re-test: a tally sheet of outcomes (no member in it), and a dialer's own yes/no column, are harmless
    def tally(book):
        sheet = book.create_sheet("统计")
        sheet.append(["结果", "数量"])
        sheet.append(["已接通", 3])

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert read_call_sheet(_edited(export.files[1], tmp_path / "tally.xlsx", tally)).empty
    dialer = tmp_path / "dialer.csv"
    dialer.write_text(f"alert_id,outcome,outcome_date,已发短信\n{first},,,是\n")
    with pytest.warns(UserWarning, match=r"1 value\(s\) in column\(s\) the import does not read \('已发短信'"):
        assert import_outcomes(dialer, ledger) == (0, 0, 0)
    own_column = tmp_path / "own.csv"  # a column of the call center's own: read past, and said
    own_column.write_text(
        f"alert_id,outcome,outcome_date,agent\n{first},ＤＯ ＮＯＴ ＣＡＬＬ,2026-04-01,A7\n"
        f"{second},勿　扰,2026-04-01,A7\n"
    )
    capsys.readouterr()
    assert main(["outcomes", "--file", str(own_column), "--ledger", str(ledger_path), "--summary", "s.txt"]) == 2
    assert ledger.outcomes().empty  # the bad summary name is refused before anything is recorded
    with pytest.warns(
        UserWarning, match=r"^2 value\(s\) in column\(s\) the import does not read \('agent'; first: row 2\)"
    ):
        assert import_outcomes(own_column, ledger) == (2, 0, 0)
    assert ledger.outcomes()["outcome"].tolist() == ["do_not_call", "do_not_call"]


def test_an_outcome_of_a_call_removed_meanwhile_is_refused_under_the_lock(gas_world, gas_alerts, tmp_path):
    """Found by a helper: the import checked the call ids, a run was removed, and the outcomes were written
    against no call (a do-not-call that holds nobody back)."""
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out", advisors=gas_world.advisors)
    checked = pd.DataFrame(
        {
            "alert_id": [export.call_list["alert_id"].iloc[0]],
            "outcome": ["do_not_call"],
            "note": [""],
            "outcome_date": [pd.Timestamp("2026-04-01")],
        }
    )
    ledger.remove_run("churn", AS_OF)
    with pytest.raises(LedgerError, match=r"1 call\(s\) of the outcomes file left the ledger while it was checked"):
        ledger.add_outcomes(checked)
    assert ledger.outcomes().empty


def test_both_catalogues_have_the_same_texts_with_the_same_fields():
    def fields(text: str) -> set[str]:
        return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name}

    texts = {language: flat_keys(catalogue(language)._texts) for language in LANGUAGES}
    assert texts["zh-CN"].keys() == texts["en"].keys()
    for key, text in texts["zh-CN"].items():
        assert fields(text) == fields(texts["en"][key]), key
    for language in LANGUAGES:
        assert list(catalogue(language).section("call_sheet.held_back_rules")) == HOLD_RULES
        assert list(catalogue(language).section("outcomes")) == list(OUTCOMES)
    with pytest.raises(ValueError, match="language must be one of zh-CN, en"):
        ContactSettings(language="fr")


def test_export_calls_takes_the_alert_run_itself(gas_world, tmp_path):
    run = churn_alerts(gas_world.transactions, AS_OF, gas_world.members)
    whole = export_calls(run, gas_world.members, AS_OF, Ledger(tmp_path / "a.sqlite", create=True), tmp_path / "a")
    export_calls(run.alerts, gas_world.members, AS_OF, Ledger(tmp_path / "b.sqlite", create=True), tmp_path / "b")
    assert len(whole.call_list) > 0
    assert (tmp_path / "a" / "call_list.csv").read_bytes() == (tmp_path / "b" / "call_list.csv").read_bytes()


def test_a_member_context_table_of_no_rows_adds_nothing(tmp_path):
    """A context file of no rows (a day's member_rhythms.csv with nobody in it) knows nothing of anyone; beside
    another it failed: pandas could not combine its empty integer column with the other's values."""
    from segkit.callcenter.sheet import member_context

    rfm = pd.DataFrame({"member_id": ["0001", "0002"], "segment": ["Champions", "At Risk"]})
    rhythms = pd.DataFrame({"member_id": pd.Series(dtype=str), "days_overdue": pd.Series(dtype="int64")})
    rhythms.to_parquet(tmp_path / "member_rhythms.parquet")
    expected = member_context([rfm])
    pd.testing.assert_frame_equal(member_context([rfm, tmp_path / "member_rhythms.parquet"]), expected)
    pd.testing.assert_frame_equal(member_context([tmp_path / "member_rhythms.parquet", rfm]), expected)


def test_a_day_made_again_later_shows_the_outcomes_known_that_day(gas_world, gas_alerts, tmp_path):
    """Found by a helper: a past day's call sheet made again showed an outcome dated after that day as the last
    contact, and its retention summary counted calls and outcomes of later days."""
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    export = export_calls(gas_alerts, gas_world.members, AS_OF, ledger, tmp_path / "out")
    alert, member = export.call_list[["alert_id", "member_id"]].iloc[0]
    outcomes = tmp_path / "outcomes.csv"
    outcomes.write_text(f"alert_id,outcome,outcome_date\n{alert},no_answer,2026-04-01\n{alert},reached,2026-04-10\n")
    import_outcomes(outcomes, ledger)
    with ledger.exclusive() as session:  # what the call sheet's last-contact column shows
        assert session.last_contacts([member], "2026-04-05").loc[member, "outcome"] == "no_answer"
        assert session.last_contacts([member], "2026-04-11").loc[member, "outcome"] == "reached"
    that_day = retention_summary(ledger, through="2026-04-05").set_index("campaign").loc["churn"]
    assert (that_day["no_answer"], that_day["reached"]) == (1, 0)
    assert retention_summary(ledger).set_index("campaign").loc["churn", "reached"] == 1
    assert retention_summary(ledger, through="2026-03-30").empty  # before the first list


def test_two_outcomes_of_one_call_on_one_day_count_as_the_more_decisive_whatever_their_order():
    """Left in stop 43's note: an import holding a do-not-call and a reached for one call on one day counted the
    one read last in the retention summary."""
    from segkit.callcenter.outcomes import latest_outcomes

    day = pd.Timestamp("2026-04-02")
    both = pd.DataFrame({"alert_id": ["a", "a", "b"], "outcome": ["do_not_call", "reached", "no_answer"]})
    both["outcome_date"] = [day, day, day - pd.Timedelta(days=1)]
    for order in (both, both.iloc[::-1]):
        assert latest_outcomes(order).set_index("alert_id")["outcome"].to_dict() == {
            "a": "do_not_call",
            "b": "no_answer",
        }
    later = pd.concat(
        [
            both,
            pd.DataFrame({"alert_id": ["a"], "outcome": ["no_answer"], "outcome_date": [day + pd.Timedelta(days=1)]}),
        ]
    )
    assert latest_outcomes(later).set_index("alert_id").loc["a", "outcome"] == "no_answer"  # a later day still wins
