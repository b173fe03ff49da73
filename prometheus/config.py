"""Settings, built once at the edge (CLI flags, environment, Streamlit secrets).

Nothing below the faces reads the environment: services receive a Settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

ENV_DB_URL = "PROMETHEUS_DB_URL"
ENV_RUNTIME_DB_URL = "PROMETHEUS_RUNTIME_DB_URL"
ENV_CACHE_DIR = "PROMETHEUS_CACHE_DIR"
ENV_READ_ONLY = "PROMETHEUS_READ_ONLY"
ENV_ACCESS_CODE = "PROMETHEUS_ACCESS_CODE"
ENV_APPROXIMATE_ABOVE = "PROMETHEUS_APPROXIMATE_ABOVE"


def default_home() -> Path:
    """~/.prometheus, read when needed (not at import), so a changed HOME is honoured."""
    return Path.home() / ".prometheus"


def default_sqlite_url(home: Path | None = None) -> str:
    return f"sqlite:///{(home or default_home()) / 'prometheus.db'}"


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Where the data lives and what the deployment allows.

    ``db_url`` is the historical store (embeddings); ``runtime_db_url`` holds
    risk reports and jobs and defaults to the same database.
    """

    db_url: str
    runtime_db_url: str | None = None
    cache_dir: Path | None = None
    read_only: bool = False
    access_code: str | None = None
    # Use the HNSW graph (when one is built for the current data) from this many states up.
    approximate_above: int | None = None

    @property
    def effective_runtime_url(self) -> str:
        return self.runtime_db_url or self.db_url

    @property
    def effective_cache_dir(self) -> Path:
        if self.cache_dir is not None:
            return self.cache_dir
        if self.db_url.startswith("sqlite:///") and self.db_url != "sqlite:///:memory:":
            return Path(self.db_url.removeprefix("sqlite:///")).parent / "cache"
        return default_home() / "cache"

    def require_writable(self) -> None:
        """Refuse a write action when the deployment is configured read-only."""
        if self.read_only:
            from prometheus.errors import ReadOnlyMode

            raise ReadOnlyMode(
                f"this deployment is read-only ({ENV_READ_ONLY} or read_only in secrets): "
                "backfills, imports and demo loading are disabled"
            )

    def with_db_url(self, db_url: str) -> Settings:
        return replace(self, db_url=db_url)

    @classmethod
    def from_sources(
        cls,
        *,
        db_url: str | None = None,
        runtime_db_url: str | None = None,
        environ: Mapping[str, str] | None = None,
        secrets: Mapping[str, object] | None = None,
    ) -> Settings:
        """Resolve each setting: explicit argument, then environment, then secrets, then default."""
        env = environ or {}
        sec = secrets or {}

        def pick(explicit: str | None, env_key: str, secret_key: str) -> str | None:
            if explicit:
                return explicit
            if env.get(env_key):
                return env[env_key]
            value = sec.get(secret_key)
            return str(value) if value else None

        cache = pick(None, ENV_CACHE_DIR, "cache_dir")
        approximate = pick(None, ENV_APPROXIMATE_ABOVE, "approximate_above")
        return cls(
            db_url=pick(db_url, ENV_DB_URL, "db_url") or default_sqlite_url(),
            runtime_db_url=pick(runtime_db_url, ENV_RUNTIME_DB_URL, "runtime_db_url"),
            cache_dir=Path(cache) if cache else None,
            read_only=_truthy(pick(None, ENV_READ_ONLY, "read_only") or ""),
            access_code=pick(None, ENV_ACCESS_CODE, "access_code"),
            approximate_above=int(approximate) if approximate and approximate.strip().isdigit() else None,
        )
