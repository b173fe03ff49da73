"""Embedding quality, measured so that closeness in time earns nothing.

For every state dated inside a named stress window (hindsight labels are fine
here: this evaluates the space, it forecasts nothing), take its k nearest
neighbours among OTHER books, leaving out every state of the query's own
stress episode (overlapping windows merged: Aug07 .. Lehman .. 2009 is one) and
anything within ``gap_days`` of the query's date. The figure is the share of
those neighbours that are stress states too, against the base rate.

Without those exclusions an index that knows only the date scored 100% (the
same crisis, other books), and 54% of the "beyond 30 days" neighbours came
from the query's own crisis. The same queries are answered in the same run by
baselines: the date alone, volatility and drawdown alone, and every raw
report feature z-scored; a model is worth its space only if it beats them.
Another model may answer the same queries too (``against``): the difference
of the two shares, query by query, is what says whether one is better (over
the states both models hold, when they hold different ones).
Intervals are 95% block bootstraps over the queries' calendar years.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from prometheus.encoders.numeric import numeric_encoder
from prometheus.errors import InvalidInput, InvalidSetting, Setting
from prometheus.joint.registry import joint_model
from prometheus.keys import join_on_keys
from prometheus.search.index import StateIndex
from prometheus.search.loading import load_index
from prometheus.store.report_fields import block_values
from prometheus.store.stores import Stores
from prometheus.stress import episode_ids, honest_exclusions, stress_mask, stress_neighbour_shares

QUERY_CHUNK = 128  # 128 x 58k float32 scores: 30 MB, reused from the allocator rather than mapped afresh
BOOTSTRAP_SAMPLES = 1000
DATE_ONLY = "date only"
VOLATILITY_AND_DRAWDOWN = "volatility and drawdown (z-scored)"
EVERY_FEATURE = "every report feature (z-scored)"


@dataclass(frozen=True)
class MethodQuality:
    method: str
    share: float  # of the neighbours, the share that are stress states
    low: float  # 95% block-bootstrap interval of the share
    high: float
    base_rate: float

    @property
    def lift(self) -> float:
        return self.share / self.base_rate if self.base_rate else float("nan")

    def line(self) -> str:
        return f"{self.method}: {self.share:.1%} [{self.low:.1%}, {self.high:.1%}] = {self.lift:.2f}x the base rate"


@dataclass(frozen=True)
class Comparison:
    """The model against another model on the same queries: the mean of their per-query difference."""

    other: MethodQuality
    difference: float  # the model's share minus the other's, mean over the queries both answered
    low: float  # 95% block-bootstrap interval of the difference
    high: float
    higher: int  # queries where the model's share is higher
    lower: int
    level: int

    @property
    def verdict(self) -> str:
        """ "higher" or "lower" (the model's share, when the interval of the difference excludes 0), or "level"."""
        return "higher" if self.low > 0 else "lower" if self.high < 0 else "level"

    def lines(self, model_id: str, queries: int) -> list[str]:
        if self.verdict == "level":
            verdict = f"the interval of the difference includes 0: {model_id} is level with {self.other.method} here"
        else:
            better, worse = (model_id, self.other.method) if self.verdict == "higher" else (self.other.method, model_id)
            verdict = f"{better} is better than {worse} on this figure (the interval of the difference excludes 0)"
        return [
            f"the same {queries:,} queries answered by {self.other.method}:",
            f"  {self.other.line()}",
            f"  {model_id} minus {self.other.method}: {self.difference * 100:+.1f} "
            f"[{self.low * 100:+.1f}, {self.high * 100:+.1f}] points (higher on {self.higher:,} queries, "
            f"lower on {self.lower:,}, level on {self.level:,})",
            verdict,
        ]


@dataclass(frozen=True)
class SharedStates:
    """Two models holding different states are compared on the states both hold: every figure is over these."""

    model_states: int
    other_states: int
    both: int


@dataclass(frozen=True)
class QualityReport:
    model_id: str
    start: date | None
    states: int
    stress_states: int
    base_rate: float
    k: int
    gap_days: int
    methods: list[MethodQuality]  # the model first, then the baselines
    comparison: Comparison | None = None  # another model on the same queries, if one was asked for
    # The first day no compared fitted model has seen, when the queries start before it (in sample)
    unseen_from: date | None = None
    shared: SharedStates | None = None  # set when the two models' states differ: the run is over the common ones

    @property
    def model(self) -> MethodQuality:
        return self.methods[0]

    def beaten_by(self) -> list[str]:
        """Baselines whose share is at least the model's."""
        return [m.method for m in self.methods[1:] if m.share >= self.model.share]

    def lines(self) -> list[str]:
        since = f" dated on or after {self.start.isoformat()}" if self.start is not None else ""
        head = [
            f"states: {self.states}, in named stress windows{since}: {self.stress_states} "
            f"(base rate {self.base_rate:.1%})",
            f"stress states' {self.k} nearest neighbours among other books, leaving out the query's own "
            f"stress episode and anything within {self.gap_days} days, that are stress states too:",
        ]
        body = [f"  {m.line()}" for m in self.methods]
        beaten = self.beaten_by()
        verdict = (
            f"{self.model_id} does not beat: {', '.join(beaten)}" if beaten else f"{self.model_id} beats every baseline"
        )
        compared = self.comparison.lines(self.model_id, self.stress_states) if self.comparison else []
        if self.shared is not None and self.comparison is not None:
            head.insert(0, self.shared_line(self.comparison.other.method))
        caution = []
        if self.unseen_from is not None:
            caution = [
                f"in sample: the queries include states a compared model was fitted on (up to "
                f"{(self.unseen_from - timedelta(days=1)).isoformat()}); queries from "
                f"{self.unseen_from.isoformat()} on score only what it has not seen"
            ]
        return [*head, *body, verdict, *caution, *compared]

    def shared_line(self, other: str) -> str:
        shared = self.shared
        assert shared is not None
        return (
            f"over the {shared.both:,} states both models hold ({self.model_id} holds {shared.model_states:,}, "
            f"{other} {shared.other_states:,}): every figure here, the baselines' too, is over these states"
        )


Scorer = Callable[[np.ndarray], np.ndarray]  # query rows -> (len(rows), n) similarity, higher is nearer


def _cosine_scorer(matrix: np.ndarray) -> Scorer:
    data = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    normalised = data / np.where(norms > 0, norms, 1.0)
    return lambda rows: normalised[rows] @ normalised.T


def _zscored(columns: np.ndarray) -> np.ndarray:
    """Each column centred and scaled over all states; a missing value sits at the mean (0)."""
    present = ~np.isnan(columns)
    counts = present.sum(axis=0)
    filled = np.where(present, columns, 0.0)
    mean = filled.sum(axis=0) / np.maximum(counts, 1)
    spread = np.sqrt((np.where(present, columns - mean, 0.0) ** 2).sum(axis=0) / np.maximum(counts, 1))
    z = np.where(present, (columns - mean) / np.where(spread > 0, spread, 1.0), 0.0)
    return z.astype(np.float32)


def _date_scorer(days: np.ndarray) -> Scorer:
    ordinal = days.astype(np.int64).astype(np.float32)
    return lambda rows: -np.abs(ordinal[rows][:, None] - ordinal[None, :])


def _shares(
    scorers: list[Scorer],
    queries: np.ndarray,
    excluded: Callable[[np.ndarray], np.ndarray],
    in_stress: np.ndarray,
    k: int,
) -> np.ndarray:
    """(methods, queries): the share of each query's k nearest eligible neighbours that are stress states.

    NaN where a query has no eligible neighbour. One exclusion mask per chunk of queries serves every method.
    """
    shares = np.full((len(scorers), queries.size), np.nan)
    for begin in range(0, queries.size, QUERY_CHUNK):
        rows = queries[begin : begin + QUERY_CHUNK]
        masked = excluded(rows)
        for m, scorer in enumerate(scorers):
            scores = np.asarray(scorer(rows), dtype=np.float32)
            shares[m, begin : begin + rows.size] = stress_neighbour_shares(scores, masked, in_stress, k)
    return shares


def _bootstrap(shares: np.ndarray, years: np.ndarray, samples: int = BOOTSTRAP_SAMPLES) -> tuple[float, float]:
    """95% interval of the mean share, resampling whole calendar years of queries."""
    known = ~np.isnan(shares)
    shares, years = shares[known], years[known]
    distinct = np.unique(years)
    if distinct.size < 2:
        mean = float(shares.mean()) if shares.size else float("nan")
        return mean, mean
    by_year = [shares[years == y] for y in distinct]
    sums = np.array([b.sum() for b in by_year])
    sizes = np.array([b.size for b in by_year])
    rng = np.random.default_rng(0)  # a fixed seed: the same store prints the same interval
    picks = rng.integers(0, distinct.size, size=(samples, distinct.size))
    means = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def _feature_columns(stores: Stores, model_id: str, index: StateIndex) -> tuple[np.ndarray, np.ndarray]:
    """Raw report values of the model's schema features, in index row order; and (vol_3m, drawdown)."""
    schema = numeric_encoder(joint_model(model_id).numeric_model_id).schema
    metrics = [f.key for f in schema.features if f.source == "risk_metrics"]
    sectors = [f.key for f in schema.features if f.source == "exposures_by_sector"]
    factors = [f.key for f in schema.features if f.source == "exposures_by_factor"]
    keys = index.keys_frame()
    frame = join_on_keys(keys, block_values(stores.runtime, metrics, sectors, factors))
    names = [*metrics, *(f"sector:{s}" for s in sectors), *(f"factor:{f}" for f in factors)]
    every = frame[names].to_numpy(dtype=np.float64)
    risk = frame[["volatility_3m", "drawdown"]].to_numpy(dtype=np.float64)
    return every, risk


def out_of_sample_from(stores: Stores, *model_ids: str | None) -> date | None:
    """The first day none of the models has seen: the day after the latest training end of their
    active fits (None: none of them is fitted; None ids are skipped).

    A fitted model scored on the states it was fitted on flatters itself; its honest figure
    starts here.
    """
    fits = [stores.fits.active(m) for m in model_ids if m]
    ends = [fit.train_end for fit in fits if fit is not None]
    return max(ends) + timedelta(days=1) if ends else None


def comparable_models(state_counts: Mapping[str, int], model_id: str) -> list[str]:
    """The other models holding any state: compared on the states both hold (checked when measured)."""
    return [m for m, n in state_counts.items() if m != model_id and n > 0]


def _aligned(
    index: StateIndex, other: StateIndex, model_id: str, against: str
) -> tuple[np.ndarray | None, np.ndarray, SharedStates | None]:
    """The model's rows to score (None: all of them), the other model's vectors in those rows' order, and
    the counts when the two hold different states (then only the states both hold are scored)."""
    mine, theirs = index.keys_frame(), other.keys_frame()
    if mine.equals(theirs):  # nearly always: the same states in the same order, used as stored (no 89 MB copy)
        return None, np.asarray(other.matrix), None
    mine["mine"], theirs["theirs"] = np.arange(len(mine)), np.arange(len(theirs))
    both = mine.merge(theirs, on=["portfolio_id", "as_of_date"], how="inner", sort=False).sort_values("mine")
    if both.empty:
        raise InvalidInput(
            f"{model_id} holds {len(mine):,} states and {against} {len(theirs):,}, none of them the same: "
            "backfill both over the same dates to compare them on the same queries"
        )
    rows, their_rows = both["mine"].to_numpy(dtype=np.int64), both["theirs"].to_numpy(dtype=np.int64)
    aligned = np.asarray(other.matrix)[their_rows]
    if rows.size == len(mine) == len(theirs):  # the same states, stored in another order
        return None, aligned, None
    return rows, aligned, SharedStates(len(mine), len(theirs), int(rows.size))


def _comparison(other: str, shares: np.ndarray, theirs: np.ndarray, years: np.ndarray, base_rate: float) -> Comparison:
    both = ~np.isnan(shares) & ~np.isnan(theirs)
    difference = np.where(both, shares - theirs, np.nan)
    known = difference[both]
    low, high = _bootstrap(difference, years)
    return Comparison(
        _method(other, theirs, years, base_rate),
        float(known.mean()) if known.size else float("nan"),
        low,
        high,
        int((known > 0).sum()),
        int((known < 0).sum()),
        int((known == 0).sum()),
    )


def _method(name: str, shares: np.ndarray, years: np.ndarray, base_rate: float) -> MethodQuality:
    known = shares[~np.isnan(shares)]
    low, high = _bootstrap(shares, years)
    return MethodQuality(name, float(known.mean()) if known.size else float("nan"), low, high, base_rate)


def embedding_quality(
    stores: Stores,
    model_id: str,
    k: int = 10,
    gap_days: int = 91,
    start: date | None = None,
    against: str | None = None,
) -> QualityReport:
    """The honest quality figure of one model's stored states, beside its baselines, in one run.

    ``start``: only stress states dated on or after it are queries (e.g. after a model's training end);
    their neighbours may come from any date. ``against``: another joint model answers the same
    queries, and the report gives the difference with its interval; when the two hold different
    states (one backfilled over fewer dates), every method, the baselines too, runs over the states
    both hold, so that the two models face the same queries and the same candidates.
    """
    if k < 1:
        raise InvalidSetting(Setting("k"), f" must be at least 1, got {k}")
    if gap_days < 0:
        raise InvalidSetting(Setting("min_gap_days"), f" must be 0 or more, got {gap_days}")
    if against is not None:
        joint_model(against)  # an unknown model is refused by name before any work
        if against == model_id:
            raise InvalidSetting(Setting("against"), f" must name another model than {model_id}")
    index = load_index(stores, model_id)
    common: np.ndarray | None = None  # None: every state of the model; else the rows of the states both hold
    other_matrix, shared = None, None
    if against is not None:
        common, other_matrix, shared = _aligned(index, load_index(stores, against), model_id, against)

    def kept(values: np.ndarray) -> np.ndarray:
        return values if common is None else values[common]

    days = kept(index.dates)
    in_stress = stress_mask(days)
    episodes = episode_ids(days)
    queries = np.flatnonzero(in_stress & (days >= np.datetime64(start, "D") if start is not None else in_stress))
    codes = kept(index.portfolio_codes)
    stamps = days.astype(np.int64)

    def excluded(rows: np.ndarray) -> np.ndarray:
        return honest_exclusions(rows, codes, episodes, stamps, gap_days)

    base_rate = float(in_stress.mean()) if days.size else float("nan")
    years = days[queries].astype("datetime64[Y]").astype(np.int64)
    scorers: list[tuple[str, Scorer]] = [(model_id, _cosine_scorer(kept(np.asarray(index.matrix))))]
    if days.size:
        every, risk = _feature_columns(stores, model_id, index)
        scorers += [
            (DATE_ONLY, _date_scorer(days)),
            (VOLATILITY_AND_DRAWDOWN, _cosine_scorer(_zscored(kept(risk)))),
            (EVERY_FEATURE, _cosine_scorer(_zscored(kept(every)))),
        ]
    if against is not None and other_matrix is not None:  # other_matrix is set exactly when against is
        scorers.append((against, _cosine_scorer(other_matrix)))
    all_shares = _shares([scorer for _, scorer in scorers], queries, excluded, in_stress, k)
    comparison = None
    if against is not None:
        comparison = _comparison(against, all_shares[0], all_shares[-1], years, base_rate)
        scorers, all_shares = scorers[:-1], all_shares[:-1]
    methods = [_method(name, shares, years, base_rate) for (name, _), shares in zip(scorers, all_shares, strict=True)]
    unseen = out_of_sample_from(stores, model_id, against)
    in_sample = unseen if unseen is not None and (start is None or start < unseen) else None
    return QualityReport(
        model_id,
        start,
        int(days.size),
        int(queries.size),
        base_rate,
        k,
        gap_days,
        methods,
        comparison,
        in_sample,
        shared,
    )
