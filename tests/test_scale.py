"""The user's path at scale (issue 18): a CSV export through the CLI gives what the Python API gives on Parquet,
text is held compactly on the way, and nothing about the result depends on how it was cut into blocks."""

from __future__ import annotations

import copy
import filecmp
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import AS_OF, REPO

from segkit import engine
from segkit.cli import main
from segkit.data import load_table, sources
from segkit.data.contract import ContractError
from segkit.features import btyd_summary, member_features, purchase_gaps, purchase_value, rolling_spends
from segkit.features import gaps as gaps_module

SETTINGS = REPO / "data" / "samples" / "alerts_gas.yaml"


def member_spans(path):
    """The statistics (min, max) of the member_id column, the first, in each row group of a Parquet file."""
    metadata = pq.ParquetFile(path).metadata
    return [metadata.row_group(k).column(0).statistics for k in range(metadata.num_row_groups)]


@pytest.fixture(scope="module")
def gas_files(tmp_path_factory, gas_world):
    folder = tmp_path_factory.mktemp("gas_world")
    gas_world.write(folder, fmt="csv")
    gas_world.write(folder, fmt="parquet")
    return folder


@pytest.mark.slow
def test_cli_from_csv_writes_what_the_api_writes_from_parquet(gas_files, tmp_path):
    from segkit.churn import churn_alerts

    assert (
        main(
            [
                "alerts",
                "--transactions",
                gas_files / "transactions.csv",
                "--members",
                gas_files / "members.csv",
                "--as-of",
                AS_OF,
                "--settings",
                SETTINGS,
                "--out",
                tmp_path / "cli" / "alerts.csv",
            ]
        )
        == 0
    )
    members = pd.read_parquet(gas_files / "members.parquet")
    run = churn_alerts(str(gas_files / "transactions.parquet"), AS_OF, members, SETTINGS)
    run.write(tmp_path / "api" / "alerts.csv")
    for name in ("alerts.csv", "alerts.member_rhythms.csv"):
        assert filecmp.cmp(tmp_path / "cli" / name, tmp_path / "api" / name, shallow=False), name
    assert len(pd.read_csv(tmp_path / "cli" / "alerts.csv")) > 0


def test_loaded_text_is_compact_and_reads_back_as_python_strings(gas_files):
    result = load_table(gas_files / "transactions.csv", "transactions", as_of=AS_OF)
    rows = result.rows
    assert isinstance(rows["member_id"].dtype, pd.CategoricalDtype)  # repeated: a code per row
    assert isinstance(rows["product"].dtype, pd.CategoricalDtype)
    assert isinstance(rows["order_id"].dtype, (pd.ArrowDtype, pd.StringDtype))  # distinct: Arrow text
    table = result.table
    assert all(table[c].dtype == object for c in ("member_id", "order_id", "product", "channel", "status"))
    expected = pd.read_csv(gas_files / "transactions.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert table["member_id"].tolist() == expected["member_id"].tolist()
    assert table["order_id"].tolist() == expected["order_id"].tolist()
    arrow = result.to_arrow()
    assert arrow.num_rows == len(table)
    assert arrow.column("member_id").to_pylist() == table["member_id"].tolist()


def test_blocks_and_batches_do_not_change_the_result(gas_files, tmp_path, monkeypatch):
    """Small blocks make several CSV blocks (one switching a column to plain text midway) and several engine
    batches; the tables are those of one block."""
    whole = load_table(gas_files / "transactions.csv", "transactions", as_of=AS_OF)
    whole_gaps = purchase_gaps(whole, AS_OF)
    monkeypatch.setattr(sources, "_ARROW_BLOCK", 1 << 14)
    monkeypatch.setattr(sources, "_MIN_BLOCK_ROWS", 10)
    monkeypatch.setattr(gaps_module, "_BATCH_ROWS", 777)
    blocks = load_table(gas_files / "transactions.csv", "transactions", as_of=AS_OF)
    pd.testing.assert_frame_equal(blocks.table, whole.table)
    pd.testing.assert_frame_equal(purchase_gaps(blocks, AS_OF), whole_gaps)
    # the rows after an earlier day are rejects: the same rows, values and lines
    early = load_table(gas_files / "transactions.csv", "transactions", as_of="2026-02-28")
    monkeypatch.undo()
    whole_early = load_table(gas_files / "transactions.csv", "transactions", as_of="2026-02-28")
    assert len(whole_early.rejects) > 400  # the last days: several blocks
    pd.testing.assert_frame_equal(early.table, whole_early.table)
    written = [result.write_rejects(tmp_path / f"rejects_{i}.csv") for i, result in enumerate((early, whole_early))]
    assert filecmp.cmp(*written, shallow=False)


def test_text_read_a_block_at_a_time_keeps_one_dictionary_in_the_order_values_first_come(tmp_path, monkeypatch):
    """Each block's dictionary is merged into the column's as blocks come (a few blocks at a time once the
    dictionary is large): the codes and the categories are those of the whole column encoded at once, missing
    values included, and a column whose blocks turn nearly all distinct becomes text with every value. The
    blocks' codes are held as narrow as the dictionary then was, and widen as it grows."""
    merge = sources._Dictionary._merge
    rng = np.random.default_rng(3)
    ids = pd.Series(rng.choice([f"{i:05d}" for i in range(4000)], 30_000), dtype=object)
    ids[rng.random(len(ids)) < 0.05] = None
    orders = pd.Series([f"o{i}" for i in range(len(ids))], dtype=object)
    orders[:9000] = rng.choice(["o1", "o2", "o3"], 9000)  # repeated at first, distinct after
    frame = pd.DataFrame({"member_id": ids, "product": rng.choice(["a", "b", None], len(ids)), "order_id": orders})
    frame["date"] = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 400, len(ids)), unit="D")
    frame["amount"] = rng.normal(100, 30, len(ids))
    frame["quantity"] = pd.array(rng.integers(1, 4, len(ids)), dtype="Int64")
    frame.loc[20_000, "quantity"] = None  # missing in one block: integers that keep every digit, as pyarrow's
    frame.to_parquet(tmp_path / "rows.parquet", index=False)
    monkeypatch.setattr(sources, "_PARQUET_BATCH", 700)
    monkeypatch.setattr(sources, "_MIN_BLOCK_ROWS", 10)
    monkeypatch.setattr(sources, "_MERGE_VALUES", 1000)
    merges = []
    monkeypatch.setattr(sources._Dictionary, "_merge", lambda self: merges.append(1) or merge(self))
    read = sources.read_source(tmp_path / "rows.parquet", compact=True).frame
    assert len(merges) > 60  # the ids' dictionary merged several times, the products' every few blocks
    for column in ("member_id", "product"):
        codes, categories = pd.factorize(frame[column])  # first come, first coded; missing -1
        assert isinstance(read[column].dtype, pd.CategoricalDtype), column
        np.testing.assert_array_equal(read[column].cat.codes.to_numpy(), codes)
        assert read[column].cat.categories.tolist() == categories.tolist()
    # codes as small as the dictionary: a byte for the products, two for 4,000 ids (narrower while they came)
    assert (read["product"].cat.codes.dtype, read["member_id"].cat.codes.dtype) == (np.int8, np.int16)
    assert isinstance(read["order_id"].dtype, pd.ArrowDtype | pd.StringDtype)
    assert read["order_id"].tolist() == orders.tolist()
    pd.testing.assert_frame_equal(
        read[["date", "amount", "quantity"]],
        pd.read_parquet(tmp_path / "rows.parquet")[["date", "amount", "quantity"]],
    )


@pytest.mark.filterwarnings("ignore:.*is not in row groups by member")  # ranges made small: the files warn
def test_queries_by_member_run_a_range_of_members_at_a_time_and_give_the_same_tables(gas_files, tmp_path, monkeypatch):
    """A large file is grouped by member a range of members at a time (10M households do not fit in one
    query): from memory or from Parquet, in its order or in member order (the CLI's), every per-member table is
    the one of a single query."""
    loaded = load_table(gas_files / "transactions.csv", "transactions", as_of=AS_OF)
    members = load_table(gas_files / "members.csv", "members").table
    tables = {
        "gaps": lambda tx: purchase_gaps(tx, AS_OF, members),
        "features": lambda tx: member_features(tx, AS_OF, members),
        "value": lambda tx: purchase_value(tx, AS_OF),
        "spends": lambda tx: rolling_spends(tx, [pd.Timestamp(AS_OF)], 90).sort_index(),
        "btyd": lambda tx: btyd_summary(tx, "2026-01-31", holdout_end=AS_OF),
    }
    whole = {name: table(loaded) for name, table in tables.items()}
    monkeypatch.setattr(engine, "_RANGE_ROWS", len(loaded.table) // 7)
    monkeypatch.setattr(gaps_module, "_BATCH_ROWS", 999)
    con = engine.connection()
    assert len(engine.member_ranges(con, engine.as_table(loaded, con))) == 8
    by_member = engine.write_by_member(loaded.to_arrow(), tmp_path / "by_member.parquet")
    for source in (loaded, gas_files / "transactions.parquet", by_member):
        for name, table in tables.items():
            pd.testing.assert_frame_equal(table(source), whole[name], obj=name)


@pytest.mark.filterwarnings("ignore:.*is not in row groups by member")  # ranges made small: the file warns
def test_the_alert_run_holds_its_gaps_a_range_of_members_at_a_time_and_alerts_the_same(gas_files, monkeypatch):
    """On a large file the gap table stays on disk, a range of members per file, and what the run holds is one row
    per member; the rhythm fitted in three passes over the ranges, and the alerts, are those of one range. The
    calibration keeps a random 400 gaps of its larger bands (50,000 on a large file), picked alike."""
    from segkit.churn import churn_alerts, predictive

    loaded = load_table(gas_files / "transactions.csv", "transactions", as_of=AS_OF)
    members = load_table(gas_files / "members.csv", "members").table
    monkeypatch.setattr(predictive, "_MAX_CALIBRATION_GAPS", 400)
    whole = churn_alerts(loaded, AS_OF, members, SETTINGS)
    assert "in memory" in repr(whole.gaps)
    monkeypatch.setattr(engine, "_RANGE_ROWS", len(loaded.table) // 7)
    ranged = churn_alerts(gas_files / "transactions.parquet", AS_OF, members, SETTINGS)

    assert "8 ranges on disk" in repr(ranged.gaps)
    assert all(isinstance(part, Path) for part in ranged.gaps._parts)  # nothing per gap held in memory
    assert len(ranged.gaps.open) == ranged.members["last_purchase"].notna().sum()
    pd.testing.assert_frame_equal(ranged.gaps.to_pandas(), whole.gaps.to_pandas())
    pd.testing.assert_frame_equal(ranged.model.members_, whole.model.members_)
    ids = ranged.gaps.open["member_id"].cat.categories  # the fitted members' ids are these, not a copy read back
    assert all(fitted is held for fitted, held in zip(ranged.model.members_.index, ids))
    pd.testing.assert_series_equal(ranged.model.coef_, whole.model.coef_)
    assert ranged.model.calibration_.knots.keys() == whole.model.calibration_.knots.keys()
    assert max(values.size for values in whole.model.calibration_.knots.values()) == 400  # drawn, not all
    for band, values in whole.model.calibration_.knots.items():
        np.testing.assert_array_equal(ranged.model.calibration_.knots[band], values)
    assert ranged.model.churn_prior_ == whole.model.churn_prior_
    pd.testing.assert_frame_equal(ranged.alerts, whole.alerts)
    pd.testing.assert_frame_equal(ranged.members, whole.members)

    folder, whole_gaps = ranged.gaps._folder, whole.gaps.to_pandas()
    copied, pickled = copy.deepcopy(ranged.gaps), pickle.loads(pickle.dumps(ranged.gaps))
    assert folder.exists()
    del ranged
    assert not folder.exists()  # the spilled ranges go with the table
    pd.testing.assert_frame_equal(copied.to_pandas(), whole_gaps)  # copies hold their ranges
    pd.testing.assert_frame_equal(pickled.to_pandas(), whole_gaps)


def test_transactions_written_in_member_order_keep_each_members_rows_and_their_order(gas_files, tmp_path, monkeypatch):
    """The CLI's temporary Parquet is in member order: its row groups hold ranges of member ids that do not
    overlap, so a range of members reads only its own; nothing is lost or reordered within a member."""
    loaded = load_table(gas_files / "transactions.csv", "transactions", as_of=AS_OF)
    monkeypatch.setattr(engine, "_FETCH_ROWS", len(loaded.table) // 5)
    path = engine.write_by_member(loaded.to_arrow(), tmp_path / "by_member.parquet")
    written = pq.read_table(path).to_pandas().astype({"member_id": str})
    expected = loaded.table.astype({"member_id": str}).sort_values("member_id", kind="stable")
    pd.testing.assert_frame_equal(written, expected.reset_index(drop=True), check_dtype=False, check_categorical=False)
    spans = member_spans(path)
    assert len(spans) >= 5
    assert all(before.max <= after.min for before, after in zip(spans, spans[1:]))


def test_written_in_member_order_whatever_the_ids_are(tmp_path, monkeypatch):
    """Integer ids stay integers (sorted as numbers, so the row groups are in order); a dictionary that repeats
    a value keeps each member's rows in their order; a missing id goes last."""
    monkeypatch.setattr(engine, "_FETCH_ROWS", 10)
    numbers = pa.table({"member_id": np.random.default_rng(1).permutation(40), "x": np.arange(40)})
    path = engine.write_by_member(numbers, tmp_path / "numbers.parquet")
    assert pq.read_table(path).column("member_id").to_pylist() == list(range(40))
    spans = member_spans(path)
    assert [(span.min, span.max) for span in spans] == [(0, 9), (10, 19), (20, 29), (30, 39)]
    repeated = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, 0, None, 2], pa.int32()), pa.array(["b", "a", "b"]))
    path = engine.write_by_member(pa.table({"member_id": repeated, "x": range(6)}), tmp_path / "repeated.parquet")
    written = pq.read_table(path)
    assert written.column("member_id").to_pylist() == ["a", "b", "b", "b", "b", None]
    assert written.column("x").to_pylist() == [1, 0, 2, 3, 5, 4]


def test_rows_are_taken_a_chunk_at_a_time_into_member_order(tmp_path, monkeypatch):
    """Columns read a block at a time come in chunks (order ids in a hundred at 10M), each cut at other rows:
    the rows taken chunk by chunk, in blocks across their edges, are those one take of the whole table gives."""
    monkeypatch.setattr(engine, "_FETCH_ROWS", 7)
    rng = np.random.default_rng(2)
    ids = rng.choice([f"{i:03d}" for i in range(9)] + [None], 40)
    order_ids = [f"o{i}" for i in rng.permutation(40)]
    dictionary = pa.array(sorted({i for i in ids if i is not None}))
    codes = pa.array([dictionary.to_pylist().index(i) if i is not None else None for i in ids], pa.int32())
    table = pa.table(
        {
            "member_id": pa.chunked_array(
                [pa.DictionaryArray.from_arrays(codes[a:b], dictionary) for a, b in ((0, 13), (13, 14), (14, 40))]
            ),
            "order_id": pa.chunked_array([order_ids[:5], order_ids[5:29], order_ids[29:]]),
            "amount": pa.chunked_array([rng.normal(size=20), rng.normal(size=20)]),
        }
    )
    path = engine.write_by_member(table, tmp_path / "chunked.parquet")
    order = sorted(range(len(ids)), key=lambda row: (ids[row] is None, ids[row] or ""))  # stable
    expected = table.take(order).to_pandas().astype({"member_id": object})
    pd.testing.assert_frame_equal(pq.read_table(path).to_pandas(), expected)
    assert pq.ParquetFile(path).metadata.num_row_groups == 6
    plain = table.set_column(0, "member_id", table.column("member_id").cast(pa.string()))  # ids not encoded
    path = engine.write_by_member(plain, tmp_path / "plain.parquet")
    pd.testing.assert_frame_equal(pq.read_table(path).to_pandas(), expected)


def test_a_large_parquet_file_not_in_member_order_is_named_in_a_warning(gas_files, tmp_path, monkeypatch):
    """Each range of members reads the whole of a file that is not in member order (1.6 times slower on 10M
    households): the user is told, and how to fix it; a file in member order, or small enough for one range,
    reads without a word."""
    loaded = load_table(gas_files / "transactions.csv", "transactions", as_of=AS_OF)
    shuffled = loaded.table.sample(frac=1.0, random_state=1).astype({"member_id": str})
    pq.write_table(pa.Table.from_pandas(shuffled, preserve_index=False), tmp_path / "tx.parquet", row_group_size=5000)
    monkeypatch.setattr(engine, "_FETCH_ROWS", 5000)
    by_member = engine.write_by_member(loaded.to_arrow(), tmp_path / "by_member.parquet")
    con = engine.connection()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engine.as_table(tmp_path / "tx.parquet", con)  # one range: order does not matter
        monkeypatch.setattr(engine, "_RANGE_ROWS", len(shuffled) // 7)
        engine.as_table(by_member, con)
        engine.as_table(tmp_path / "tx.parquet", con, "members")  # members are not read by range
        descending = shuffled.sort_values("member_id", ascending=False)  # row groups apart, in any order
        pq.write_table(pa.Table.from_pandas(descending, preserve_index=False), tmp_path / "desc.parquet", 5000)
        engine.as_table(tmp_path / "desc.parquet", con)
    assert not [w for w in caught if "row groups by member" in str(w.message)]
    one_group = tmp_path / "one_group.parquet"  # in order, but a range cannot skip part of one row group
    pq.write_table(pa.Table.from_pandas(shuffled.sort_values("member_id"), preserve_index=False), one_group)
    with pytest.warns(UserWarning, match="one_group.parquet"):
        engine.as_table(one_group, con)
    not_by_member = r"tx\.parquet \([\d,]+ rows\) is not in row groups by member.*ORDER BY member_id"
    with pytest.warns(UserWarning, match=not_by_member):
        engine.as_table(tmp_path / "tx.parquet", con)


def test_a_file_that_changes_while_it_is_read_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "tx.csv"
    path.write_text("member_id,date,amount\n1,2026-03-01,10\n2,2026-03-02,20\n", encoding="utf-8")
    parse = sources._parse_records

    def appended_meanwhile(*args, **kwargs):
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("3,2026-03-03,30\n")
        return parse(*args, **kwargs)

    monkeypatch.setattr(sources, "_parse_records", appended_meanwhile)
    with pytest.raises(ContractError, match="changed while it was being read"):
        load_table(path, "transactions")


def test_parquet_text_with_gaps_loads_like_pandas_reads_it(tmp_path):
    days = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-01", "2026-01-04"]
    frame = pd.DataFrame(
        {
            "member_id": ["007", "008", None, "007", "009"],
            "date": pd.to_datetime(days),
            "amount": [1.0, 2.0, 3.0, 1.0, -0.0],
            "product": pd.Categorical(["a", "b", "a", "a", None]),
        }
    )
    frame.to_parquet(tmp_path / "tx.parquet")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(
        table.set_column(0, "member_id", table.column("member_id").cast(pa.large_string())), tmp_path / "large.parquet"
    )
    for name in ("tx.parquet", "large.parquet"):
        result = load_table(tmp_path / name, "transactions")
        assert result.report.adds_up
        assert result.report.reasons == {"missing member_id": 1}
        assert result.report.duplicates == 1
        assert result.table["member_id"].tolist() == ["007", "008", "009"]
        assert result.table["product"].tolist() == ["a", "b", None]


def test_duplicates_are_found_by_hash_and_confirmed_in_full(tmp_path):
    rows = ["member_id,date,amount"] + [f"{i:05d},2026-03-{1 + i % 28:02d},{i}.5" for i in range(3000)]
    rows += ["00007,2026-03-08,7.5", '"00007",2026-03-08,7.5', "00008,2026-03-09,8.5"]
    (tmp_path / "tx.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = load_table(tmp_path / "tx.csv", "transactions")
    assert result.report.duplicates == 3
    assert result.rejects["reason"].tolist() == ["duplicate of row 8", "duplicate of row 8", "duplicate of row 9"]


def test_duckdb_works_within_a_memory_limit(monkeypatch):
    from segkit.engine import DUCKDB_MEMORY_LIMIT, connect

    def limit(con) -> float:
        text = con.raw_sql("select current_setting('memory_limit')").fetchone()[0]
        number, unit = text.split()
        return float(number) * {"MiB": 2**20, "GiB": 2**30, "KiB": 2**10}[unit]

    assert limit(connect()) == pytest.approx(float(DUCKDB_MEMORY_LIMIT.removesuffix("GB")) * 1e9, rel=0.08)
    monkeypatch.setenv("SEGKIT_DUCKDB_MEMORY_LIMIT", "3GB")
    assert limit(connect()) == pytest.approx(3e9, rel=0.08)
    assert limit(connect(memory_limit="500MB")) == pytest.approx(5e8, rel=0.08)


def test_duckdb_gives_freed_memory_back_between_queries():
    from segkit.engine import connect

    def background(con) -> bool:
        return con.raw_sql("select current_setting('allocator_background_threads')").fetchone()[0]

    assert background(connect()) is True  # else freed memory stays with DuckDB while pandas works
    assert background(connect(allocator_background_threads=False)) is False


def test_vip_ties_do_not_depend_on_the_order_money_was_added_up():
    from segkit.segment import vip_flag

    features = pd.DataFrame(
        {"member_id": ["b", "a", "c"], "frequency": [1, 1, 1], "monetary": [0.1 + 0.2, 0.3, 0.1]}
    )  # 0.30000000000000004 and 0.3: a tie
    assert vip_flag(features, "top_share", 1 / 3).tolist() == [True, False, False]  # the tie goes to member b
    np.testing.assert_array_equal(vip_flag(features.iloc[::-1], "top_share", 1 / 3).to_numpy(), [False, False, True])


@pytest.mark.parametrize("top_share", [0.0001, 0.001, 0.2, 0.5, 1.0])
def test_the_top_spenders_are_the_first_by_spend_then_the_higher_member_id(top_share):
    from segkit.segment import vip_flag

    rng = np.random.default_rng(7)
    n = 3_000
    features = pd.DataFrame(
        {
            "member_id": rng.permutation([f"{i:05d}" for i in range(n)]),
            "frequency": rng.integers(0, 3, n),  # a third never bought: never VIPs by spend
            "monetary": rng.integers(0, 40, n) * 10.0,  # many ties at every spend
        }
    )
    features.loc[[5, 6], "monetary"] = np.nan
    buyers = features[features["frequency"] > 0]
    id_rank = np.argsort(np.argsort(buyers["member_id"].to_numpy()))  # of equal spend, the higher id first
    order = np.lexsort((-id_rank, -buyers["monetary"].fillna(-np.inf).to_numpy()))
    expected = features.index.isin(buyers.index[order[: int(np.ceil(top_share * len(buyers)))]])
    np.testing.assert_array_equal(vip_flag(features, "top_share", top_share).to_numpy(), expected)


def test_the_engine_out_of_memory_is_one_line_naming_the_setting(gas_files, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEGKIT_DUCKDB_MEMORY_LIMIT", "2MB")
    code = main(
        [
            "features",
            "--transactions",
            gas_files / "transactions.csv",
            "--as-of",
            AS_OF,
            "--out",
            tmp_path / "features.csv",
        ]
    )
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert "SEGKIT_DUCKDB_MEMORY_LIMIT" in error and "2MB" in error and "Traceback" not in error


def test_the_fast_path_for_plain_ids_still_drops_excel_float_suffixes(tmp_path):
    """Ids read as Arrow text skip the normalisation when every one is plain ASCII; ``12417.0`` is not plain."""
    (tmp_path / "tx.csv").write_text(
        "member_id,date,amount\n12417.0,2026-03-01,5\n007,2026-03-02,6\n", encoding="utf-8"
    )
    assert load_table(tmp_path / "tx.csv", "transactions").table["member_id"].tolist() == ["12417", "007"]


def test_a_saved_pandas_index_is_a_column_of_a_parquet_source_when_it_has_a_name(tmp_path):
    """pandas' own row numbers saved with a file are not a column; an index with a name is one of the file's
    (it was refused as "missing required column date", naming every column but the one that was there)."""
    frame = pd.DataFrame({"member_id": ["1", "2"], "date": ["2026-03-01", "2026-03-02"], "amount": [5.0, 6.0]})
    frame.set_index("date").to_parquet(tmp_path / "tx.parquet")
    assert load_table(tmp_path / "tx.parquet", "transactions").table["date"].tolist() == list(
        pd.to_datetime(frame["date"])
    )
    frame.iloc[[1, 0]].to_parquet(tmp_path / "rows.parquet")  # row numbers 1, 0 saved as __index_level_0__
    for compact in (True, False):
        assert list(sources.read_source(tmp_path / "rows.parquet", compact=compact).frame.columns) == list(
            frame.columns
        )
    clash = frame.set_index(pd.Index(["9", "8"], name="member_id"))  # an index named as a column: which is it?
    clash.to_parquet(tmp_path / "clash.parquet")
    for compact in (True, False):
        with pytest.raises(ContractError, match="the column name\\(s\\) 'member_id' appear more than once"):
            sources.read_source(tmp_path / "clash.parquet", compact=compact)
