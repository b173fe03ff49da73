"""Named historical stress windows, and which dates fall inside them.

The short windows follow pyfolio's "interesting times" list; the longer bear
markets are the ones analysts name for US equities. Dates are inclusive.
These windows are hindsight: each one ends where the market later turned, so
they shade charts of the past and label evaluation sets, but a figure that
speaks about a date's future never reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

from prometheus.top_k import largest_columns


@dataclass(frozen=True)
class StressWindow:
    key: str
    name: str
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


STRESS_WINDOWS: tuple[StressWindow, ...] = (
    StressWindow("gulf_war_1990", "Gulf war sell-off 1990", date(1990, 7, 16), date(1990, 10, 11)),
    StressWindow("ltcm_1998", "LTCM / Russia 1998", date(1998, 7, 17), date(1998, 10, 8)),
    StressWindow("dotcom_2000", "Dot-com crash 2000", date(2000, 3, 10), date(2000, 9, 10)),
    StressWindow("dotcom_bust", "Dot-com bust 2000-02", date(2000, 9, 11), date(2002, 10, 9)),
    StressWindow("sept11_2001", "9/11", date(2001, 9, 11), date(2001, 10, 11)),
    StressWindow("aug07", "Quant crisis Aug 2007", date(2007, 8, 1), date(2007, 9, 1)),
    StressWindow("gfc_2008", "Global financial crisis 2007-09", date(2007, 10, 9), date(2009, 3, 9)),
    StressWindow("lehman_2008", "Lehman Sep-Oct 2008", date(2008, 9, 1), date(2008, 10, 31)),
    StressWindow("flash_crash_2010", "Flash crash 2010", date(2010, 5, 5), date(2010, 5, 10)),
    StressWindow("downgrade_2011", "US downgrade / euro debt 2011", date(2011, 7, 25), date(2011, 10, 3)),
    StressWindow("aug_2015", "China devaluation Aug 2015", date(2015, 8, 10), date(2015, 9, 30)),
    StressWindow("early_2016", "Oil / China early 2016", date(2016, 1, 1), date(2016, 2, 11)),
    StressWindow("feb_2018", "Volmageddon Feb 2018", date(2018, 1, 29), date(2018, 2, 9)),
    StressWindow("q4_2018", "Q4 2018 sell-off", date(2018, 10, 1), date(2018, 12, 24)),
)


def _days(dates: Iterable[date] | np.ndarray) -> np.ndarray:
    return np.asarray(list(dates) if not isinstance(dates, np.ndarray) else dates, dtype="datetime64[D]")


def _inside(days: np.ndarray, window: StressWindow) -> np.ndarray:
    return (days >= np.datetime64(window.start, "D")) & (days <= np.datetime64(window.end, "D"))


def stress_windows_on(day: date) -> list[StressWindow]:
    """Every named window that contains ``day``."""
    return [w for w in STRESS_WINDOWS if w.contains(day)]


def in_stress(day: date) -> bool:
    return any(w.contains(day) for w in STRESS_WINDOWS)


def stress_mask(dates: Iterable[date] | np.ndarray) -> np.ndarray:
    """True for each date inside any named window."""
    days = _days(dates)
    mask = np.zeros(days.shape[0], dtype=bool)
    for window in STRESS_WINDOWS:
        mask |= _inside(days, window)
    return mask


def window_names(dates: Iterable[date] | np.ndarray) -> np.ndarray:
    """The name of the first window (in STRESS_WINDOWS order) containing each date, or ""."""
    days = _days(dates)
    names = np.full(days.shape[0], "", dtype=object)
    unset = np.ones(days.shape[0], dtype=bool)
    for window in STRESS_WINDOWS:
        inside = unset & _inside(days, window)
        names[inside] = window.name
        unset &= ~inside
    return names


def windows_between(start: date, end: date) -> list[StressWindow]:
    """Named windows that overlap [start, end], for shading a chart."""
    return [w for w in STRESS_WINDOWS if w.end >= start and w.start <= end]


@dataclass(frozen=True)
class StressEpisode:
    """Overlapping named windows merged into one span (the GFC holds Aug07 .. Lehman .. 2009)."""

    start: date
    end: date


def stress_episodes() -> list[StressEpisode]:
    """The union of overlapping or touching windows, in date order."""
    episodes: list[StressEpisode] = []
    for window in sorted(STRESS_WINDOWS, key=lambda w: w.start):
        if episodes and window.start.toordinal() <= episodes[-1].end.toordinal() + 1:
            last = episodes[-1]
            episodes[-1] = StressEpisode(last.start, max(last.end, window.end))
        else:
            episodes.append(StressEpisode(window.start, window.end))
    return episodes


def episode_ids(dates: Iterable[date] | np.ndarray, ended_by: np.datetime64 | None = None) -> np.ndarray:
    """For each date, the index of its stress episode in :func:`stress_episodes`, or -1 outside every window
    (``ended_by``: only episodes that had ended by then count, as a fit on a training window must see them)."""
    days = _days(dates)
    ids = np.full(days.shape[0], -1, dtype=np.int64)
    for number, episode in enumerate(stress_episodes()):
        if ended_by is not None and np.datetime64(episode.end, "D") > ended_by:
            continue
        ids[(days >= np.datetime64(episode.start, "D")) & (days <= np.datetime64(episode.end, "D"))] = number
    return ids


def honest_exclusions(
    rows: np.ndarray, books: np.ndarray, episodes: np.ndarray, days: np.ndarray, gap_days: int
) -> np.ndarray:
    """(len(rows), n): True where a state may not be a neighbour of the query row in the honest stress
    figure: the query's own book, its own stress episode, or within ``gap_days`` of its date (``days``
    as integers). Without these an index that knows only the date scores 100%."""
    excluded = books[rows][:, None] == books[None, :]
    if days.size > 1 and bool(np.any(days[1:] < days[:-1])):
        excluded |= episodes[rows][:, None] == episodes[None, :]
        excluded |= np.abs(days[rows][:, None] - days[None, :]) <= gap_days
        return excluded
    # States in date order (every index is): the query's window and its own episode are runs of
    # columns, set by slicing instead of two more full comparisons: in the demo's quality run
    # (81 chunks of 128 queries x 57,952 states) this took 5.0 s, now 0.4 s (profiled).
    low = np.searchsorted(days, days[rows] - gap_days, side="left")
    high = np.searchsorted(days, days[rows] + gap_days, side="right")
    runs = _episode_runs(episodes)
    for i, row in enumerate(rows):
        excluded[i, low[i] : high[i]] = True
        run = runs.get(int(episodes[row]))
        if run is None:  # outside every window (or an episode not in one run): compare the whole row
            excluded[i] |= episodes == episodes[row]
        else:
            excluded[i, run[0] : run[1]] = True
    return excluded


def _episode_runs(episodes: np.ndarray) -> dict[int, tuple[int, int]]:
    """Each episode id (>= 0) whose states form one run of columns, as (first, end)."""
    runs: dict[int, tuple[int, int]] = {}
    for episode in np.unique(episodes[episodes >= 0]):
        where = np.flatnonzero(episodes == episode)
        if where[-1] - where[0] + 1 == where.size:
            runs[int(episode)] = (int(where[0]), int(where[-1]) + 1)
    return runs


def stress_neighbour_shares(scores: np.ndarray, excluded: np.ndarray, stressed: np.ndarray, k: int) -> np.ndarray:
    """Per query row of ``scores`` (higher is nearer; overwritten with -inf where ``excluded``), the share
    of its ``k`` nearest allowed states that are ``stressed``; NaN where none is allowed.

    States tied with the k-th nearest share its last places evenly (the share expected if the tie were
    broken at random): the date-only baseline ties whole dates of books, some before and some after
    the query, and a tie broken by the partition's internals moved its demo figure from 2.9% to 3.4%.
    """
    np.putmask(scores, excluded, -np.inf)
    k = min(k, scores.shape[1])
    if k < 1:
        return np.full(scores.shape[0], np.nan)
    rows = scores.shape[0]
    kth = np.take_along_axis(scores, largest_columns(scores, k), axis=1).min(axis=1)
    # Only the few states at or above the k-th are looked at (one comparison over the block); where
    # fewer than k are allowed (k-th is -inf) those are every finite score.
    floor = np.where(np.isfinite(kth), kth, np.finfo(scores.dtype).min)
    # flatnonzero: 1 ms on 128 x 57,952 scores where 2-d nonzero took 20 ms
    row, column = np.divmod(np.flatnonzero(scores >= floor[:, None]), scores.shape[1])
    value = scores[row, column]
    above = value > kth[row]
    tied = value == kth[row]
    hit = stressed[column]
    above_count = np.bincount(row[above], minlength=rows)
    tied_count = np.bincount(row[tied], minlength=rows)
    places = np.minimum(k - above_count, tied_count)  # the places the tied states share
    counts = above_count + places
    tied_hits = np.bincount(row[tied & hit], minlength=rows)
    hits = np.bincount(row[above & hit], minlength=rows) + places * tied_hits / np.maximum(tied_count, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, hits / counts, np.nan)


# Stress known on the day itself (no hindsight): how far the market, or the book when no benchmark
# is reported, stood below its highest value so far. 10% is a correction, 20% a bear market.
CORRECTION = -0.10
BEAR_MARKET = -0.20


def known_stress_labels(benchmark_drawdowns: np.ndarray, own_drawdowns: np.ndarray) -> np.ndarray:
    """For each state, its stress as known on its date, e.g. "benchmark 23% below its peak"; "" when calm."""
    market = np.asarray(benchmark_drawdowns, dtype=np.float64)
    own = np.asarray(own_drawdowns, dtype=np.float64)
    use_market = np.isfinite(market)
    depth = np.where(use_market, market, own)
    labels = np.full(depth.shape[0], "", dtype=object)
    for i in np.flatnonzero(np.isfinite(depth) & (depth <= CORRECTION)):
        who = "benchmark" if use_market[i] else "book"
        kind = "bear market" if depth[i] <= BEAR_MARKET else "correction"
        labels[i] = f"{who} {-depth[i]:.0%} below its peak ({kind})"
    return labels
