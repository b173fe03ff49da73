"""Settings, built once at the edge (CLI flags, environment, Streamlit secrets).

Nothing below the faces reads the environment: services receive a Settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from prometheus.errors import InvalidInput, shown
from prometheus.numbers import InvalidNumber, parse_whole

ENV_DB_URL = "PROMETHEUS_DB_URL"
ENV_RUNTIME_DB_URL = "PROMETHEUS_RUNTIME_DB_URL"
ENV_CACHE_DIR = "PROMETHEUS_CACHE_DIR"
ENV_READ_ONLY = "PROMETHEUS_READ_ONLY"
ENV_ACCESS_CODE = "PROMETHEUS_ACCESS_CODE"
ENV_APPROXIMATE_ABOVE = "PROMETHEUS_APPROXIMATE_ABOVE"
ENV_BACKFILL_CHUNK = "PROMETHEUS_BACKFILL_CHUNK"
# States a backfill encodes and writes per transaction: a killed run keeps whole chunks, and one
# chunk's reports and vectors (20,000 x 384 float32 are 31 MB, before the reports) bound its memory.
DEFAULT_BACKFILL_CHUNK = 20_000


def default_home() -> Path:
    """~/.prometheus, read when needed (not at import), so a changed HOME is honoured."""
    return Path.home() / ".prometheus"


def default_sqlite_url(home: Path | None = None) -> str:
    return f"sqlite:///{(home or default_home()) / 'prometheus.db'}"


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
# The settings a [prometheus] table of secrets.toml (or its top level) may hold.
SECRET_KEYS = (
    "db_url",
    "runtime_db_url",
    "cache_dir",
    "read_only",
    "access_code",
    "approximate_above",
    "backfill_chunk",
)


def parse_switch(value: str, source: str) -> bool:
    """A yes/no setting; anything but the listed words is refused (``y`` or ``enabled`` must not mean "no")."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidInput(
        f"{source}={shown(value)} is not understood: use one of {'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}"
    )


def secret_settings(secrets: Mapping[str, object]) -> dict[str, object]:
    """The settings in Streamlit secrets: top-level keys and a ``[prometheus]`` table both count.

    A key given in both places with different values is refused: which one was meant is a guess,
    and a wrong guess could drop the access code.
    """
    top = {k: v for k, v in secrets.items() if k != "prometheus"}
    table = secrets.get("prometheus", {})
    if not isinstance(table, Mapping):
        raise InvalidInput("secrets: 'prometheus' must be a table ([prometheus]) of settings")
    merged = dict(top)
    for key, value in table.items():
        if key in top and top[key] != value and key in SECRET_KEYS:
            raise InvalidInput(
                f"secrets: {key} is set both at the top level and in [prometheus], differently: keep one"
            )
        merged[key] = value
    return merged


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
    backfill_chunk: int = DEFAULT_BACKFILL_CHUNK

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
        """Resolve each setting: explicit argument, then environment, then secrets, then default.

        A value that cannot be understood is refused (:class:`InvalidInput` naming where it came
        from), never replaced by a default: a misread read-only switch would allow writes.
        """
        env = environ or {}
        sec = secret_settings(secrets or {})
        sources: dict[str, str] = {}

        def pick(explicit: str | None, env_key: str, secret_key: str) -> str | None:
            if explicit:
                return explicit
            if env.get(env_key):
                sources[secret_key] = env_key
                return env[env_key]
            value = sec.get(secret_key)
            if value is None or value is False or value == "":
                return None
            sources[secret_key] = f"{secret_key} in secrets"
            return str(value).lower() if isinstance(value, bool) else str(value)

        cache = pick(None, ENV_CACHE_DIR, "cache_dir")
        approximate = pick(None, ENV_APPROXIMATE_ABOVE, "approximate_above")
        read_only = pick(None, ENV_READ_ONLY, "read_only")
        chunk = pick(None, ENV_BACKFILL_CHUNK, "backfill_chunk")

        def states(value: str, key: str) -> int:
            try:
                return parse_whole(value, low=1)
            except InvalidNumber as exc:
                raise InvalidInput(f"{sources[key]} (a number of states): {exc}") from None

        threshold = states(approximate, "approximate_above") if approximate is not None else None
        return cls(
            db_url=pick(db_url, ENV_DB_URL, "db_url") or default_sqlite_url(),
            runtime_db_url=pick(runtime_db_url, ENV_RUNTIME_DB_URL, "runtime_db_url"),
            cache_dir=Path(cache) if cache else None,
            read_only=parse_switch(read_only, sources["read_only"]) if read_only is not None else False,
            access_code=pick(None, ENV_ACCESS_CODE, "access_code"),
            approximate_above=threshold,
            backfill_chunk=states(chunk, "backfill_chunk") if chunk is not None else DEFAULT_BACKFILL_CHUNK,
        )
