"""Named historical stress windows.

The short windows follow pyfolio's "interesting times" list; the longer bear
markets are the ones analysts name for US equities. Dates are inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class StressWindow:
    key: str
    name: str
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


STRESS_WINDOWS: tuple[StressWindow, ...] = (
    StressWindow("gulf_war_1990", "Gulf war sell-off 1990", date(1990, 7, 16), date(1990, 10, 11)),
    StressWindow("ltcm_1998", "LTCM / Russia 1998", date(1998, 7, 17), date(1998, 10, 8)),
    StressWindow("dotcom_2000", "Dot-com crash 2000", date(2000, 3, 10), date(2000, 9, 10)),
    StressWindow("dotcom_bust", "Dot-com bust 2000-02", date(2000, 9, 11), date(2002, 10, 9)),
    StressWindow("sept11_2001", "9/11", date(2001, 9, 11), date(2001, 10, 11)),
    StressWindow("aug07", "Quant crisis Aug 2007", date(2007, 8, 1), date(2007, 9, 1)),
    StressWindow("gfc_2008", "Global financial crisis 2007-09", date(2007, 10, 9), date(2009, 3, 9)),
    StressWindow("lehman_2008", "Lehman Sep-Oct 2008", date(2008, 9, 1), date(2008, 10, 31)),
    StressWindow("flash_crash_2010", "Flash crash 2010", date(2010, 5, 5), date(2010, 5, 10)),
    StressWindow("downgrade_2011", "US downgrade / euro debt 2011", date(2011, 7, 25), date(2011, 10, 3)),
    StressWindow("aug_2015", "China devaluation Aug 2015", date(2015, 8, 10), date(2015, 9, 30)),
    StressWindow("early_2016", "Oil / China early 2016", date(2016, 1, 1), date(2016, 2, 11)),
    StressWindow("feb_2018", "Volmageddon Feb 2018", date(2018, 1, 29), date(2018, 2, 9)),
    StressWindow("q4_2018", "Q4 2018 sell-off", date(2018, 10, 1), date(2018, 12, 24)),
)


def stress_windows_on(day: date) -> list[StressWindow]:
    """Every named window that contains ``day``."""
    return [w for w in STRESS_WINDOWS if w.contains(day)]


def in_stress(day: date) -> bool:
    return any(w.contains(day) for w in STRESS_WINDOWS)
