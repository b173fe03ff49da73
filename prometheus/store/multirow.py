"""Many rows a statement on SQLite: ``INSERT ... VALUES (...), (...), ...`` in power-of-two sizes.

Python's executemany steps once a row and takes the GIL back after each step, waiting up to
the 5 ms switch interval while an import's reading thread runs Python: reading and writing
then barely overlapped. One statement writes all its rows in one step without the GIL (with
the compiled line decoder: 38k -> 53k reports/s with both cores free, see
bench/results/import-speed.md). Power-of-two sizes keep the prepared statements a few, not
one a size.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator


def most_rows(connection: sqlite3.Connection, width: int, largest: int, reserved: int = 0) -> int:
    """The largest power of two <= ``largest`` rows of ``width`` parameters that one statement may
    bind under the connection's variable limit (``reserved``: parameters bound once per statement)."""
    limit = connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return 1 << (max(1, min(largest, (limit - reserved) // width)).bit_length() - 1)


def statement_slices(count: int, most: int) -> Iterator[tuple[int, int]]:
    """(start, size) of ``count`` rows in statements of power-of-two sizes of at most ``most`` rows."""
    start = 0
    while start < count:
        size = min(most, 1 << ((count - start).bit_length() - 1))
        yield start, size
        start += size
