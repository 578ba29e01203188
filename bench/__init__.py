"""Benchmarks: scripts that print figures (speed, memory, accuracy); they assert nothing."""
