"""Load the demo book (real prices, 40 portfolios, weekly 1990-2018) and embed it."""

from __future__ import annotations

import argparse

from prometheus.config import Settings
from prometheus.scripts._cli import EXIT_OK, ProgressBar, add_db_args, entry, make_parser, open_command_stores, say
from prometheus.services.demo import load_demo

EXAMPLES = """\
  python -m prometheus.scripts.load_demo
  python -m prometheus.scripts.load_demo --db-url sqlite:///demo.db
Idempotent: a second run writes nothing new.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "load_demo", "Build the demo book's risk reports from real prices and run both backfills.", EXAMPLES
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_writable()
    stores = open_command_stores(settings)
    bar = ProgressBar("demo book")
    try:
        summary = load_demo(stores, progress=bar)
    finally:
        bar.close()
    say(summary.line())
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
