"""Generated people shared by every world: ids, Chinese names, phones, birthdays, advisors."""
from __future__ import annotations

import numpy as np
import pandas as pd

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国红玉梅平文辉鹏飞婷雪琳晨宇浩然欣怡子涵")
_MOBILE_PREFIXES = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156,
                             158, 159, 166, 173, 176, 177, 180, 181, 182, 185, 186, 187, 188, 189, 199])


def zero_padded_ids(n: int, width: int | None = None, prefix: str = "") -> np.ndarray:
    """Ids ``0000001 ...`` with leading zeros, so that loaders must keep them as text."""
    width = width or max(7, len(str(n)) + 1)
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def chinese_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surnames = rng.choice(_SURNAMES, n)
    first = rng.choice(_GIVEN, n)
    second = np.where(rng.random(n) < 0.6, rng.choice(_GIVEN, n), "")
    return np.char.add(np.char.add(surnames.astype(str), first.astype(str)), second.astype(str)).astype(object)


def mobile_phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Eleven-digit mainland mobile numbers (fictitious, but shaped like real ones)."""
    prefix = rng.choice(_MOBILE_PREFIXES, n).astype(np.int64)
    rest = rng.integers(0, 100_000_000, n, dtype=np.int64)
    return (prefix * 100_000_000 + rest).astype(str).astype(object)


def birthdays(rng: np.random.Generator, n: int) -> np.ndarray:
    start = np.datetime64("1950-01-01")
    return start + rng.integers(0, 365 * 52, n).astype("timedelta64[D]")


def advisors(rng: np.random.Generator, n_members: int, per_advisor: int = 650,
             teams: dict[str, float] | None = None) -> pd.DataFrame:
    """Service advisors of three levels with books of 500-800 members.

    Capacities are the domain's 500-800; in small worlds they are scaled down
    so that the advisors can still hold every member (the domain numbers hold
    from about 560 members per active advisor).
    """
    teams = teams or {"regular service": 1.0}
    n_active = max(3, round(n_members / per_advisor))
    n = n_active + round(0.05 * n_active)      # and a few who left, whose books need handing over
    level = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
    level[:3] = [3, 2, 1]
    active = np.arange(n) < n_active
    load = n_members / n_active
    capacity_min = 500 if load >= 560 else int(load * 0.85)
    capacity_max = 800 if load <= 700 else int(np.ceil(load * 1.15))
    return pd.DataFrame({
        "advisor_id": [f"A{i:03d}" for i in range(1, n + 1)],
        "name": chinese_names(rng, n),
        "team": rng.choice(list(teams), n, p=np.array(list(teams.values())) / sum(teams.values())),
        "level": level,
        "capacity_min": capacity_min,
        "capacity_max": capacity_max,
        "active": active,
    })


def assign_advisors(rng: np.random.Generator, advisors_table: pd.DataFrame, n_members: int) -> np.ndarray:
    """Current dedicated advisor of each member: spread over all advisors, leavers included."""
    return rng.choice(advisors_table["advisor_id"].to_numpy(), n_members)


def flags(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return rng.random(n) < share


def days_to_dates(start: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """Whole days after ``start`` as datetime64[ns] dates."""
    return (np.datetime64(start.date()) + np.floor(days).astype("int64").astype("timedelta64[D]")).astype("datetime64[ns]")
