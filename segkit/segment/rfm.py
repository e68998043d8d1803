"""RFM scores and segments from the member features.

Scores run from 1 to ``levels`` (3, 4 or 5), 5 = best: the most recent, most
frequent and highest-spending members get the top score. Members who never
bought (in the data: refund-only members too) are not scored; their segment is
``No purchase``.

Tie policies (how equal values are scored):

* ``rank``: ntile on rank (dplyr's ``ntile``): members are ordered by value,
  ties broken by ``member_id``, and cut into ``levels`` groups of equal size
  (sizes differ by at most one). Equal values may get different scores.
* ``quantile``: the cut points of R's ``rfm`` package: the inner quantiles of
  the values (R type 7) plus 1, intervals ``[lower, upper)``. Equal values
  always share a score. When cut points coincide (60 % of members bought
  once, say), some scores are never given: they are reported in
  ``RFMResult.collapsed`` and warned about, never silently left empty.
* custom breakpoints: ``breakpoints={"recency": [30, 90, 180, 365], ...}``,
  ``levels - 1`` increasing cut points per dimension, intervals ``[lower, upper)``
  (for recency, lower days score higher).

Segments come from a YAML table (``segments.yaml`` beside this module is the
default: the 11 well-known segments on R and FM = mean(F, M)); rules are
tried in order and the first match wins; no match gives the fallback.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..settings import YamlSettings, is_number, read_yaml_mapping

DEFAULT_SEGMENTS = Path(__file__).with_name("segments.yaml")
DIMENSIONS = {"recency": "recency_days", "frequency": "frequency", "monetary": "monetary"}
SCORE_COLUMNS = {"recency": "r_score", "frequency": "f_score", "monetary": "m_score"}
NO_PURCHASE = "No purchase"  # never bought, or only refunds in the data
TIE_POLICIES = ("rank", "quantile")


@dataclass
class SegmentRule:
    name: str
    ranges: dict[str, tuple[float, float]]  # score column ("r", "f", "m", "fm") -> inclusive range
    action: str = ""


@dataclass
class SegmentTable:
    """Ordered segment rules on a score scale; the first matching rule wins."""

    rules: list[SegmentRule]
    fallback: str = "Others"
    scale: int = 5

    @classmethod
    def from_yaml(cls, path: str | Path = DEFAULT_SEGMENTS) -> "SegmentTable":
        """The table in ``path``; anything that is not a table (a list, a rule without ranges, a bound that is
        not a number) raises ``ValueError`` naming the file and the rule, a missing file ``FileNotFoundError``."""
        if not Path(path).is_file():
            raise FileNotFoundError(f"segment table not found: {path}")
        data = read_yaml_mapping(path, "a segment table (segments, fallback, scale)")
        where = str(path)
        unknown = sorted(map(str, set(data) - {"segments", "fallback", "scale"}))
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; known: fallback, scale, segments")
        if not isinstance(data.get("segments"), list) or not data["segments"]:
            raise ValueError(f"{where}: needs a non-empty 'segments' list")
        fallback, scale = data.get("fallback", "Others"), data.get("scale", 5)
        if not isinstance(fallback, str) or isinstance(scale, bool) or scale not in (3, 4, 5):
            raise ValueError(f"{where}: fallback must be a segment name and scale 3, 4 or 5")
        rules = []
        for i, entry in enumerate(data["segments"], 1):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise ValueError(f"{where}: segment {i} must be a mapping with a name")
            ranges = {}
            for key in ("r", "f", "m", "fm"):
                if key in entry:
                    bounds = entry[key]
                    numbers = isinstance(bounds, list) and all(is_number(bound) for bound in bounds)
                    if not (numbers and len(bounds) == 2 and bounds[0] <= bounds[1]):
                        raise ValueError(f"{where}: segment {entry['name']!r}: {key} must be [low, high]")
                    ranges[key] = (float(bounds[0]), float(bounds[1]))
            unknown = set(entry) - {"name", "action", "r", "f", "m", "fm"}
            if unknown or not ranges:
                raise ValueError(
                    f"{where}: segment {entry['name']!r}: give ranges for r, f, m or fm"
                    + (f" (unknown keys: {', '.join(sorted(map(str, unknown)))})" if unknown else "")
                )
            rules.append(SegmentRule(entry["name"], ranges, str(entry.get("action") or "")))
        return cls(rules, fallback, int(scale))

    def gaps(self) -> tuple[int, list[str]]:
        """How many of the scale's score combinations (R, F, M) fall to the fallback, and the rules no
        combination reaches first (shadowed by earlier ones or out of the scale's range): a hand-written table
        with either sends members to the fallback without a word."""
        scores = np.arange(1, self.scale + 1)
        r, f, m = (grid.ravel() for grid in np.meshgrid(scores, scores, scores, indexing="ij"))
        none = "\0no rule"  # a fallback no rule can be named
        given = replace(self, fallback=none).assign(
            pd.DataFrame({"r_score": r, "f_score": f, "m_score": m}), self.scale
        )
        return int((given == none).sum()), [rule.name for rule in self.rules if rule.name not in set(given)]

    @property
    def actions(self) -> dict[str, str]:
        return {rule.name: rule.action for rule in self.rules}

    def assign(self, scores: pd.DataFrame, levels: int) -> pd.Series:
        """Segment of each scored member: the first rule whose ranges all hold."""
        on_scale = {key: self._rescale(scores[f"{key}_score"], levels) for key in ("r", "f", "m")}
        on_scale["fm"] = (on_scale["f"] + on_scale["m"]) / 2
        segment = pd.Series(self.fallback, index=scores.index, dtype=object)
        unmatched = pd.Series(True, index=scores.index)
        for rule in self.rules:
            hit = unmatched.copy()
            for key, (low, high) in rule.ranges.items():
                hit &= on_scale[key].between(low, high)
            segment[hit] = rule.name
            unmatched &= ~hit
        return segment

    def _rescale(self, score: pd.Series, levels: int) -> pd.Series:
        """Scores on 1..levels mapped to the table's 1..scale (rounded), so one table serves all levels."""
        if levels == self.scale:
            return score.astype(float)
        return np.round(1 + (score - 1) * (self.scale - 1) / (levels - 1))


@dataclass
class RFMResult:
    """Scores and segments per member, with the cut points used and any collapsed scores."""

    table: pd.DataFrame
    levels: int
    ties: str
    cut_points: dict[str, list[float]] = field(default_factory=dict)
    collapsed: dict[str, list[int]] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"RFM on {self.levels} levels, ties: {self.ties}; {len(self.table):,} members"]
        for dim, cuts in self.cut_points.items():
            lines.append(f"  {dim:<9} cut points: {', '.join(f'{c:g}' for c in cuts)}")
        for dim, scores in self.collapsed.items():
            lines.append(f"  {dim:<9} scores never given: {', '.join(map(str, scores))}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class RFMSettings(YamlSettings):
    """How ``rfm_scores`` scores (settings section ``rfm``): ``levels``, ``ties``, ``breakpoints`` and
    ``segments`` (a segment table YAML; None: the 11 well-known segments)."""

    what: ClassVar[str] = "rfm"

    levels: int = 5
    ties: str = "rank"
    breakpoints: dict[str, list[float]] | None = None
    segments: str | None = None

    def __post_init__(self):
        _validate(self.levels, self.ties)
        _cut_points(self.breakpoints, self.levels)
        if self.segments is not None:
            try:
                SegmentTable.from_yaml(self.segments)
            except (OSError, ValueError) as error:
                raise ValueError(f"rfm setting segments: {error}") from None


def _validate(levels: int, ties: str) -> None:
    if levels not in (3, 4, 5):
        raise ValueError(f"levels must be 3, 4 or 5, not {levels!r}")
    if ties not in TIE_POLICIES:
        raise ValueError(f"ties must be one of {', '.join(TIE_POLICIES)}, not {ties!r}")


def _cut_points(breakpoints: dict[str, Any] | None, levels: int) -> dict[str, list[float]]:
    """``breakpoints`` checked: known dimensions, each with ``levels - 1`` increasing cut points."""
    breakpoints = dict(breakpoints or {})
    unknown = set(breakpoints) - set(DIMENSIONS)
    if unknown:
        raise ValueError(
            f"breakpoints for unknown dimension(s) {', '.join(sorted(map(str, unknown)))}; use {', '.join(DIMENSIONS)}"
        )
    cut_points = {}
    for dim, cuts in breakpoints.items():
        numbers = isinstance(cuts, (list, tuple)) and all(is_number(cut) for cut in cuts)
        cuts = [float(cut) for cut in cuts] if numbers else cuts
        if not numbers or len(cuts) != levels - 1 or any(b <= a for a, b in zip(cuts, cuts[1:])):
            raise ValueError(f"breakpoints[{dim!r}] needs {levels - 1} increasing cut points, got {cuts}")
        cut_points[dim] = cuts
    return cut_points


def _why_never(given: bool, ties: str, buyers: int, levels: int) -> str:
    if given:
        return "no member's value falls in their intervals of the breakpoints"
    if ties == "quantile":
        return "cut points coincide"
    return f"{buyers:,} buyer(s) for {levels} score levels"


def rank_scores(values: pd.Series, ids: pd.Series, levels: int, higher_is_better: bool = True) -> np.ndarray:
    """ntile on rank: order by value (ties by id), cut into ``levels`` equal groups."""
    key = values.to_numpy(dtype=float) if higher_is_better else -values.to_numpy(dtype=float)
    order = np.lexsort((ids.to_numpy(), key))
    scores = np.empty(len(values), dtype=np.int64)
    scores[order] = np.arange(len(values)) * levels // max(len(values), 1) + 1
    return scores


def quantile_cut_points(values: pd.Series, levels: int) -> list[float]:
    """R rfm's cut points: inner quantiles (type 7) plus one."""
    quantiles = np.quantile(values.to_numpy(dtype=float), np.linspace(0, 1, levels + 1))
    return [float(q) + 1 for q in quantiles[1:-1]]


def interval_scores(values: pd.Series, cuts: list[float], levels: int, higher_is_better: bool = True) -> np.ndarray:
    """Score by intervals ``[lower, upper)`` between the cut points."""
    bins = np.searchsorted(np.asarray(cuts, dtype=float), values.to_numpy(dtype=float), side="right") + 1
    return bins if higher_is_better else levels + 1 - bins


def rfm_scores(
    features: pd.DataFrame,
    levels: int = 5,
    ties: str = "rank",
    breakpoints: dict[str, list[float]] | None = None,
    segments: SegmentTable | str | Path | None = None,
) -> RFMResult:
    """RFM scores, score string and segment for every member of ``features``.

    ``features`` is ``segkit.member_features`` output (``recency_days``,
    ``frequency``, ``monetary``). Members without a purchase get no scores and
    the segment ``No purchase``.
    """
    _validate(levels, ties)
    breakpoints = _cut_points(breakpoints, levels)
    table = segments if isinstance(segments, SegmentTable) else SegmentTable.from_yaml(segments or DEFAULT_SEGMENTS)
    unmatched, unreachable = table.gaps()
    if unmatched or unreachable:
        warnings.warn(
            "the segment table "
            + "; ".join(
                [f"sends {unmatched} of {table.scale**3} score combinations to {table.fallback!r}"] * bool(unmatched)
                + [f"has rules no score reaches: {', '.join(unreachable)}"] * bool(unreachable)
            ),
            stacklevel=2,
        )

    out = features[["member_id", "recency_days", "frequency", "monetary"]].copy()
    buyers = out[out["frequency"] > 0]
    result = RFMResult(out, levels, ties)
    scores = pd.DataFrame(index=buyers.index)
    tied = []  # dimensions in which every buyer has the same value (ranked by id alone)
    for dim, column in DIMENSIONS.items():
        values = buyers[column].astype(float)
        better_high = dim != "recency"
        if dim in breakpoints:
            cuts = breakpoints[dim]
            result.cut_points[dim] = cuts
            scored = interval_scores(values, cuts, levels, better_high)
        elif ties == "quantile":
            cuts = quantile_cut_points(values, levels)
            result.cut_points[dim] = cuts
            scored = interval_scores(values, cuts, levels, better_high)
        else:
            scored = rank_scores(values, buyers["member_id"], levels, better_high)
        scores[SCORE_COLUMNS[dim]] = scored
        never = sorted(set(range(1, levels + 1)) - set(np.unique(scored).tolist())) if len(buyers) else []
        if never:
            result.collapsed[dim] = never
        if dim not in breakpoints and ties == "rank" and len(buyers) > 1 and values.nunique() == 1:
            tied.append(dim)
    if result.collapsed:  # given breakpoints: no value falls in some interval; quantiles: cut points coincide
        warnings.warn(
            "RFM scores never given: "
            + "; ".join(
                f"{d}: {s} ({_why_never(d in breakpoints, ties, len(buyers), levels)})"
                for d, s in result.collapsed.items()
            ),
            stacklevel=2,
        )
    if tied:  # ranks of equal values: documented, but with everyone equal the scores say nothing
        warnings.warn(
            f"every buyer has the same {' and '.join(tied)}: those scores tell the {len(buyers):,} buyers apart by "
            "member id alone (ties: quantile gives them one score)",
            stacklevel=2,
        )

    for column in SCORE_COLUMNS.values():
        out[column] = pd.array(scores[column].reindex(out.index), dtype="Int64")
    out["rfm_score"] = (out["r_score"] * 100 + out["f_score"] * 10 + out["m_score"]).astype("Int64")
    out["segment"] = NO_PURCHASE
    if len(buyers):
        out.loc[buyers.index, "segment"] = table.assign(scores.astype(float), levels)
    out["action"] = out["segment"].map(table.actions).fillna("")
    return result


def segment_summary(result: RFMResult) -> pd.DataFrame:
    """Per segment: members, share of members, revenue, share of revenue, average order value, median recency."""
    table = result.table
    grouped = table.groupby("segment", sort=False)
    summary = pd.DataFrame(
        {
            "members": grouped.size(),
            "revenue": grouped["monetary"].sum(),
            "purchases": grouped["frequency"].sum(),
            "median_recency_days": grouped["recency_days"].median(),
        }
    )
    summary["member_share"] = summary["members"] / summary["members"].sum()
    total = table["monetary"].sum()
    summary["revenue_share"] = summary["revenue"] / total if total else np.nan
    summary["avg_order_value"] = summary["revenue"] / summary["purchases"].where(summary["purchases"] > 0)
    summary = summary.drop(columns="purchases").sort_values("revenue", ascending=False)
    columns = ["members", "member_share", "revenue", "revenue_share", "avg_order_value", "median_recency_days"]
    return summary[columns].reset_index()
