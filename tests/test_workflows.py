"""One path per capability: settings in one order of precedence, one VIP rule, results that print, summarise and
write themselves alike, and a public surface that imports lazily. (The notebooks, pipelines and CLI are compared
with the workflows in test_notebooks.py and test_pipelines.py.)"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import AS_OF, REPO

import segkit
from segkit.callcenter import ContactSettings, care_candidates
from segkit.churn import AlertSettings
from segkit.cli import main
from segkit.segment import SegmentationSettings, VipRule
from segkit.settings import resolve_settings


def test_settings_come_from_code_then_the_file_then_explicit_parameters(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("p_active_below: 0.35\nlong_gone_days: 120\n")
    assert resolve_settings(AlertSettings).p_active_below == 0.6  # the default in code
    from_file = resolve_settings(AlertSettings, path)
    assert (from_file.p_active_below, from_file.long_gone_days) == (0.35, 120)  # the file over the code
    given = resolve_settings(AlertSettings, path, p_active_below=0.5, long_gone_days=None)
    assert (given.p_active_below, given.long_gone_days) == (0.5, 120)  # given wins; None: the file's
    assert resolve_settings(AlertSettings, from_file) is from_file
    assert resolve_settings(AlertSettings, {"p_active_below": 0.4}, p_active_below=0.3).p_active_below == 0.3


def test_a_section_given_overrides_only_the_keys_given(tmp_path):
    path = tmp_path / "segmentation.yaml"
    path.write_text("rfm: {levels: 4, ties: quantile}\nvip: {rule: tier}\n")
    settings = resolve_settings(SegmentationSettings, path, rfm={"levels": 3, "ties": None})
    assert (settings.rfm.levels, settings.rfm.ties, settings.vip.rule) == (3, "quantile", "tier")


def test_bad_settings_are_one_clear_error_naming_the_file_and_the_key(tmp_path):
    path = tmp_path / "segmentation.yaml"
    path.write_text("vip: {rule: loudest}\n")
    with pytest.raises(ValueError, match=r"segmentation.yaml: VIP rule must be one of top_share, tier, either"):
        resolve_settings(SegmentationSettings, path)
    with pytest.raises(ValueError, match="p_active_below must be between 0 and 1, got 1.5"):
        resolve_settings(AlertSettings, None, p_active_below=1.5)
    with pytest.raises(ValueError, match="unknown vip setting"):
        resolve_settings(ContactSettings, {"vip": {"tier": ["gold"]}})
    path.write_text('vip: {rule: tier, tiers: [diamond, ""]}\n')  # not "every member without a tier"
    with pytest.raises(ValueError, match=r"segmentation.yaml: tiers must name tiers: a blank one would make"):
        resolve_settings(SegmentationSettings, path)


def test_one_vip_rule_in_one_shape_for_segmentation_alerts_and_call_lists():
    section = {"rule": "tier", "top_share": 0.1, "tiers": ["Diamond"]}
    rules = {
        cls.__name__: resolve_settings(cls, {"vip": section}).vip
        for cls in (SegmentationSettings, AlertSettings, ContactSettings)
    }
    assert set(rules.values()) == {VipRule("tier", 0.1, ("diamond",))}
    members = pd.DataFrame(
        {
            "member_id": ["1", "2", "3"],
            "tier": ["diamond", "gold", ""],
            "birthday": pd.to_datetime(["1990-02-03", "1980-02-04", "1970-02-05"]),
        }
    )
    spenders = pd.Series({"3": True})  # the step that knew spend flagged member 3
    greeted = {}
    for rule in ("top_share", "tier", "either"):
        settings = ContactSettings(vip=VipRule(rule), holiday_days_ahead=7)
        candidates = care_candidates(members, "2027-02-01", settings, vip=spenders)
        greeted[rule] = sorted(candidates.loc[candidates["campaign"] == "holiday", "member_id"])
    assert greeted == {"top_share": ["3"], "tier": ["1", "3"], "either": ["1", "3"]}


def test_results_print_in_one_line_summarise_as_a_table_and_write_their_files(tmp_path, supplements_world):
    paths = supplements_world.write(tmp_path / "world")
    loaded = segkit.load_transactions(paths["transactions"], as_of=AS_OF)
    features = segkit.member_features(loaded.table, AS_OF)
    segmentation = segkit.segment_members(loaded.table, AS_OF, supplements_world.members)
    for result in (loaded, features, segmentation):
        text = repr(result)
        assert "\n" not in text and text.startswith(f"<{type(result).__name__} ")
        assert isinstance(result.summary(), pd.DataFrame) and len(result.summary())
        assert "<table" in result._repr_html_()
    assert loaded.summary().query("outcome == 'used'")["rows"].item() == loaded.report.used
    in_folder = segmentation.write(tmp_path / "folder")
    beside = segmentation.write(tmp_path / "file" / "segments.parquet")
    assert [p.name for p in in_folder] == [
        "rfm.csv",
        "segment_summary.csv",
        "tier_changes.csv",
        "stage_transitions.csv",
        "cohort_retention.csv",
        "sales_split.csv",
    ]
    assert [p.name for p in beside] == [
        "segments.parquet",
        "segments.segment_summary.csv",
        "segments.tier_changes.csv",
        "segments.stage_transitions.csv",
        "segments.cohort_retention.csv",
        "segments.sales_split.csv",
    ]
    assert in_folder[1].read_bytes() == beside[1].read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(beside[0]), segmentation.table, check_dtype=False)


def test_generate_is_the_same_from_python_and_the_cli(tmp_path):
    assert main(["generate", "gas", "--n-members", 50, "--seed", 3, "--out", tmp_path / "cli"]) == 0
    python = segkit.generate("gas", 50, seed=3, as_of=AS_OF).write(tmp_path / "python")
    for name, path in python.items():
        assert path.read_bytes() == (tmp_path / "cli" / path.name).read_bytes(), name


@pytest.mark.slow
def test_import_segkit_is_fast_and_every_subpackage_and_workflow_is_there_on_first_use():
    code = (
        "import sys, segkit\n"
        "heavy = [m for m in ('pandas', 'ibis', 'plotly', 'sklearn') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert segkit.segment.segment_members is segkit.segment_members\n"  # without importing segkit.plots
        "for name in ('churn', 'clv', 'callcenter', 'advisors', 'survey', 'evaluation', 'jobs'):\n"
        "    getattr(segkit, name)\n"
        "missing = [name for name in segkit.__all__ if not callable(getattr(segkit, name))]\n"
        "assert not missing, missing\n"
        "print(len(segkit.__all__))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert segkit.__all__ == [
        "load_transactions",
        "member_features",
        "segment_members",
        "churn_alerts",
        "customer_value",
        "backtest_churn",
        "export_calls",
        "care_calls",
        "campaign_effect",
        "plan_books",
        "rank_benefits",
        "run_pipeline",
        "generate",
    ]
    assert callable(segkit.load_members) and callable(segkit.resolve_settings)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        segkit.nothing  # noqa: B018


def test_the_per_member_workflows_read_members_compact_as_the_cli_hands_them_over(tmp_path, supplements_world):
    """The CLI hands features, segmentation and alerts the members with their text compact (categories and
    Arrow text, ``LoadResult.rows``); the files written are those from Python strings, VIPs by tier included."""
    paths = supplements_world.write(tmp_path / "world")
    transactions = segkit.load_transactions(paths["transactions"], as_of=AS_OF).table
    members = segkit.load_members(paths["members"])
    assert isinstance(members.rows["tier"].dtype, pd.CategoricalDtype)
    settings = {"vip": {"rule": "tier", "tiers": ["diamond", "platinum"]}}
    runs = {
        "features.csv": lambda m: segkit.member_features(transactions, AS_OF, members=m),
        "segments.csv": lambda m: segkit.segment_members(transactions, AS_OF, m, settings),
        "alerts.csv": lambda m: segkit.churn_alerts(transactions, AS_OF, m, settings),
    }
    for name, run in runs.items():
        compact = run(members.rows).write(tmp_path / "compact" / name)
        python = run(members.table).write(tmp_path / "python" / name)
        assert [path.read_bytes() for path in compact] == [path.read_bytes() for path in python], name
    vips = pd.read_csv(tmp_path / "compact" / "alerts.member_rhythms.csv", dtype={"member_id": str})
    tiers = members.table.set_index("member_id")["tier"]
    assert vips["vip"].sum() == tiers.isin(["diamond", "platinum"]).sum() > 0


def test_member_ids_that_are_not_text_are_refused_not_matched_to_nothing(gas_world):
    """Numbers as ids lose their leading zeros and equal no id written as text: a members table with numeric ids
    made every member of an alert run one who never bought. Each workflow refuses them in one line instead."""
    tx, members = gas_world.transactions, gas_world.members
    numeric_members = members.assign(member_id=members["member_id"].astype(int))
    numeric_tx = tx.assign(member_id=tx["member_id"].astype(int))
    for workflow in (segkit.churn_alerts, segkit.segment_members, segkit.member_features):
        with pytest.raises(ValueError, match=r"^members: member_id must be text.*not int64"):
            workflow(tx, AS_OF, numeric_members)
        with pytest.raises(ValueError, match=r"^transactions: member_id must be text.*not int64"):
            workflow(numeric_tx, AS_OF, members)
        workflow(tx, AS_OF, members.iloc[:0])  # no member at all: no id to be anything but text
        for table, frame in (("transactions", tx), ("members", members)):
            holed = frame.assign(member_id=frame["member_id"].mask(frame.index == frame.index[1]))
            inputs = (holed, members) if table == "transactions" else (tx, holed)
            with pytest.raises(ValueError, match=rf"^{table}: 1 row\(s\) without a member_id"):
                workflow(inputs[0], AS_OF, inputs[1])


def test_member_ids_as_categories_or_arrow_text_give_the_same_vips(supplements_world):
    tx, members = supplements_world.transactions, supplements_world.members
    expected = segkit.churn_alerts(tx, AS_OF, members).members
    assert expected["vip"].any() and members["tier"].str.lower().isin(["diamond", "platinum"]).any()
    for dtype in ("category", "string[pyarrow]"):
        run = segkit.churn_alerts(tx, AS_OF, members.astype({"member_id": dtype})).members
        pd.testing.assert_series_equal(run["vip"], expected["vip"])


def test_a_section_given_as_a_value_and_a_number_given_as_yes_or_text_are_refused_by_name(tmp_path):
    """Found by a helper: ``vip: 3`` ended in AttributeError (exit 3) after the data was loaded, and
    ``long_gone_days: true`` was read as one day (nobody was called)."""
    from segkit.churn import AlertSettings
    from segkit.segment import SegmentationSettings

    cases = {
        "vip: 3": "alert setting vip is a section: expected a mapping of its settings, got 3",
        "long_gone_days: true": "alert setting long_gone_days must be a whole number, got True",
        "p_active_below: '0.3'": "alert setting p_active_below must be a number, got '0.3'",
        "covariates: 7": "covariates must be 'auto' or a list of household_size",  # 'int' object is not iterable
        "holidays: 5": "holidays must be a calendar's name (spring_festival), a list of dates or null; got 5",
        "holidays: [2026-13-40]": "alerts.yaml: not valid YAML (month must be in 1..12)",
        # found by a helper: YAML keeps the last of a key given twice, without a word
        "p_active_below: 0.5\np_active_below: 0.3": (
            "alerts.yaml: line 2: not valid YAML (the key 'p_active_below' is there twice)"
        ),
    }
    # the re-test: YAML's merge key (<<: *defaults) is no key given twice
    (tmp_path / "merged.yaml").write_text("base: &base {rule: tier}\nvip: {<<: *base, top_share: 0.1}\n")
    assert resolve_settings(AlertSettings, {"vip": {"rule": "tier", "top_share": 0.1}}).vip.rule == "tier"
    from segkit.settings import read_yaml_mapping

    assert read_yaml_mapping(tmp_path / "merged.yaml", "a mapping")["vip"] == {"rule": "tier", "top_share": 0.1}
    for text, said in cases.items():
        (tmp_path / "alerts.yaml").write_text(text + "\n")
        with pytest.raises(ValueError, match=re.escape(said)):
            resolve_settings(AlertSettings, tmp_path / "alerts.yaml")
    with pytest.raises(ValueError, match="setting lost_days must be a whole number, got True"):
        resolve_settings(SegmentationSettings, {"lifecycle": {"lost_days": True}})
    assert resolve_settings(AlertSettings, {"long_gone_days": 200}).long_gone_days == 200
    assert resolve_settings(AlertSettings, {"long_gone_days": np.int64(200)}).long_gone_days == 200  # from a table


def _setting_paths(cls, prefix=()):
    """Every setting of ``cls`` as a path of keys, sections walked into."""
    from dataclasses import MISSING, fields, is_dataclass

    for f in fields(cls):
        default = f.default if f.default is not MISSING else f.default_factory()
        if is_dataclass(default):
            yield from _setting_paths(type(default), (*prefix, f.name))
        else:
            yield (*prefix, f.name)


def test_a_setting_of_the_wrong_kind_is_refused_by_name_never_with_a_traceback():
    """Found by a check of every setting: ``tiers: {thresholds: [1, 2]}`` and ``rfm: {breakpoints: [1, 2]}``
    ended in AttributeError and TypeError (exit 3), ``p_active_below:`` (empty) in "'<' not supported between
    'int' and 'NoneType'", ``breakpoints: {recency: abc}`` failed after the data was loaded, and ``vip_team:
    [1, 2]`` was taken. Every value of every setting is now either taken or refused with its key named."""
    from segkit.advisors import AssignmentSettings
    from segkit.clv import ValueSettings
    from segkit.survey import SurveySettings

    refused, every = 0, (AlertSettings, ContactSettings, SegmentationSettings, ValueSettings, AssignmentSettings)
    for cls in (*every, SurveySettings):
        for path in _setting_paths(cls):
            for value in ("abc", [1, 2], {"a": "b"}, True, None, -1, ""):
                data = value
                for key in reversed(path):
                    data = {key: data}
                try:
                    cls.from_dict(data)
                except ValueError as error:
                    assert path[-1] in str(error), (path, value, str(error))
                    refused += 1
    assert refused > 300
    segmentation = SegmentationSettings
    cases = {
        (segmentation, "tiers: {thresholds: [1, 2]}"): "tier setting thresholds must be a mapping of names to numbers",
        (segmentation, "tiers: {base: 5}"): "tier setting base must be text, got 5 (quote it in YAML",
        (segmentation, "rfm: {breakpoints: {recency: abc}}"): "rfm setting breakpoints must be a mapping",
        (segmentation, "rfm: {breakpoints: {recency: [3, 2, 1, 0]}}"): "breakpoints['recency'] needs 4 increasing",
        (segmentation, "rfm: {segments: nothere.yaml}"): "rfm setting segments: segment table not found",
        (AlertSettings, "p_active_below:"): "alert setting p_active_below must be a number, got nothing (null)",
        (AlertSettings, "holidays: [20260217]"): "holidays: 20260217 is not a date",
        (AlertSettings, "holidays: new_year"): "holidays: unknown calendar 'new_year'",
        (AssignmentSettings, "vip_team: [1, 2]"): "assignment setting vip_team must be text or null",
        (AssignmentSettings, "tier_grades: {gold: 0}"): "tier_grades must give each tier a grade of at least 1",
        (SurveySettings, "seed: -1"): "seed must not be negative",
        (
            ContactSettings,
            "control_seed: [42]",
        ): "contact setting control_seed must be text or a whole number, got [42]",
    }
    for (cls, text), said in cases.items():
        with pytest.raises(ValueError, match=re.escape(said)):
            cls.from_dict(yaml.safe_load(text))


def test_numbers_a_user_writes_are_taken():
    """Found by the helper who tried the check of kinds: ``control_seed: 2026`` (unquoted) was refused, and whole
    numbers written as 14.0 were refused by some classes and kept as floats by others."""
    from segkit.advisors import AssignmentSettings

    contact = ContactSettings.from_dict(yaml.safe_load("control_seed: 2026\nwindow_days: 14.0\n"))
    assert contact.control_seed == 2026 and contact.window_days == 14 and isinstance(contact.window_days, int)
    assert AssignmentSettings.from_dict({"capacity_min": 100.0}).capacity_min == 100
    assert SegmentationSettings.from_dict({"lifecycle": {"lost_days": 365.0}}).lifecycle.lost_days == 365
    with pytest.raises(ValueError, match="setting window_days must be a whole number, got 14.5"):
        ContactSettings.from_dict({"window_days": 14.5})


def test_a_segment_table_in_a_settings_file_is_read_beside_it_and_checked_with_the_settings(tmp_path):
    """A relative ``rfm.segments`` is relative to the settings file, and a table that cannot be used is refused
    with the settings (before any data is read), naming the rule."""
    from segkit.segment.rfm import DEFAULT_SEGMENTS

    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mine.yaml").write_text(DEFAULT_SEGMENTS.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "conf" / "settings.yaml").write_text("rfm: {segments: mine.yaml}\n")
    settings = resolve_settings(SegmentationSettings, tmp_path / "conf" / "settings.yaml")
    assert settings.rfm.segments == str(tmp_path / "conf" / "mine.yaml")
    (tmp_path / "conf" / "mine.yaml").write_text("segments: [{name: Champions, r: [4, high]}]\n")
    with pytest.raises(ValueError, match=r"settings.yaml: rfm setting segments: .*mine.yaml: segment 'Champions': r "):
        resolve_settings(SegmentationSettings, tmp_path / "conf" / "settings.yaml")
    (tmp_path / "conf" / "mine.yaml").write_text("- Champions\n")
    with pytest.raises(ValueError, match=r"mine.yaml: expected a segment table"):
        resolve_settings(SegmentationSettings, tmp_path / "conf" / "settings.yaml")


def test_tier_grades_match_tiers_in_any_case():
    """``tier_grades: {Diamond: 3}`` never matched: members' tiers are matched in lower case."""
    from segkit.advisors import AssignmentSettings

    assert AssignmentSettings.from_dict({"tier_grades": {"Diamond": 3}}).tier_grades == {"diamond": 3}


def test_a_hand_made_transactions_table_with_text_amounts_or_missing_dates_is_one_clear_error():
    """Found by a helper: text amounts failed deep in Ibis (``amount:string and Literal(0):int8 are not
    comparable``), and rows without a date were dated nowhere without a word."""
    import segkit

    tx = pd.DataFrame(
        {
            "member_id": ["1", "1", "2"],
            "date": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-05"]),
            "amount": 1.0,
        }
    )
    for frame, said in (
        (tx.assign(amount=["1", "2", "3"]), "transactions: column amount holds string, not numbers"),
        (tx.assign(date=[tx["date"][0], None, tx["date"][2]]), "transactions: 1 row(s) with no date"),
        (
            tx.assign(date=["2026-01-01", "2026-02-01", "2026-01-05"]),
            "transactions: column date holds string, not dates",
        ),
    ):
        with pytest.raises(ValueError, match=re.escape(said)):
            segkit.member_features(frame, "2026-03-01")
