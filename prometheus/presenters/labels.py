"""Names in words: every risk metric, factor, sector, stress window and feature key a page or CSV shows.

Keys such as ``volatility_1m``, ``gfc_2008`` or ``risk.beta_1y`` are how reports and
schemas name things; a person reads "Volatility (1 month)", "Global financial crisis
2007-09", "Beta (1 year)". Tests check that every key of the report schema, the feature
schema and the stress windows has a label here (tests/app/test_page_formats.py).
"""

from __future__ import annotations

from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, OTHER_SECTOR, RISK_METRIC_KEYS
from prometheus.stress import STRESS_WINDOWS

METRIC_LABELS: dict[str, str] = {
    "volatility_1m": "Volatility (1 month)",
    "volatility_3m": "Volatility (3 months)",
    "volatility_1y": "Volatility (1 year)",
    "var_95_1d": "VaR 95% (1 day)",
    "es_95_1d": "Expected shortfall 95% (1 day)",
    "drawdown": "Drawdown",
    "max_drawdown_1y": "Max drawdown (1 year)",
    "beta_1y": "Beta (1 year)",
    "correlation_1y": "Correlation to benchmark (1 year)",
    "tracking_error_1y": "Tracking error (1 year)",
    "sharpe_1y": "Sharpe ratio (1 year)",
    "sortino_1y": "Sortino ratio (1 year)",
    "return_1m": "Return (1 month)",
    "return_3m": "Return (3 months)",
    "return_1y": "Return (1 year)",
    "skew_1y": "Skewness (1 year)",
    "kurtosis_1y": "Excess kurtosis (1 year)",
    "num_names": "Number of names",
    "herfindahl": "Concentration (Herfindahl)",
    "gross_exposure": "Gross exposure",
    "net_exposure": "Net exposure",
    "leverage": "Leverage",
    "portfolio_value": "Portfolio value",
    "cash": "Cash",
}
# How each metric reads: a fraction shown as a percentage, a ratio, or a count.
PERCENT_METRICS = frozenset(
    {
        "volatility_1m",
        "volatility_3m",
        "volatility_1y",
        "var_95_1d",
        "es_95_1d",
        "drawdown",
        "max_drawdown_1y",
        "tracking_error_1y",
        "return_1m",
        "return_3m",
        "return_1y",
        "gross_exposure",
        "net_exposure",
    }
)
COUNT_METRICS = frozenset({"num_names"})

FACTOR_LABELS: dict[str, str] = {
    "market_beta": "Market beta",
    "momentum": "Momentum",
    "low_volatility": "Low volatility",
    "size": "Size",
    "value": "Value",
    "short_term_reversal": "Short-term reversal",
}
STRESS_LABELS: dict[str, str] = {w.key: w.name for w in STRESS_WINDOWS}
JOB_KIND_LABELS = {
    "backfill": "Backfill",
    "load_demo": "Demo book",
    "projection": "Map",
    "fit": "Fit",
    "import": "Import",
}
BLOCK_LABELS = {"risk": "Risk", "sector": "Sector", "factor": "Factor", "anchor": "Anchor"}
SECTOR_LABELS: dict[str, str] = {name: name for name in (*GICS_SECTORS, OTHER_SECTOR)}


def feature_label(name: str) -> str:
    """A feature of a coordinate schema (``risk.volatility_1m``, ``sector.Energy``, ``factor.size``) in words."""
    block, dot, key = name.partition(".")
    if not dot:
        return "Constant (anchor)" if name == "anchor" else key_label(name)
    if block == "risk":
        return METRIC_LABELS.get(key, _words(key))
    if block == "sector":
        return f"Sector weight: {key}"
    if block == "factor":
        return f"Factor: {FACTOR_LABELS.get(key, _words(key))}"
    return f"{BLOCK_LABELS.get(block, _words(block))}: {_words(key)}"


def key_label(key: object) -> str:
    """Any metric, factor, stress-window or feature key in words; a key nobody named reads as words too."""
    text = str(key)
    for table in (METRIC_LABELS, FACTOR_LABELS, STRESS_LABELS, SECTOR_LABELS, BLOCK_LABELS):
        if text in table:
            return table[text]
    if "." in text:
        return feature_label(text)
    return _words(text)


def _words(key: str) -> str:
    # an imported report may carry keys no schema knows: "my_metric_3m" -> "My metric 3m"
    spaced = key.replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:] if spaced else ""


def known_keys() -> set[str]:
    """Every key the app may show that must never appear raw (for the page sweep)."""
    return {*RISK_METRIC_KEYS, *FACTOR_KEYS, *STRESS_LABELS}
