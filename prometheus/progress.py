"""The one shape of a progress report, shared by backfills, the demo loader, maps and jobs."""

from __future__ import annotations

from collections.abc import Callable

# progress(done, total, message): ``total`` 0 means unknown (the message is then the progress);
# the CLIs draw a bar, the app a progress widget, the job worker a row of the jobs table.
Progress = Callable[[int, int, str], None]


def ignore_progress(done: int, total: int, message: str) -> None:
    """A Progress that reports nowhere."""
