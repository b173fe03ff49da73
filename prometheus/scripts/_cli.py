"""What every CLI shares: argument types, settings from flags and environment,
the one place domain errors become a message and an exit code, CSV output."""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, NoReturn, TextIO

import sqlalchemy as sa

from prometheus.config import ENV_DB_URL, Settings
from prometheus.errors import InvalidInput, PrometheusError, shown
from prometheus.report_files import parse_date
from prometheus.store.database import describe_db_error

EXIT_OK = 0
EXIT_PARTIAL = 1  # finished, but some inputs were refused
EXIT_ERROR = 2


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def make_parser(prog: str, description: str, examples: str) -> Parser:
    return Parser(
        prog=f"python -m prometheus.scripts.{prog}",
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def date_arg(text: str) -> date:
    try:
        return parse_date(text)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_db_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("database")
    group.add_argument(
        "--db-url",
        help=f"SQLAlchemy URL of the store, e.g. sqlite:///prometheus.db or "
        f"postgresql+psycopg://user@host/db (default: ${ENV_DB_URL}, else ~/.prometheus/prometheus.db)",
    )
    group.add_argument(
        "--runtime-db-url",
        help="URL of a separate runtime database holding risk reports and jobs (default: the same as --db-url)",
    )


def add_date_args(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--as-of", type=date_arg, metavar="YYYY-MM-DD", help=f"one date of {what}")
    parser.add_argument("--start", type=date_arg, metavar="YYYY-MM-DD", help=f"first date of {what} (inclusive)")
    parser.add_argument("--end", type=date_arg, metavar="YYYY-MM-DD", help=f"last date of {what} (inclusive)")


def add_portfolio_filter(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--portfolio-id",
        action="append",
        default=[],
        metavar="ID",
        help="only this portfolio (repeat the flag for several)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_sources(
        db_url=getattr(args, "db_url", None),
        runtime_db_url=getattr(args, "runtime_db_url", None),
        environ=os.environ,
    )


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO | None = None) -> None:
    writer = csv.writer(out or sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(
    parser: argparse.ArgumentParser,
    main: Callable[[argparse.Namespace, Settings], int],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse, run, and turn every expected failure into one line and an exit code."""
    args = parser.parse_args(argv)
    settings = settings_from(args)
    try:
        return main(args, settings)
    except PrometheusError as exc:
        say(f"error: {exc}")
        return exc.exit_code
    except sa.exc.DBAPIError as exc:
        say(f"error: {describe_db_error(exc, settings.db_url)}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        say("interrupted: completed batches are saved; run the same command again to finish")
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error worth a traceback
        sys.stderr.close()
        return EXIT_OK


def entry(
    parser_factory: Callable[[], argparse.ArgumentParser], main: Callable[[argparse.Namespace, Settings], int]
) -> NoReturn:
    sys.exit(run(parser_factory(), main))


class ProgressBar:
    """A tqdm bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, description: str) -> None:
        self.description = description
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.description, unit="date", file=sys.stderr, leave=False)
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
