"""Files uploaded through the app: saved whole or not at all, in the cache folder, and removed after use.

Each upload gets a folder of its own under ``<cache>/uploads`` (a random name: the user's
file name never decides where anything is written), holding the file under a cleaned-up
copy of its own name, so messages name "holdings.csv line 7" as the user knows it. The
import job removes its folder when it ends; folders left behind (an upload never imported)
are swept after a day.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
import uuid
from pathlib import Path

from prometheus.config import Settings
from prometheus.errors import InvalidInput
from prometheus.files import atomic_write

# The app's upload limit, and Streamlit's (server.maxUploadSize in .streamlit/config.toml, which a
# test keeps equal): Streamlit holds an upload in the server's memory. Larger files: the CLI.
MAX_UPLOAD_MB = 200
KEEP_SECONDS = 24 * 3600
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def uploads_dir(settings: Settings) -> Path:
    return settings.effective_cache_dir / "uploads"


def safe_name(name: str) -> str:
    """A file name that is only a name: letters, digits, dot, dash, underscore; no leading dot."""
    cleaned = _UNSAFE.sub("_", Path(name).name).lstrip(".")[:100]
    return cleaned or "upload"


def check_upload_size(name: str, size: int) -> None:
    if size > MAX_UPLOAD_MB * 10**6:
        raise InvalidInput(
            f"{name} is {size / 10**6:,.0f} MB; the app takes files up to {MAX_UPLOAD_MB} MB. Import larger "
            "files with the command line: python -m prometheus.scripts.import_risk_reports FILE"
        )


def save_upload(settings: Settings, name: str, data: bytes) -> Path:
    """Write ``data`` to a new folder under the uploads folder (atomically); return the file's path."""
    check_upload_size(name, len(data))
    sweep_uploads(settings)
    folder = uploads_dir(settings) / uuid.uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    path = folder / safe_name(name)
    atomic_write(path, lambda handle: handle.write(data))
    return path


def is_upload(settings: Settings, path: Path) -> bool:
    """Whether ``path`` is a file saved by :func:`save_upload` (so a job may read and remove it)."""
    root = uploads_dir(settings).resolve()
    resolved = path.resolve()
    return resolved.parent.parent == root and resolved.is_relative_to(root)


def discard_upload(settings: Settings, path: Path) -> None:
    """Remove an upload's folder; anything outside the uploads folder is left alone."""
    if is_upload(settings, path):
        shutil.rmtree(path.resolve().parent, ignore_errors=True)


def sweep_uploads(settings: Settings, older_than: float = KEEP_SECONDS) -> None:
    """Remove upload folders untouched for ``older_than`` seconds (uploads never imported)."""
    root = uploads_dir(settings)
    if not root.is_dir():
        return
    cutoff = time.time() - older_than
    for folder in root.iterdir():
        with contextlib.suppress(OSError):
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
