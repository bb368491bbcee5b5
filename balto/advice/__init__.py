"""Advice: the needs a dialogue shows, and the advisor chain that serves them."""
