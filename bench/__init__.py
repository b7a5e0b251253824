"""Benchmarks that print figures (see README.md); a package so they can share helpers."""
