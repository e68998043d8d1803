"""Hand-over lists: who moves from which advisor to which, and a note the receiving advisor reads first.

A member moved between advisors (a team move, a recycled book, a request) is
handed over with context (``../shared/DOMAIN.md`` section 3: the hand-over
script matters): the last purchase, the value, the stage, and the open
overdue alert if there is one.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..data.parse import parse_day
from .assignment import Assignment

HANDOVER_COLUMNS = ["member_id", "from_advisor", "to_advisor", "from_team", "to_team", "reason", "do_not_call", "note"]


def handover_list(
    assignment: Assignment, as_of: Any, features: pd.DataFrame | None = None, alerts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """``handover.csv``: every member who changes advisor and had one, with a context note.

    ``features``: ``member_features`` (for the last purchase); ``alerts``: ``alerts.csv`` (open alerts).
    """
    as_of = parse_day(as_of)
    moved = assignment.table.loc[assignment.table["changed"] & (assignment.table["previous_advisor_id"] != "")]
    last = pd.Series(dtype="datetime64[ns]")
    if features is not None and "last_purchase" in features:
        last = pd.to_datetime(features.set_index(features["member_id"].astype(str))["last_purchase"])
    alert = pd.Series(dtype=object)
    if alerts is not None and len(alerts):  # a member listed twice (two days' alerts joined) gets both reasons
        reasons = alerts["reason"].astype("string").fillna("")
        by_member = reasons.groupby(alerts["member_id"].astype(str), sort=False)
        alert = by_member.agg(lambda said: " | ".join(dict.fromkeys(said)))
    notes = []
    for row in moved.itertuples(index=False):
        parts = ["DO NOT CALL (CRM flag)"] if getattr(row, "do_not_call", False) else []
        bought = last.get(row.member_id, pd.NaT)
        parts.append(
            "no purchase yet"
            if pd.isna(bought)
            else f"last purchase {bought:%Y-%m-%d} ({(as_of - bought).days} days ago)"
        )
        parts.append(f"spend {row.value:,.0f}; grade {row.grade}" + (", VIP" if getattr(row, "vip", False) else ""))
        if hasattr(row, "stage"):
            parts.append(f"stage {row.stage}")
        if row.member_id in alert.index:
            parts.append(f"open alert: {alert[row.member_id]}")
        notes.append("; ".join(parts))
    return pd.DataFrame(
        {
            "member_id": moved["member_id"].to_numpy(),
            "from_advisor": moved["previous_advisor_id"].to_numpy(),
            "to_advisor": moved["advisor_id"].to_numpy(),
            "from_team": moved["previous_team"].to_numpy(),
            "to_team": moved["team"].to_numpy(),
            "reason": moved["reason"].to_numpy(),
            "do_not_call": moved["do_not_call"].to_numpy() if "do_not_call" in moved else False,
            "note": notes,
        },
        columns=HANDOVER_COLUMNS,
    )
