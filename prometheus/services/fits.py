"""Which fit a fitted joint model uses, and whether its stored states agree with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from prometheus.joint.registry import joint_model, joint_model_ids
from prometheus.store.stores import Stores


@dataclass(frozen=True)
class FitStatus:
    model_id: str
    fit_id: str | None  # the active fit; None: never fitted on this store
    train_end: date | None
    train_states: int
    fitted_at: datetime | None
    states_by_fit: dict[str, int]  # stored states per fit id ("" for states that name none)

    @property
    def stale_states(self) -> int:
        """Stored states embedded with another fit than the active one: a backfill rewrites them."""
        return sum(n for fit, n in self.states_by_fit.items() if fit != self.fit_id)

    def line(self) -> str:
        if self.fit_id is None:
            return f"{self.model_id} has not been fitted on this store."
        stored = sum(self.states_by_fit.values())
        stale = f"; {self.stale_states:,} of them from an earlier fit: run a backfill" if self.stale_states else ""
        return (
            f"{self.model_id}: fit {self.fit_id} on {self.train_states:,} states known by "
            f"{self.train_end.isoformat() if self.train_end else '?'}; {stored:,} states stored{stale}."
        )


def fit_statuses(stores: Stores) -> list[FitStatus]:
    """Every registered model that needs a fit, with its active fit and its stored states per fit."""
    statuses = []
    for model_id in joint_model_ids():
        model = joint_model(model_id)
        if not model.needs_fit:
            continue
        fit = stores.fits.active(model_id)
        counts = stores.joint(model.joint_type).counts_by_spec_key(model_id, "fit_id")
        statuses.append(
            FitStatus(
                model_id,
                fit.fit_id if fit else None,
                fit.train_end if fit else None,
                fit.states if fit else 0,
                fit.created_at if fit else None,
                dict(counts),
            )
        )
    return statuses
