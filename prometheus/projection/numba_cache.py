"""numba's compiled UMAP kernels kept on disk under the project's cache folder, shared by every process.

umap-learn's kernels are compiled by numba on first use in each process. Those
declared ``cache=True`` are written to numba's on-disk cache, which by default
sits beside the installed sources (unwritable in a system or container install,
so every process compiles again); the hot ones of a fit (``smooth_knn_dist``,
the epoch loop, the membership strengths) are not declared cacheable at all.
So the cache is pointed at ``<cache_dir>/numba`` before umap (and with it numba)
is imported, and caching is switched on for umap's remaining kernels.

Measured on the demo book (57,952 states, 2 shared cores): importing umap took
13.4 s in a fresh process with nothing cached and 1.3-2.2 s once cached; the
fit's own compilation (outside pynndescent, which maps no longer use: see
``neighbours``) about 5 s, then nothing. numba keys each cached kernel to its
source file's time stamp and size, so upgrading umap-learn recompiles, never
loads a stale kernel.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

ENV = "NUMBA_CACHE_DIR"
_prepared: list[bool] = []  # caching switched on for umap's kernels (once per process)


def numba_cache_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "numba"


def use_numba_cache(cache_dir: Path) -> Path | None:
    """Point numba's cache at ``<cache_dir>/numba`` (unless the environment already names one); the folder used.

    Takes effect for kernels compiled after this call, so it must run before umap is
    imported: the first call in a process wins. A folder that cannot be written is
    skipped (numba then compiles as before): a cache costs time, never the map.
    """
    chosen = os.environ.get(ENV)
    if not chosen:
        folder = numba_cache_dir(cache_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        if not os.access(folder, os.W_OK | os.X_OK):
            return None
        chosen = os.environ[ENV] = str(folder)
    config: Any = sys.modules.get("numba.core.config")
    if config is not None and not getattr(config, "CACHE_DIR", ""):
        config.CACHE_DIR = chosen  # numba already imported (by something else): its config read the env before
    return Path(chosen)


def is_warm() -> bool:
    """Whether numba's cache folder already holds umap's kernels (then loading them takes 1-2 s)."""
    chosen = os.environ.get(ENV)
    return bool(chosen) and any(Path(str(chosen)).glob("umap*/layouts.*.nbi"))


def cached_umap() -> ModuleType:
    """umap, imported with caching switched on for every kernel of its own that numba can cache."""
    import umap
    from numba.core.registry import CPUDispatcher

    if not _prepared:
        for name, module in list(sys.modules.items()):
            if name != "umap" and not name.startswith("umap."):
                continue
            for value in list(vars(module).values()):
                cache = getattr(value, "_cache", None)
                if isinstance(value, CPUDispatcher) and type(cache).__name__ == "NullCache":
                    with contextlib.suppress(RuntimeError):  # no writable cache location: compiled per process
                        value.enable_caching()
        _prepared.append(True)
    return umap


@contextlib.contextmanager
def quiet_cache_warnings() -> Iterator[None]:
    """A kernel numba cannot cache is compiled each time, as before: that is not the analyst's concern."""
    from numba.core.errors import NumbaWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Cannot cache compiled function", category=NumbaWarning)
        yield
