"""The skill ledger in the words a page shows beside every forecast."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus.forecasting.skill_metrics import Estimate
from prometheus.presenters import formats
from prometheus.services.skill import FORECAST, VOLATILITY, Ledger


def _figure(value: Estimate) -> str:
    return f"{value.value:.2f} [{value.low:.2f}, {value.high:.2f}]"


@dataclass(frozen=True)
class SkillNote:
    line: str  # the measured skill, beside the baseline
    verdict: str  # "better", "worse" or "tie": how the page styles the warning
    warning: str  # what the page must say when the forecast does not beat the baseline ("" when it does)


def skill_note(ledger: Ledger) -> SkillNote:
    """What a page says next to a forecast: its skill on this store against volatility alone."""
    if ledger.count == 0:
        return SkillNote(
            "This store cannot measure its forecasts yet: no forecast has a known outcome.",
            "tie",
            "Its skill is unknown: treat the forecast as untested.",
        )
    forecast, volatility = ledger.skills[FORECAST], ledger.skills[VOLATILITY]
    coverage = forecast.coverage
    band = f" Its 80% band held {formats.percent(coverage.value)} of outcomes." if coverage is not None else ""
    line = (
        f"On this store, these forecasts rank what followed with Spearman {_figure(forecast.spearman)}; "
        f"volatility alone: {_figure(volatility.spearman)} ({ledger.count:,} point-in-time forecasts, "
        f"{ledger.first} to {ledger.last}, 95% intervals).{band}"
    )
    verdict = ledger.beats_volatility()
    if verdict is True:
        return SkillNote(line, "better", "")
    diff = ledger.difference("spearman")
    if verdict is False:
        return SkillNote(
            line,
            "worse",
            f"This forecast loses to volatility alone on this store (difference {_figure(diff)}): rank books "
            "by their current volatility instead.",
        )
    return SkillNote(
        line,
        "tie",
        f"This forecast does not beat volatility alone on this store (difference {_figure(diff)}): the analogues "
        "add no measurable skill to the current volatility.",
    )


def ranking_note(ledger: Ledger) -> SkillNote:
    """What the early-warning ranking shows beside it: its replayed cross-sectional skill, against volatility."""
    if ledger.count == 0:
        return SkillNote("This ranking has not been replayed yet: no past forecast has a known outcome.", "tie", "")
    forecast, volatility = ledger.skills[FORECAST], ledger.skills[VOLATILITY]
    line = (
        f"Replayed on past dates of this store, this ranking's cross-sectional Spearman with the next "
        f"{ledger.horizon_days} days' max drawdown is {_figure(forecast.per_date)}; ranking by volatility alone: "
        f"{_figure(volatility.per_date)}."
    )
    diff = ledger.difference("per_date")
    if diff.low > 0:
        return SkillNote(line, "better", "")
    if diff.high < 0:
        return SkillNote(
            line, "worse", f"It loses to ranking by volatility alone (difference {_figure(diff)}): use volatility."
        )
    return SkillNote(line, "tie", f"It does not beat ranking by volatility alone (difference {_figure(diff)}).")
