import numpy as np
import pandas as pd
import pytest

from segkit.data import parse


def test_dates_in_every_common_form():
    raw = pd.Series(
        [
            "2026-03-01",
            "2026/3/1",
            "20260301",
            "2026-03-01 10:30:00",
            "2026/3/1 8:05",
            "2026年3月1日",
            "2026.3.1",
            "2026-03-01T23:59",
            " 2026-3-1 ",
        ]
    )
    parsed, bad = parse.parse_dates(raw)
    assert not bad.any()
    assert (parsed == pd.Timestamp("2026-03-01")).all()


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "yesterday", "2026-03-01 25:00", "03/01/2026", "2026-3"])
def test_bad_dates_are_flagged_not_guessed(value):
    parsed, bad = parse.parse_dates(pd.Series([value]))
    assert bad.iloc[0] and pd.isna(parsed.iloc[0])


@pytest.mark.parametrize(
    "value", ["2026-03-01T23:30:00+08:00", "2026-03-01 23:30:00Z", "2026/3/1 23:30 UTC+8", "20260301 2330+0800"]
)
def test_a_time_with_a_zone_is_refused_with_its_own_reason(value):
    """23:30 in Beijing is the next day in Tokyo: which day the sale was on depends on the zone, so it is not
    guessed; the reason says so (was: unparseable)."""
    parsed, problem = parse.dates_with_problems(pd.Series([value]))
    assert pd.isna(parsed.iloc[0]) and problem.iloc[0] == parse.TIME_ZONE
    assert parse.dates_with_problems(pd.Series(["2026-03-01-08", "2026-03-01Z"]))[1].eq(parse.UNPARSEABLE).all()


def test_missing_dates_are_missing_not_bad():
    parsed, bad = parse.parse_dates(pd.Series(["", "  ", None], dtype=object))
    assert not bad.any() and parsed.isna().all()


def test_explicit_day_first_format():
    parsed, bad = parse.parse_dates(pd.Series(["01/03/2026"]), fmt="%d/%m/%Y")
    assert parsed.iloc[0] == pd.Timestamp("2026-03-01") and not bad.any()


def test_native_datetimes_are_normalised_to_days():
    parsed, bad = parse.parse_dates(pd.Series(pd.to_datetime(["2026-03-01 10:00", None])))
    assert parsed.iloc[0] == pd.Timestamp("2026-03-01") and pd.isna(parsed.iloc[1]) and not bad.any()


def test_ids_keep_leading_zeros_and_drop_float_artefacts():
    ids, _ = parse.parse_ids(pd.Series(["007", " 0012 ", "12417.0", "A-01", ""]))
    assert ids.tolist() == ["007", "0012", "12417", "A-01", None]
    ints, _ = parse.parse_ids(pd.Series([12417.0, None]))
    assert ints.tolist() == ["12417", None]


def test_numbers_with_separators_currency_and_parentheses():
    values, bad = parse.parse_numbers(pd.Series(["1,150.00", "￥115", "¥ 98元", "(12.5)", "-3", "一百", "nan", "inf"]))
    assert values.tolist()[:5] == [1150.0, 115.0, 98.0, -12.5, -3.0]
    assert bad.tolist() == [False] * 5 + [True, True, True]


def test_integers_reject_fractions():
    values, bad = parse.parse_integers(pd.Series(["3", "3.0", "3.5", ""]))
    assert values.iloc[0] == 3 and values.iloc[1] == 3 and bad.tolist() == [False, False, True, False]


def test_flags():
    values, bad = parse.parse_flags(pd.Series(["1", "0", "Y", "否", "是", "TRUE", "maybe", ""]))
    assert values.tolist()[:6] == [True, False, True, False, True, True]
    assert bad.tolist() == [False] * 6 + [True, False]


@pytest.mark.parametrize("text", ["March", "31/03/2026", "2026-3-31", "2026-02-30", ""])
def test_strict_day_refuses_guesses(text):
    with pytest.raises(ValueError, match="not a date"):
        parse.parse_day(text)


def test_strict_day():
    assert parse.parse_day("2026-03-31") == pd.Timestamp("2026-03-31")


@pytest.mark.parametrize("value", [20260331, 2026.0, None, True, pd.NaT, [2026, 3, 31]])
def test_a_day_is_text_or_a_date_never_a_number(value):
    with pytest.raises(ValueError, match="not a date"):
        parse.parse_day(value)


def test_a_day_from_dates_datetimes_and_timestamps():
    import datetime

    import numpy as np

    for value in (
        datetime.date(2026, 3, 31),
        datetime.datetime(2026, 3, 31, 10, 30),
        pd.Timestamp("2026-03-31 10:30"),
        np.datetime64("2026-03-31"),
        pd.Timestamp("2026-03-31 10:30", tz="Asia/Shanghai"),
    ):
        assert parse.parse_day(value) == pd.Timestamp("2026-03-31")


def test_member_features_refuse_a_number_as_the_as_of_date(gas_world):
    from segkit.features import member_features

    with pytest.raises(ValueError, match="not a date: 20260331"):
        member_features(gas_world.transactions, 20260331)


def test_commas_are_thousands_separators_only_where_they_belong():
    values, problem = parse.numbers_with_problems(
        pd.Series(["1,50", "115,00", "1,5000", "1,150.00", "12,345,678", "1,150", " 2 500 "])
    )
    assert values.tolist()[3:] == [1150.0, 12_345_678.0, 1150.0, 2500.0]
    assert problem.tolist() == [parse.AMBIGUOUS_COMMA] * 3 + [""] * 4


def test_a_declared_decimal_comma_is_a_decimal_point():
    values, bad = parse.parse_numbers(pd.Series(["1,50", "115,00", "1.150,25", "1,150.25", "-3"]), decimal=",")
    assert values.tolist()[:3] == [1.5, 115.0, 1150.25] and values.tolist()[4] == -3.0
    assert bad.tolist() == [False, False, False, True, False]


def test_numbers_out_of_range_and_nul_bytes():
    values, problem = parse.numbers_with_problems(pd.Series(["1e300", "1e400", "99999999999999999999", "5", "1\x0050"]))
    assert problem.tolist() == [parse.OUT_OF_RANGE] * 3 + ["", parse.NUL]
    assert values.isna().tolist() == [True, True, True, False, True]
    typed, problem = parse.numbers_with_problems(pd.Series([float("inf"), 2e12, 5.0]))
    assert problem.tolist() == [parse.OUT_OF_RANGE, parse.OUT_OF_RANGE, ""] and typed.iloc[2] == 5.0


def test_typed_dates_and_numbers_are_checked_without_a_copy():
    """Dates and amounts read typed (Parquet, a database) are used as they are when nothing needs changing: on
    10M households each copy is 860 MB. A time of day, -inf, NaT and values out of range still count."""
    days = pd.Series(pd.to_datetime(["2026-03-01", None, "1800-01-01", "2026-03-02"]))
    parsed, problem = parse.dates_with_problems(days.iloc[[0, 1, 3]])
    assert not problem.ne("").any() and parsed.tolist()[::2] == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02")]
    fine = days.iloc[[0, 1, 3]].reset_index(drop=True)
    assert np.shares_memory(parse.dates_with_problems(fine)[0].to_numpy(), fine.to_numpy())
    parsed, problem = parse.dates_with_problems(days)
    assert problem.tolist() == ["", "", parse.OUT_OF_RANGE, ""] and parsed.isna().tolist() == [False, True, True, False]
    timed = pd.Series(pd.to_datetime(["2026-03-01 10:30", "2026-03-02 00:00"]))
    assert parse.dates_with_problems(timed)[0].tolist() == [pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02")]
    assert timed.iloc[0] == pd.Timestamp("2026-03-01 10:30")  # the input is left as it was
    amounts = pd.Series([115.0, np.nan, -80.0])
    parsed, problem = parse.numbers_with_problems(amounts)
    assert np.shares_memory(parsed.to_numpy(), amounts.to_numpy()) and not problem.ne("").any()
    parsed, problem = parse.numbers_with_problems(pd.Series([-np.inf, -2e12, 3.0, np.nan]))
    assert problem.tolist() == [parse.OUT_OF_RANGE] * 2 + ["", ""] and parsed.isna().tolist() == [
        True,
        True,
        False,
        True,
    ]


@pytest.mark.parametrize("value", ["9999-12-31", "1900-01-01", "0000-01-01", "1000-01-01", "2262-04-12", "2200-01-01"])
def test_placeholder_dates_are_out_of_range_not_errors(value):
    parsed, problem = parse.dates_with_problems(pd.Series([value, "2026-03-01"]))
    assert problem.tolist() == [parse.OUT_OF_RANGE, ""] and pd.isna(parsed.iloc[0])
    assert parsed.iloc[1] == pd.Timestamp("2026-03-01")


def test_flags_in_every_common_spelling():
    values, bad = parse.parse_flags(pd.Series(["√", "✓", "是的", "yes", "Y ", "×", "不是", "No", "1.0", "maybe", ""]))
    assert values.tolist()[:9] == [True] * 5 + [False] * 3 + [True]
    assert bad.tolist() == [False] * 9 + [True, False]


def test_all_missing_values_parse_to_missing():
    for parser in (parse.parse_ids, parse.parse_text, parse.parse_dates, parse.parse_numbers, parse.parse_flags):
        parsed, bad = parser(pd.Series([None, None], dtype=object))
        assert parsed.isna().all() and not bad.any()


def test_ids_as_typed_in_any_input_method_are_one_id():
    ids, _ = parse.parse_ids(pd.Series(["０００２", "\u200b0002", "'0002", "\ufeff0002 ", "0002"]))
    assert ids.tolist() == ["0002"] * 5


def test_phones_must_be_dialable():
    phones, bad = parse.parse_phones(
        pd.Series(
            ["+86 138-0013-8000", "0755 1234567", "１３８００１３８０００", '=HYPERLINK("x")', "unknown", "123", ""]
        )
    )
    assert phones.tolist()[:3] == ["+86 138-0013-8000", "0755 1234567", "13800138000"]
    assert bad.tolist() == [False, False, False, True, True, True, False]


def test_a_phone_exported_as_a_float_is_its_number_and_two_numbers_in_a_cell_are_none():
    """Found by a helper: 13912345678.0 was dialable as 139123456780, so a do-not-call on 13912345678 (another
    member record of the household) did not hold it, and a wrong-number hold ended when the export changed; and
    "13912345670 / 13800000000" was one number to dial, though the second was another member's do-not-call."""
    phones, bad = parse.parse_phones(pd.Series(["13912345678.0", "+8613912345678.00", "13912345670 / 13800000000"]))
    assert phones.tolist()[:2] == ["13912345678", "+8613912345678"] and bad.tolist() == [False, False, True]
    floats, bad = parse.parse_phones(pd.Series([13912345678.0, np.nan]))
    assert floats.tolist()[0] == "13912345678" and not bad.any()
    two = ["13912345670,13800000000", "13912345670 13800000000", "13912345670；13800000000", "8888-6666/8888-7777"]
    assert parse.parse_phones(pd.Series(two))[1].all()
    # found by a helper: two landlines apart by a space alone (16 digits) were one number
    assert parse.parse_phones(pd.Series(["88886666 88887777", "0571 88886666 88887777"]))[1].all()
    # found by the re-test: a first version counted digits, and blanked landlines with their extensions
    landlines = [
        "0571-88886666-8001",
        "+86 0571-88886666-123",
        "+86-571-8888-6666-8001",
        "(0571) 8888 6666",
        "+86 13912345678",
        "0571 88886666 8001",
    ]
    phones, bad = parse.parse_phones(pd.Series([*landlines, "400-800-1234", "010/12345678", "((((("]))
    assert phones.tolist()[:8] == [*landlines, "400-800-1234", "010/12345678"] and bad.tolist() == [False] * 8 + [True]


def test_spaces_inside_amounts_only_group_thousands():
    values, bad = parse.parse_numbers(pd.Series(["1 234", "1\u00a0234.5", "1 5", "12 34", "1\n5", "¥ 98元"]))
    assert values.tolist()[:2] == [1234.0, 1234.5] and values.iloc[5] == 98.0
    assert bad.tolist() == [False, False, True, True, True, False]


def test_ids_in_a_categorical_are_parsed_unless_already_canonical():
    """A categorical of ids already as the contract has them (a Parquet file's member ids) is used as it is,
    without a copy; otherwise its values are parsed as any other text."""
    ready = pd.Series(pd.Categorical(["007", "A-12", "007", None]))
    parsed, problem = parse.ids_with_problems(ready)
    assert parsed is ready and not problem.ne("").any()
    for messy in (
        pd.Categorical([" 007", "A-12", "007", None]),  # " 007" is "007"
        pd.Categorical(["007", "A-12"], categories=["007", "A-12", "unused"]),
        pd.Categorical([7, 12, 7]),
    ):
        parsed, problem = parse.ids_with_problems(pd.Series(messy))
        assert parsed is not messy and not problem.ne("").any()
        assert parse.as_python_text(parsed).tolist() == [str(v).strip() if pd.notna(v) else None for v in messy]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint64, np.int8])
def test_integers_read_as_integers_are_shared_not_copied_and_parse_as_from_floats(dtype):
    """A column of integers (Parquet, a database) is its own result, as the float path would make it: values
    beyond MAX_ABS_NUMBER out of range, the rest exact."""
    big = np.iinfo(dtype).max
    raw = pd.Series(np.array([3, 0, big, 12, big // 2], dtype=dtype))
    parsed, problem = parse.integers_with_problems(raw)
    via_floats, float_problem = parse.integers_with_problems(raw.astype(object).astype(str))
    pd.testing.assert_series_equal(parsed, via_floats)
    pd.testing.assert_series_equal(problem, float_problem)
    if dtype == np.int64:
        assert np.shares_memory(parsed.array._data, raw.to_numpy())
        assert problem.tolist() == ["", "", parse.OUT_OF_RANGE, "", parse.OUT_OF_RANGE]
    signed = pd.Series(np.array([-5, -(10**13)], dtype=np.int64))
    assert parse.integers_with_problems(signed)[0].tolist() == [-5, pd.NA]


def test_blank_categories_are_missing_looked_at_once_per_category():
    values = pd.Series(pd.Categorical(["007", "  ", None, "", "007", " 8"], categories=["007", "  ", "", " 8", "x"]))
    expected = parse.missing_mask(values.astype(object))
    pd.testing.assert_series_equal(parse.missing_mask(values), expected)
    assert parse.missing_mask(values).tolist() == [False, True, True, True, False, False]
    numbers = pd.Series(pd.Categorical([7, None, 8]))
    assert parse.missing_mask(numbers).tolist() == [False, True, False]


def test_codes_are_counted_a_block_at_a_time(monkeypatch):
    monkeypatch.setattr(parse, "_COUNT_BLOCK", 3)
    codes = np.array([0, 2, -1, 2, 4, 0, 0, -1, 1, 2], dtype=np.int8)
    expected = np.bincount(codes[codes >= 0], minlength=6)
    np.testing.assert_array_equal(parse.code_counts(codes, 6), expected)
    np.testing.assert_array_equal(parse.code_counts(codes[:0], 3), [0, 0, 0])


def test_nearly_distinct_text_in_many_blocks_is_its_own_result():
    """Order ids read a block at a time are sampled without joining the blocks, and are their own result."""
    import pyarrow as pa

    n = 3 * parse._SAMPLE
    blocks = [pa.array([f"O{i:08d}" for i in range(start, start + n // 3)]) for start in range(0, n, n // 3)]
    orders = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(blocks)))
    parsed, problem = parse.text_with_problems(orders)
    assert parsed is orders and not problem.ne("").any()
    repeated = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([pa.array(["a", "b"] * (n // 4))] * 2)))
    parsed, _ = parse.text_with_problems(repeated)
    assert isinstance(parsed.dtype, pd.CategoricalDtype) and parsed.astype(object).tolist() == ["a", "b"] * (n // 2)
