"""Timing helpers: medians and percentiles, and interleaved A/B rounds.

Every ratio is measured in one interleaved run: each round times side A and
side B back to back, swapping which goes first, so that a slow stretch of
the machine (autovacuum, a checkpoint, the other core busy) weighs on both
sides alike. The medians of the rounds are reported.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Callable


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (share in 0..1) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or not b:
        return None
    return round(a / b, 2)


SLOW = 10.0  # seconds: a call this slow is not repeated much


def interleaved(a: Callable[[], float], b: Callable[[], float], rounds: int,
                budget: float | None = None) -> tuple[list[float], list[float]]:
    """Durations of ``a`` and ``b`` (each returns its own duration in seconds), alternated.

    One warm-up call of each first, not counted, unless a side took longer
    than ``SLOW`` seconds: then the warm-ups count and one round follows (a
    minute-long statement is not run ten times). ``budget`` (seconds) stops
    the rounds early, after at least one, when the planned rounds would not fit.
    """
    warm_a, warm_b = a(), b()
    times_a, times_b = [], []
    if max(warm_a, warm_b) > SLOW:
        times_a, times_b, rounds = [warm_a], [warm_b], 1
    started = time.monotonic()
    for round_ in range(rounds):
        pair = (a, b) if round_ % 2 == 0 else (b, a)
        first, second = pair[0](), pair[1]()
        (times_a if pair[0] is a else times_b).append(first)
        (times_b if pair[1] is b else times_a).append(second)
        if budget is not None and time.monotonic() - started > budget:
            break
    return times_a, times_b


def summary(times_a: list[float], times_b: list[float]) -> dict:
    """Medians in ms of both sides and their ratio."""
    a = statistics.median(times_a) if times_a else None
    b = statistics.median(times_b) if times_b else None
    return {"app_ms": ms(a), "owner_ms": ms(b), "ratio": ratio(a, b), "rounds": len(times_a)}
