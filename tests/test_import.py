import json
import math
import re
from datetime import date
from pathlib import Path

import pytest
from helpers import SAMPLE_JSONL

from prometheus.errors import InvalidInput, InvalidReport
from prometheus.report_files import read_report_file
from prometheus.reports import RiskReport
from prometheus.services.importing import import_report_file
from prometheus.store.stores import Stores

GOOD = {
    "portfolio_id": "PF_A",
    "as_of_date": "2025-01-31",
    "risk_metrics": {"volatility_1m": 0.2},
    "exposures_by_sector": {"Energy": 1.0},
}


def _jsonl(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sample_file_parses_completely() -> None:
    parsed = read_report_file(SAMPLE_JSONL)
    assert parsed.bad_rows == []
    assert len(parsed.reports) == 120
    assert {r.portfolio_id for r in parsed.reports} >= {"PORTFOLIO_CORE_US_EQ_001"}


def test_generated_report_id_is_deterministic(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [json.dumps(GOOD)])
    assert read_report_file(path).reports[0].report_id == read_report_file(path).reports[0].report_id


def test_every_bad_row_is_reported_with_its_line(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),
        '{"portfolio_id": "PF_B", "as_of_date": "2025-13-01"}',
        "not json",
        '{"portfolio_id": "PF_C", "as_of_date": "2025-01-31", "risk_metrics": {"drawdown": NaN}}',
        '{"portfolio_id": "PF_D", "as_of_date": "2025-01-31", "colour": "red"}',
        json.dumps(GOOD),
        '{"as_of_date": "2025-01-31"}',
        '{"portfolio_id": "PF_E", "as_of_date": "2025-01-31", "risk_metrics": {"beta_1y": "high"}}',
    ]
    parsed = read_report_file(_jsonl(tmp_path, lines))
    assert [str(b) for b in parsed.bad_rows] == [
        "line 2: invalid as_of_date '2025-13-01': use YYYY-MM-DD, e.g. 2025-01-31",
        "line 3: not valid JSON (Expecting value: line 1 column 1 (char 0))",
        "line 4: NaN is not allowed; risk reports must hold finite numbers (or null)",
        "line 5: unknown column(s) colour; expected report_id, portfolio_id, as_of_date, portfolio_value, cash, "
        "net_exposure, gross_exposure, leverage, risk_metrics, scenario_pnl, exposures_by_sector, "
        "exposures_by_factor, metadata",
        "line 6: duplicate of line 1 (PF_A 2025-01-31)",
        "line 7: missing portfolio_id",
        "line 8: report PF_E 2025-01-31: risk_metrics.beta_1y must be a number, got str",
    ]
    assert [r.portfolio_id for r in parsed.reports] == ["PF_A"]


def test_file_with_bad_rows_imports_nothing(stores: Stores, tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [json.dumps(GOOD), '{"portfolio_id": "PF_B", "as_of_date": "x"}'])
    with pytest.raises(InvalidReport) as info:
        import_report_file(stores, path)
    assert str(info.value) == (
        "reports.jsonl: 1 invalid row(s), nothing imported (fix them or pass --skip-invalid): "
        "line 2: invalid as_of_date 'x': use YYYY-MM-DD, e.g. 2025-01-31"
    )
    assert stores.reports.count() == 0
    summary = import_report_file(stores, path, skip_invalid=True)
    assert summary.imported == 1 and len(summary.skipped) == 1
    assert summary.line() == "imported 1 risk report(s), skipped 1 invalid row(s)"


def test_csv_with_json_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(
        "portfolio_id,as_of_date,leverage,risk_metrics,exposures_by_sector\n"
        'PF_A,2025-01-31,1.2,"{""volatility_1m"": 0.2}","{""Energy"": 1.0}"\n'
        "PF_B,2025-01-31,nan,,\n"
        'PF_C,2025-01-31,,"{broken",\n',
        encoding="utf-8",
    )
    parsed = read_report_file(path)
    assert [r.portfolio_id for r in parsed.reports] == ["PF_A"]
    assert parsed.reports[0].risk_metrics == {"volatility_1m": 0.2}
    assert parsed.reports[0].leverage == 1.2
    assert [b.line for b in parsed.bad_rows] == [3, 4]
    assert parsed.bad_rows[0].reason == "leverage is nan; NaN and infinity are not allowed"


def test_sample_csv_parses() -> None:
    parsed = read_report_file(SAMPLE_JSONL.with_suffix(".csv"))
    assert parsed.bad_rows == [] and len(parsed.reports) == 10


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: nothing to import"),
        (b"\xff\xfe\x00garbage", "is not UTF-8 text (byte 0): save it as UTF-8"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as info:
        read_report_file(path)
    assert str(info.value) == f"{path} {message}"


def test_csv_without_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("portfolio,date\nA,2025-01-01\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="the CSV header lacks portfolio_id, as_of_date"):
        read_report_file(path)


def test_missing_file() -> None:
    with pytest.raises(InvalidInput, match=r"no such file: /nonexistent\.jsonl"):
        read_report_file(Path("/nonexistent.jsonl"))


def test_a_block_with_keys_seen_before_is_still_checked_value_by_value() -> None:
    """Blocks whose keys were seen before take a fast path: it must refuse what the full check refuses."""
    day = date(2024, 1, 31)
    for _ in range(2):  # the second time, these keys are known
        RiskReport.create(portfolio_id="PF", as_of_date=day, risk_metrics={"a_seen": 0.1, "b_seen": None})
    for bad, reason in (
        ({"a_seen": math.nan, "b_seen": None}, "risk_metrics.a_seen is nan; NaN and infinity are not allowed"),
        ({"a_seen": 0.1, "b_seen": -math.inf}, "risk_metrics.b_seen is -inf; NaN and infinity are not allowed"),
        ({"a_seen": True, "b_seen": None}, "risk_metrics.a_seen must be a number, got bool"),
    ):
        with pytest.raises(InvalidReport, match=f"^report PF 2024-01-31: {re.escape(reason)}$"):
            RiskReport.create(portfolio_id="PF", as_of_date=day, risk_metrics=bad)
    # finite figures whose sum overflows, an int, zeros: taken as the full check takes them
    report = RiskReport.create(
        portfolio_id="PF", as_of_date=day, risk_metrics={"a_seen": 1e308, "b_seen": 1e308}, scenario_pnl={"x": 2}
    )
    assert report.risk_metrics == {"a_seen": 1e308, "b_seen": 1e308} and report.scenario_pnl == {"x": 2.0}
    block = {"a_seen": 0.0, "b_seen": -0.0}
    stored = RiskReport.create(portfolio_id="PF", as_of_date=day, risk_metrics=block).risk_metrics
    assert stored == block and stored is not block  # a copy: the caller's dict may change later


def test_a_bad_value_deep_in_metadata_is_named_by_its_path() -> None:
    with pytest.raises(InvalidReport, match=r"^report PF 2024-01-31: metadata\.desk\.a\\nb is nan; NaN"):
        RiskReport.create(
            portfolio_id="PF", as_of_date=date(2024, 1, 31), metadata={"desk": {"a\nb": math.nan}, "ok": "x"}
        )
    with pytest.raises(InvalidReport, match=r"^report PF 2024-01-31: metadata\.k contains a NUL character"):
        RiskReport.create(portfolio_id="PF", as_of_date=date(2024, 1, 31), metadata={"k": "a\x00"})
