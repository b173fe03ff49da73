"""The Import page through Streamlit's AppTest: upload, check, import and embed in a real worker, then search.

Uploads go through AppTest's file_uploader (the bytes reach the page as they would from a
browser); the job runs in a real detached worker process. tests/browser covers a real upload.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from app_helpers import JOINT, PROJECT, SAMPLE_JSONL, shown, wait_for_job
from streamlit.testing.v1 import AppTest

from prometheus import jobs
from prometheus.config import Settings
from prometheus.errors import InvalidInput, ReadOnlyMode
from prometheus.jobs.kinds import ENGINE, REPORTS, import_params
from prometheus.services import uploads
from prometheus.services.dates import DateSelection
from prometheus.services.listing import list_joint_states
from prometheus.store.stores import Stores, open_stores

ENGINE_FILES = PROJECT / "tests" / "data" / "engine"
TIMEOUT = 30


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in [k for k in os.environ if k.startswith("PROMETHEUS_")]:
        monkeypatch.delenv(name)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stores]:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PROMETHEUS_DB_URL", url)
    monkeypatch.setenv("PROMETHEUS_CACHE_DIR", str(tmp_path / "cache"))
    opened = open_stores(Settings(db_url=url, cache_dir=tmp_path / "cache"))
    yield opened
    opened.dispose()


def import_page() -> AppTest:
    at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/import.py").run()
    return at


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def button(at: AppTest, key: str) -> object:
    (found,) = [b for b in at.button if b.key == key]
    return found


def upload_dirs(store: Stores) -> list[Path]:
    root = uploads.uploads_dir(store.settings)
    return sorted(root.iterdir()) if root.exists() else []


def run_the_job(at: AppTest, store: Stores) -> jobs.Job:
    job_id = at.session_state["import_job"]
    job = wait_for_job(store, job_id, timeout=120)
    assert job.display_status == jobs.SUCCEEDED, job.describe()
    return job


def test_a_report_file_is_checked_imported_embedded_and_searchable(store: Stores) -> None:
    at = import_page()
    clean(at)
    at.file_uploader(key="imp_reports_file").upload("My reports.jsonl", SAMPLE_JSONL.read_bytes()).run()
    clean(at)
    assert [s.value for s in at.success] == [
        "My reports.jsonl: 120 risk report(s) for 5 portfolio(s), 2024-01-31 to 2025-12-31."
    ]
    (saved,) = upload_dirs(store)
    assert [p.name for p in saved.iterdir()] == ["My_reports.jsonl"]  # a folder of its own, a clean name
    assert store.reports.count() == 0  # checked, nothing written yet
    button(at, "imp_reports_start").click().run()  # type: ignore[attr-defined]
    clean(at)
    job = run_the_job(at, store)
    assert job.message.startswith(
        "imported 120 risk report(s); num-portfolio-core-v1: 24 date(s), 120 state(s) written"
    )
    assert store.reports.count() == 120
    assert len(list_joint_states(store, JOINT, DateSelection(start=date(2024, 1, 1)))) == 120
    assert upload_dirs(store) == []  # the job removed the upload
    at.run()
    assert any(s.value.startswith("Import job succeeded: imported 120") for s in at.success)
    # the uploader starts empty again: the same file is not saved, checked or offered twice
    assert [u.key for u in at.file_uploader] == ["imp_reports_file_1"]
    assert not [b for b in at.button if b.key == "imp_reports_start"] and upload_dirs(store) == []
    at.switch_page("pages/similar.py").run()
    clean(at)
    assert any("nearest of" in c.value for c in at.caption)  # the imported books, searched
    (ranked,) = [d.value for d in at.dataframe if {"rank", "cosine"} <= set(d.value.columns)]
    assert len(ranked) > 0 and set(ranked["portfolio_id"]) <= {f"PORTFOLIO_CORE_US_EQ_00{i}" for i in range(1, 6)}


def test_a_file_with_bad_rows_lists_them_as_the_cli_does_and_imports_only_if_told(store: Stores) -> None:
    lines = SAMPLE_JSONL.read_text().splitlines()[:3]
    lines.insert(1, '{"portfolio_id": "PF_X", "as_of_date": "2025-W05-1"}')
    lines.append(lines[0])
    at = import_page()
    at.file_uploader(key="imp_reports_file").upload("bad.jsonl", ("\n".join(lines) + "\n").encode()).run()
    assert [e.value for e in at.error] == [
        "bad.jsonl: 2 invalid row(s); an import of this file as it is would write nothing. "
        "Fix them and upload it again, or skip them."
    ]
    (frame,) = [d.value for d in at.dataframe if "reason" in d.value.columns]
    assert frame.to_dict("records") == [
        {"line": 2, "reason": "invalid as_of_date '2025-W05-1': use YYYY-MM-DD, e.g. 2025-01-31"},
        {"line": 5, "reason": "duplicate of line 1 (PORTFOLIO_CORE_US_EQ_001 2024-01-31)"},
    ]
    start = button(at, "imp_reports_start")
    assert start.disabled  # type: ignore[attr-defined]
    at.checkbox(key="imp_skip").check().run()
    button(at, "imp_reports_start").click().run()  # type: ignore[attr-defined]
    job = run_the_job(at, store)
    assert job.result is not None and (job.result["imported"], job.result["skipped"]) == (3, 2)
    assert store.reports.count() == 3


def test_a_file_level_error_is_one_line_naming_the_upload_and_stays_shown(store: Stores) -> None:
    at = import_page()
    at.file_uploader(key="imp_reports_file").upload("../latin 1.csv", b"portfolio_id,as_of_date\nPF,caf\xe9\n").run()
    expected = ["latin_1.csv is not UTF-8 text (byte 30): save it as UTF-8"]
    assert [e.value for e in at.error] == expected
    at.run()
    assert [e.value for e in at.error] == expected  # still said on the next run, not silently gone
    assert [b for b in at.button if b.key == "imp_reports_start"] == []


def test_a_holdings_set_is_built_by_the_risk_engine_imported_and_embedded(store: Stores) -> None:
    at = import_page()
    at.radio(key="imp_source").set_value(ENGINE).run()
    for name, file in (("holdings", "holdings"), ("prices", "prices"), ("benchmark", "bench"), ("sectors", "sectors")):
        at.file_uploader(key=f"imp_{name}_file").upload(f"{file}.csv", (ENGINE_FILES / f"{file}.csv").read_bytes())
    at.run()
    clean(at)
    assert [s.value for s in at.success] == [
        "1 portfolio(s), 5 holding row(s), 3 ticker(s) priced; holdings from 2020-01-02, prices to 2020-01-08."
    ]
    at.selectbox(key="imp_frequency").set_value("daily").run()
    button(at, "imp_engine_start").click().run()  # type: ignore[attr-defined]
    job = run_the_job(at, store)
    assert job.message.startswith("built and stored 5 risk report(s) for 1 portfolio(s) from 2020-01-02 to 2020-01-08")
    assert "joint-portfolio-core-v1: 5 date(s), 5 state(s) written" in job.message
    assert store.reports.count() == 5
    assert len(list_joint_states(store, JOINT, DateSelection(start=date(2020, 1, 1)))) == 5
    assert upload_dirs(store) == []


def test_a_bad_holdings_file_is_one_line_naming_the_users_file(store: Stores) -> None:
    at = import_page()
    at.radio(key="imp_source").set_value(ENGINE).run()
    holdings = (ENGINE_FILES / "holdings.csv").read_text().replace("AAA,0.5", "XYZ,0.5", 1)
    at.file_uploader(key="imp_holdings_file").upload("my holdings.csv", holdings.encode())
    for name, file in (("prices", "prices"), ("benchmark", "bench"), ("sectors", "sectors")):
        at.file_uploader(key=f"imp_{name}_file").upload(f"{file}.csv", (ENGINE_FILES / f"{file}.csv").read_bytes())
    at.run()
    assert [e.value for e in at.error] == [
        "my_holdings.csv line 2: ticker 'XYZ' is not in the prices file; add its prices or remove the holding"
    ]
    assert [b for b in at.button if b.key == "imp_engine_start"] == []


def test_an_upload_over_the_limit_is_refused_with_the_way_out(store: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_MB", 1)
    at = import_page()
    at.file_uploader(key="imp_reports_file").upload("big.jsonl", b" " * 2_500_000).run()
    assert [shown(e.value) for e in at.error] == [
        "big.jsonl is 2 MB; the app takes files up to 1 MB. Import larger files with the command line: "
        "python -m prometheus.scripts.import_risk_reports FILE"
    ]
    assert upload_dirs(store) == []  # nothing saved


def test_the_app_limit_and_streamlits_are_the_same() -> None:
    config = tomllib.loads((PROJECT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == uploads.MAX_UPLOAD_MB


def test_read_only_refuses_imports(store: Stores, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_READ_ONLY", "1")
    at = import_page()
    clean(at)
    assert any("read-only: imports are disabled" in i.value for i in at.info)
    assert not at.file_uploader
    path = uploads.save_upload(store.settings, "r.jsonl", SAMPLE_JSONL.read_bytes())
    read_only = open_stores(Settings(db_url=store.settings.db_url, cache_dir=store.settings.cache_dir, read_only=True))
    try:
        with pytest.raises(ReadOnlyMode):
            jobs.submit_job(read_only, jobs.IMPORT, import_params(REPORTS, {"reports": path}))
    finally:
        read_only.dispose()


def test_every_empty_page_points_to_the_import_page(store: Stores) -> None:
    for page in ("overview", "similar", "backfill"):
        at = AppTest.from_file(str(PROJECT / "app.py"), default_timeout=TIMEOUT)
        at.run()
        if page != "overview":
            at.switch_page(f"pages/{page}.py").run()
        assert any("on the Import page" in i.value for i in at.info), page
        assert not any("import_risk_reports" in i.value for i in at.info)
        assert "Import your own data" in {link.proto.label for link in at.page_link}


def test_an_import_job_reads_only_uploads(store: Stores, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_bytes(SAMPLE_JSONL.read_bytes())
    with pytest.raises(InvalidInput, match=r"^the reports file is not an upload of this app$"):
        jobs.submit_job(store, jobs.IMPORT, import_params(REPORTS, {"reports": outside}))
    with pytest.raises(
        InvalidInput, match=r"^an import of engine needs the files prices, holdings, benchmark, sectors$"
    ):
        jobs.submit_job(store, jobs.IMPORT, import_params(ENGINE, {"prices": outside}))
    gone = uploads.save_upload(store.settings, "gone.jsonl", b"{}")
    uploads.discard_upload(store.settings, gone)
    with pytest.raises(InvalidInput, match=r"^the uploaded reports file is gone"):
        jobs.submit_job(store, jobs.IMPORT, import_params(REPORTS, {"reports": gone}))
    assert jobs.list_jobs(store) == [] and outside.exists()
    for hostile in ("../../etc/passwd", "..", ".hidden", "a/b\\c d.csv", ""):
        path = uploads.save_upload(store.settings, hostile, b"x")
        assert uploads.is_upload(store.settings, path) and path.parent.parent == uploads.uploads_dir(store.settings)
        assert not path.name.startswith(".")


def test_a_failed_import_job_writes_nothing_and_removes_its_upload(store: Stores) -> None:
    path = uploads.save_upload(store.settings, "bad.jsonl", b'{"portfolio_id": "A", "as_of_date": "x"}\n')
    job = wait_for_job(store, jobs.submit_job(store, jobs.IMPORT, import_params(REPORTS, {"reports": path})))
    assert job.display_status == jobs.FAILED
    assert job.error == (
        "bad.jsonl: 1 invalid row(s), nothing imported (fix them or pass --skip-invalid): "
        "line 1: invalid as_of_date 'x': use YYYY-MM-DD, e.g. 2025-01-31"
    )
    assert store.reports.count() == 0 and not path.exists()


def test_old_uploads_are_swept(store: Stores) -> None:
    path = uploads.save_upload(store.settings, "old.jsonl", b"{}")
    os.utime(path.parent, (0, 0))
    uploads.save_upload(store.settings, "new.jsonl", b"{}")
    assert not path.exists() and len(upload_dirs(store)) == 1
