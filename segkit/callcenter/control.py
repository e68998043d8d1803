"""Control groups: each run holds out a random share of its eligible members, not called, so that their later
purchases show what the calls changed (``campaign_effect``, ``segkit effect``).

The draw is deterministic: a member's number is a hash of the control seed and the
call's own ingredients (campaign, day, member: what makes its ``alert_id``), so
re-running a day gives the same split. It is stratified: within each campaign,
VIP or not, and priority band (fifths of the day's ranked list), the members with
the lowest numbers are held out, ``control_share`` of the stratum, its fraction
rounded up or down at random by the stratum's own number, so that every stratum
holds out exactly ``control_share`` in expectation and called and control members
look alike. ``control_vips: false`` keeps every VIP called. Control members are
recorded in the ledger (``arm`` = ``control``) and paced like called ones: the
window and the monthly cap hold them back from the next days' lists, so the
comparison stays clean.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

CALLED, CONTROL = "called", "control"
PRIORITY_BANDS = 5


def _number(*parts) -> float:
    """A uniform number in [0, 1) from ``parts``: the same parts, the same number."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(digest[:15], 16) / 16**15


def control_arms(
    listed: pd.DataFrame, as_of: pd.Timestamp, share: float, seed: str, vips: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """``CALLED`` or ``CONTROL`` for each row of ``listed`` (ranked, one row per member: ``member_id``,
    ``campaign``, ``vip``), as the module docstring describes, and each row's chance of being held out
    (``share``, or 0 for a VIP under ``vips=False``). The chance, not the draw, says which listings are part
    of the comparison: a small list that held out nobody by chance still is (``campaign_effect``)."""
    arms = np.full(len(listed), CALLED, dtype=object)
    chance = np.full(len(listed), max(float(share), 0.0))
    if not vips:
        chance[listed["vip"].eq(True).to_numpy()] = 0.0
    if share <= 0 or listed.empty:
        return arms, chance
    day = f"{as_of:%Y-%m-%d}"
    numbers = np.array(
        [_number(seed, campaign, day, member) for campaign, member in zip(listed["campaign"], listed["member_id"])]
    )
    band = np.arange(len(listed)) * PRIORITY_BANDS // len(listed)
    strata = pd.DataFrame(
        {
            "campaign": listed["campaign"].to_numpy(),
            "vip": listed["vip"].eq(True).to_numpy(),
            "band": band,
            "number": numbers,
        }
    )
    for (campaign, vip, band_), stratum in strata.groupby(["campaign", "vip", "band"], sort=False):
        if vip and not vips:
            continue
        expected = share * len(stratum)
        held = int(np.floor(expected + _number(seed, campaign, day, "stratum", vip, band_)))
        arms[stratum.sort_values("number", kind="stable").index[:held].to_numpy()] = CONTROL
    return arms, chance
