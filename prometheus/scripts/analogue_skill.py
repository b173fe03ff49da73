"""The skill ledger: how well the product's point-in-time forecasts ranked and sized what followed."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from prometheus.config import Settings
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID
from prometheus.scripts._cli import (
    EXIT_OK,
    add_db_args,
    bounded_int,
    date_arg,
    entry,
    make_parser,
    open_command_stores,
    say,
    write_csv,
)
from prometheus.services.forecast_book import DEFAULT_EVERY
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS, MAX_HORIZON_DAYS
from prometheus.services.skill import LEDGER_HEADER
from prometheus.services.skill_report import FORECASTS_HEADER, forecast_rows, measure_skill, summary_sentence

EXAMPLES = """\
  python -m prometheus.scripts.analogue_skill --model-id joint-portfolio-core-v1
  python -m prometheus.scripts.analogue_skill --start 2000-01-01 --end 2018-12-31 --every 4 \\
    --forecasts forecasts.csv
output: CSV on stdout, header method,metric,estimate,low,high,queries: for the forecast and for
baselines computed at each query's date only (volatility, current drawdown, the median of the
outcomes known then), the pooled and per-date Spearman with the realised forward max drawdown,
the worst-quintile hit rate, the mean absolute error and the 10th-90th band's coverage, each
with a 95% block-bootstrap interval (blocks of one calendar year); then the forecast minus
volatility. A summary line on stderr says whether the forecast beats volatility alone.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "analogue_skill",
        "Replay the product's forecast of the forward max drawdown at past dates, point in time "
        "(analogues whose horizon had ended, fits on outcomes known then), and score it against "
        "what happened and against baselines.",
        EXAMPLES,
    )
    parser.add_argument("--model-id", default=DEFAULT_JOINT_MODEL_ID, help="joint model whose states are the analogues")
    parser.add_argument(
        "--horizon-days",
        type=bounded_int(1, MAX_HORIZON_DAYS),
        default=FORECAST_HORIZON_DAYS,
        help=f"forecast horizon in calendar days (default {FORECAST_HORIZON_DAYS})",
    )
    parser.add_argument(
        "--start", type=date_arg, metavar="YYYY-MM-DD", help="first query date (default: the first forecast)"
    )
    parser.add_argument(
        "--end", type=date_arg, metavar="YYYY-MM-DD", help="last query date (default: the last known outcome)"
    )
    parser.add_argument(
        "--every",
        type=bounded_int(1, 1000),
        default=DEFAULT_EVERY,
        metavar="N",
        help=f"query every Nth stored date (default {DEFAULT_EVERY}, the app's figures; 1 for every date)",
    )
    parser.add_argument(
        "--forecasts",
        type=Path,
        metavar="FILE",
        help="also write one row per query: " + ",".join(FORECASTS_HEADER),
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    stores = open_command_stores(settings)
    ledger, rows = measure_skill(stores, args.model_id, args.horizon_days, args.every, args.start, args.end)
    if args.forecasts is not None:
        with args.forecasts.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows([FORECASTS_HEADER, *forecast_rows(ledger)])
    write_csv(LEDGER_HEADER, rows)
    say(summary_sentence(ledger))
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
