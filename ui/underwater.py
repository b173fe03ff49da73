"""A book's value over time, cached per data version: its underwater curve, chart and monthly returns."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from prometheus.store.stores import Stores
from ui.context import PageContext


@st.cache_data(show_spinner=False, max_entries=64)
def _underwater(_stores: Stores, version: str, portfolio_id: str) -> pd.DataFrame:
    from prometheus.services.drawdown import underwater

    return underwater(_stores, portfolio_id)


def underwater(ctx: PageContext, portfolio_id: str) -> pd.DataFrame:
    return _underwater(ctx.stores, ctx.version, portfolio_id)


@st.cache_resource(show_spinner=False, max_entries=32)
def _underwater_chart(_frame: pd.DataFrame, version: str, portfolio_id: str) -> Any:
    from prometheus.presenters.figures import underwater_figure

    return underwater_figure(_frame, portfolio_id)


def underwater_chart(ctx: PageContext, portfolio_id: str, frame: pd.DataFrame) -> Any:
    """A book's under-water chart, built once per data version and shared read-only."""
    return _underwater_chart(frame, ctx.version, portfolio_id)  # the version is the model's own


@st.cache_data(show_spinner=False, max_entries=64)
def _monthly_returns(_frame: pd.DataFrame, version: str, portfolio_id: str) -> pd.DataFrame:
    from prometheus.services.drawdown import monthly_returns as returns_by_month

    return returns_by_month(_frame)


def monthly_returns(ctx: PageContext, portfolio_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The book's calendar-month and year returns (a date change on the page does not recompute them)."""
    return _monthly_returns(frame, ctx.version, portfolio_id)
