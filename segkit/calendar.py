"""Holidays that move purchase rhythms: the Spring Festival (Chinese New Year), when families travel."""

from __future__ import annotations

import numpy as np
import pandas as pd

SPRING_FESTIVAL = pd.to_datetime(
    [
        "2010-02-14",
        "2011-02-03",
        "2012-01-23",
        "2013-02-10",
        "2014-01-31",
        "2015-02-19",
        "2016-02-08",
        "2017-01-28",
        "2018-02-16",
        "2019-02-05",
        "2020-01-25",
        "2021-02-12",
        "2022-02-01",
        "2023-01-22",
        "2024-02-10",
        "2025-01-29",
        "2026-02-17",
        "2027-02-06",
        "2028-01-26",
        "2029-02-13",
        "2030-02-03",
        "2031-01-23",
        "2032-02-11",
        "2033-01-31",
        "2034-02-19",
        "2035-02-08",
    ]
)
CALENDARS = {"spring_festival": SPRING_FESTIVAL}


def holidays(spec) -> pd.DatetimeIndex:
    """A named calendar (``spring_festival``), a list of dates, or None for no holidays."""
    if spec is None:
        return pd.DatetimeIndex([])
    if isinstance(spec, str):
        if spec not in CALENDARS:
            raise ValueError(f"holidays: unknown calendar {spec!r}; known: {', '.join(CALENDARS)} (or a list of dates)")
        return CALENDARS[spec]
    if not isinstance(spec, (list, tuple, pd.DatetimeIndex)):
        raise ValueError(
            f"holidays must be a calendar's name ({', '.join(CALENDARS)}), a list of dates or null; got {spec!r}"
        )
    numbers = [day for day in spec if isinstance(day, (int, float, np.number))]
    if numbers:  # pandas would read 20260217 as nanoseconds after 1970
        raise ValueError(f"holidays: {numbers[0]!r} is not a date; write dates as YYYY-MM-DD")
    try:
        return pd.DatetimeIndex(pd.to_datetime(list(spec))).sort_values()
    except (ValueError, TypeError) as error:
        raise ValueError(f"holidays: a date in {list(spec)!r} is not a date ({error})") from None


def holiday_ahead(start: np.ndarray, calendar: pd.DatetimeIndex, window_days: float, lead_days: int = 3) -> np.ndarray:
    """1.0 where a holiday falls between ``lead_days`` before ``start`` and ``window_days`` after it."""
    if len(calendar) == 0:
        return np.zeros(len(start))
    start = np.asarray(start, dtype="datetime64[ns]")
    days = calendar.to_numpy(dtype="datetime64[ns]")
    first = np.searchsorted(days, start - np.timedelta64(lead_days, "D"), side="left")
    upcoming = days[np.minimum(first, len(days) - 1)]
    ahead = (upcoming - start) / np.timedelta64(1, "D")
    return ((first < len(days)) & (ahead <= window_days)).astype(float)
