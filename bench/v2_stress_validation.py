"""Does v2's training-window stress term carry over to a crisis it has not seen? Leave one crisis out, before 2005.

    python bench/v2_stress_validation.py --db-url sqlite:////path/demo.db                 # weights 0 and 1
    python bench/v2_stress_validation.py --db-url ... --weights 0,1,3,10 --fit '{"exponent_step": 0.25}'

For each stress episode ended by the training end (1990, 1998, 2000-02 for 2004-12-31) and each
stress weight: fit v2 to the training end with that episode's labels hidden from the stress term
(its states are neither queries nor candidates of the term), embed every state, then score the
hidden episode's stress states with the published protocol (10 nearest among other books, own
episode and +-91 days left out) among states dated up to the training end. Prints one row per
weight: the held-out share per episode and their mean, beside v1's. Nothing after the training end
is read. On the demo book, with --fit '{"prior": "blocks"}' (v2's prior until the temporal shares):
12.2% (weight 0), 11.9% (1), 11.2% (3), 6.6% (10); v1 12.9%. With today's default prior, weight 0:
13.9% (1990 27.1%, 1998 11.7%, 2000-02 2.8%).
About 5 minutes per fit on a busy 2-core machine (weight 0, three fits: 6 minutes at load 4-7).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import prometheus.joint.core_v2_fit as fitting  # noqa: E402
from prometheus.config import Settings  # noqa: E402
from prometheus.joint.core_v2 import CoreV2Model  # noqa: E402
from prometheus.joint.core_v2_stress import known_episodes, stress_share  # noqa: E402
from prometheus.joint.writer import report_values  # noqa: E402
from prometheus.search.loading import load_index  # noqa: E402
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS, forward_outcomes  # noqa: E402
from prometheus.store.stores import open_stores  # noqa: E402
from prometheus.stress import episode_ids, stress_episodes, stress_mask  # noqa: E402

HIDDEN = -2  # an episode left out: neither stress nor calm for the fit's term


def _hide(episode: int) -> None:
    """Make the fitter's stress term blind to one episode (this script only)."""

    def known(day: np.ndarray, train_end: int) -> np.ndarray:
        ids = known_episodes(day, train_end)
        ids[ids == episode] = HIDDEN
        return ids

    def share(
        unit: np.ndarray, day: np.ndarray, book: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int, gap: int
    ) -> float:
        keep = np.flatnonzero(ids != HIDDEN)
        position = np.full(ids.size, -1)
        position[keep] = np.arange(keep.size)
        return stress_share(unit[keep], day[keep], book[keep], ids[keep], position[queries], k, gap)

    fitting.known_episodes = known  # type: ignore[assignment]
    fitting.stress_share = share  # type: ignore[assignment]


def held_out_share(vectors: np.ndarray, day: np.ndarray, book: np.ndarray, number: int, end: np.datetime64) -> float:
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    stressed, episodes = stress_mask(day), episode_ids(day)
    stamps = day.astype(np.int64)
    pool = day <= end
    shares = []
    for row in np.flatnonzero(episodes == number):
        similarity = unit @ unit[row]
        allowed = pool & (book != book[row]) & (episodes != number) & (np.abs(stamps - stamps[row]) > 91)
        candidates = np.flatnonzero(allowed)
        top = candidates[np.argsort(-similarity[candidates], kind="stable")[:10]]
        shares.append(stressed[top].mean())
    return float(np.mean(shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--train-end", default="2004-12-31")
    parser.add_argument("--weights", default="0,1")
    parser.add_argument("--fit", default="{}", help="other CoreV2Fitter hyperparameters, as JSON")
    args = parser.parse_args()
    stores = open_stores(Settings(db_url=args.db_url))
    keys = stores.numeric.keys("num-portfolio-core-v1")
    states = list(zip(keys["portfolio_id"], keys["as_of_date"], strict=True))
    x = report_values(stores, states)
    y = forward_outcomes(stores, states, (FORECAST_HORIZON_DAYS,))[f"fwd_max_drawdown_{FORECAST_HORIZON_DAYS}d"]
    day = np.array([d for _, d in states], dtype="datetime64[D]")
    book = np.unique(np.array([p for p, _ in states]), return_inverse=True)[1]
    end = np.datetime64(args.train_end, "D")
    known = [n for n, e in enumerate(stress_episodes()) if np.datetime64(e.end, "D") <= end]
    v1 = load_index(stores, "joint-portfolio-core-v1")
    v1_rows = {
        (p, d): i
        for i, (p, d) in enumerate(zip(v1.keys_frame()["portfolio_id"], v1.keys_frame()["as_of_date"], strict=True))
    }
    v1_matrix = np.asarray(v1.matrix, dtype=np.float64)[[v1_rows[s] for s in states]]
    rows = [("v1", [held_out_share(v1_matrix, day, book, n, end) for n in known])]
    for weight in (float(w) for w in args.weights.split(",")):
        shares = []
        for number in known:
            _hide(number)
            fitter = fitting.CoreV2Fitter(train_end=args.train_end, stress_weight=weight, **json.loads(args.fit))
            parameters = fitter.fit(x, day, np.array([p for p, _ in states]), y.to_numpy(dtype=np.float64))
            vectors = CoreV2Model(parameters, "validation").transform_values(x).astype(np.float64)
            shares.append(held_out_share(vectors, day, book, number, end))
        rows.append((f"stress_weight {weight:g}", shares))
    names = " / ".join(stress_episodes()[n].start.isoformat()[:4] for n in known)
    print(f"held-out share of stress neighbours ({names}, mean), fitted to {args.train_end}, {date.today()}:")
    for name, shares in rows:
        print(f"  {name}: {' / '.join(f'{s:.1%}' for s in shares)}, mean {np.mean(shares):.1%}")
    stores.dispose()


if __name__ == "__main__":
    main()
