"""Shaping service results for display, with no Streamlit: tables, map data, choices, labels."""
