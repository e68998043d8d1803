import pandas as pd
import pytest

from segkit.data import parse


def test_dates_in_every_common_form():
    raw = pd.Series(["2026-03-01", "2026/3/1", "20260301", "2026-03-01 10:30:00", "2026/3/1 8:05",
                     "2026年3月1日", "2026.3.1", "2026-03-01T23:59", " 2026-3-1 "])
    parsed, bad = parse.parse_dates(raw)
    assert not bad.any()
    assert (parsed == pd.Timestamp("2026-03-01")).all()


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "yesterday", "2026-03-01 25:00", "03/01/2026", "2026-3"])
def test_bad_dates_are_flagged_not_guessed(value):
    parsed, bad = parse.parse_dates(pd.Series([value]))
    assert bad.iloc[0] and pd.isna(parsed.iloc[0])


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
