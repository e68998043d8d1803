"""The predictive distribution of a member's open gap, and its calibration.

If the member is still active, the open gap ``T`` is log-Student-t
(``GapPredictive``): ``log T ~ location + scale * t(df)``, where the rhythm
model (``segkit.churn.IntervalModel``) gives each member's location (their
pace at the season of their last purchase), scale (regularity plus the
uncertainty of the pace) and degrees of freedom (more with more gaps).

``Calibration`` then corrects the tail: every completed gap is predicted from
the member's other gaps, and the empirical distribution ``H`` of those
probability integral transforms, per band of how many gaps a prediction rests
on, maps the model's survival ``S`` to the calibrated ``H(S)`` (Kuleshov et
al. 2018).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

# Calibration bands by the number of completed gaps a prediction rests on: 0, 1, 2, 3-4, 5-8, 9-16, 17+.
CALIBRATION_BANDS = np.array([0, 1, 2, 3, 5, 9, 17])
_MIN_CALIBRATION_GAPS = 300
_MAX_CALIBRATION_GAPS = 50_000


class Calibration:
    """``H``, per band of gaps used: the distribution of held-out probability integral transforms.

    ``forward(S)`` is the calibrated survival ``H(S)``; ``inverse`` undoes
    it. Piecewise linear through the sorted transforms, linear from 0 to the
    tenth smallest (so never exactly 0); the identity where a band had too
    few gaps and no neighbour.
    """

    def __init__(self, knots: dict[int, np.ndarray]):
        self.knots = knots

    @classmethod
    def from_pits(cls, pits: np.ndarray, gaps_used: np.ndarray, rng: np.random.Generator) -> "Calibration":
        """``H`` from every held-out transform ``pits`` and the number of gaps each prediction used."""
        return cls.from_rows(lambda rows: pits[rows], gaps_used, rng)

    @classmethod
    def from_rows(
        cls, pits_of: Callable[[np.ndarray], np.ndarray], gaps_used: np.ndarray, rng: np.random.Generator
    ) -> "Calibration":
        """``H`` from the held-out transforms of the rows each band keeps, ``pits_of(rows)``.

        A band keeps every row, or a random ``_MAX_CALIBRATION_GAPS`` of them, so only those transforms need
        computing: at most 50,000 a band instead of one per completed gap (97M on 10M households). The rows and the
        curves are those of ``from_pits`` on all the transforms."""
        band = _band(gaps_used)
        in_band = [np.flatnonzero(band == b) for b in range(len(CALIBRATION_BANDS))]
        kept = _kept_ranks([rows.size for rows in in_band], rng)
        return cls.from_kept({b: pits_of(ranks if b is None else in_band[b][ranks]) for b, ranks in kept.items()})

    @classmethod
    def from_kept(cls, pits: dict[int | None, np.ndarray]) -> "Calibration":
        """``H`` from the transforms of the rows kept (``kept_rows``), by band (None: every band as one)."""
        return cls({0 if b is None else b: np.sort(values) for b, values in pits.items()})

    @staticmethod
    def kept_rows(completed: np.ndarray, rng: np.random.Generator) -> dict[int | None, np.ndarray]:
        """The rows ``from_rows`` keeps, from each member's number of completed gaps (in member order; a row is a
        completed gap, numbered member after member): what a pass over the gaps a range of members at a time
        needs to know beforehand. The same rows as ``from_rows`` given every row's ``completed - 1``."""
        completed = np.asarray(completed, dtype=np.int64)
        member_band = _band(np.maximum(completed - 1, 0))
        first = np.cumsum(completed) - completed  # each member's first row
        sizes = [int(completed[member_band == b].sum()) for b in range(len(CALIBRATION_BANDS))]
        kept = {}
        for b, ranks in _kept_ranks(sizes, rng).items():
            if b is None:
                kept[b] = ranks
                continue
            members = np.flatnonzero((member_band == b) & (completed > 0))
            ends = np.cumsum(completed[members])  # the band's rows, member after member
            j = np.searchsorted(ends, ranks, side="right")
            kept[b] = first[members[j]] + ranks - (ends[j] - completed[members[j]])
        return kept

    def _curve(self, band: int) -> tuple[np.ndarray, np.ndarray] | None:
        if not self.knots:
            return None
        values = self.knots[min(self.knots, key=lambda b: (abs(b - band), -b))]
        size = values.size
        levels = np.arange(1, size + 1) / size
        return np.r_[0.0, values[9:], 1.0], np.r_[0.0, levels[9:], 1.0]

    def forward(self, survival: np.ndarray, gaps_used: np.ndarray) -> np.ndarray:
        return self._apply(survival, gaps_used, inverse=False)

    def inverse(self, calibrated: np.ndarray, gaps_used: np.ndarray) -> np.ndarray:
        return self._apply(calibrated, gaps_used, inverse=True)

    def _apply(self, values: np.ndarray, gaps_used: np.ndarray, inverse: bool) -> np.ndarray:
        values = np.array(np.broadcast_to(np.asarray(values, dtype=float), np.shape(gaps_used)))
        band = _band(gaps_used)
        for b in np.unique(band):
            curve = self._curve(b)
            if curve is not None:
                rows = band == b
                x, y = curve if not inverse else curve[::-1]
                values[rows] = np.interp(values[rows], x, y)
        return values

    def __repr__(self) -> str:
        return f"Calibration({', '.join(f'band {b}: {v.size:,} gaps' for b, v in self.knots.items()) or 'identity'})"


def _kept_ranks(sizes: list[int], rng: np.random.Generator) -> dict[int | None, np.ndarray]:
    """For each band of ``sizes`` rows, the ranks (within the band) of the rows it keeps: every one, or a random
    ``_MAX_CALIBRATION_GAPS``; none under ``_MIN_CALIBRATION_GAPS``. When every band is that small, all the rows
    as one (key None, ranks among all rows)."""
    kept: dict[int | None, np.ndarray] = {}
    for b, size in enumerate(sizes):
        if size >= _MIN_CALIBRATION_GAPS:
            many = size > _MAX_CALIBRATION_GAPS
            kept[b] = rng.choice(size, _MAX_CALIBRATION_GAPS, replace=False) if many else np.arange(size)
    if not kept and sum(sizes) >= _MIN_CALIBRATION_GAPS:
        kept[None] = np.arange(sum(sizes))
    return kept


def _band(gaps_used: np.ndarray) -> np.ndarray:
    return np.searchsorted(CALIBRATION_BANDS, np.asarray(gaps_used), side="right") - 1


class GapPredictive:
    """Each open gap's distribution if the member is still active: log-Student-t, then calibrated.

    ``log T ~ location + scale * t(df)``; survival ``S(t) = H(P_t(T > t))``
    with ``H`` the ``Calibration`` of the member's band (identity if None).
    """

    def __init__(self, location, scale, df, gaps_used, calibration: Calibration | None = None):
        self.location = np.asarray(location, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.df = np.asarray(df, dtype=float)
        self.gaps_used = np.asarray(gaps_used)
        self.calibration = calibration or Calibration({})

    def survival(self, days) -> np.ndarray:
        """``P(T > days)``; 1 for days <= 0. ``days`` broadcasts against the members."""
        days, location, scale, df, used = np.broadcast_arrays(
            np.asarray(days, dtype=float), self.location, self.scale, self.df, self.gaps_used
        )
        with np.errstate(divide="ignore"):
            z = (np.log(np.where(days > 0, days, 1.0)) - location) / scale
        raw = np.where(days > 0, stats.t.sf(z, df), 1.0)
        return self.calibration.forward(raw, used)

    def days_at(self, survival) -> np.ndarray:
        """The day ``t`` with ``S(t) = survival`` (the survival quantile)."""
        survival, location, scale, df, used = np.broadcast_arrays(
            np.asarray(survival, dtype=float), self.location, self.scale, self.df, self.gaps_used
        )
        raw = self.calibration.inverse(survival, used)
        return np.exp(location + scale * stats.t.isf(raw, df))

    def median(self) -> np.ndarray:
        return self.days_at(0.5)

    def conditional_survival(self, extra, elapsed) -> np.ndarray:
        """``P(T > elapsed + extra | T > elapsed)``: for a member still waiting after ``elapsed`` days."""
        elapsed = np.asarray(elapsed, dtype=float)
        waited = self.survival(elapsed)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(waited > 0, self.survival(elapsed + np.asarray(extra, dtype=float)) / waited, 0.0)

    def conditional_quantile(self, p: float, elapsed) -> np.ndarray:
        """Days beyond ``elapsed`` within which a still-waiting active member buys with probability ``p``."""
        elapsed = np.asarray(elapsed, dtype=float)
        return np.maximum(self.days_at((1 - p) * self.survival(elapsed)) - elapsed, 0.0)
