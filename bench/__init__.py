"""Benchmarks for SOLEil. ``python -m bench`` runs them all; ``python -m bench NAME [part ...]`` runs one.

See bench/README.md. Results go to bench/results.json, one entry per benchmark.
"""
