"""The demo book's 40 portfolio styles: each one a rule that weighs the names on a rebalancing date.

Each portfolio rebalances at month or quarter ends from 1990 (rule-based
styles) or from the end of 1990 (styles that need a year of trailing
statistics), holds only names priced on the rebalancing date, and takes in
new listings as they appear. Between rebalancing dates the engine lets the
weights drift with prices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus.demo import weighting as wt
from prometheus.demo.weighting import Snapshot, Weights

COMM, DISC, STAPLES, ENERGY = "Communication Services", "Consumer Discretionary", "Consumer Staples", "Energy"
FIN, HEALTH, IND, TECH = "Financials", "Health Care", "Industrials", "Information Technology"

DEFENSIVE = ["WMT", "PFE", "T", "XOM"]
CYCLICAL = (DISC, IND, "Materials", ENERGY, FIN)


@dataclass(frozen=True)
class DemoPortfolio:
    portfolio_id: str
    style: str
    description: str
    rebalance: str  # "monthly" or "quarterly"
    needs_history: bool  # True: the scheme uses a year of trailing statistics
    weigh: Callable[[Snapshot], Weights]


def _ew(s: Snapshot) -> Weights:
    return wt.equal(s.listed)


def _seasoned_ew(s: Snapshot) -> Weights:
    return wt.equal(s.seasoned)


def _momentum_long_short(s: Snapshot, long: float, short: float, names: int) -> Weights:
    ranked = s.momentum
    half = wt.top(ranked, max(len(ranked) // 2, 1))
    losers = [t for t in wt.bottom(ranked, names) if t not in half]
    return wt.merge(wt.equal(half, long), wt.equal(losers, -short))


def _momentum_rank(s: Snapshot) -> Weights:
    return wt.rank_weighted(wt.top(s.momentum, max(len(s.momentum) // 2, 1)))


def _low_vol_long_short(s: Snapshot) -> Weights:
    vol = s.volatility
    calm = wt.bottom(vol, max(len(vol) // 2, 1))
    wild = [t for t in wt.top(vol, 3) if t not in calm]
    return wt.merge(wt.proportional({t: 1.0 / vol[t] for t in calm}, 1.3), wt.equal(wild, -0.3))


def _market_neutral(s: Snapshot) -> Weights:
    winners, losers = wt.top(s.momentum, 5), wt.bottom(s.momentum, 5)
    return wt.merge(wt.equal(winners, 0.5), wt.equal([t for t in losers if t not in winners], -0.5))


def _trend(s: Snapshot) -> Weights:
    return wt.equal([t for t, m in s.momentum.items() if m > 0])


def _hedged_defensive(s: Snapshot) -> Weights:
    longs = s.available(DEFENSIVE)
    shorts = [t for t in wt.top(s.volatility, 3) if t not in longs]
    return wt.merge(wt.equal(longs, 0.6), wt.equal(shorts, -0.3))


def _blend(s: Snapshot) -> Weights:
    mom, vol = wt.zscores(s.momentum), wt.zscores(s.volatility)
    return wt.equal(wt.top({t: mom[t] - vol[t] for t in mom}, 6))


def _barbell(s: Snapshot) -> Weights:
    calm = wt.bottom(s.volatility, 3)
    strong = [t for t in wt.top(s.momentum, 6) if t not in calm][:3]
    return wt.merge(wt.equal(calm, 0.5), wt.equal(strong, 0.5))


def _growth(s: Snapshot) -> Weights:
    return wt.equal(s.fill(["AAPL", "AMZN", "GOOG", "MA", "META"], ["AMD", "SBUX", "BBY"], 5))


# (style, description, rebalance, needs_history, scheme), numbered 001..040 in this order.
_SPECS: tuple[tuple[str, str, str, bool, Callable[[Snapshot], Weights]], ...] = (
    ("equal_weight", "Equal weight across every listed name, rebalanced monthly.", "monthly", False, _ew),
    ("equal_weight_quarterly", "Equal weight across every listed name, rebalanced quarterly.", "quarterly", False, _ew),
    (
        "tech_heavy",
        "65% in technology and communication services, 35% spread over the rest.",
        "monthly",
        False,
        lambda s: wt.tilt(s.in_sectors(TECH, COMM), s.outside_sectors(TECH, COMM), 0.65),
    ),
    (
        "tech_internet",
        "Technology and internet platforms only (AAPL, AMD, MA, GOOG, META, AMZN, BABA) as they list.",
        "quarterly",
        False,
        lambda s: wt.equal(s.available(["AAPL", "AMD", "MA", "GOOG", "META", "AMZN", "BABA"])),
    ),
    (
        "defensive",
        "Staples, health care, telecom and an integrated oil major at fixed weights 30/30/25/15.",
        "quarterly",
        False,
        lambda s: wt.fixed(s, {"WMT": 0.30, "PFE": 0.30, "T": 0.25, "XOM": 0.15}),
    ),
    (
        "financials_heavy",
        "60% in the two money-centre banks (BAC, JPM), 40% spread over the rest.",
        "monthly",
        False,
        lambda s: wt.tilt(s.in_sectors(FIN), s.outside_sectors(FIN), 0.60),
    ),
    (
        "energy_heavy",
        "60% in energy (XOM, and RRC once listed), 40% spread over the rest.",
        "monthly",
        False,
        lambda s: wt.tilt(s.in_sectors(ENERGY), s.outside_sectors(ENERGY), 0.60),
    ),
    (
        "consumer",
        "Consumer discretionary and staples names, equal weight, adding retailers and brands as they list.",
        "monthly",
        False,
        lambda s: wt.equal(s.in_sectors(DISC, STAPLES)),
    ),
    (
        "staples_anchored_consumer",
        "40% Walmart, 60% equally over consumer discretionary names.",
        "quarterly",
        False,
        lambda s: wt.tilt(s.available(["WMT"]), s.in_sectors(DISC), 0.40),
    ),
    (
        "concentrated_financial_industrial",
        "Concentrated: JPM, BAC and GE in equal thirds.",
        "quarterly",
        False,
        lambda s: wt.equal(s.available(["JPM", "BAC", "GE"])),
    ),
    (
        "concentrated_high_beta",
        "Concentrated: AAPL, AMD and BBY in equal thirds.",
        "quarterly",
        False,
        lambda s: wt.equal(s.available(["AAPL", "AMD", "BBY"])),
    ),
    (
        "concentrated_defensive",
        "Concentrated: XOM, WMT, PFE and T in equal quarters.",
        "quarterly",
        False,
        lambda s: wt.equal(s.available(DEFENSIVE)),
    ),
    (
        "concentrated_growth",
        "Five growth names (AAPL, AMZN, GOOG, MA, META), filled with AMD, SBUX, BBY until they list.",
        "monthly",
        False,
        _growth,
    ),
    (
        "concentrated_blue_chip",
        "Five blue chips (GE, XOM, JPM, WMT, PFE) in equal fifths.",
        "quarterly",
        False,
        lambda s: wt.equal(s.available(["GE", "XOM", "JPM", "WMT", "PFE"])),
    ),
    (
        "momentum_top5",
        "The five names with the best 12-1 month return, equal weight, monthly.",
        "monthly",
        True,
        lambda s: wt.equal(wt.top(s.momentum, 5)),
    ),
    (
        "momentum_weighted",
        "Top half by 12-1 month return, weights declining linearly with momentum rank.",
        "monthly",
        True,
        _momentum_rank,
    ),
    (
        "minimum_variance",
        "Long-only minimum variance from the trailing year's shrunk covariance, monthly.",
        "monthly",
        True,
        lambda s: wt.minimum_variance(s),
    ),
    (
        "minimum_variance_capped",
        "Long-only minimum variance with a 20% cap per name, quarterly.",
        "quarterly",
        True,
        lambda s: wt.minimum_variance(s, cap=0.20),
    ),
    (
        "inverse_volatility",
        "Weights proportional to 1 / trailing-year volatility, monthly.",
        "monthly",
        True,
        lambda s: wt.inverse_volatility(s),
    ),
    (
        "inverse_variance",
        "Weights proportional to 1 / trailing-year variance (naive risk parity), quarterly.",
        "quarterly",
        True,
        lambda s: wt.inverse_volatility(s, power=2.0),
    ),
    (
        "long_short_130_30_momentum",
        "130/30: 130% equally in the top momentum half, 30% short the three weakest names.",
        "monthly",
        True,
        lambda s: _momentum_long_short(s, 1.3, 0.3, 3),
    ),
    (
        "long_short_130_30_low_vol",
        "130/30: 130% inverse-vol in the calmer half, 30% short the three most volatile names.",
        "monthly",
        True,
        _low_vol_long_short,
    ),
    (
        "leveraged_equal_weight",
        "Equal weight at 1.5x gross on margin (cash -50% of NAV), monthly.",
        "monthly",
        False,
        lambda s: wt.equal(s.listed, 1.5),
    ),
    (
        "leveraged_minimum_variance",
        "Minimum variance levered to 1.5x gross, monthly.",
        "monthly",
        True,
        lambda s: wt.scaled(wt.minimum_variance(s), 1.5),
    ),
    (
        "market_neutral_momentum",
        "Dollar neutral: 50% long the five strongest, 50% short the five weakest by 12-1 momentum.",
        "monthly",
        True,
        _market_neutral,
    ),
    (
        "low_volatility_top5",
        "The five calmest names by trailing-year volatility, equal weight.",
        "monthly",
        True,
        lambda s: wt.equal(wt.bottom(s.volatility, 5)),
    ),
    (
        "high_volatility_top5",
        "The five most volatile names by trailing-year volatility, equal weight.",
        "monthly",
        True,
        lambda s: wt.equal(wt.top(s.volatility, 5)),
    ),
    (
        "short_term_reversal",
        "Contrarian: the five worst performers of the last month, equal weight, monthly.",
        "monthly",
        False,
        lambda s: wt.equal(wt.bottom(s.month_return, 5)),
    ),
    (
        "conservative_60_cash_40",
        "60% equal weight equities, 40% cash.",
        "quarterly",
        False,
        lambda s: wt.equal(s.listed, 0.6),
    ),
    ("sector_balanced", "Equal weight per sector present, then equal within.", "quarterly", False, wt.sector_balanced),
    (
        "blue_chip_income",
        "Dividend blue chips GE, XOM, PFE, T, WMT and JPM, equal weight.",
        "quarterly",
        False,
        lambda s: wt.equal(s.available(["GE", "XOM", "PFE", "T", "WMT", "JPM"])),
    ),
    (
        "trend_following",
        "Equal weight in names with a positive 12-1 month return; the rest stays in cash.",
        "monthly",
        True,
        _trend,
    ),
    (
        "volatility_target",
        "Equal weight scaled to a 15% trailing 3-month volatility, between 0.25x and 1.5x.",
        "monthly",
        True,
        lambda s: wt.volatility_target(s, 0.15, 0.25, 1.5),
    ),
    (
        "hedged_defensive",
        "60% long defensives (WMT, PFE, T, XOM), 30% short the three most volatile names.",
        "monthly",
        True,
        _hedged_defensive,
    ),
    # This slot held a price-weighted book (weights proportional to share price, like the Dow). The
    # demo's prices are back-adjusted closes, whose levels depend on splits and dividends paid after
    # each date, so no weighting by price level can be honest here: every rule uses only returns.
    (
        "cyclical_tilt",
        "65% in the cyclical sectors (discretionary, industrials, materials, energy, financials), 35% in the rest.",
        "quarterly",
        False,
        lambda s: wt.tilt(s.in_sectors(*CYCLICAL), s.outside_sectors(*CYCLICAL), 0.65),
    ),
    (
        "banks_cyclicals",
        "Banks and cyclicals BAC, JPM, GE, GM, RRC (XOM and BBY fill in until GM and RRC list).",
        "quarterly",
        False,
        lambda s: wt.equal(s.fill(["BAC", "JPM", "GE", "GM", "RRC"], ["XOM", "BBY"], 5)),
    ),
    (
        "retail",
        "Retailers WMT, BBY, SHLD, AMZN, SBUX, equal weight as they list.",
        "monthly",
        False,
        lambda s: wt.equal(s.available(["WMT", "BBY", "SHLD", "AMZN", "SBUX"])),
    ),
    (
        "health_staples_anchor",
        "PFE 40%, WMT 40%, T 20%.",
        "quarterly",
        False,
        lambda s: wt.fixed(s, {"PFE": 0.4, "WMT": 0.4, "T": 0.2}),
    ),
    (
        "momentum_low_vol_blend",
        "The six best names by momentum z-score plus low-volatility z-score, equal weight.",
        "monthly",
        True,
        _blend,
    ),
    (
        "barbell",
        "Half in the three calmest names, half in the three strongest-momentum others.",
        "monthly",
        True,
        _barbell,
    ),
)

DEMO_PORTFOLIOS: tuple[DemoPortfolio, ...] = tuple(
    DemoPortfolio(f"PORTFOLIO_CORE_US_EQ_{i:03d}", style, description, rebalance, history, scheme)
    for i, (style, description, rebalance, history, scheme) in enumerate(_SPECS, start=1)
)
