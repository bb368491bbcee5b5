"""Balto: a real-time assistant for Brazilian pharmacy counters."""

__version__ = "0.1.0"
