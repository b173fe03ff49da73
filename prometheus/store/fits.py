"""Fitted joint models: frozen parameters with their fit id, training window and checksum."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from prometheus.errors import PrometheusError
from prometheus.store.database import Database
from prometheus.store.schema import joint_model_fits, utc_now
from prometheus.store.upsert import bump_data_version

FITS_VERSION = "fits"


@dataclass(frozen=True)
class StoredFit:
    fit_id: str
    model_id: str
    numeric_model_id: str
    train_end: date
    numeric_data_version: int
    states: int
    parameters: str  # canonical JSON
    checksum: str  # sha256 of ``parameters``
    created_at: datetime | None = None  # set by the store when it is saved


def checksum_of(parameters: str) -> str:
    return hashlib.sha256(parameters.encode("utf-8")).hexdigest()


class FitStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, fit: StoredFit) -> bool:
        """Store a fit and make it the model's active one; False when the same fit was stored already.

        Fits are content-addressed (the fit id derives from the parameters' checksum), so
        fitting twice on the same data stores one row and only moves its activation.
        """
        if checksum_of(fit.parameters) != fit.checksum:
            raise PrometheusError(f"the parameters of fit {fit.fit_id} do not match their checksum")
        now = utc_now()
        c = joint_model_fits.c
        with self.db.write() as conn:
            exists = conn.execute(sa.select(c.fit_id).where(c.fit_id == fit.fit_id)).scalar() is not None
            if exists:
                conn.execute(sa.update(joint_model_fits).where(c.fit_id == fit.fit_id).values(activated_at=now))
            else:
                conn.execute(
                    joint_model_fits.insert().values(
                        fit_id=fit.fit_id,
                        model_id=fit.model_id,
                        numeric_model_id=fit.numeric_model_id,
                        train_end=fit.train_end,
                        numeric_data_version=fit.numeric_data_version,
                        states=fit.states,
                        parameters=fit.parameters,
                        checksum=fit.checksum,
                        created_at=now,
                        activated_at=now,
                    )
                )
            bump_data_version(conn, f"{FITS_VERSION}:{fit.model_id}")
        return not exists

    def active(self, model_id: str) -> StoredFit | None:
        """The model's most recently activated fit, its checksum verified."""
        c = joint_model_fits.c
        query = (
            sa.select(joint_model_fits).where(c.model_id == model_id).order_by(c.activated_at.desc(), c.fit_id).limit(1)
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        if checksum_of(row.parameters) != row.checksum:
            raise PrometheusError(
                f"the stored parameters of {model_id} fit {row.fit_id} do not match their checksum: fit it again"
            )
        return StoredFit(
            row.fit_id,
            row.model_id,
            row.numeric_model_id,
            row.train_end,
            int(row.numeric_data_version),
            int(row.states),
            row.parameters,
            row.checksum,
            row.created_at,
        )

    def fitted_models(self) -> list[str]:
        c = joint_model_fits.c
        with self.db.read() as conn:
            return sorted(conn.execute(sa.select(c.model_id).distinct()).scalars())

    def version(self, model_id: str) -> int:
        return self.db.data_version(f"{FITS_VERSION}:{model_id}")
