"""The runtime and historical databases, opened once from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus.config import Settings
from prometheus.store.database import Database
from prometheus.store.embeddings import NumericEmbeddingStore
from prometheus.store.reports import ReportStore


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

    def dispose(self) -> None:
        self.runtime.dispose()
        if self.historical is not self.runtime:
            self.historical.dispose()


def open_stores(settings: Settings) -> Stores:
    historical = Database.open(settings.db_url)
    runtime_url = settings.effective_runtime_url
    runtime = historical if runtime_url == settings.db_url else Database.open(runtime_url)
    return Stores(runtime=runtime, historical=historical, settings=settings)
