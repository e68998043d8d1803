"""Generated people shared by every world: ids, Chinese names, phones, birthdays, advisors."""

from __future__ import annotations

import numpy as np
import pandas as pd

_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
_GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂兰华建国红玉梅平文辉鹏飞婷雪琳晨宇浩然欣怡子涵")
_MOBILE_PREFIXES = np.array(
    [
        130,
        131,
        132,
        133,
        135,
        136,
        137,
        138,
        139,
        150,
        151,
        152,
        155,
        156,
        158,
        159,
        166,
        173,
        176,
        177,
        180,
        181,
        182,
        185,
        186,
        187,
        188,
        189,
        199,
    ]
)


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


def advisors(
    rng: np.random.Generator, n_members: int, per_advisor: int = 650, teams: dict[str, float] | None = None
) -> pd.DataFrame:
    """Service advisors of three levels with books of 500-800 members.

    Capacities are the domain's 500-800; in small worlds they are scaled down
    so that the advisors can still hold every member (the domain numbers hold
    from about 560 members per active advisor).
    """
    teams = teams or {"regular service": 1.0}
    n_active = max(3, round(n_members / per_advisor))
    n = n_active + round(0.05 * n_active)  # and a few who left, whose books need handing over
    level = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
    level[:3] = [3, 2, 1]
    active = np.arange(n) < n_active
    capacity_min, capacity_max = book_capacities(n_members / n_active)
    return pd.DataFrame(
        {
            "advisor_id": [f"A{i:03d}" for i in range(1, n + 1)],
            "name": chinese_names(rng, n),
            "team": rng.choice(list(teams), n, p=np.array(list(teams.values())) / sum(teams.values())),
            "level": level,
            "capacity_min": capacity_min,
            "capacity_max": capacity_max,
            "active": active,
        }
    )


def book_capacities(load: float) -> tuple[int, int]:
    """The domain's 500-800 book, widened where a team's members cannot fill whole books of that size."""
    return (500 if load >= 560 else int(load * 0.85)), (800 if load <= 700 else int(np.ceil(load * 1.15)))


def team_advisors(
    rng: np.random.Generator,
    teams: dict[str, int],
    level_shares: dict[str, np.ndarray],
    per_advisor: int = 650,
    leavers: float = 0.05,
) -> pd.DataFrame:
    """Advisors for teams of known size (``teams``: members per team): as many as keep books near
    ``per_advisor`` (between 560 and 700 members where a whole number of advisors allows), levels 1-3
    drawn with the team's grade shares, and ``leavers`` more who have left (``active`` false). Every team
    of two or more members gets at least two advisors, so that a member can always ask for another."""
    rows = []
    for team, members in teams.items():
        low, high = int(np.ceil(members / 700)), int(np.floor(members / 560))
        k = min(max(round(members / per_advisor), low), high) if low <= high else round(members / per_advisor)
        k = max(k, min(2, members))
        capacity_min, capacity_max = book_capacities(members / k)
        levels = rng.choice([1, 2, 3], k, p=level_shares[team])
        rows += [(team, level, capacity_min, capacity_max, True) for level in levels]
    n_active = len(rows)
    for team in rng.choice(
        list(teams), max(1, round(leavers * n_active)), p=np.array(list(teams.values())) / sum(teams.values())
    ):
        rows.append((team, int(rng.choice([1, 2, 3])), 500, 800, False))
    table = pd.DataFrame(rows, columns=["team", "level", "capacity_min", "capacity_max", "active"])
    table.insert(0, "name", chinese_names(rng, len(table)))
    table.insert(0, "advisor_id", [f"A{i:03d}" for i in range(1, len(table) + 1)])
    return table


def assign_advisors(rng: np.random.Generator, advisors_table: pd.DataFrame, n_members: int) -> np.ndarray:
    """Current dedicated advisor of each member: spread over all advisors, leavers included."""
    return rng.choice(advisors_table["advisor_id"].to_numpy(), n_members)


def flags(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    return rng.random(n) < share


def days_to_dates(start: pd.Timestamp, days: np.ndarray) -> np.ndarray:
    """Whole days after ``start`` as datetime64[ns] dates."""
    return (np.datetime64(start.date()) + np.floor(days).astype("int64").astype("timedelta64[D]")).astype(
        "datetime64[ns]"
    )
