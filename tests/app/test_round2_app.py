"""Round 2 for the app: doubt about the configuration denies; wrong codes slow down and lock;
ids shown as plain text; read-only deployments never fit a UMAP; one fit per data version;
an unusable cache folder costs speed, not the page; secrets kept out of the log."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import streamlit as st
from app_helpers import PROJECT
from helpers import ALL_SAMPLE_DATES, fill_sample
from streamlit.testing.v1 import AppTest
from test_pages import assert_clean, open_page, plotly_figures, shown, use_store

from prometheus.config import Settings
from prometheus.store.stores import open_stores
from ui import access

REFUSED = "This app serves nothing until its configuration is fixed: "


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import os

    for name in [k for k in os.environ if k.startswith("PROMETHEUS_")]:
        monkeypatch.delenv(name)
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setattr(access, "THROTTLE", access.Throttle(clock=time.monotonic, sleep=lambda s: None))
    yield
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sample2') / 'prometheus.db'}"
    fill_sample(url, backfill=ALL_SAMPLE_DATES)
    return url


def _refused(at: AppTest) -> str:
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Prometheus"]
    assert not at.info and not at.dataframe and not at.text_input  # nothing served, no form either
    (error,) = at.error
    assert shown(error.value).startswith(REFUSED)
    return shown(error.value).removeprefix(REFUSED)


# ---------------------------------------------------------------- item 2: any doubt denies


@pytest.fixture
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from streamlit import config
    from streamlit.runtime.secrets import Secrets

    path = tmp_path / "secrets.toml"
    saved = config.get_option("secrets.files")
    config.set_option("secrets.files", [str(path)])
    monkeypatch.setattr(st, "secrets", Secrets())
    yield path
    config.set_option("secrets.files", saved)


def test_a_secrets_file_with_one_bad_line_refuses_to_serve(
    sample: str, secrets_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets_file.write_text('access_code = "c0de"\nread_only = tru e\n')
    use_store(monkeypatch, sample, tmp_path / "cache")
    for page in ("overview", "similar"):
        reason = _refused(open_page(page))
        assert reason.startswith(f"the secrets file {secrets_file} cannot be read (")
        assert reason.endswith(
            "fix it and reload: the app serves nothing until then, since that file may hold the access code"
        )
        assert "c0de" not in reason


def test_a_missing_secrets_file_is_no_doubt(
    sample: str, secrets_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_store(monkeypatch, sample, tmp_path / "cache")
    assert_clean(open_page("overview"))


def test_a_top_level_access_code_counts_beside_a_prometheus_table(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=30)
    at.secrets["access_code"] = "c0de"
    at.secrets["prometheus"] = {"db_url": sample, "cache_dir": str(tmp_path / "cache")}
    at.run()
    assert [t.value for t in at.title] == ["Prometheus"] and at.text_input  # asked for the code
    assert not at.dataframe and not at.metric


def test_two_different_access_codes_refuse(sample: str, tmp_path: Path) -> None:
    at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=30)
    at.secrets["access_code"] = "one"
    at.secrets["prometheus"] = {"db_url": sample, "access_code": "two"}
    at.run()
    assert _refused(at) == (
        "secrets: access_code is set both at the top level and in [prometheus], differently: keep one"
    )


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        (
            "PROMETHEUS_APPROXIMATE_ABOVE",
            "²",
            "PROMETHEUS_APPROXIMATE_ABOVE (a number of states): '²' is not a whole number",
        ),
        (
            "PROMETHEUS_READ_ONLY",
            "enabled",
            "PROMETHEUS_READ_ONLY='enabled' is not understood: use one of 1/true/yes/on or 0/false/no/off",
        ),
    ],
)
def test_a_setting_that_cannot_be_read_denies(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, reason: str
) -> None:
    use_store(monkeypatch, sample, tmp_path / "cache", PROMETHEUS_ACCESS_CODE="c0de", **{name: value})
    for page in ("overview", "similar", "map"):
        assert _refused(open_page(page)) == reason


# ---------------------------------------------------------------- item 11: wrong codes slow down, then lock


def test_wrong_codes_slow_down_then_lock_everyone_out_for_the_window(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    waits: list[float] = []
    monkeypatch.setattr(access, "THROTTLE", access.Throttle(clock=lambda: now[0], sleep=waits.append))
    use_store(monkeypatch, sample, tmp_path / "cache", PROMETHEUS_ACCESS_CODE="c0de")
    at = open_page("overview")
    for _ in range(access.LOCK_AFTER):
        at.text_input(key="access_code_input").input("guess")
        at.button[0].click().run()
        assert [e.value for e in at.error] == ["That access code is not right."]
        now[0] += 1
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0]  # free tries, then doubling, capped
    fresh = open_page("overview")  # another tab (a new session) is locked out too, the right code included
    fresh.text_input(key="access_code_input").input("c0de")
    fresh.button[0].click().run()
    assert [e.value for e in fresh.error] == ["Too many wrong access codes: sign-in is paused for about 15 minute(s)."]
    assert not fresh.dataframe and not fresh.metric
    now[0] += access.WINDOW_SECONDS
    fresh.text_input(key="access_code_input").input("c0de")
    fresh.button[0].click().run()
    assert_clean(fresh)
    assert fresh.metric  # in


# ---------------------------------------------------------------- item 6: ids as plain text


HOSTILE = [
    "[click](http://evil.example/x)",
    "![pixel](http://127.0.0.1:9/pixel.png)",
    "**bold** :red[colour] $x$ www.evil.example",
    "<a href='http://evil.example'>link</a>",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> str:
    from datetime import date

    from factories import make_report

    from prometheus.services.backfill import BackfillRequest, backfill_joint, backfill_numeric
    from prometheus.services.dates import DateSelection

    url = f"sqlite:///{tmp_path_factory.mktemp('hostile-app') / 'db.sqlite'}"
    stores = open_stores(Settings(db_url=url))
    stores.reports.upsert([make_report(pid, date(2020, 1, d)) for pid in [*HOSTILE, "PF_PLAIN"] for d in (2, 3, 6)])
    request = BackfillRequest(DateSelection(start=date(2020, 1, 1), end=date(2020, 1, 31)))
    backfill_numeric(stores, "num-portfolio-core-v1", request)
    backfill_joint(stores, "num-portfolio-core-v1", "joint-portfolio-core-v1", request)
    stores.dispose()
    return url


def _no_markup(source: str, plain: str) -> None:
    """The Markdown source shows ``plain`` verbatim: every punctuation mark of it escaped."""
    from prometheus.presenters.markup import markdown_text

    assert markdown_text(plain) in source


@pytest.mark.parametrize("pid", HOSTILE)
def test_ids_are_plain_text_in_the_similar_and_drawdown_pages(
    hostile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pid: str
) -> None:
    use_store(monkeypatch, hostile, tmp_path / "cache")
    at = open_page("similar", portfolio=pid, date="2020-01-06")
    assert_clean(at)
    (query,) = [m.value for m in at.markdown if m.value.startswith("**Query:**")]
    _no_markup(query, pid)
    dd = open_page("drawdown", portfolio=pid, date="2020-01-06")
    assert_clean(dd)
    (header,) = [h.value for h in dd.subheader if h.value.startswith("Closest historical analogues of ")]
    _no_markup(header, pid)
    (own,) = [c.label for c in dd.checkbox if c.key == "dd_own"]
    _no_markup(own, pid)
    for figure in plotly_figures(dd):
        assert "<a" not in str(figure.get("layout", {}).get("title", "")).lower()


def test_ids_are_plain_text_in_plotly(hostile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_store(monkeypatch, hostile, tmp_path / "cache")
    at = open_page("map", color="portfolio", portfolio=HOSTILE[3])
    assert_clean(at)
    (figure,) = plotly_figures(at)
    names = [str(trace.get("name", "")) for trace in figure["data"]]
    texts = [str(t) for trace in figure["data"] for t in (trace.get("text") or []) if isinstance(t, str)]
    for label in names + texts:
        assert "<a " not in label and "<a>" not in label
    assert "&lt;a href='http://evil.example'&gt;link&lt;/a&gt;" in names


# ---------------------------------------------------------------- item 10: read-only maps, one fit at a time


def test_a_read_only_deployment_never_fits_a_umap_and_serves_a_stored_one(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus.projection import maps
    from prometheus.services.maps import store_map

    fits: list[int] = []

    def counted_umap(matrix: np.ndarray, params: Any, progress: Any) -> np.ndarray:
        fits.append(len(matrix))
        return np.column_stack([np.arange(len(matrix)), np.zeros(len(matrix))]).astype(float)

    monkeypatch.setattr(maps, "fit_umap", counted_umap)
    use_store(monkeypatch, sample, tmp_path / "cache", PROMETHEUS_READ_ONLY="1")
    for _ in range(5):  # five visitors
        at = open_page("map", method="umap")
        assert_clean(at)
        assert any("No UMAP map is stored for the current data" in shown(i.value) for i in at.info)
        assert not plotly_figures(at)
    assert fits == []
    stores = open_stores(Settings(db_url=sample, cache_dir=tmp_path / "cache"))  # whoever runs it stores the map
    store_map(stores, "joint-portfolio-core-v1", "umap")
    stores.dispose()
    assert fits == [120]
    at = open_page("map", method="umap")
    assert_clean(at)
    assert plotly_figures(at) and fits == [120]


def test_sessions_asking_for_the_same_map_share_one_fit(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prometheus.projection import maps
    from ui import data
    from ui.context import PageContext

    started = threading.Event()
    fits: list[int] = []

    def slow_pca(matrix: np.ndarray) -> np.ndarray:
        fits.append(len(matrix))
        started.set()
        time.sleep(0.5)
        return np.zeros((len(matrix), 2))

    monkeypatch.setattr(maps, "fit_pca", slow_pca)
    settings = Settings(db_url=sample, cache_dir=tmp_path / "cache")
    stores = open_stores(settings)
    ctx = PageContext(settings, stores, "joint-portfolio-core-v1", "v-test")
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda: results.append(data.compute_projection(ctx, "pca", lambda *a: None)))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    stores.dispose()
    assert fits == [120] and len(results) == 5 and all(r is results[0] for r in results)


# ---------------------------------------------------------------- item 13: an unusable cache folder


def test_the_map_page_works_with_an_unusable_cache_folder(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    use_store(monkeypatch, sample, blocker)
    at = open_page("map")
    assert_clean(at)
    assert plotly_figures(at)
    assert any("could not be stored in the cache folder" in shown(c.value) for c in at.caption)


# ---------------------------------------------------------------- logs


def test_no_secret_reaches_the_app_log(caplog: pytest.LogCaptureFixture) -> None:
    from ui.context import log

    settings = Settings(
        db_url="postgresql+psycopg://bob:Zq7pw@db/x?sslpassword=Kx9ssl",
        access_code="c0de-Secret",
        approximate_above=None,
    )
    access.keep_secrets_out_of_logs(settings)
    try:
        raise RuntimeError("connect to postgresql+psycopg://bob:Zq7pw@db/x?sslpassword=Kx9ssl failed; code c0de-Secret")
    except RuntimeError:
        with caplog.at_level(logging.ERROR, logger="prometheus.app"):
            log.exception("unexpected error on a page")
    text = caplog.text
    assert "unexpected error on a page" in text and "Traceback" in text
    for secret in ("Zq7pw", "Kx9ssl", "c0de-Secret"):
        assert secret not in text


# ---------------------------------------------------------------- links with numbers int() misreads (item 5)


@pytest.mark.parametrize("k", ["²", "¹²", "٣", "9" * 5000, "-1", "0"])
def test_a_link_with_a_misread_number_is_ignored_not_a_crash(
    sample: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, k: str
) -> None:
    use_store(monkeypatch, sample, tmp_path / "cache")
    at = open_page("similar", k=k, threshold=k)
    assert_clean(at)
    assert [n.value for n in at.number_input if n.key == "sim_k"] == [20]  # the default, not the link's value
    overview = open_page("overview", threshold=k)
    assert_clean(overview)


# ---------------------------------------------------------------- a full or read-only cache folder (item 13)


def test_a_map_is_shown_when_its_files_cannot_be_written(sample: str, tmp_path: Path) -> None:
    import errno

    from prometheus.projection import maps

    stores = open_stores(Settings(db_url=sample, cache_dir=tmp_path / "cache"))

    def full(path: Path, write: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(maps, "atomic_write", full)
            frame = maps.project_states(stores, "joint-portfolio-core-v1", "pca")
        assert len(frame) == 120 and frame.attrs["stored"] is False and frame.attrs["source"] == "fit"
        again = maps.project_states(stores, "joint-portfolio-core-v1", "pca")
        assert again.attrs["stored"] is True and again.attrs["source"] == "fit"  # computed again, then kept
    finally:
        stores.dispose()


# ---------------------------------------------------------------- a password in a URL parameter, on every page (item 3)


@pytest.mark.postgres
def test_a_password_parameter_never_reaches_the_sidebar(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    separator = "&" if "?" in pg_url else "?"
    url = f"{pg_url}{separator}password=Zq7secretPw&application_name=prometheus"
    fill_sample(url, backfill=ALL_SAMPLE_DATES)
    use_store(monkeypatch, url, tmp_path / "cache")
    for page in ("overview", "similar"):
        at = open_page(page)
        assert_clean(at)
        sidebar = " ".join(shown(c.value) for c in at.sidebar.caption)
        assert "password=***" in sidebar
        assert "Zq7" not in str(at.main) + str(at.sidebar)
