"""Encode stored risk reports into numeric portfolio embeddings."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.encoders.numeric import NUMERIC_PORTFOLIO_MODEL_ID
from prometheus.scripts._backfill_common import add_selection_args, report, request_from
from prometheus.scripts._cli import ProgressBar, add_db_args, entry, make_parser, open_command_stores
from prometheus.services.backfill import backfill_numeric

EXAMPLES = """\
  python -m prometheus.scripts.backfill_numeric_portfolio_embeddings \\
    --as-of 2025-01-31 --model-id num-portfolio-core-v1 --limit 100
  python -m prometheus.scripts.backfill_numeric_portfolio_embeddings \\
    --start 2008-01-01 --end 2008-12-31 --portfolio-id PORTFOLIO_CORE_US_EQ_001
exit codes: 0 done, 1 done but some reports were refused (listed on stderr), 2 error
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "backfill_numeric_portfolio_embeddings",
        "Encode portfolio risk reports into numeric embeddings (numeric_window_embeddings). "
        "Reruns write nothing new: unchanged states are skipped.",
        EXAMPLES,
    )
    parser.add_argument(
        "--model-id",
        default=NUMERIC_PORTFOLIO_MODEL_ID,
        help=f"numeric encoder (default: {NUMERIC_PORTFOLIO_MODEL_ID})",
    )
    add_selection_args(parser, "risk reports to encode")
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_writable()
    stores = open_command_stores(settings)
    bar = ProgressBar("numeric backfill")
    try:
        summary = backfill_numeric(stores, args.model_id, request_from(args), progress=bar)
    finally:
        bar.close()
    return report(summary)


if __name__ == "__main__":
    entry(build_parser, main)
