"""Settings and stores, opened once at the edge, and the per-run context every page receives."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from prometheus.config import Settings
from prometheus.presenters.choices import model_choices
from prometheus.services.versions import data_version_key
from prometheus.store.stores import Stores, open_stores

log = logging.getLogger("prometheus.app")

PAGES = {
    "overview": ("pages/overview.py", "Overview", ":material/dashboard:"),
    "import": ("pages/import.py", "Import", ":material/upload:"),
    "backfill": ("pages/backfill.py", "Backfill", ":material/sync:"),
    "embeddings": ("pages/embeddings.py", "Embeddings", ":material/table_rows:"),
    "similar": ("pages/similar.py", "Similar portfolios", ":material/join_inner:"),
    "map": ("pages/map.py", "Map", ":material/scatter_plot:"),
    "drawdown": ("pages/drawdown.py", "Drawdown & stress", ":material/trending_down:"),
}
MODEL_KEY = "model_id"


def _secrets() -> dict[str, Any]:
    """st.secrets as a plain dict; {} when no secrets file exists (the common local case)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        values = st.secrets.to_dict()
    except Exception:  # a malformed secrets file must not take the app down: env still works
        log.warning("could not read Streamlit secrets", exc_info=True)
        return {}
    section = values.get("prometheus")
    return dict(section) if isinstance(section, Mapping) else values


def settings() -> Settings:
    # Cheap and pure: resolved each run so a test (or a redeploy) with other env sees other stores.
    return Settings.from_sources(environ=os.environ, secrets=_secrets())


@st.cache_resource(show_spinner=False)
def _open_stores(settings: Settings) -> Stores:
    # One engine (pool) per database for the whole server: shared by every session.
    return open_stores(settings)


@dataclass(frozen=True)
class PageContext:
    settings: Settings
    stores: Stores
    model_id: str
    version: str  # changes when reports or this model's embeddings change: the cache key of every call

    @property
    def read_only(self) -> bool:
        return self.settings.read_only


def context() -> PageContext:
    resolved = settings()
    stores = _open_stores(resolved)
    model_id = str(st.session_state.get(MODEL_KEY) or model_choices([])[0])
    return PageContext(resolved, stores, model_id, data_version_key(stores, model_id))
