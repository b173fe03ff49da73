"""Prometheus: portfolio-state embeddings, similar-state search and maps."""

__version__ = "0.1.0"
