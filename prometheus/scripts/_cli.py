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

from prometheus.config import ENV_DB_URL, Settings
from prometheus.errors import InvalidInput, InvalidSetting, PrometheusError, UnknownPortfolio, shown
from prometheus.report_files import parse_date
from prometheus.store.database import database_error
from prometheus.store.stores import Stores, open_stores

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


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high] (digits only, at most 9 of them)."""

    def parse(text: str) -> int:
        clean = text.strip()
        if not (clean.lstrip("-").isascii() and clean.lstrip("-").isdigit()) or len(clean) > 10:
            raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number")
        value = int(clean)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


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


LIST_PORTFOLIOS_HINT = "list portfolios with show_joint_portfolios"


def flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each setting's name as this command spells it: its long flag (``top_k`` -> ``--top-k``)."""
    names: dict[str, str] = {}
    for action in parser._actions:
        flags = [o for o in action.option_strings if o.startswith("--")]
        if flags:
            names[action.dest] = flags[0]
    return names


def error_line(exc: PrometheusError, parser: argparse.ArgumentParser) -> str:
    """A domain error in this command's words: settings named by their flags, where to list portfolios."""
    message = exc.render(flag_names(parser)) if isinstance(exc, InvalidSetting) else str(exc)
    if isinstance(exc, UnknownPortfolio) and exc.of_states:
        message += f" ({LIST_PORTFOLIOS_HINT})"
    return f"error: {message}"


_opened: list[Stores] = []  # stores opened by the running command, closed when it ends


def open_command_stores(settings: Settings) -> Stores:
    """The command's stores; :func:`run` closes them (and their connection pools) when the command ends."""
    stores = open_stores(settings)
    _opened.append(stores)
    return stores


def _close_opened() -> None:
    while _opened:
        _opened.pop().dispose()


def run(
    parser: argparse.ArgumentParser,
    main: Callable[[argparse.Namespace, Settings], int],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse, run, and turn every expected failure into one line and an exit code."""
    args = parser.parse_args(argv)
    settings = settings_from(args)
    try:
        return _run_main(main, args, settings, parser)
    finally:
        _close_opened()


def _run_main(
    main: Callable[[argparse.Namespace, Settings], int],
    args: argparse.Namespace,
    settings: Settings,
    parser: argparse.ArgumentParser,
) -> int:
    try:
        return main(args, settings)
    except PrometheusError as exc:
        say(error_line(exc, parser))
        return exc.exit_code
    except KeyboardInterrupt:
        say("interrupted: completed batches are saved; run the same command again to finish")
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into head): not an error worth a traceback
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:
        message = database_error(exc, settings.db_url)
        if message is None:
            raise
        say(f"error: {message}")
        return EXIT_ERROR


def entry(
    parser_factory: Callable[[], argparse.ArgumentParser], main: Callable[[argparse.Namespace, Settings], int]
) -> NoReturn:
    sys.exit(run(parser_factory(), main))


class ProgressBar:
    """A tqdm bar on stderr, shown only when stderr is a terminal (a Progress: done, total, message)."""

    def __init__(self, description: str) -> None:
        self.description = description
        self._bar: Any = None

    def __call__(self, done: int, total: int, message: str) -> None:
        if not sys.stderr.isatty():
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total or None, desc=self.description, file=sys.stderr, leave=False)
        self._bar.total = total or None
        self._bar.n = done
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
