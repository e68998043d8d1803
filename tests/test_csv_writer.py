"""write_table's CSV writer formats, quotes and joins in Arrow; its bytes must be the ones pandas' to_csv wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import segkit.io
from segkit.io import safe_csv_text, write_table

TEXT = ["", "plain", "a,b", 'say "hi"', "two\nlines", "cr\ronly", "中文 名字", "  spaces  ", "x\x00y", "😀", "=1+1"]


def _as_pandas_wrote_it(frame: pd.DataFrame, path) -> bytes:
    """What write_table wrote before Arrow did it: the same neutralised text, then pandas' to_csv."""
    safe = frame.copy(deep=False)
    for column in range(safe.shape[1]):
        safe.isetitem(column, safe_csv_text(safe.iloc[:, column]))
    safe.to_csv(path, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
    return path.read_bytes()


def _every_kind_of_column(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = np.concatenate(
        [
            [0.1, 1e16, 1e15, 1e-5, 1e-4, -0.0, np.nan, np.inf, -np.inf, 5e-324, 1.7976931348623157e308, 3.0, 0.5],
            rng.standard_normal(rows) * 10.0 ** rng.integers(-8, 20, rows),
            np.round(rng.uniform(0, 1000, rows), 2),
            rng.integers(0, 2**64 - 1, rows, dtype=np.uint64).view(np.float64),  # any bit pattern
            np.nextafter([1e-4, 1e-4, 1e16, 1e16, 1e15], [0, 1, 0, np.inf, np.inf]),  # where the layout changes
            rng.integers(-(10**6), 10**6, rows) * 1.0,  # whole numbers
        ]
    )
    size = len(floats)
    with np.errstate(over="ignore"):  # values beyond float32 become inf, as they would anywhere
        floats32 = floats.astype(np.float32)
    text = np.array(TEXT + [None, np.nan, pd.NA], dtype=object)[rng.integers(0, len(TEXT) + 3, size)]
    dates = pd.Timestamp("2026-03-31") + pd.to_timedelta(rng.integers(-(10**6), 10**6, size), unit="min")
    return pd.DataFrame(
        {
            "float": floats,
            "float32": floats32,
            "int": rng.integers(-(2**63), 2**63 - 1, size, dtype=np.int64),
            "int8": rng.integers(-128, 127, size, dtype=np.int8),
            "uint64": rng.integers(0, 2**64 - 1, size, dtype=np.uint64),
            "bool": rng.integers(0, 2, size).astype(bool),
            "date": pd.Series(dates).where(rng.uniform(size=size) > 0.1),
            "date_s": pd.Series(dates.astype("datetime64[s]")),
            "text": text,
            "arrow": pd.Series(text, dtype="string[pyarrow]"),
            "python_string": pd.Series(text, dtype="string[python]"),
            "arrow_large": pd.Series(text, dtype=pd.ArrowDtype(pa.large_string())),
            "arrow_in_chunks": pd.Series(  # as a file read a block at a time gives it
                pd.arrays.ArrowExtensionArray(
                    pa.chunked_array(
                        [pa.array(part, type=pa.string(), from_pandas=True) for part in np.array_split(text, 5)]
                    )
                )
            ),
            "Int64": pd.Series(rng.integers(-(2**63), 2**63 - 1, size, dtype=np.int64), dtype="Int64").where(
                rng.uniform(size=size) > 0.2
            ),
            "UInt8": pd.Series(rng.integers(0, 255, size), dtype="UInt8").where(rng.uniform(size=size) > 0.2),
            "boolean": pd.Series(rng.integers(0, 2, size).astype(bool), dtype="boolean").where(
                rng.uniform(size=size) > 0.2
            ),
            "Float64": pd.array(floats, dtype="Float64"),  # NaN that is not missing, written "nan"
            "Float64_na": pd.Series(floats, dtype="Float64").where(rng.uniform(size=size) > 0.2),
            "Float32": pd.Series(floats32, dtype="Float32").where(rng.uniform(size=size) > 0.2),
            "category": pd.Categorical(pd.Series(text).where(pd.Series(text).notna(), None)),
            'a "label", quoted': np.arange(size),
            "中文列": text,
        }
    )


@pytest.mark.parametrize("rows_at_once", [1, 7, 1 << 16])
def test_the_csv_is_the_one_pandas_wrote_byte_for_byte(tmp_path, monkeypatch, rows_at_once):
    monkeypatch.setattr(segkit.io, "_CSV_ROWS", rows_at_once)
    frame = _every_kind_of_column(300, seed=rows_at_once)
    expected = _as_pandas_wrote_it(frame, tmp_path / "pandas.csv")
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: pytest.fail("pandas wrote it"))
    assert write_table(frame, tmp_path / "arrow.csv").read_bytes() == expected


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"only": ["", "a", None, "b,c"]}),  # a row's only value, empty, is written ""
        pd.DataFrame({"": ["x", ""]}),
        pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype=float)}),
        pd.DataFrame({"a": [None, None], "b": [np.nan, np.nan]}),
        pd.DataFrame({"day": np.array(["0005-01-01", "1999-12-31", "NaT", "12345-06-07"], dtype="datetime64[s]")}),
        pd.DataFrame(
            {
                "day": pd.to_datetime(
                    ["1677-09-22 00:12:43", "1969-12-31 23:59:59", None, "2262-04-11"], format="ISO8601"
                )
            }
        ),
    ],
)
def test_edges_are_written_as_pandas_wrote_them(tmp_path, monkeypatch, frame):
    expected = _as_pandas_wrote_it(frame, tmp_path / "pandas.csv")
    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda *a, **k: pytest.fail("pandas wrote it"))
    assert write_table(frame, tmp_path / "arrow.csv").read_bytes() == expected


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(["a", 1, 2.5, None], dtype=object),  # numbers among text: the csv module's own formatting
        pd.Series([pd.Timestamp("2026-01-01", tz="Asia/Shanghai")] * 4),
        pd.Categorical([1, 2, None, 1]),
        pd.Series([b"bytes", "text", None, "x"], dtype=object),
        pd.Series(pd.to_timedelta([1, 2, 3, 4], unit="D")),
    ],
)
def test_columns_arrow_does_not_format_as_pandas_are_written_by_pandas(tmp_path, column):
    frame = pd.DataFrame({"id": ["1", "2", "3", "4"], "value": column})
    expected = _as_pandas_wrote_it(frame, tmp_path / "pandas.csv")
    assert write_table(frame, tmp_path / "fallback.csv").read_bytes() == expected


@pytest.mark.parametrize("labels", [[1, 2.5], ["a", np.nan], ["a", pd.NA], ["a", None]])
def test_labels_that_are_not_all_text_are_written_by_pandas(tmp_path, labels):
    frame = pd.DataFrame([["x", "y"]], columns=pd.Index(labels, dtype=object))
    assert write_table(frame, tmp_path / "x.csv").read_bytes() == _as_pandas_wrote_it(frame, tmp_path / "p.csv")


def test_text_that_cannot_be_utf8_fails_as_it_did_and_leaves_no_file(tmp_path):
    frame = pd.DataFrame({"name": ["ok", "bad \ud800 surrogate"]})
    with pytest.raises(UnicodeEncodeError):
        write_table(frame, tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_the_files_of_one_result_are_put_in_place_all_or_none(tmp_path, monkeypatch):
    """Found by the jobs audit: a killed ``segkit alerts`` could leave today's alerts.csv beside yesterday's
    member_rhythms.csv. The files are written beside their places first and renamed together at the end."""
    from segkit.io import write_tables

    old = {tmp_path / "alerts.csv": pd.DataFrame({"day": ["yesterday"]})}
    old[tmp_path / "rhythms.parquet"] = pd.DataFrame({"day": ["yesterday"]})
    write_tables(old)
    before = {path: path.read_bytes() for path in old}
    written = []

    def fails_on_the_second(frame, path, name):
        written.append(name)
        if len(written) == 2:
            raise KeyboardInterrupt  # Ctrl-C, or SIGTERM unwinding the verb
        frame.to_csv(path, index=False)

    monkeypatch.setattr(segkit.io, "_write_csv", fails_on_the_second)
    new = {tmp_path / "alerts.csv": pd.DataFrame({"day": ["today"]}), tmp_path / "more.csv": pd.DataFrame()}
    with pytest.raises(KeyboardInterrupt):
        write_tables(new)
    assert {path: path.read_bytes() for path in old} == before and written == ["alerts.csv", "more.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alerts.csv", "rhythms.parquet"]  # no temporary left


def test_a_stopping_signal_waits_while_the_files_of_a_result_are_renamed():
    """Also with another thread running (a progress bar's monitor): blocking the signal held it for one thread,
    and the test failed when the system gave it to the other."""
    import os
    import signal
    import threading
    import time

    from segkit.io import _signals_held

    seen = []
    other = threading.Event()
    thread = threading.Thread(target=other.wait, daemon=True)
    thread.start()
    before = signal.signal(signal.SIGTERM, lambda number, frame: seen.append("stopped"))
    try:
        for _ in range(50):
            with _signals_held():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.005)  # time for a signal taken by the other thread to reach its handler
                seen.append("renamed")
        assert seen == ["renamed", "stopped"] * 50
    finally:
        signal.signal(signal.SIGTERM, before)
        other.set()


def test_record_outputs_removes_an_earlier_runs_files_and_nothing_else(tmp_path):
    """A notebook's list of its files (outputs.txt) removes, on the next run, what that run did not write again;
    a list edited to name files outside the folder, or a link, removes nothing outside it."""
    from segkit import record_outputs

    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "secret.txt").write_text("kept")
    for name in ("a.csv", "b.csv", "mine.txt"):
        (out / name).write_text(name)
    (out / "link.csv").symlink_to(out / "b.csv")
    assert record_outputs(out, [out / "a.csv", out / "b.csv"])[-1] == out / "outputs.txt"
    assert (out / "outputs.txt").read_text() == "a.csv\nb.csv\n"
    (out / "outputs.txt").write_text("../secret.txt\n/etc/hostname\nsub/../../secret.txt\nlink.csv\na.csv\nb.csv\n")
    record_outputs(out, [out / "b.csv"])
    assert sorted(path.name for path in out.iterdir()) == ["b.csv", "mine.txt", "outputs.txt"]
    assert (tmp_path / "secret.txt").read_text() == "kept"
