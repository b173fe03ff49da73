"""Date selection shared by every use case: one date, or an inclusive range."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date

from prometheus.errors import InvalidInput


@dataclass(frozen=True)
class DateSelection:
    as_of: date | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.as_of is not None and (self.start is not None or self.end is not None):
            raise InvalidInput("give either --as-of or --start/--end, not both")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise InvalidInput(f"--start {self.start.isoformat()} is after --end {self.end.isoformat()}: swap them")

    @property
    def is_empty(self) -> bool:
        return self.as_of is None and self.start is None and self.end is None

    def describe(self) -> str:
        if self.as_of is not None:
            return f"on {self.as_of.isoformat()}"
        if self.start is not None and self.end is not None:
            return f"between {self.start.isoformat()} and {self.end.isoformat()}"
        if self.start is not None:
            return f"from {self.start.isoformat()}"
        if self.end is not None:
            return f"up to {self.end.isoformat()}"
        return "on any date"

    def bounds(self) -> tuple[date | None, date | None]:
        if self.as_of is not None:
            return self.as_of, self.as_of
        return self.start, self.end


def nearest_dates(available: list[date], target: date) -> list[date]:
    """The closest available dates before and after ``target`` (sorted input)."""
    i = bisect.bisect_left(available, target)
    near = []
    if i > 0:
        near.append(available[i - 1])
    if i < len(available):
        near.append(available[i])
    return near


def describe_nearest(available: list[date], target: date) -> str:
    near = nearest_dates(available, target)
    if not near:
        return "none exist yet"
    return "nearest: " + ", ".join(d.isoformat() for d in near)
