"""Benchmark scripts that print comparable figures (`python -m bench.<name>`); nothing here is imported."""
