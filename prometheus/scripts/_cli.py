"""What every CLI shares: argument types, settings from flags and environment,
the one place domain errors become a message and an exit code, CSV output."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, NoReturn, TextIO

from prometheus.config import ENV_DB_URL, Settings
from prometheus.errors import InvalidInput, InvalidSetting, PrometheusError, UnknownPortfolio, shown
from prometheus.numbers import InvalidNumber, parse_whole
from prometheus.presenters.csv_files import RAW_CSV_HELP, csv_text
from prometheus.report_files import parse_date
from prometheus.store.database import database_error
from prometheus.store.stores import Stores, open_stores
from prometheus.urls import redact_urls

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
    """An argparse type: a whole number from 1 (see prometheus.numbers: ASCII digits only)."""
    try:
        return parse_whole(text, low=1)
    except InvalidNumber as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high]."""

    def parse(text: str) -> int:
        try:
            return parse_whole(text, low, high)
        except InvalidNumber as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_raw_csv_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--raw-csv", action="store_true", help=RAW_CSV_HELP)


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


class OutputUnavailable(PrometheusError):
    """Standard output is closed, full, or cannot hold the text (its encoding)."""


def _silence_stdout() -> None:
    # What was buffered must not fail again at exit ("Exception ignored ... stdout"): send it nowhere.
    # (A StringIO, as in tests, has no file descriptor: io.UnsupportedOperation is an OSError.)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def emit(text: str, out: TextIO | None = None) -> None:
    """Write ``text`` to stdout whole, or not at all: a closed stdout, a full disk or an encoding
    that cannot hold a character is one line and exit code 2, never a traceback or half a file."""
    target = out if out is not None else sys.stdout
    if target is None:
        raise OutputUnavailable("standard output is closed: redirect it to a file or a pipe and run again")
    encoding = getattr(target, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else "?"
        raise OutputUnavailable(
            f"standard output's encoding ({encoding}) cannot hold {shown(bad)}: nothing was written; "
            "set PYTHONIOENCODING=utf-8 (or a UTF-8 locale) and run again"
        ) from None
    except LookupError:
        pass  # an encoding Python does not know: let the write say so below
    try:
        target.write(text)
        target.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:
        _silence_stdout()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputUnavailable(f"cannot write to standard output: {reason}") from None


def write_csv(
    header: Sequence[str], rows: Iterable[Sequence[Any]], out: TextIO | None = None, raw: bool = False
) -> None:
    """The command's CSV on stdout (see prometheus.presenters.csv_files: formula cells neutralised unless raw)."""
    emit(csv_text(header, rows, raw=raw), out)


def say(message: str) -> None:
    """One line on stderr; a closed stderr or one whose encoding lacks a character does not raise."""
    err = sys.stderr
    if err is None:
        return
    encoding = getattr(err, "encoding", None) or "utf-8"
    with contextlib.suppress(LookupError):
        message = message.encode(encoding, "backslashreplace").decode(encoding)
    with contextlib.suppress(OSError, ValueError):
        err.write(message + "\n")
        err.flush()


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
    try:
        settings = settings_from(args)
    except PrometheusError as exc:  # a setting from the environment that cannot be understood
        say(error_line(exc, parser))
        return exc.exit_code
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
        say(f"error: {redact_urls(message, [settings.db_url, settings.effective_runtime_url])}")
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
