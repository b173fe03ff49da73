"""The forecast panel the Similar and Drawdown pages share: a state's point-in-time forecast beside its skill."""

from __future__ import annotations

from datetime import date

import streamlit as st

from prometheus.presenters.skill import skill_note
from ui import data
from ui.context import PageContext


def forecast_panel(ctx: PageContext, portfolio_id: str, day: date) -> None:
    forecast = data.state_forecast(ctx, portfolio_id, day)
    note = skill_note(data.skill(ctx))
    if forecast.forecast is None:
        st.info(forecast.sentence(), icon=":material/hourglass_empty:")
    else:
        st.markdown(forecast.sentence())
    st.caption(note.line)
    if note.warning:
        if note.verdict == "worse":
            st.warning(note.warning, icon=":material/warning:")
        else:
            st.info(note.warning, icon=":material/balance:")
    st.caption(forecast.hindsight())
