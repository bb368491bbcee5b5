"""Balto: a real-time assistant for Brazilian pharmacy counters."""

import os

# One BLAS thread per process, set before anything imports numpy (the front-end workers inherit
# it). Balto's numpy work is many small per-session arrays, spread over processes; OpenBLAS's
# default thread pool only spins: with it the front-end workers spent 21.7 ms CPU per
# session-second against 9.2 ms without (bench/capacity.py, N = 20; docs/BENCHMARKS.md).
# `setdefault`: an operator's own setting wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

__version__ = "0.1.0"
