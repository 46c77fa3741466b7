"""Shared timing and agreement helpers of the benchmark scripts (``from _timing import Timer, rel_diff``)."""
from __future__ import annotations

import gc
import time

import numpy as np


class Timer:
    """Median wall time of ``fn()`` over ``repeats`` runs, one run only if the first takes more than ``slow`` s."""

    def __init__(self, repeats: int, slow: float):
        self.repeats, self.slow = repeats, slow

    def __call__(self, fn):
        """(seconds, runs, result of the last run)."""
        times, out = [], None
        for i in range(self.repeats):
            gc.collect()
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
            if i == 0 and times[0] > self.slow:
                break
        return float(np.median(times)), len(times), out


def rel_diff(a, b) -> float:
    """Largest relative difference ``|a - b| / max(|a|, |b|)`` (0 where both are 0; NaN pairs ignored)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    den = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.nanmax(np.where(den > 0, np.abs(a - b) / den, 0.0)))
