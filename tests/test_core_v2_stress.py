"""v2's training-window stress figure: only episodes known by the training end; the published protocol's exclusions."""

from __future__ import annotations

import numpy as np

from prometheus.joint.core_v2_fit import temporal_shares
from prometheus.joint.core_v2_stress import known_episodes, stress_queries, stress_share
from prometheus.stress import honest_exclusions, stress_episodes


def _days(*isodates: str) -> np.ndarray:
    return np.array(isodates, dtype="datetime64[D]").astype(np.int64)


def _stamp(isodate: str) -> int:
    return int(np.datetime64(isodate, "D").astype(np.int64))


def test_only_episodes_ended_by_the_training_end_are_known() -> None:
    day = _days("1990-08-01", "1995-06-01", "1998-08-03", "2000-06-01", "2001-09-20")
    starts = [e.start.isoformat() for e in stress_episodes()]
    gulf, ltcm, dotcom = (starts.index(s) for s in ("1990-07-16", "1998-07-17", "2000-03-10"))
    # the dot-com episode was still open in mid 2000: not yet a known episode, neither query nor hit
    assert known_episodes(day, _stamp("2000-06-30")).tolist() == [gulf, -1, ltcm, -1, -1]
    assert known_episodes(day, _stamp("2004-12-31")).tolist() == [gulf, -1, ltcm, dotcom, dotcom]
    assert known_episodes(day, _stamp("1998-09-30")).tolist() == [gulf, -1, -1, -1, -1]


def _unit(*rows: tuple[float, float, float]) -> np.ndarray:
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_the_stress_share_leaves_out_own_book_own_episode_and_close_dates() -> None:
    # rows: 0 query (book 0, episode 0); 1 its own book, calm, identical vector; 2 another book, calm, 30 days
    # away, identical vector; 3 another book, its own episode, identical; 4-5 other books, episode 1, close;
    # 6-7 other books, calm, far in time, orthogonal
    day = _days(
        "1990-08-01", "1994-01-03", "1990-08-31", "1990-08-08", "1998-08-03", "1998-08-10", "1995-01-02", "1996-01-01"
    )
    book = np.array([0, 0, 1, 2, 1, 2, 1, 2])
    episode = np.array([0, -1, -1, 0, 1, 1, -1, -1])
    near, far = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)
    unit = _unit(near, near, near, near, (0.8, 0.6, 0.0), (0.8, 0.6, 0.0), far, far)
    queries = np.array([0])
    # the two eligible stress states are the nearest eligible ones: every neighbour is a stress state
    assert stress_share(unit, day, book, episode, queries, 2, 91) == 1.0
    # with k = 4 the two calm, far states come in: half
    assert stress_share(unit, day, book, episode, queries, 4, 91) == 0.5
    # without the 91-day gap the calm state 30 days away is the nearest: one of two
    assert stress_share(unit, day, book, episode, queries, 2, 0) == 0.5


def test_each_episode_weighs_the_same_and_one_episode_gives_no_figure() -> None:
    # episode 0 has three queries finding stress, episode 1 one query finding only calm states
    day = _days("1990-08-01", "1990-08-01", "1990-08-01", "1998-08-03", "1994-01-03", "1994-01-03")
    book = np.array([0, 1, 2, 3, 4, 5])
    episode = np.array([0, 0, 0, 1, -1, -1])
    stress_vec, between, calm_vec = (1.0, 0.0, 0.0), (0.6, 0.8, 0.0), (0.0, 1.0, 0.0)
    unit = _unit(stress_vec, stress_vec, stress_vec, between, calm_vec, calm_vec)
    everything = stress_queries(day, episode, 1)
    assert everything.tolist() == [0, 1, 2, 3]
    # episode 0's queries: nearest of other books and episodes is the episode-1 state (stress): 1.0;
    # episode 1's query: the two calm states are nearer than episode 0's: 0.0. Balanced: 0.5, not 0.75
    assert stress_share(unit, day, book, episode, everything, 1, 91) == 0.5
    assert np.isnan(stress_share(unit, day, book, np.array([0, 0, 0, -1, -1, -1]), np.array([0, 1, 2]), 1, 91))


def test_a_fit_with_the_stress_term_is_deterministic_and_reports_it() -> None:
    from prometheus.joint.core_v2_fit import FEATURE_NAMES, CoreV2Fitter

    rng = np.random.default_rng(3)
    dates = np.arange(np.datetime64("1989-01-06"), np.datetime64("1999-12-31"), 7)
    books = 8
    day = np.repeat(dates, books)
    ids = np.tile([f"B{b}" for b in range(books)], dates.size)
    values = rng.normal(1.0, 0.3, (day.size, len(FEATURE_NAMES)))
    outcomes = -np.abs(rng.normal(0.05, 0.03, day.size))
    fitter = CoreV2Fitter(train_end="1999-12-31", stress_weight=1.0, max_sweeps=1, query_stride=8)
    one, two = (fitter.fit(values, day, ids, outcomes) for _ in range(2))
    assert one.to_json() == two.to_json()  # byte-identical: nothing random, ties kept
    assert one.hyperparameters["stress_weight"] == 1.0
    # both episodes ended by the training end (1990, 1998) were queried
    assert one.fit_report["stress_queries"] > 0 and 0.0 <= one.fit_report["stress_share_prior"] <= 1.0
    # with the training end before 1998's episode ended, only 1990 is known: no figure, no term, no report
    early = CoreV2Fitter(train_end="1998-09-30", stress_weight=1.0, max_sweeps=1, query_stride=8)
    assert "stress_queries" not in early.fit(values, day, ids, outcomes).fit_report


def _exclusions_by_definition(
    rows: np.ndarray, books: np.ndarray, episodes: np.ndarray, days: np.ndarray, gap: int
) -> np.ndarray:
    same = (books[rows][:, None] == books[None, :]) | (episodes[rows][:, None] == episodes[None, :])
    return same | (np.abs(days[rows][:, None] - days[None, :]) <= gap)


def test_the_exclusions_over_states_in_date_order_are_the_definitions() -> None:
    """The sliced path (states in date order) leaves out exactly what the three comparisons do."""
    rng = np.random.default_rng(5)
    for trial in range(300):
        n = int(rng.integers(1, 90))
        days = np.sort(rng.integers(0, 400, size=n))
        if trial % 3 == 0:
            days = rng.integers(0, 400, size=n)  # not in date order: the general path
        books = rng.integers(0, 4, size=n)
        episodes = np.full(n, -1)
        for number, (start, end) in enumerate([(20, 60), (150, 151), (200, 330)]):
            episodes[(days >= start) & (days <= end)] = number
        if trial % 5 == 0 and n > 3:
            episodes[rng.integers(0, n)] = 7  # an episode whose states are not one run of columns
            episodes[rng.integers(0, n)] = 7
        rows = rng.integers(0, n, size=int(rng.integers(1, 12)))
        gap = int(rng.integers(0, 60))
        expected = _exclusions_by_definition(rows, books, episodes, days, gap)
        assert np.array_equal(honest_exclusions(rows, books, episodes, days, gap), expected), trial


def test_temporal_shares_tell_a_books_fixed_traits_from_what_books_go_through_together() -> None:
    rng = np.random.default_rng(3)
    book = np.repeat(np.arange(8), 50)
    time = np.tile(np.arange(50), 8)
    market = rng.normal(size=50)[time]  # every book at once: all change over time
    trait = rng.normal(size=8)[book]  # one value per book, never moving: all between books
    mixed = trait + market
    shares = temporal_shares(np.column_stack([market, trait, mixed, np.zeros(400)]), book)
    assert shares[0] > 0.999 and shares[1] < 1e-12 and 0.2 < shares[2] < 0.8 and shares[3] == 0.0
