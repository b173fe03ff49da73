"""Settings and stores, opened once at the edge, and the per-run context every page receives."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from prometheus.config import Settings
from prometheus.errors import InvalidInput
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


class UnreadableSecrets(InvalidInput):
    """A secrets file exists but cannot be read: the app must not guess what it held (the access code?)."""


def _secrets_files() -> list[Path]:
    from streamlit import config

    return [Path(p) for p in config.get_option("secrets.files") or [] if Path(p).exists()]


def _secrets() -> dict[str, Any]:
    """st.secrets as a plain dict; {} when no secrets file exists (the common local case).

    A file that exists but cannot be read is refused (UnreadableSecrets): ignoring it would
    drop whatever it held, the access code and read_only among them, and serve everything
    to everyone.
    """
    try:
        return st.secrets.to_dict()
    except FileNotFoundError as exc:  # Streamlit's "no secrets" and "cannot parse" are both this class
        present = _secrets_files()
        if not present:
            return {}
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UnreadableSecrets(
            f"the secrets file {present[0]} cannot be read ({reason.rsplit(': ', 1)[-1][:200]}); fix it "
            "and reload: the app serves nothing until then, since that file may hold the access code"
        ) from None
    except Exception as exc:
        raise UnreadableSecrets(
            f"the secrets cannot be read ({type(exc).__name__}); fix them and reload: the app serves nothing until then"
        ) from None


def settings() -> Settings:
    """Cheap and pure: resolved each run so a test (or a redeploy) with other env sees other stores.

    Raises (InvalidInput) when any setting cannot be understood: the app then refuses to serve.
    """
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
