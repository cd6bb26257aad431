"""Benchmarks of the real stack: `make bench` runs bench/run.py (results in docs/benchmarks.md)."""
