"""Who may see the app: the access code (throttled), CSV downloads that need it too, secrets kept out of logs.

Three rules, all process-wide (one Streamlit server serves every session):

- **Wrong codes slow down, then lock.** Each wrong code in the last
  ``WINDOW_SECONDS`` (from any session: a new tab is a new session) makes the next
  answer wait longer (``2**(n - FREE_TRIES)`` s, at most ``MAX_DELAY_SECONDS``); after
  ``LOCK_AFTER`` of them nobody may try until the oldest leaves the window, the right
  code included, so guessing is capped at ``LOCK_AFTER`` tries per window. Sessions
  already signed in are unaffected.
- **A download link works only just after a signed-in click.** With an access code
  set, CSV downloads are generated on click (through the signed-in session's
  websocket); the ``/media/...`` URL that click produces serves the file for
  ``LINK_SECONDS`` and then answers 404, so a copied or logged URL gives nothing to
  someone without the code. (No URL exists before a click.)
- **No secret in the server log.** The app's log records (and their tracebacks) have
  every fragment of the configured database URLs' secrets and of the access code
  scrubbed (``prometheus.urls.redact``).
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus.config import Settings
from prometheus.urls import RedactingFilter, url_secrets

WINDOW_SECONDS = 15 * 60
FREE_TRIES = 3
MAX_DELAY_SECONDS = 8.0
LOCK_AFTER = 10
LINK_SECONDS = 10.0  # the browser fetches a download link twice (a check, then the file) right after the click


@dataclass
class Throttle:
    """Wrong access codes across every session of this server (see the module's rules)."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    failures: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, now: float) -> int:
        while self.failures and now - self.failures[0] > WINDOW_SECONDS:
            self.failures.popleft()
        return len(self.failures)

    def locked_for(self) -> float:
        """Seconds until anyone may try again (0: not locked)."""
        with self.lock:
            now = self.clock()
            if self._recent(now) < LOCK_AFTER:
                return 0.0
            return max(0.0, WINDOW_SECONDS - (now - self.failures[0]))

    def check(self, given: str, code: str) -> bool | None:
        """True: the right code; False: wrong; None: locked, not checked."""
        if self.locked_for() > 0:
            return None
        with self.lock:
            delay = min(MAX_DELAY_SECONDS, 2.0 ** (self._recent(self.clock()) - FREE_TRIES))
        if delay >= 1.0:
            self.sleep(delay)
        if hmac.compare_digest(given.encode(), code.encode()):
            return True
        with self.lock:
            self.failures.append(self.clock())
        return False


THROTTLE = Throttle()


# ---------------------------------------------------------------- download links


class _Links:
    """Download files armed by a signed-in click: file id -> deadline."""

    def __init__(self) -> None:
        self.armed: dict[str, float] = {}
        self.lock = threading.Lock()
        self.inside = threading.local()  # Streamlit's own reads while generating the file
        self.installed = False

    def arm(self, url: str) -> None:
        file_id = url.rsplit("/", 1)[-1].split(".", 1)[0]
        with self.lock:
            self.armed[file_id] = time.monotonic() + LINK_SECONDS

    def allows(self, name: str) -> bool:
        file_id = name.split(".", 1)[0]
        now = time.monotonic()
        with self.lock:
            for expired in [k for k, deadline in self.armed.items() if deadline < now]:
                del self.armed[expired]
            return file_id in self.armed


LINKS = _Links()


def guard_downloads(code_required: Callable[[], bool]) -> None:
    """Make CSV download URLs work only within LINK_SECONDS of a signed-in click, when a code is set.

    Wraps this server's media storage (Streamlit serves ``/media/<file>`` from it) and its
    deferred-download hook; idempotent, and a no-op where no Streamlit runtime runs (tests).
    """
    from streamlit import runtime
    from streamlit.runtime.media_file_storage import MediaFileKind, MediaFileStorageError

    if LINKS.installed or not runtime.exists():
        return
    manager: Any = runtime.get_instance().media_file_mgr
    storage: Any = getattr(manager, "_storage", None)
    if storage is None or not hasattr(storage, "get_file"):
        return
    original_get: Callable[[str], Any] = storage.get_file
    original_execute: Callable[[str], str] = manager.execute_deferred

    def get_file(name: str) -> Any:
        found = original_get(name)
        if found.kind != MediaFileKind.DOWNLOADABLE or getattr(LINKS.inside, "active", False):
            return found
        try:
            required = code_required()
        except Exception:  # a configuration that cannot be read: deny
            required = True
        if required and not LINKS.allows(name):
            raise MediaFileStorageError("download link expired: click the download button again")
        return found

    def execute_deferred(file_id: str) -> str:
        LINKS.inside.active = True
        try:
            url = original_execute(file_id)
        finally:
            LINKS.inside.active = False
        LINKS.arm(url)
        return url

    storage.get_file = get_file
    manager.execute_deferred = execute_deferred
    LINKS.installed = True


# ---------------------------------------------------------------- logs


def keep_secrets_out_of_logs(settings: Settings, logger_name: str = "prometheus.app") -> None:
    """Scrub the settings' secrets (URL passwords, the access code) from every record of the app's logger.

    A logger's own filters see each record it logs, tracebacks included (``exc_info`` is
    formatted and scrubbed here, before any handler); the app logs only through this one.
    """
    secrets: set[str] = set()
    for url in {settings.db_url, settings.effective_runtime_url}:
        secrets |= url_secrets(url)
    if settings.access_code:
        secrets.add(settings.access_code)
    logger = logging.getLogger(logger_name)
    for old in [f for f in logger.filters if isinstance(f, RedactingFilter)]:
        if old.secrets == frozenset(secrets):
            return
        logger.removeFilter(old)
    logger.addFilter(RedactingFilter(secrets))
