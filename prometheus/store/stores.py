"""The runtime and historical databases, opened once from Settings, and the stores over their tables."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus.config import Settings
from prometheus.store.database import Database
from prometheus.store.embeddings import JointEmbeddingStore, NumericEmbeddingStore
from prometheus.store.fits import FitStore
from prometheus.store.jobs import JobStore
from prometheus.store.reports import ReportStore
from prometheus.store.values import ValueStore


@dataclass
class Stores:
    """Risk reports and jobs live in ``runtime``; embeddings in ``historical``.

    By default both are the same database (and the same engine).
    """

    runtime: Database
    historical: Database
    settings: Settings

    @property
    def reports(self) -> ReportStore:
        return ReportStore(self.runtime)

    @property
    def numeric(self) -> NumericEmbeddingStore:
        return NumericEmbeddingStore(self.historical)

    def joint(self, joint_type: str) -> JointEmbeddingStore:
        """The joint states of one joint type (each joint model writes exactly one)."""
        return JointEmbeddingStore(self.historical, joint_type)

    @property
    def values(self) -> ValueStore:
        """Daily portfolio values: beside the reports, in the runtime database."""
        return ValueStore(self.runtime)

    @property
    def fits(self) -> FitStore:
        """Fitted joint models live with the embeddings they produce."""
        return FitStore(self.historical)

    @property
    def jobs(self) -> JobStore:
        return JobStore(self.runtime)

    def dispose(self) -> None:
        self.runtime.dispose()
        if self.historical is not self.runtime:
            self.historical.dispose()


def open_stores(settings: Settings) -> Stores:
    historical = Database.open(settings.db_url)
    runtime_url = settings.effective_runtime_url
    runtime = historical if runtime_url == settings.db_url else Database.open(runtime_url)
    return Stores(runtime=runtime, historical=historical, settings=settings)
