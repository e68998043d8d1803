"""A generated world's truth, read back and seen from an as-of date: who had switched by then, and whose
missed refill was due long enough ago that an alert should have caught them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.parse import parse_day

SWITCH_COLUMNS = ("switched", "last_refill", "missed_refill_due")
RHYTHM_COLUMNS = ("true_mean_interval", "regularity_k")


def read_truth(path: str | Path) -> pd.DataFrame:
    """A world's ``truth`` file as written by ``World.write`` (CSV or Parquet), with its types back:
    ids as text, flags as booleans, dates as dates."""
    path = Path(path)
    if path.suffix.lower() in {".parquet", ".pq"}:
        truth = pd.read_parquet(path)
    else:
        try:
            truth = pd.read_csv(path, dtype={"member_id": str}, encoding="utf-8-sig", keep_default_na=True)
        except pd.errors.EmptyDataError:  # not even a header: pandas' message names no file
            raise ValueError(
                f"{path}: the file is empty; a world's truth has a header and a row per household"
            ) from None
    if truth.empty:
        raise ValueError(f"{path}: the truth holds no household; a world's truth has a row for each")
    if "member_id" in truth and (truth["member_id"].isna().any() or truth["member_id"].duplicated().any()):
        raise ValueError(
            f"{path}: a row without a member_id, or a member_id in two rows: the truth has one per household"
        )
    for column in truth.columns:
        if truth[column].dtype == object and truth[column].dropna().isin(["True", "False"]).all():
            truth[column] = truth[column].map({"True": True, "False": False})
    for column in ("last_refill", "missed_refill_due"):
        if column in truth:
            truth[column] = pd.to_datetime(truth[column])
    return truth


def check_gas_truth(truth: pd.DataFrame) -> None:
    """A clear error unless ``truth`` says who switched and when, as a gas world's does."""
    missing = {"member_id", *SWITCH_COLUMNS, *RHYTHM_COLUMNS} - set(truth)
    if missing:
        raise ValueError(f"the backtest needs a gas world's truth; missing {', '.join(sorted(missing))}")


def check_truth_of(truth: pd.DataFrame, transactions: pd.DataFrame) -> None:
    """A clear error when ``truth`` is not of ``transactions``' world: a household it says switched after its last
    refill bought again later. Another world of the same size has the same member ids, and every method was
    scored against its switches without a word (found by a helper)."""
    switched = truth.loc[truth["switched"].astype(bool) & truth["last_refill"].notna(), ["member_id", "last_refill"]]
    if switched.empty:
        return
    final = pd.Series(pd.to_datetime(switched["last_refill"]).to_numpy(), index=switched["member_id"].astype(str))
    sales = transactions.loc[transactions["amount"] > 0, ["member_id", "date"]]
    sales = sales.loc[sales["member_id"].astype(str).isin(set(final.index))]
    last = sales.groupby(sales["member_id"].astype(str), observed=True)["date"].max()
    later = last.reindex(final.index) > final
    if later.any():
        first = later.index[later.to_numpy()][0]
        raise ValueError(
            f"the truth is not of these transactions: {int(later.sum()):,} household(s) it says switched after "
            f"their last refill bought later (member {first}: last refill {final[first]:%Y-%m-%d}, bought "
            f"{last[first]:%Y-%m-%d}): is it the same world?"
        )


def truth_as_of(truth: pd.DataFrame, as_of) -> pd.DataFrame:
    """The truth seen from ``as_of``: a household has switched by then if its final refill was on or before it."""
    as_of = parse_day(as_of)
    out = truth.copy()
    out["switched"] = truth["switched"].astype(bool) & (pd.to_datetime(truth["last_refill"]) <= as_of)
    out["missed_refill_due"] = pd.to_datetime(truth["missed_refill_due"]).where(out["switched"])
    return out


def switch_labels(
    truth: pd.DataFrame, member_ids: pd.Series, as_of: pd.Timestamp, recall_days: int = 14
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``member_ids`` at ``as_of``: switched (by then), their missed refill's due date, and whether
    it was due ``recall_days`` or more before the as-of date (the switchers an alert should have caught)."""
    seen = truth_as_of(truth, as_of).set_index("member_id").reindex(member_ids)
    if seen["switched"].isna().any():
        raise ValueError("the truth table lacks some of the members who bought: is it the same world?")
    switched = seen["switched"].to_numpy(dtype=bool)
    due = seen["missed_refill_due"].to_numpy()
    return switched, due, switched & ((as_of.to_datetime64() - due) >= np.timedelta64(recall_days, "D"))
