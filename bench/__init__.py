"""Benchmarks for Gatehouse. Each module prints one JSON document; compare within one run."""
