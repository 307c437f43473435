"""Benchmarks and the speech generator: outside the shipped package (`make bench`; the tests
make their interviews with synth.py)."""
