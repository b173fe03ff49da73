"""One progress bar over a UMAP map's stages: loading, neighbours, graph, epochs k/n, saving.

The bar counts thousandths (``Progress(done, STEPS, message)``); each stage starts
at a fixed share, sized by where the time went on the demo book (57,952 states,
2 shared cores, numba's cache warm: umap import 1.3 s, neighbours 2-4 s, graph and
starting layout about 3 s, 200 epochs 9-12 s, saving well under a second). The
epochs advance the bar one by one through umap-learn's own tqdm hook
(``tqdm_kwds``): tqdm writes its counter to a small file-like object that reports
it. Reports never go backwards, and the last one is ``STEPS / STEPS``.
"""

from __future__ import annotations

import re
from typing import Any

from prometheus.progress import Progress

STEPS = 1000
LOADING, NEIGHBOURS, GRAPH, EPOCHS, SAVING = 0, 60, 200, 300, 960
_COUNTER = re.compile(r"(\d+)/(\d+)")


class UmapBar:
    """Stages and epochs of one map, reported as a monotone bar through ``progress`` (which may be None)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0
        self.label = ""

    def stage(self, start: int, message: str) -> None:
        self.label = message
        self._report(start, message)

    def epochs(self, done: int, total: int) -> None:
        if total > 0:
            self._report(EPOCHS + (SAVING - EPOCHS) * min(done, total) // total, f"{self.label} epoch {done}/{total}")

    def finish(self, message: str) -> None:
        self._report(STEPS, message)

    def _report(self, done: int, message: str) -> None:
        self.done = max(self.done, min(done, STEPS))
        if self.progress is not None:
            self.progress(self.done, STEPS, message)

    def tqdm_kwds(self) -> dict[str, Any]:
        """What umap-learn passes to tqdm for its epoch loop: the counter, written here after every epoch."""
        return {
            "disable": False,
            "file": _EpochCounter(self),
            "bar_format": "{n}/{total}",
            "mininterval": 0,
            "miniters": 1,
            "leave": False,
            "dynamic_ncols": False,
        }


class _EpochCounter:
    """Stands in for tqdm's output stream: reads ``n/total`` out of what it writes."""

    def __init__(self, bar: UmapBar) -> None:
        self.bar = bar

    def write(self, text: str) -> int:
        found = _COUNTER.findall(text)
        if found:
            done, total = found[-1]
            self.bar.epochs(int(done), int(total))
        return len(text)

    def flush(self) -> None:
        return None
