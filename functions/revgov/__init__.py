"""Revgov: revenue governance for distributors that run white-label partner programs."""

__version__ = "0.1.0"
