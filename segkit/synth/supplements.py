"""The supplements world: a health-supplement seller with tiers, advisors and messy orders.

* Members join over the history through web, referral or the call center;
  about 10 % register and never buy (prospects).
* Buying follows a buy-till-you-die process: a member's purchase rate is
  Gamma(r=0.9, rate=45 days) distributed (mean gap capped at 7 days or more),
  and after each purchase they drop out with their own probability
  (Beta(0.7, 3.5)).
* Each order is one product (six products, CNY 98-358) in quantity 1-3; a
  member mostly re-buys a favourite product.
* 3 % of orders are cancelled the same day (the order and a reversal row,
  status ``cancelled``); 2 % are returned 3-20 days later and 1 % partly
  refunded 5-40 days later (negative rows, status ``returned``/``refunded``).
* Tiers from rolling 12-month net spend at the as-of date: gold >= 2,000,
  platinum >= 5,000, diamond >= 10,000 CNY, otherwise ``standard``.
* Advisors of three levels hold books of 500-800 members, in the call center's
  teams (new-member service, regular service, VIP service, win-back), each team
  sized to its members at the as-of date by the world's own rules (``_teams``:
  a member's silence against their true rhythm, their spend and tier), with
  levels drawn as the team's members' value grades; a member's current advisor
  is one of the team they belonged to 90 days earlier, so an assignment at the
  as-of date has team moves to make; 5 % more advisors have left and still hold
  books. 3 % of members are do-not-call, 1 % want a new advisor.

``truth`` gives each member's purchase rate (per day), dropout probability,
whether they were still alive at the as-of date, and their signup channel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.parse import parse_day
from ..progress import progress
from . import people

PRODUCTS = {
    "钙片 Calcium": 168.0,
    "鱼油 Fish oil": 298.0,
    "维生素C Vitamin C": 98.0,
    "蛋白粉 Protein": 358.0,
    "益生菌 Probiotics": 198.0,
    "葡萄籽 Grape seed": 268.0,
}
TIERS = [("diamond", 10_000.0), ("platinum", 5_000.0), ("gold", 2_000.0)]
NEW_MEMBER_DAYS = 60
WIN_BACK_GAPS = 2.5
WIN_BACK_DAYS = 365
KNOWN_RHYTHM_PURCHASES = 3
VIP_SHARE = 0.2


def generate_supplements(
    n_members: int, seed: int, as_of: str | pd.Timestamp, history_days: int = 1095
) -> dict[str, pd.DataFrame]:
    """Simulate ``n_members`` members over ``history_days`` up to ``as_of``."""
    rng = np.random.default_rng(seed)
    as_of = parse_day(as_of)
    start = as_of - pd.Timedelta(days=history_days)
    n = n_members

    join_day = rng.uniform(0, history_days, n)
    channel = rng.choice(["web", "referral", "call center"], n, p=[0.5, 0.2, 0.3])
    buyer = rng.random(n) >= 0.10
    rate = np.minimum(rng.gamma(0.9, 1 / 45.0, n), 1 / 7.0)
    dropout = rng.beta(0.7, 3.5, n)
    favourite = rng.integers(0, len(PRODUCTS), n)

    t = join_day + rng.exponential(7.0, n)
    alive = buyer.copy()
    rows_member, rows_day = [], []
    active = np.flatnonzero(alive & (t <= history_days))
    with progress("simulating supplement orders", unit="rows") as bar:
        while active.size:
            bar.update(active.size)
            rows_member.append(active)
            rows_day.append(t[active])
            leaving = rng.random(active.size) < dropout[active]
            alive[active[leaving]] = False
            t[active] += rng.exponential(1.0 / rate[active])
            active = active[~leaving & (t[active] <= history_days)]
    alive_at_as_of = alive & buyer

    member_idx = np.concatenate(rows_member)
    day = np.concatenate(rows_day)
    order = np.lexsort((member_idx, day))
    member_idx, day = member_idx[order], day[order]
    n_orders = member_idx.size
    first = np.r_[True, member_idx[1:] != member_idx[:-1]]

    names = np.array(list(PRODUCTS))
    prices = np.array(list(PRODUCTS.values()))
    product = np.where(rng.random(n_orders) < 0.7, favourite[member_idx], rng.integers(0, len(PRODUCTS), n_orders))
    quantity = rng.choice([1, 2, 3], n_orders, p=[0.6, 0.3, 0.1])
    amount = prices[product] * quantity
    order_ids = np.array([f"S{i:09d}" for i in range(1, n_orders + 1)], dtype=object)
    order_channel = np.where(first, channel[member_idx], rng.choice(["web", "call center", "app"], n_orders))

    fate = rng.random(n_orders)
    cancelled = fate < 0.03
    returned = (fate >= 0.03) & (fate < 0.05)
    refunded = (fate >= 0.05) & (fate < 0.06)
    status = np.where(cancelled, "cancelled", "completed")

    def reversal(mask, day_offset, share, row_status, goods_back):
        """Negative rows undoing (part of) the orders in ``mask``."""
        return pd.DataFrame(
            {
                "member_idx": member_idx[mask],
                "day": day[mask] + day_offset,
                "amount": -np.round(amount[mask] * share, 2),
                "order_id": order_ids[mask],
                "quantity": -quantity[mask] if goods_back else 0,
                "product": names[product[mask]],
                "channel": order_channel[mask],
                "status": row_status,
            }
        )

    orders = pd.DataFrame(
        {
            "member_idx": member_idx,
            "day": day,
            "amount": amount,
            "order_id": order_ids,
            "quantity": quantity,
            "product": names[product],
            "channel": order_channel,
            "status": status,
        }
    )
    reversals = [
        reversal(cancelled, 0.0, 1.0, "cancelled", goods_back=True),
        reversal(returned, rng.uniform(3, 20, int(returned.sum())), 1.0, "returned", goods_back=True),
        reversal(
            refunded,
            rng.uniform(5, 40, int(refunded.sum())),
            rng.uniform(0.3, 0.5, int(refunded.sum())),
            "refunded",
            goods_back=False,
        ),
    ]
    lines = pd.concat([orders, *reversals], ignore_index=True)
    lines = lines[lines["day"] <= history_days].sort_values(["day", "member_idx"], kind="stable")

    ids = people.zero_padded_ids(n)
    transactions = pd.DataFrame(
        {
            "member_id": ids[lines["member_idx"].to_numpy()],
            "date": people.days_to_dates(start, lines["day"].to_numpy()),
            "amount": lines["amount"].to_numpy(),
            "order_id": lines["order_id"].to_numpy(),
            "quantity": lines["quantity"].to_numpy(),
            "product": lines["product"].to_numpy(),
            "channel": lines["channel"].to_numpy(),
            "status": lines["status"].to_numpy(),
        }
    )

    tier = _tiers(lines, history_days, n)

    members = pd.DataFrame(
        {
            "member_id": ids,
            "name": people.chinese_names(rng, n),
            "phone": people.mobile_phones(rng, n),
            "join_date": people.days_to_dates(start, join_day),
            "tier": tier,
            "household_size": pd.array([None] * n, dtype="Int64"),
            "birthday": people.birthdays(rng, n),
            "do_not_call": people.flags(rng, n, 0.03),
            "wants_new_advisor": people.flags(rng, n, 0.01),
        }
    )
    advisors, members["advisor_id"] = _staff(rng, lines, rate, history_days, n)
    members = members[
        [
            "member_id",
            "name",
            "phone",
            "join_date",
            "tier",
            "household_size",
            "birthday",
            "advisor_id",
            "do_not_call",
            "wants_new_advisor",
        ]
    ]
    truth = pd.DataFrame(
        {
            "member_id": ids,
            "signup_channel": channel,
            "buyer": buyer,
            "purchase_rate_per_day": np.round(rate, 6),
            "dropout_probability": np.round(dropout, 5),
            "alive_at_as_of": alive_at_as_of,
        }
    )
    return {"transactions": transactions, "members": members, "advisors": advisors, "truth": truth}


def _tiers(lines: pd.DataFrame, day: float, n: int) -> np.ndarray:
    """Each member's tier on ``day`` from their net spend over the 365 days before it."""
    last_year = lines[(lines["day"] > day - 365) & (lines["day"] <= day)]
    spend = np.bincount(last_year["member_idx"].to_numpy(), weights=last_year["amount"].to_numpy(), minlength=n)
    tier = np.full(n, "standard", dtype=object)
    for name, threshold in reversed(TIERS):
        tier[spend >= threshold] = name
    return tier


def _teams(lines: pd.DataFrame, rate: np.ndarray, day: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The call center's team and value grade (1-3) of every member on ``day``, by the world's own rules.

    Teams follow where a member is in their life with the seller: no purchase yet or a first one within
    ``NEW_MEMBER_DAYS``: new-member service; silent for ``WIN_BACK_GAPS`` typical gaps, or for
    ``WIN_BACK_DAYS``: win-back; the others regular service, VIPs (the top ``VIP_SHARE`` of buyers by net
    spend, and diamond and platinum members) VIP service. A member's typical gap is the median of their
    true (exponential) gaps once they have made ``KNOWN_RHYTHM_PURCHASES`` purchases, and the
    population's before: the call center learns a rhythm from purchases. Grades rank members by net
    spend (bottom half 1, next 30 % 2, top 20 % 3); VIPs are grade 3. (Teams come out within about
    10 % of those segkit's lifecycle stages and grades find on worlds of 800 members or more.)
    """
    seen = lines[lines["day"] <= day]
    bought = seen[seen["status"] == "completed"]
    member, when = bought["member_idx"].to_numpy(), np.floor(bought["day"].to_numpy())
    first, last = np.full(n, np.inf), np.full(n, -np.inf)
    np.minimum.at(first, member, when)
    np.maximum.at(last, member, when)
    spend = np.bincount(seen["member_idx"].to_numpy(), weights=seen["amount"].to_numpy(), minlength=n)
    buyer = np.isfinite(first)
    own = np.log(2) / rate  # the median of exponential gaps
    known = np.bincount(member, minlength=n) >= KNOWN_RHYTHM_PURCHASES
    typical = np.where(known, own, np.median(own[buyer]) if buyer.any() else np.inf)
    silence = np.floor(day) - last
    team = np.select(
        [
            ~buyer | (np.floor(day) - first <= NEW_MEMBER_DAYS),
            (silence > WIN_BACK_GAPS * typical) | (silence > WIN_BACK_DAYS),
        ],
        ["new-member service", "win-back"],
        "regular service",
    ).astype(object)
    buyers = np.flatnonzero(buyer)
    vip = np.isin(_tiers(lines, day, n), ["diamond", "platinum"])
    vip[buyers[np.argsort(-spend[buyers], kind="stable")[: int(np.ceil(VIP_SHARE * buyers.size))]]] = True
    team[(team == "regular service") & vip] = "VIP service"
    grade = np.searchsorted([0.5, 0.8], (np.argsort(np.argsort(spend, kind="stable")) + 0.5) / n) + 1
    grade[vip] = 3
    return team, grade


def _staff(
    rng: np.random.Generator, lines: pd.DataFrame, rate: np.ndarray, history_days: float, n: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """Advisors for the teams as they are at the as-of date, their levels drawn from their members' grades,
    and each member's advisor: one of the team the member belonged to 90 days earlier."""
    team_now, grade_now = _teams(lines, rate, history_days, n)
    team_then, _ = _teams(lines, rate, history_days - 90, n)
    teams, sizes = np.unique(team_now, return_counts=True)
    shares = {
        team: np.bincount(grade_now[team_now == team], minlength=4)[1:] / size for team, size in zip(teams, sizes)
    }
    advisors = people.team_advisors(rng, dict(zip(teams, sizes.tolist())), shares)
    by_team = {team: rows["advisor_id"].to_numpy() for team, rows in advisors.groupby("team")}
    everyone = advisors["advisor_id"].to_numpy()
    current = np.empty(n, dtype=object)
    for team in np.unique(team_then):
        rows = np.flatnonzero(team_then == team)
        current[rows] = rng.choice(by_team.get(team, everyone), rows.size)
    return advisors, current
