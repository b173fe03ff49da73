"""Would the forecast gain from analogues spread in time? The skill ledger, replayed with spread analogues.

    python bench/spread_forecast.py --db-url sqlite:////path/demo.db                 # as ranked, 1 and 30 days
    python bench/spread_forecast.py --db-url ... --spreads 0,30 --every 8

The app's forecast of a state's 91-day max drawdown leans on current volatility and lets the
median of its 200 point-in-time analogues adjust it (prometheus/forecasting/drawdown_model.py).
The plain median of 20 analogues ranks what followed better when they are spread in time
(bench/spread_skill.py: 30 days apart +0.062 Spearman). This replays the whole forecast book, pool,
fits and skill ledger as the app builds them, with each pool state's 200 analogues taken spread
``N`` days apart instead (the same candidates: dated on or before D - 91 days with a known outcome,
own book included), and prints the ledger's figures beside volatility alone. Nothing is cached and
nothing in the store is written. Spread analogues are ranked one state at a time (about 25 ms each
at the demo's 58k states): about 4 minutes per spread on the demo's 14,488 pool states.

On the demo book (13,520 forecasts, 1992-2017, every 4th date, 2026-12-03), forecast minus volatility
alone: pooled Spearman as ranked (the app) 0.565, -0.006 [-0.023, +0.012]; one per date 0.572,
+0.002 [-0.028, +0.028]; 30 days apart 0.570, -0.000 [-0.024, +0.024]; 91 days 0.570, -0.001
[-0.022, +0.021]; volatility 0.571. Across books on the same date (what the early warning ranks):
as ranked +0.002 [-0.004, +0.008]; one per date +0.014 [+0.008, +0.021]; 30 days +0.012 [+0.007,
+0.018]; 91 days +0.009 [+0.004, +0.015]. Band coverage 81.8 / 77.6 / 80.0 / 82.2%.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from prometheus.config import Settings  # noqa: E402
from prometheus.forecasting.drawdown_model import DrawdownForecaster, summarise_analogues  # noqa: E402
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID  # noqa: E402
from prometheus.keys import join_on_keys  # noqa: E402
from prometheus.search.index import StateIndex  # noqa: E402
from prometheus.search.loading import load_index  # noqa: E402
from prometheus.search.point_in_time import Analogues, candidate_prefix, point_in_time_analogues  # noqa: E402
from prometheus.search.spread import spread_rows  # noqa: E402
from prometheus.services import forecast_book as books  # noqa: E402
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS  # noqa: E402
from prometheus.services.skill import FORECAST, VOLATILITY, skill_ledger  # noqa: E402
from prometheus.store.report_fields import metric, report_fields  # noqa: E402
from prometheus.store.stores import open_stores  # noqa: E402


def spread_analogues(index: StateIndex, pool: np.ndarray, usable: np.ndarray, k: int, apart: int) -> Analogues:
    """Each pool state's ``k`` point-in-time analogues (own book included, a known outcome), spread in time."""
    rows = np.full((pool.size, k), -1, dtype=np.int64)
    cosine = np.full((pool.size, k), np.nan)
    for i, row in enumerate(pool.tolist()):
        cut = candidate_prefix(index, index.dates[row], FORECAST_HORIZON_DAYS)  # index rows are in date order
        candidates = np.zeros(len(index), dtype=bool)
        candidates[:cut] = usable[:cut]
        ranked = spread_rows(index, row, candidates, k, apart)
        rows[i, : ranked.rows.size] = ranked.rows
        cosine[i, : ranked.rows.size] = ranked.cosine
    return Analogues(pool, rows, cosine)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--model-id", default=DEFAULT_JOINT_MODEL_ID)
    parser.add_argument("--every", type=int, default=books.DEFAULT_EVERY, help="the pool's date spacing (app: 4)")
    parser.add_argument("--spreads", default="0,1,30", help="days apart; 0 is the app's own book")
    args = parser.parse_args(argv)
    stores = open_stores(Settings(db_url=args.db_url))
    index = load_index(stores, args.model_id)
    fields = join_on_keys(
        index.keys_frame(),
        report_fields(stores.runtime, {"volatility_3m": metric("volatility_3m"), "drawdown": metric("drawdown")}),
    )
    volatility = fields["volatility_3m"].to_numpy(dtype=np.float64)
    drawdown = fields["drawdown"].to_numpy(dtype=np.float64)
    outcome = books.forward_drawdowns(stores, index, FORECAST_HORIZON_DAYS)
    pool = np.flatnonzero(np.isin(index.dates, books.grid_dates(index, args.every)))
    usable = np.isfinite(outcome)
    print(f"{pool.size:,} pool states of {len(index):,}, {books.ANALOGUES} analogues each", flush=True)
    built: list[tuple[str, books.ForecastBook, float]] = []
    for apart in (int(s) for s in args.spreads.split(",")):
        began = time.perf_counter()
        if apart == 0:
            found = point_in_time_analogues(
                index, pool, FORECAST_HORIZON_DAYS, books.ANALOGUES, own_book=True, usable=usable
            )
        else:
            found = spread_analogues(index, pool, usable, books.ANALOGUES, apart)
        summary = summarise_analogues(found.values(outcome), found.values(volatility), books.TAIL)
        forecaster = DrawdownForecaster(horizon_days=FORECAST_HORIZON_DAYS, tail=books.TAIL).fit(
            index.dates[pool], outcome[pool], volatility[pool], summary
        )
        book = books.ForecastBook(
            args.model_id,
            FORECAST_HORIZON_DAYS,
            args.every,
            index,
            volatility,
            drawdown,
            outcome,
            pool,
            summary,
            forecaster,
        )
        name = "as ranked (the app)" if apart == 0 else "one per date" if apart == 1 else f"{apart} days apart"
        built.append((name, book, time.perf_counter() - began))
    # The same queries for every row: a spread book may have no forecast on the first dates (too few
    # analogues far enough apart), so every ledger starts where the last of them starts.
    first = max((skill_ledger(book).first for _, book, _ in built), default=None, key=lambda d: d or date.min)
    ledgers = [(name, skill_ledger(book, start=first), took) for name, book, took in built]
    counts = {ledger.count for _, ledger, _ in ledgers}
    print("| analogues | forecast Spearman | minus volatility | per date | minus volatility | band coverage | s |")
    print("|---|---|---|---|---|---|---:|")
    for name, ledger, took in ledgers:
        forecast = ledger.skills[FORECAST]
        pooled, per_date = ledger.difference("spearman"), ledger.difference("per_date")
        coverage = f"{forecast.coverage.value:.1%}" if forecast.coverage is not None else ""
        print(
            f"| {name} | {forecast.spearman.value:.3f} [{forecast.spearman.low:.3f}, {forecast.spearman.high:.3f}] "
            f"| {pooled.value:+.3f} [{pooled.low:+.3f}, {pooled.high:+.3f}] "
            f"| {forecast.per_date.value:.3f} | {per_date.value:+.3f} [{per_date.low:+.3f}, {per_date.high:+.3f}] "
            f"| {coverage} | {took:.0f} |"
        )
    last = ledgers[-1][1]
    alone = last.skills[VOLATILITY]
    print(
        f"| volatility alone | {alone.spearman.value:.3f} [{alone.spearman.low:.3f}, {alone.spearman.high:.3f}] "
        f"| | {alone.per_date.value:.3f} | | | |"
    )
    same = "" if len(counts) == 1 else f" (NOT the same queries: {sorted(counts)})"
    print(f"{last.count:,} forecasts scored, {last.first} to {last.last}{same}")
    stores.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
