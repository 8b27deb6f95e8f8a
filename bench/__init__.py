"""Benchmarks (not part of the test run); figures in docs/performance.md."""
