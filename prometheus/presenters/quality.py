"""The honest embedding-quality figure in the words a page shows (services/quality.py measures it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pandas as pd

from prometheus.presenters import formats
from prometheus.services.quality import Comparison, MethodQuality, QualityReport


@dataclass(frozen=True)
class QualityNote:
    verdict: str  # "beats", "loses" or "none": how the page styles the sentence
    sentence: str
    comparison: str  # "" without another model
    caution: str = ""  # when the queries include states a compared model was fitted on


def quality_table(report: QualityReport) -> pd.DataFrame:
    """One row per method answering the same queries: the model, the baselines, then the other model."""
    rows: list[tuple[str, MethodQuality]] = [(f"{report.model_id} (this model)", report.model)]
    rows += [(m.method, m) for m in report.methods[1:]]
    if report.comparison is not None:
        rows.append((f"{report.comparison.other.method} (compared)", report.comparison.other))
    return pd.DataFrame(
        [
            {"method": name, "stress_share": m.share, "share_low": m.low, "share_high": m.high, "lift": m.lift}
            for name, m in rows
        ],
        columns=["method", "stress_share", "share_low", "share_high", "lift"],
    )


def _comparison_sentence(report: QualityReport, compared: Comparison) -> str:
    points = (
        f"{compared.difference * 100:+.1f} points [{compared.low * 100:+.1f}, {compared.high * 100:+.1f}] "
        f"on the same {report.stress_states:,} queries (higher on {compared.higher:,}, lower on "
        f"{compared.lower:,}, level on {compared.level:,})"
    )
    if compared.verdict == "higher":
        said = f"{report.model_id} is better than {compared.other.method} here: {points}."
    elif compared.verdict == "lower":
        said = f"{compared.other.method} is better than {report.model_id} here: {points}."
    else:
        said = f"{report.model_id} and {compared.other.method} are level here (the interval includes 0): {points}."
    shared = report.shared
    if shared is None:
        return said
    return (
        f"{said} Measured over the {formats.count(shared.both)} states both models hold ({report.model_id} "
        f"holds {formats.count(shared.model_states)}, {compared.other.method} {formats.count(shared.other_states)}): "
        "every figure in the table, the baselines' too, is over these states."
    )


def quality_note(report: QualityReport) -> QualityNote:
    """What the page says under the table: does the model beat every baseline, and the other model?"""
    if report.stress_states == 0:
        return QualityNote(
            "none",
            "No stored state of this model lies in a named stress window"
            + (f" on or after {formats.day(report.start)}" if report.start else "")
            + ", so this figure cannot be measured on this store.",
            "",
        )
    model = report.model
    beaten = report.beaten_by()
    said = (
        f"{formats.percent(model.share)} of the nearest neighbours of its {report.stress_states:,} stress states "
        f"are stress states of other crises, {model.lift:.2f}x the base rate of {formats.percent(report.base_rate)}"
    )
    if beaten:
        sentence = (
            f"{report.model_id} does not beat {', '.join(beaten)} on this store: {said}. A simpler method "
            "finds states of other crises as well; weigh its analogues accordingly."
        )
    else:
        sentence = f"{report.model_id} beats every baseline on this store: {said}."
    compared = _comparison_sentence(report, report.comparison) if report.comparison is not None else ""
    caution = ""
    if report.unseen_from is not None:
        caution = (
            f"In sample: the queries include states up to {formats.day(report.unseen_from - timedelta(days=1))} "
            "that a compared model was fitted on, so the figure flatters it."
        )
    return QualityNote("loses" if beaten else "beats", sentence, compared, caution)
