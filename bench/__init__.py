"""Benchmarks: scripts that print figures beside their baselines. Tests never time things."""
