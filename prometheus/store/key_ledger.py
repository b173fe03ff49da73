"""Which (portfolio, date) keys and report ids a file has used, and on which line: in bounded memory.

A set in memory would grow with the file (about 150 bytes a key: 300 MB for 2M reports);
the ledger keeps them in a private temporary SQLite database instead, whose pages stay on
disk beyond a small cache. About 1.5 us a key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from itertools import chain, compress
from operator import itemgetter
from typing import Any

from prometheus.store.multirow import most_rows, statement_slices

_CACHE_KIB = 16 * 1024
_KEY = itemgetter(2, 3, 0)  # portfolio_id, as_of_date, line in a prometheus.report_rows row
_NAMED = itemgetter(-1)  # whether the file named the report_id


class KeyLedger:
    """Finds the rows that repeat an earlier row's key or explicit report id; the earliest line wins."""

    def __init__(self) -> None:
        # "" opens a private temporary database: deleted when closed, spilled to disk beyond the cache.
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        for pragma in (f"cache_size=-{_CACHE_KIB}", "journal_mode=OFF", "synchronous=OFF", "temp_store=FILE"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.execute(
            "CREATE TABLE keys (portfolio_id TEXT, as_of_date INTEGER, line INTEGER, "
            "PRIMARY KEY (portfolio_id, as_of_date)) WITHOUT ROWID"
        )
        self._db.execute("CREATE TABLE ids (report_id TEXT PRIMARY KEY, line INTEGER) WITHOUT ROWID")
        self._db.execute("BEGIN")

    def repeats(self, rows: Sequence[tuple[Any, ...]]) -> tuple[dict[int, int], dict[int, int]]:
        """Record ``rows`` (prometheus.report_rows layout); return {line: first line} for repeated keys
        and for repeated explicit report ids. Rows must come in line order."""
        if not rows:
            return {}, {}
        # Flat parameter lists built by C iterators: the reading thread competes for the GIL.
        keys = list(chain.from_iterable(map(_KEY, rows)))  # portfolio_id, as_of_date, line; ...
        keys[1::3] = map(date.toordinal, keys[1::3])
        repeated_keys = self._record("keys", "portfolio_id = ? AND as_of_date = ?", keys, 3)
        named = [(row[1], row[0]) for row in compress(rows, map(_NAMED, rows)) if row[0] not in repeated_keys]
        repeated_ids = self._record("ids", "report_id = ?", list(chain(*named)), 2) if named else {}
        return repeated_keys, repeated_ids

    def _record(self, table: str, match: str, flat: list[Any], width: int) -> dict[int, int]:
        """Record entries of ``width`` values (the line last), given one after another in ``flat``."""
        before = self._db.total_changes
        # Many rows a statement, not executemany (see prometheus.store.multirow).
        count = len(flat) // width
        row = f"({', '.join('?' * width)})"
        for start, size in statement_slices(count, most_rows(self._db, width, count)):
            part = flat[start * width : (start + size) * width]
            self._db.execute(f"INSERT OR IGNORE INTO {table} VALUES {', '.join([row] * size)}", part)
        if self._db.total_changes - before == count:
            return {}
        # Some were already there (rare): find each entry's first line.
        first: dict[int, int] = {}
        for start in range(0, len(flat), width):
            *key, line = flat[start : start + width]
            found = self._db.execute(f"SELECT line FROM {table} WHERE {match}", key).fetchone()[0]
            if found != line:
                first[line] = found
        return first

    def portfolios(self) -> int:
        """How many distinct portfolios the recorded keys name."""
        return int(self._db.execute("SELECT count(DISTINCT portfolio_id) FROM keys").fetchone()[0])

    def close(self) -> None:
        self._db.close()
