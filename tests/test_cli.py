"""The segkit console script: generate, load, features, clear errors, flags that mean one thing on every verb,
and help that says what a verb does and its Python equivalent."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import REPO

from segkit.cli import main


def segkit(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "segkit.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


@pytest.mark.slow
def test_generate_then_features(tmp_path):
    run = segkit("generate", "gas", "--n-members", 150, "--seed", 4, "--as-of", "2026-03-31", "--out", tmp_path / "gas")
    assert run.returncode == 0, run.stderr
    assert {p.name for p in (tmp_path / "gas").iterdir()} == {
        "transactions.csv",
        "members.csv",
        "advisors.csv",
        "truth.csv",
    }
    run = segkit(
        "features",
        "--transactions",
        tmp_path / "gas" / "transactions.csv",
        "--members",
        tmp_path / "gas" / "members.csv",
        "--as-of",
        "2026-03-31",
        "--out",
        tmp_path / "features.parquet",
    )
    assert run.returncode == 0, run.stderr
    assert "read" in run.stderr and "used" in run.stderr
    features = pd.read_parquet(tmp_path / "features.parquet")
    assert len(features) == 150 and features["member_id"].str.startswith("0").all()
    assert {
        "member_id",
        "first_purchase",
        "last_purchase",
        "frequency",
        "monetary",
        "recency_days",
        "tenure_days",
    } <= set(features.columns)
    assert (tmp_path / "features.transactions_rejects.csv").exists()


@pytest.mark.spark
def test_features_on_spark_equal_duckdb(spark_con, gas_world, tmp_path):
    """``--backend spark`` reads the checked transactions the CLI hands it (they were written in nanoseconds,
    which Spark refuses: the run failed with an AnalysisException) and writes DuckDB's features."""
    gas_world.transactions.to_parquet(tmp_path / "transactions.parquet")
    for backend in ("duckdb", "spark"):
        out = tmp_path / f"{backend}.parquet"
        arguments = ["features", "--transactions", tmp_path / "transactions.parquet", "--as-of", "2026-03-31"]
        assert main([*map(str, arguments), "--out", str(out), "--backend", backend]) == 0
    on_duckdb, on_spark = (pd.read_parquet(tmp_path / f"{backend}.parquet") for backend in ("duckdb", "spark"))
    assert len(on_spark) == gas_world.transactions["member_id"].nunique()
    pd.testing.assert_frame_equal(on_duckdb, on_spark, check_exact=False, rtol=1e-12)


def test_generate_supplements_as_parquet(tmp_path):
    run = segkit("generate", "supplements", "--n-members", 100, "--format", "parquet", "--out", tmp_path)
    assert run.returncode == 0, run.stderr
    assert pd.read_parquet(tmp_path / "members.parquet")["member_id"].iloc[0] == "0000001"


def test_load_with_mapping_writes_table_and_rejects(tmp_path):
    run = segkit(
        "load",
        "transactions",
        "--file",
        REPO / "data/samples/crm_export_gbk.csv",
        "--mapping",
        REPO / "data/samples/crm_export_gbk.yaml",
        "--as-of",
        "2026-03-31",
        "--out",
        tmp_path / "tx.csv",
    )
    assert run.returncode == 0, run.stderr
    table = pd.read_csv(tmp_path / "tx.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert "007" in set(table["member_id"])
    rejects = pd.read_csv(tmp_path / "tx.transactions_rejects.csv", encoding="utf-8-sig")
    assert len(rejects) == 6 and rejects["reason"].notna().all()


@pytest.mark.slow
def test_errors_are_one_line_and_exit_2(tmp_path):
    missing = segkit(
        "features", "--transactions", tmp_path / "nope.csv", "--as-of", "2026-03-31", "--out", tmp_path / "f.csv"
    )
    assert missing.returncode == 2 and "input file not found" in missing.stderr and "Traceback" not in missing.stderr
    bad_date = segkit("features", "--transactions", "x.csv", "--as-of", "March", "--out", "f.csv")
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr
    (tmp_path / "m.csv").write_text("id,when,value\n1,2026-01-01,3\n")
    wrong = segkit(
        "features", "--transactions", tmp_path / "m.csv", "--as-of", "2026-03-31", "--out", tmp_path / "f.csv"
    )
    assert wrong.returncode == 2 and "missing required columns member_id, date, amount" in wrong.stderr


@pytest.mark.slow
def test_rfm_writes_scores_segments_and_summary(tmp_path):
    run = segkit("generate", "supplements", "--n-members", 400, "--seed", 2, "--out", tmp_path / "w")
    assert run.returncode == 0, run.stderr
    run = segkit(
        "rfm",
        "--transactions",
        tmp_path / "w/transactions.csv",
        "--members",
        tmp_path / "w/members.csv",
        "--as-of",
        "2026-03-31",
        "--settings",
        REPO / "data/samples/segmentation.yaml",
        "--out",
        tmp_path / "rfm.csv",
    )
    assert run.returncode == 0, run.stderr
    rfm = pd.read_csv(tmp_path / "rfm.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(rfm) == 400 and rfm["member_id"].is_unique and rfm["segment"].notna().all()
    assert list(rfm.columns) == [
        "member_id",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_score",
        "segment",
        "vip",
        "stage",
        "tier",
        "action",
    ]
    assert set(rfm["stage"]) <= {"prospect", "new", "active", "reactivated", "at risk", "dormant", "lost"}
    assert (rfm.loc[rfm["frequency"] == 0, "stage"] == "prospect").all()
    buyers = rfm[rfm["frequency"] > 0]
    assert buyers["r_score"].between(1, 5).all() and (rfm.loc[rfm["frequency"] == 0, "segment"] == "No purchase").all()
    summary = pd.read_csv(tmp_path / "rfm.segment_summary.csv", encoding="utf-8-sig")
    assert summary["members"].sum() == 400  # and beside it, the analyses the notebook writes:
    for name in ("tier_changes", "stage_transitions", "cohort_retention", "sales_split"):
        assert (tmp_path / f"rfm.{name}.csv").is_file(), name


@pytest.mark.slow
def test_alerts_writes_the_alert_list(tmp_path):
    run = segkit("generate", "gas", "--n-members", 1500, "--seed", 3, "--out", tmp_path / "w")
    assert run.returncode == 0, run.stderr
    run = segkit(
        "alerts",
        "--transactions",
        tmp_path / "w/transactions.csv",
        "--members",
        tmp_path / "w/members.csv",
        "--as-of",
        "2026-03-31",
        "--settings",
        REPO / "data/samples/alerts_gas.yaml",
        "--out",
        tmp_path / "alerts.csv",
    )
    assert run.returncode == 0, run.stderr
    alerts = pd.read_csv(tmp_path / "alerts.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert list(alerts.columns) == [
        "member_id",
        "last_purchase",
        "expected_next_purchase",
        "days_overdue",
        "p_active",
        "reason",
        "vip",
        "value_12m",
        "value_at_risk",
        "purchases",
        "typical_interval",
        "last_product",
        "last_quantity",
    ]
    assert (alerts["last_product"] == "LPG 15kg").any() and (alerts["purchases"] >= 1).all()
    assert np.allclose(
        alerts["value_at_risk"], alerts["value_12m"] * (1 - alerts["p_active"]), atol=0.1
    )  # p_active shown to 4 places
    assert len(alerts) > 10 and alerts["member_id"].is_unique and alerts["member_id"].str.startswith("0").all()
    assert (alerts["p_active"] < 0.6).all() and alerts["reason"].str.contains("refill").all()
    assert alerts["days_overdue"].is_monotonic_increasing  # freshest lapses first
    assert "IntervalModel" in run.stdout and "overdue alerts" in run.stdout
    (tmp_path / "bad.yaml").write_text("threshold: 0.5\n")
    bad = segkit(
        "alerts",
        "--transactions",
        tmp_path / "w/transactions.csv",
        "--as-of",
        "2026-03-31",
        "--settings",
        tmp_path / "bad.yaml",
        "--out",
        tmp_path / "a.csv",
    )
    assert bad.returncode == 2 and "unknown alert setting" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.slow
def test_clv_on_cdnow(tmp_path, shared_data):
    run = segkit(
        "clv",
        "--transactions",
        shared_data / "cdnow" / "CDNOW_sample.txt",
        "--mapping",
        REPO / "data/mappings/cdnow_sample.yaml",
        "--as-of",
        "1997-09-30",
        "--horizon",
        39,
        "--out",
        tmp_path / "clv.csv",
    )
    assert run.returncode == 0, run.stderr
    assert "r=0.2426" in run.stdout and "p=6.25" in run.stdout
    clv = pd.read_csv(tmp_path / "clv.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(clv) == 2357 and clv["member_id"].iloc[0] == "0001"
    assert clv["p_alive"].between(0, 1).all() and (clv["clv"] >= 0).all()
    assert 1500 < clv["expected_purchases"].sum() < 1900
    mbg = segkit(
        "clv",
        "--transactions",
        shared_data / "cdnow" / "CDNOW_sample.txt",
        "--model",
        "mbgcnbd",
        "--mapping",
        REPO / "data/mappings/cdnow_sample.yaml",
        "--as-of",
        "1997-09-30",
        "--out",
        tmp_path / "mbg.csv",
    )
    assert mbg.returncode == 0, mbg.stderr
    assert "k=1" in mbg.stdout and "p_alive" in pd.read_csv(tmp_path / "mbg.csv").columns


@pytest.mark.slow
def test_backtest_on_cdnow_holdout(tmp_path, shared_data):
    run = segkit(
        "backtest",
        "--transactions",
        shared_data / "cdnow" / "CDNOW_sample.txt",
        "--mapping",
        REPO / "data/mappings/cdnow_sample.yaml",
        "--as-of",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--horizon-days",
        91,
        "--out",
        tmp_path / "backtest.csv",
    )
    assert run.returncode == 0, run.stderr
    table = pd.read_csv(tmp_path / "backtest.csv", encoding="utf-8-sig")
    assert list(table["method"]) == [
        "fixed 30 days",
        "1.5 x own median gap",
        "interval model",
        "BG/NBD",
        "MBG/CNBD-k",
        "propensity",
    ]
    assert table["gone"].nunique() == 1 and table["auc"].between(0.5, 1).all()
    both = segkit("backtest", "--transactions", "x.csv", "--as-of", "1997-09-30", "--out", "b.csv")
    assert both.returncode == 2 and "--truth" in both.stderr


@pytest.mark.slow
def test_clv_on_the_full_cdnow_file_values_everyone_and_says_what_it_cannot(tmp_path, shared_data):
    # one of 23,570 customers has a single $0 repeat purchase: Gamma-Gamma leaves them out of the fit only
    common = [
        "clv",
        "--transactions",
        shared_data / "cdnow" / "CDNOW_master.txt",
        "--mapping",
        REPO / "data/mappings/cdnow_master.yaml",
        "--as-of",
        "1997-09-30",
    ]
    run = segkit(*common, "--out", tmp_path / "clv.csv")
    assert run.returncode == 0, run.stderr
    clv = pd.read_csv(tmp_path / "clv.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(clv) == 23570 and clv[["expected_purchases", "expected_spend", "clv"]].notna().all().all()
    assert (
        "segkit clv: note: Gamma-Gamma fitted on 9,450 repeat buyers with a positive mean spend; 1 with zero or "
        "negative spend left out of the fit" in run.stderr
    )
    mbg = segkit(*common, "--model", "mbgcnbd", "--out", tmp_path / "mbg.csv")
    assert mbg.returncode == 0, mbg.stderr
    mbg_clv = pd.read_csv(tmp_path / "mbg.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(mbg_clv) == 23570 and mbg_clv[["p_alive", "expected_purchases", "clv"]].notna().all().all()


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*"))


def _expected_failures(tmp):
    """Every input that used to end in a traceback (or wrote before refusing), as argument lists."""
    good = tmp / "tx.csv"
    good.write_text("member_id,date,amount\n1,2026-01-01,3\n")
    (tmp / "a_file").write_text("not a folder\n")
    (tmp / "folder").mkdir()
    texts = {
        "syntax.yaml": "columns: [member_id\n",
        "tag.yaml": "columns: !!python/object/apply:os.system ['echo owned']\n",
        "encoding.yaml": "source:\n  encoding: klingon\n",
        "source_list.yaml": "source: [1, 2]\n",
        "pipe_syntax.yaml": "job: x\nsteps: [\n",
        "pipe_steps.yaml": "job: x\nsteps: 5\n",
        "pipe_inputs.yaml": "job: x\ninputs: [a, b]\nsteps: [{name: s, notebook: n.ipynb}]\n",
        "pipe_tag.yaml": "job: !!python/object/apply:os.system ['echo owned']\nsteps: []\n",
        "pipe_parameters.yaml": "job: x\nsteps: [{name: s, notebook: n.ipynb, parameters: [1, 2]}]\n",
        "pipe_not_a_notebook.yaml": "job: x\nsteps: [{name: s, notebook: /etc/passwd}]\n",
        "settings_syntax.yaml": "p_active_below: [0.5\n",
        "settings_tag.yaml": "p_active_below: !!python/object/apply:os.system ['echo owned']\n",
    }
    for name, text in texts.items():
        (tmp / name).write_text(text)
    load = ["load", "transactions", "--file", good, "--as-of", "2026-03-31"]
    survey = ["survey", "--screening", good, "--costs", good, "--ranking", good, "--constant-sum", good]
    return {
        "a folder as --file": ["load", "transactions", "--file", tmp / "folder", "--out", tmp / "o.csv"],
        "--out under a file": [*load, "--out", tmp / "a_file" / "o.csv"],
        "--out without a suffix": [*load, "--out", tmp / "out"],
        "--rejects without a suffix": [*load, "--out", tmp / "o.csv", "--rejects", tmp / "rejects"],
        "--out is a folder": [*load, "--out", tmp / "folder"],
        "mapping: YAML syntax": [*load, "--mapping", tmp / "syntax.yaml", "--out", tmp / "o.csv"],
        "mapping: a python tag": [*load, "--mapping", tmp / "tag.yaml", "--out", tmp / "o.csv"],
        "mapping: unknown encoding": [*load, "--mapping", tmp / "encoding.yaml", "--out", tmp / "o.csv"],
        "mapping: source a list": [*load, "--mapping", tmp / "source_list.yaml", "--out", tmp / "o.csv"],
        "pipeline: YAML syntax": ["run", tmp / "pipe_syntax.yaml", "--out", tmp / "runs"],
        "pipeline: steps: 5": ["run", tmp / "pipe_steps.yaml", "--out", tmp / "runs"],
        "pipeline: inputs a list": ["run", tmp / "pipe_inputs.yaml", "--out", tmp / "runs"],
        "pipeline: a python tag": ["run", tmp / "pipe_tag.yaml", "--out", tmp / "runs"],
        "pipeline: parameters a list": ["run", tmp / "pipe_parameters.yaml", "--out", tmp / "runs"],
        "survey: --out a file name": [*survey, "--budget", "300", "--out", tmp / "out" / "ranking.csv"],
        # a failed $(date ...) in cron ran the job for today
        "run: an empty date": ["run", REPO / "pipelines" / "daily_alerts.yaml", "--date", "", "--out", tmp / "runs"],
        "pipeline: a folder": ["run", tmp / "folder", "--out", tmp / "runs"],
        "pipeline: not a notebook": ["run", tmp / "pipe_not_a_notebook.yaml", "--out", tmp / "runs"],
        "ledger: no driver": ["ledger", "show", "--ledger", "mysql://segkit@localhost/ledger"],
        "ledger: mistyped path": ["ledger", "show", "--ledger", tmp / "ledgr.sqlite"],
        "run: --out a file": ["run", REPO / "pipelines" / "daily_alerts.yaml", "--out", tmp / "a_file"],
        "settings: YAML syntax": [
            "alerts",
            "--transactions",
            good,
            "--as-of",
            "2026-03-31",
            "--settings",
            tmp / "settings_syntax.yaml",
            "--out",
            tmp / "a.csv",
        ],
        "settings: a python tag": [
            "alerts",
            "--transactions",
            good,
            "--as-of",
            "2026-03-31",
            "--settings",
            tmp / "settings_tag.yaml",
            "--out",
            tmp / "a.csv",
        ],
        "settings: a folder": [
            "rfm",
            "--transactions",
            good,
            "--as-of",
            "2026-03-31",
            "--settings",
            tmp / "folder",
            "--out",
            tmp / "r.csv",
        ],
        "survey: --out a file": [*survey, "--out", tmp / "a_file"],
        "assign: --out under a file": [
            "assign",
            "--members",
            good,
            "--advisors",
            good,
            "--transactions",
            good,
            "--as-of",
            "2026-03-31",
            "--out",
            tmp / "a_file" / "books",
        ],
        "unknown argument": ["load", "transactions", "--file", good, "--out", tmp / "o.csv", "--colour", "red"],
    }


def test_every_expected_failure_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    cases = _expected_failures(tmp_path)
    before = _files(tmp_path)
    for case, argv in cases.items():
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as stop:  # argparse
            code = stop.code
        err = capsys.readouterr().err
        assert code == 2, (case, err)
        assert err.count("\n") == 1 and err.startswith("segkit") and "Traceback" not in err, (case, err)
        assert "owned" not in err or "python/object" in err, (case, err)
    assert _files(tmp_path) == before  # nothing written: no rejects, no run folder


def test_a_verb_refused_after_loading_leaves_its_out_as_an_earlier_run_left_it(tmp_path, capsys):
    """Found by a helper: a run refused after its inputs were loaded wrote their rejects beside the outputs of an
    earlier run into the same --out (assign, effect): a folder of two runs. Rejects are written once the verb
    has succeeded."""
    (tmp_path / "tx.csv").write_text("member_id,date,amount\n1,2026-01-01,3\n1,2026-02-01,x\n")
    (tmp_path / "members.csv").write_text("member_id\n1\n")
    (tmp_path / "padded.csv").write_text("member_id\n0000001\n")
    features = ["features", "--transactions", tmp_path / "tx.csv", "--as-of", "2026-03-31", "--out", tmp_path / "f.csv"]
    assert main([*features, "--members", tmp_path / "members.csv"]) == 0
    capsys.readouterr()
    before = {path: path.read_bytes() for path in tmp_path.glob("f.*")}
    assert len(before) == 3  # the features and the rejects of both inputs
    (tmp_path / "tx.csv").write_text("member_id,date,amount\n1,2026-01-01,3\n")  # no reject now
    assert main([*features, "--members", tmp_path / "padded.csv"]) == 2
    said = capsys.readouterr().err.splitlines()
    assert said[-1].startswith("segkit features: error: the transactions' member ids are written otherwise")
    assert {path: path.read_bytes() for path in tmp_path.glob("f.*")} == before


@pytest.mark.slow
def test_a_failure_in_a_subprocess_is_one_line_without_traceback(tmp_path):
    (tmp_path / "bad.yaml").write_text("job: x\nsteps: [\n")
    run = segkit("run", tmp_path / "bad.yaml", "--out", tmp_path / "runs")
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.count("\n") == 1
    assert f"{tmp_path / 'bad.yaml'}: line 3: not valid YAML" in run.stderr


def test_an_unexpected_failure_says_it_is_a_bug_and_exits_3(monkeypatch, capsys):
    def broken(args):
        raise KeyError("clv")

    monkeypatch.setattr("segkit.cli.cmd_load", broken)
    argv = ["load", "members", "--file", "postgresql://segkit:hunter2@db/crm", "--out", "m.csv"]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bug: unexpected KeyError: 'clv'" in err
    assert "report it to the segkit maintainers with this command line: segkit load members" in err
    assert "hunter2" not in err and "segkit:***@db" in err


def test_error_messages_are_one_line_with_urls_masked(monkeypatch, capsys):
    from segkit.advisors import AssignmentError

    def refused(args):
        raise AssignmentError("no assignment is possible:\n  team 'a': no advisor\n  see postgresql://u:pw@db/x")

    monkeypatch.setattr("segkit.cli.cmd_load", refused)
    assert main(["load", "members", "--file", "m.csv", "--out", "m.csv"]) == 2
    assert capsys.readouterr().err == (
        "segkit load: error: no assignment is possible: team 'a': no advisor; see postgresql://u:***@db/x\n"
    )


def test_a_url_given_for_a_file_is_not_found_with_its_password_masked(tmp_path, capsys):
    """Found by a helper: a path made "postgresql://u:Hunter2x@db" into "postgresql:/u:Hunter2x@db", which the
    masking did not know, and the password was printed (the CLI, the notebooks' checks, the Python API)."""
    from segkit import load_transactions
    from segkit.data.load import names_do_not_call
    from segkit.privacy import mask_urls_in

    url = "postgresql://u:Hunter2x@db/sales"
    assert main(["alerts", "--transactions", url, "--as-of", "2026-03-31", "--out", tmp_path / "a.csv"]) == 2
    err = capsys.readouterr().err
    assert "Hunter2x" not in err and "not found" in err and len(err.splitlines()) == 1
    with pytest.raises(FileNotFoundError) as missing:
        load_transactions(url)
    assert "Hunter2x" not in str(missing.value)
    assert mask_urls_in("s3:/AKIA:Zecret9@bucket/s.yaml") == "s3:/AKIA:***@bucket/s.yaml"
    # and headers that name a do-not-call flag in words of their own
    headers = [
        "请勿致电",
        "是否免打扰",
        "免打扰标记",
        "勿扰(是/否)",
        "DNC_flag",
        "is_dnc",
        "DoNotCall?",
        "opt_out",
        "黑名单",
    ]
    # and the re-test's: the dnd word, contact and opted forms, traditional characters
    headers += ["DND_flag", "is_dnd", "opted_out", "do_not_contact", "免打擾", "禁止外呼", "isDnc"]
    assert [header for header in headers if not names_do_not_call(header)] == []
    harmless = [
        "phone",
        "致电时间",
        "advisor_id",
        "备注",
        "name",
        "备注（请勿外传）",
        "会员编号（请勿修改）",
        "Addn_Comments",
    ]
    assert [header for header in harmless + ["拒接次数", "abandoned"] if names_do_not_call(header)] == []
    # an output given as a URL made a local folder of that name and printed the password
    assert main(["generate", "gas", "--n-members", "5", "--out", url]) == 2
    err = capsys.readouterr().err
    assert "an output is a file or a folder, not a URL" in err and "Hunter2x" not in err


def test_old_flag_names_still_work_for_one_release_with_a_one_line_note(tmp_path, capsys):
    sample = REPO / "data/samples/crm_export_gbk.csv"
    assert (
        main(
            [
                "load",
                "transactions",
                "--file",
                sample,
                "--config",
                REPO / "data/samples/crm_export_gbk.yaml",
                "--as-of",
                "2026-03-31",
                "--out",
                tmp_path / "tx.csv",
            ]
        )
        == 0
    )
    notes = [line for line in capsys.readouterr().err.splitlines() if "deprecated" in line]
    assert notes == ["segkit load: note: --config is deprecated, use --mapping (the old name goes in the next release)"]
    assert "007" in set(pd.read_csv(tmp_path / "tx.csv", dtype={"member_id": str}, encoding="utf-8-sig")["member_id"])
    assert main(["generate", "gas", "--members", 20, "--out", tmp_path / "gas"]) == 0
    assert "--members is deprecated, use --n-members" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "gas" / "members.csv")) == 20


def _verbs() -> list[str]:
    from segkit.cli import build_parser

    verbs = next(action for action in build_parser()._actions if action.dest == "verb")
    return sorted(verbs.choices)


@pytest.mark.parametrize("verb", _verbs())
def test_every_verb_says_what_it_does_and_its_python_equivalent(verb, capsys):
    with pytest.raises(SystemExit) as done:
        main([verb, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    description = text.split("\n\n")[1]  # after the usage: what it does, then Python
    assert description[0].isupper() and description.rstrip().endswith(".")
    python = text.split("\n\n")[2]
    assert python.startswith("Python: ``segkit."), python
    assert "--config " not in text and "--members-config" not in text  # old names are not offered


def test_flags_mean_one_thing_on_every_verb():
    """--mapping is a column mapping and --settings a settings file wherever they appear; --members is a file."""
    from segkit.cli import build_parser

    subparsers = next(action for action in build_parser()._actions if action.dest == "verb").choices
    for verb, parser in subparsers.items():
        flags = {option: action for action in parser._actions for option in action.option_strings}
        for option, action in flags.items():
            if action.help == "==SUPPRESS==":
                continue  # an old name, kept for one release
            if option.endswith("mapping"):
                assert "mapping YAML" in action.help, (verb, option)
            if option == "--settings":
                assert "settings YAML" in action.help, (verb, option)
            if option == "--members":
                assert "file" in action.help, (verb, option)


def test_an_export_of_its_header_alone_is_an_error_or_an_empty_result_never_a_bug(tmp_path, capsys):
    """A day's export without rows (its header alone, with or without a line end) or with every row rejected:
    one line and exit 2 where there is nothing to work on, an empty table where that is the answer. These
    ended in ArrowNotImplementedError or KeyError, exit 3."""
    members = tmp_path / "members.csv"
    members.write_text("member_id,name\n0001,Wang\n0002,Li\n")
    inputs = {
        "header": "member_id,date,amount",
        "header, LF": "member_id,date,amount\n",
        "all rejected": "member_id,date,amount\n0001,not a date,5\n",
    }
    for case, text in inputs.items():
        tx = tmp_path / "tx.csv"
        tx.write_text(text)
        common = ["--transactions", tx, "--as-of", "2026-03-31"]
        for verb, extra, code in (
            ("features", [], 0),
            ("segment", [], 2),
            ("segment", ["--members", members], 0),
            ("alerts", [], 2),
        ):
            out = tmp_path / case / verb / "out.csv"
            assert main([str(a) for a in [verb, *common, *extra, "--out", out]]) == code, (case, verb, extra)
            last = capsys.readouterr().err.splitlines()[-1]  # after the load's report
            assert last.startswith(f"segkit {verb}: error: ") if code else "error" not in last, (case, verb, last)
    assert set(pd.read_csv(tmp_path / "all rejected" / "segment" / "out.csv")["segment"]) == {"No purchase"}
    # the checked table of no rows keeps its types in Parquet: text as text, as on a day with rows (was null)
    tx.write_text("member_id,date,amount,product\n")
    assert main(["load", "transactions", "--file", tx, "--out", tmp_path / "empty.parquet"]) == 0
    schema = pq.read_schema(tmp_path / "empty.parquet")
    assert [str(schema.field(c).type) for c in ("member_id", "date", "amount", "product")] == [
        "string",
        "timestamp[ns]",
        "double",
        "string",
    ]


def test_clv_takes_no_members_file_it_would_not_use(tmp_path, capsys):
    """The buy-till-you-die models value customers from their first purchase: ``clv`` took ``--members``, said
    members without purchases got a row, read nothing and gave them none. Refused now, in one line."""
    tx = tmp_path / "tx.csv"
    tx.write_text("member_id,date,amount\n0001,2026-01-05,5\n")
    with pytest.raises(SystemExit) as stop:
        main(["clv", "--transactions", str(tx), "--members", str(tx), "--as-of", "2026-03-31", "--out", "x.csv"])
    assert stop.value.code == 2 and "unrecognized arguments: --members" in capsys.readouterr().err


def test_sigterm_removes_the_temporary_files_and_exits_143(monkeypatch, capsys, tmp_path):
    """A scheduler's timeout or kill sends SIGTERM: the default handler ended segkit where it stood, and a UTF-8
    copy of the export (names and phones) stayed in the temporary folder for good."""
    import os
    import signal
    import tempfile
    import time
    from pathlib import Path

    import segkit.cli as cli

    seen = {}

    def stopped_midway(args):
        with tempfile.TemporaryDirectory(prefix="segkit-", dir=tmp_path) as folder:
            seen["folder"] = Path(folder)
            (seen["folder"] / "utf-8.csv").write_text("member_id,name,phone\n0001,王秘密,13912345678\n")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(30)  # the signal stops it here

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(cli, "cmd_load", stopped_midway)
    with pytest.raises(SystemExit) as stopped:
        main(["load", "members", "--file", tmp_path / "members.csv", "--out", tmp_path / "members.parquet"])
    assert stopped.value.code == 143 and not seen["folder"].exists()
    assert capsys.readouterr().err == (
        "segkit load: stopped by SIGTERM; its temporary and half-written files are removed\n"
    )
    assert signal.getsignal(signal.SIGTERM) == before


def test_ctrl_c_and_running_out_of_memory_are_one_line(monkeypatch, capsys, tmp_path):
    """Found by a helper: Ctrl-C printed a 30-line traceback, and generate with 99999999999 members a bug (exit 3)."""
    import segkit.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    def too_big(args):
        raise MemoryError

    for command, code, said in (
        (interrupted, 130, "segkit load: interrupted; its temporary and half-written files are removed\n"),
        (too_big, 2, "segkit load: error: out of memory: this run needs more memory than the machine has free"),
    ):
        monkeypatch.setattr(cli, "cmd_load", command)
        assert main(["load", "members", "--file", tmp_path / "m.csv", "--out", tmp_path / "m.parquet"]) == code
        err = capsys.readouterr().err
        assert err.startswith(said) and len(err.splitlines()) == 1
