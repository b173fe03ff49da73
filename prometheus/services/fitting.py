"""Fitting a joint model on the store's own data, then freezing it.

The training set is every stored state of the numeric model dated on or before
the training end whose forward outcome (the max drawdown over the forecast
horizon) was complete by then, measured on values dated on or before the
training end. The fit is deterministic; its parameters are stored with their
checksum, and the fit id derives from that checksum, so fitting twice on the
same data stores one fit. A refit never changes stored vectors: the model's
states name their fit, and a backfill after a refit rewrites them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from prometheus.errors import InvalidInput, InvalidSetting, Setting, shown
from prometheus.joint.core_v2 import CoreV2Model
from prometheus.joint.core_v2_fit import CoreV2Fitter
from prometheus.joint.registry import joint_model
from prometheus.joint.writer import report_values
from prometheus.services.outcomes import FORECAST_HORIZON_DAYS, forward_outcomes
from prometheus.store.fits import StoredFit, checksum_of
from prometheus.store.stores import Stores


@dataclass(frozen=True)
class FitSummary:
    fit_id: str
    model_id: str
    train_end: date
    states: int  # states the fit learned from
    new: bool  # False: the same parameters were stored already (only reactivated)
    checksum: str
    group_exponents: dict[str, int]
    seconds: float

    def line(self) -> str:
        again = "" if self.new else " (identical to a stored fit: reactivated)"
        exponents = ", ".join(f"{g} {e:+d}" for g, e in self.group_exponents.items() if e) or "none"
        return (
            f"{self.model_id}: fit {self.fit_id}{again} on {self.states} state(s) whose "
            f"{FORECAST_HORIZON_DAYS}-day outcome was known by {self.train_end.isoformat()}; "
            f"group weight exponents: {exponents}; checksum {self.checksum[:16]}; {self.seconds:.1f} s"
        )


def fit_joint_model(stores: Stores, model_id: str, numeric_model_id: str, train_end: date) -> FitSummary:
    """Fit ``model_id`` on the states known by ``train_end`` and make the fit its active one."""
    began = time.perf_counter()
    model = joint_model(model_id)
    if not isinstance(model, CoreV2Model):
        raise InvalidInput(f"{model_id} has nothing to fit: it is not a fitted model")
    if model.numeric_model_id != numeric_model_id:
        raise InvalidInput(
            f"joint model {shown(model_id)} reads {shown(model.numeric_model_id)}, not {shown(numeric_model_id)}"
        )
    keys = stores.numeric.keys(numeric_model_id)
    days = keys["as_of_date"].to_numpy()
    keep = np.array([d <= train_end for d in days], dtype=bool)
    states = list(zip(keys["portfolio_id"][keep], keys["as_of_date"][keep], strict=True))
    if not states:
        raise InvalidSetting(
            f"no {numeric_model_id} state is dated on or before ", Setting("train_end"), f" {train_end.isoformat()}"
        )
    outcomes = forward_outcomes(stores, states, (FORECAST_HORIZON_DAYS,), known_by=train_end)
    fitter = CoreV2Fitter(train_end=train_end.isoformat(), horizon_days=FORECAST_HORIZON_DAYS)
    parameters = fitter.fit(
        report_values(stores, states),
        np.array([d for _, d in states], dtype="datetime64[D]"),
        np.array([p for p, _ in states], dtype=object),
        outcomes[f"fwd_max_drawdown_{FORECAST_HORIZON_DAYS}d"].to_numpy(dtype=np.float64),
    )
    if parameters.train_states == 0:
        raise InvalidSetting(
            f"no state's {FORECAST_HORIZON_DAYS}-day outcome was known by ",
            Setting("train_end"),
            f" {train_end.isoformat()}: choose a later training end, or store the books' values",
        )
    text = parameters.to_json()
    checksum = checksum_of(text)
    fit = StoredFit(
        fit_id=checksum[:16],
        model_id=model_id,
        numeric_model_id=numeric_model_id,
        train_end=train_end,
        numeric_data_version=stores.numeric.data_version(numeric_model_id),
        states=parameters.train_states,
        parameters=text,
        checksum=checksum,
    )
    new = stores.fits.save(fit)
    return FitSummary(
        fit.fit_id,
        model_id,
        train_end,
        parameters.train_states,
        new,
        checksum,
        parameters.group_exponent,
        time.perf_counter() - began,
    )
