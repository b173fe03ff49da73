"""Load the demo book (real prices, 40 portfolios, weekly 1990-2018) and embed it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from prometheus.config import Settings
from prometheus.demo.load import load_demo
from prometheus.scripts._cli import EXIT_OK, add_db_args, entry, make_parser, say
from prometheus.store.stores import open_stores

EXAMPLES = """\
  python -m prometheus.scripts.load_demo
  python -m prometheus.scripts.load_demo --db-url sqlite:///demo.db
Idempotent: a second run writes nothing new.
"""


class _StepBar:
    """One tqdm bar per step on a terminal; plain step lines otherwise."""

    def __init__(self) -> None:
        self.label = ""
        self.bar: Any = None

    def __call__(self, label: str, done: int, total: int) -> None:
        if label != self.label:
            self.close()
            self.label = label
            if sys.stderr.isatty():
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc=label, file=sys.stderr, leave=False)
            else:
                say(f"{label}...")
        if self.bar is not None:
            self.bar.total = total
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser(
        "load_demo", "Build the demo book's risk reports from real prices and run both backfills.", EXAMPLES
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_writable()
    stores = open_stores(settings)
    bar = _StepBar()
    try:
        summary = load_demo(stores, progress=bar)
    finally:
        bar.close()
    say(summary.line())
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
