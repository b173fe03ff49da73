"""Embed numeric portfolio states into the joint space."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID
from prometheus.joint.registry import DEFAULT_JOINT_MODEL_ID
from prometheus.scripts._backfill_common import add_selection_args, report, request_from
from prometheus.scripts._cli import ProgressBar, add_db_args, entry, make_parser, open_command_stores
from prometheus.services.backfill import backfill_joint

EXAMPLES = """\
  python -m prometheus.scripts.backfill_joint_portfolios \\
    --as-of 2025-01-31 --numeric-model-id num-portfolio-core-v1 \\
    --joint-model-id joint-portfolio-core-v1 --limit 100
  python -m prometheus.scripts.backfill_joint_portfolios --start 1995-01-01 --end 2018-12-31
exit codes: 0 done, 2 error
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "backfill_joint_portfolios",
        "Write joint embeddings (joint_embeddings) from stored numeric portfolio embeddings.",
        EXAMPLES,
    )
    parser.add_argument(
        "--numeric-model-id",
        default=NUMERIC_PORTFOLIO_MODEL_ID,
        help=f"numeric model whose states are read (default: {NUMERIC_PORTFOLIO_MODEL_ID})",
    )
    parser.add_argument(
        "--joint-model-id",
        default=DEFAULT_JOINT_MODEL_ID,
        help=f"joint model to write (default: {DEFAULT_JOINT_MODEL_ID})",
    )
    add_selection_args(parser, "numeric states to embed")
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_writable()
    stores = open_command_stores(settings)
    bar = ProgressBar("joint backfill")
    try:
        summary = backfill_joint(stores, args.numeric_model_id, args.joint_model_id, request_from(args), progress=bar)
    finally:
        bar.close()
    return report(summary)


if __name__ == "__main__":
    entry(build_parser, main)
