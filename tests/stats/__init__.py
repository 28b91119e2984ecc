"""Tests of ketastats.stats (numerical kernels checked against R reference values)."""
