"""Encoders: risk reports to fixed-position numeric vectors (num-portfolio-core-v1)."""
