"""Shared page helpers for the Streamlit app (UI only; the engine is explorer/)."""
