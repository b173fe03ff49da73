"""Fit a joint model on the store's states known by a training end date, and freeze it."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID
from prometheus.joint.core_v2 import CORE_V2_MODEL_ID
from prometheus.scripts._cli import EXIT_OK, add_db_args, date_arg, entry, make_parser, open_command_stores, say
from prometheus.services.fitting import fit_joint_model

EXAMPLES = """\
  python -m prometheus.scripts.fit_joint_model --joint-model-id joint-portfolio-core-v2 \\
    --numeric-model-id num-portfolio-core-v1 --train-end 2004-12-31
  python -m prometheus.scripts.backfill_joint_portfolios --joint-model-id joint-portfolio-core-v2 \\
    --start 1990-01-01 --end 2018-12-31
The fit learns from the states dated on or before --train-end whose forward 91-day outcome was known
by then; the same data give the same fit (stored once). States embedded with an earlier fit keep
their vectors until a backfill rewrites them.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "fit_joint_model",
        "Fit a joint model's parameters (scales and learned feature weights) on the stored states "
        "known by a training end date, store them with their checksum and make them active.",
        EXAMPLES,
    )
    parser.add_argument(
        "--joint-model-id", default=CORE_V2_MODEL_ID, help=f"model to fit (default: {CORE_V2_MODEL_ID})"
    )
    parser.add_argument(
        "--numeric-model-id",
        default=NUMERIC_PORTFOLIO_MODEL_ID,
        help=f"numeric model whose states are the training set (default: {NUMERIC_PORTFOLIO_MODEL_ID})",
    )
    parser.add_argument(
        "--train-end", type=date_arg, required=True, metavar="YYYY-MM-DD", help="the last date the fit may learn from"
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_writable()
    summary = fit_joint_model(open_command_stores(settings), args.joint_model_id, args.numeric_model_id, args.train_end)
    say(summary.line())
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
