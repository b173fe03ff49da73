"""Import portfolio risk reports from a JSON Lines or CSV file."""

from __future__ import annotations

import argparse
from pathlib import Path

from prometheus.config import Settings
from prometheus.scripts._cli import (
    EXIT_OK,
    EXIT_PARTIAL,
    ProgressBar,
    add_db_args,
    entry,
    make_parser,
    open_command_stores,
    say,
)
from prometheus.services.importing import import_report_file

LISTED_SKIPPED = 50
INTERRUPTED = 130

EXAMPLES = """\
  python -m prometheus.scripts.import_risk_reports prometheus/samples/risk_reports.jsonl
  python -m prometheus.scripts.import_risk_reports reports.csv --skip-invalid
file formats: JSON Lines (one object per line, keys = portfolio_risk_reports columns) or CSV
(the same columns; JSON-valued columns as JSON text). report_id is generated when absent.
A file with invalid rows imports nothing unless --skip-invalid is given; the whole file is one
transaction. Exit codes: 0 imported, 1 imported but rows were skipped, 2 nothing imported.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("import_risk_reports", "Import risk reports (upsert on portfolio_id, as_of_date).", EXAMPLES)
    parser.add_argument("file", type=Path, help="a .jsonl or .csv file")
    parser.add_argument("--format", choices=("jsonl", "csv"), help="override the format guessed from the suffix")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows, list the skipped ones on stderr, and exit 1 if any were skipped",
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_writable()
    stores = open_command_stores(settings)
    bar = ProgressBar("importing (bytes read)")
    try:
        summary = import_report_file(
            stores, args.file, skip_invalid=args.skip_invalid, file_format=args.format, progress=bar
        )
    except KeyboardInterrupt:
        bar.close()
        # Not the boundary's "completed batches are saved": an import is one transaction.
        say("interrupted: nothing was imported (an import is one transaction); run the same command again")
        return INTERRUPTED
    finally:
        bar.close()
    for bad in summary.skipped[:LISTED_SKIPPED]:
        say(f"skipped {bad}")
    if summary.skipped_count > LISTED_SKIPPED:
        say(f"skipped {summary.skipped_count - LISTED_SKIPPED} more invalid row(s)")
    say(summary.line())
    return EXIT_PARTIAL if summary.skipped_count else EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
