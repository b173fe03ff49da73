"""Forecasts of what follows a state, fitted point in time, and the scores that measure them."""
