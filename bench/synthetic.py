"""Synthetic but realistic risk reports at any scale, for the benchmarks.

A market regime evolves over weekly dates (calm, choppy, stressed, with
drawdowns that build and recover); each portfolio has a style (beta, sector
mix, factor tilts, concentration). Metrics combine both with noise, so the
states cluster by regime and by style the way real books do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np

from prometheus.reports import FACTOR_KEYS, GICS_SECTORS, OTHER_SECTOR, RiskReport

SECTORS = (*GICS_SECTORS, OTHER_SECTOR)


def weekly_dates(count: int, start: date = date(1995, 1, 6)) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(count)]


def _market(dates: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    stress = np.zeros(dates)
    level = 0.0
    for t in range(dates):  # a regime that switches on and decays, a few times a decade
        if rng.random() < 0.01:
            level = rng.uniform(0.8, 2.0)
        level *= 0.93
        stress[t] = level
    vol = 0.13 * (1 + stress) * np.exp(0.1 * rng.standard_normal(dates))
    drawdown = -np.clip(0.25 * stress + 0.03 * np.abs(rng.standard_normal(dates)), 0, 0.8)
    returns = 0.01 - 0.08 * stress + 0.02 * rng.standard_normal(dates)
    return {"stress": stress, "vol": vol, "drawdown": drawdown, "ret": returns}


def reports_in_chunks(portfolios: int, dates: int, seed: int = 7, chunk_dates: int = 50) -> Iterator[list[RiskReport]]:
    """``portfolios`` x ``dates`` reports, yielded a chunk of dates at a time."""
    rng = np.random.default_rng(seed)
    days = weekly_dates(dates)
    market = _market(dates, rng)
    beta = rng.uniform(0.5, 1.6, portfolios)
    sectors = rng.dirichlet(np.full(len(SECTORS), 0.4), portfolios)
    tilts = rng.standard_normal((portfolios, len(FACTOR_KEYS))) * 0.4
    names = rng.integers(5, 120, portfolios)
    leverage = np.where(rng.random(portfolios) < 0.15, rng.uniform(1.2, 2.0, portfolios), 1.0)
    ids = [f"SYN_PF_{p:06d}" for p in range(portfolios)]
    for begin in range(0, dates, chunk_dates):
        chunk: list[RiskReport] = []
        for t in range(begin, min(dates, begin + chunk_dates)):
            noise = rng.standard_normal((portfolios, 6))
            vol = market["vol"][t] * beta * np.exp(0.15 * noise[:, 0])
            dd = np.minimum(0.0, market["drawdown"][t] * beta + 0.03 * noise[:, 1])
            ret = market["ret"][t] * beta + 0.02 * noise[:, 2]
            for p in range(portfolios):
                v = float(vol[p])
                risk = {
                    "volatility_1m": v * 1.05,
                    "volatility_3m": v,
                    "volatility_1y": v * 0.9,
                    "var_95_1d": v / 15.9 * 1.65,
                    "es_95_1d": v / 15.9 * 2.1,
                    "drawdown": float(dd[p]),
                    "max_drawdown_1y": float(min(dd[p], -0.05)),
                    "beta_1y": float(beta[p] + 0.05 * noise[p, 3]),
                    "correlation_1y": 0.8,
                    "tracking_error_1y": float(0.03 + 0.05 * abs(beta[p] - 1)),
                    "sharpe_1y": float(ret[p] * 10),
                    "sortino_1y": float(ret[p] * 14),
                    "return_1m": float(ret[p]),
                    "return_3m": float(ret[p] * 2),
                    "return_1y": float(ret[p] * 4),
                    "skew_1y": float(-0.3 * market["stress"][t] + 0.1 * noise[p, 4]),
                    "kurtosis_1y": 3.0,
                    "num_names": int(names[p]),
                    "herfindahl": float(1.3 / names[p]),
                    "gross_exposure": float(leverage[p]),
                    "net_exposure": float(leverage[p]),
                    "leverage": float(leverage[p]),
                }
                chunk.append(
                    RiskReport(
                        portfolio_id=ids[p],
                        as_of_date=days[t],
                        net_exposure=float(leverage[p]),
                        gross_exposure=float(leverage[p]),
                        leverage=float(leverage[p]),
                        risk_metrics=risk,
                        exposures_by_sector=dict(zip(SECTORS, sectors[p].tolist(), strict=True)),
                        exposures_by_factor=dict(
                            zip(FACTOR_KEYS, (tilts[p] + 0.1 * noise[p, 5]).tolist(), strict=True)
                        ),
                        scenario_pnl={"lehman_2008": float(-0.3 * beta[p])},
                        metadata={"synthetic": True},
                        report_id=f"{ids[p]}|{days[t].isoformat()}",
                    )
                )
        yield chunk
