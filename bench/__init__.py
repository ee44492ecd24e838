"""Benchmarks of bizreg (not tests): see bench/README.md."""
