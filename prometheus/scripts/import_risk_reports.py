"""Import portfolio risk reports from a JSON Lines or CSV file."""

from __future__ import annotations

import argparse
from pathlib import Path

from prometheus.config import Settings
from prometheus.scripts._cli import EXIT_OK, add_db_args, entry, make_parser, open_command_stores, say
from prometheus.services.importing import import_report_file

EXAMPLES = """\
  python -m prometheus.scripts.import_risk_reports prometheus/samples/risk_reports.jsonl
  python -m prometheus.scripts.import_risk_reports reports.csv --skip-invalid
file formats: JSON Lines (one object per line, keys = portfolio_risk_reports columns) or CSV
(the same columns; JSON-valued columns as JSON text). report_id is generated when absent.
A file with invalid rows imports nothing unless --skip-invalid is given.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = make_parser("import_risk_reports", "Import risk reports (upsert on portfolio_id, as_of_date).", EXAMPLES)
    parser.add_argument("file", type=Path, help="a .jsonl or .csv file")
    parser.add_argument("--format", choices=("jsonl", "csv"), help="override the format guessed from the suffix")
    parser.add_argument(
        "--skip-invalid", action="store_true", help="import the valid rows and list the skipped ones on stderr"
    )
    add_db_args(parser)
    return parser


def main(args: argparse.Namespace, settings: Settings) -> int:
    settings.require_writable()
    stores = open_command_stores(settings)
    summary = import_report_file(stores, args.file, skip_invalid=args.skip_invalid, file_format=args.format)
    for bad in summary.skipped[:50]:
        say(f"skipped {bad}")
    say(summary.line())
    return EXIT_OK


if __name__ == "__main__":
    entry(build_parser, main)
