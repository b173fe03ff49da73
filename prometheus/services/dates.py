"""Date selection shared by every use case: one date, or an inclusive range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from prometheus.errors import InvalidSetting, Setting, start_after_end


@dataclass(frozen=True)
class DateSelection:
    as_of: date | None = None
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.as_of is not None and (self.start is not None or self.end is not None):
            raise InvalidSetting(
                "give either ", Setting("as_of"), " or ", Setting("start"), "/", Setting("end"), ", not both"
            )
        if self.start is not None and self.end is not None and self.start > self.end:
            raise start_after_end(self.start, self.end)

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
