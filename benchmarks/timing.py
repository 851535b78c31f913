"""Interleaved medians: what every benchmark here reports."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def medians_ms(fns: dict[str, Callable[[], object]], repeat: int, *, warm: int = 3) -> dict[str, float]:
    """Each function's median time in milliseconds over `repeat` runs, the functions taking turns so that
    drift (another job, a cache filling) hits them alike; each runs `warm` times first (caches and plans)."""
    for fn in fns.values():
        for _ in range(warm):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(times) for name, times in samples.items()}
