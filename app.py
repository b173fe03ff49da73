"""Prometheus: find similar historical portfolio states; see drawdowns and stress periods on maps.

Run with ``streamlit run app.py``. Settings come from the environment and
``.streamlit/secrets.toml`` (see prometheus/config.py); the database URL and
its password are never shown on a page.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The app's shell lives in ui/; make the app's folder importable however the app
# was started (streamlit run, AppTest, another working directory).
_ROOT = str(Path(__file__).resolve().parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from ui import shell  # noqa: E402

shell.main()
