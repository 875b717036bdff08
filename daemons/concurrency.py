"""Concurrency limits, as HTCondor's negotiator enforces them.

A job's ``ConcurrencyLimits`` (``foo,bar:2`` as condor_submit writes it) names the limits it
holds while it runs and how much of each (1 by default). Limit ``NAME`` allows ``NAME_LIMIT``
units at once; a dotted ``group.name`` without ``GROUP.NAME_LIMIT`` falls back to ``GROUP_LIMIT``;
otherwise ``CONCURRENCY_LIMIT_DEFAULT`` applies (unlimited when that is unset too).
Schedds report what their running jobs hold; the negotiator matches a job only when every limit
it names has room, and counts what it matched within the cycle.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from condorsim.shared.classad import ClassAd


def job_limits(ad: ClassAd) -> dict[str, float]:
    """limit name (lowercase) -> units the job holds."""
    text = ad.eval("ConcurrencyLimits")
    held: dict[str, float] = {}
    if not isinstance(text, str):
        return held
    for item in text.split(","):
        name, _, amount = item.strip().partition(":")
        if not name:
            continue
        try:
            units = float(amount) if amount else 1.0
        except ValueError:
            units = 1.0
        held[name.lower()] = held.get(name.lower(), 0.0) + units
    return held


def in_use(jobs: Iterable[ClassAd]) -> dict[str, float]:
    """Units of each limit the given (running) jobs hold."""
    total: dict[str, float] = {}
    for ad in jobs:
        for name, units in job_limits(ad).items():
            total[name] = total.get(name, 0.0) + units
    return total


class Limits:
    """The limits of one negotiation cycle: the configured maxima and what is in use."""

    def __init__(self, param: Callable[[str], Any], used: dict[str, float]) -> None:
        self.param = param
        self.used = dict(used)

    def maximum(self, name: str) -> float | None:
        candidates = [f"{name}_LIMIT"]
        if "." in name:
            candidates.append(f"{name.split('.', 1)[0]}_LIMIT")
        candidates.append("CONCURRENCY_LIMIT_DEFAULT")
        for knob in candidates:
            value = self.param(knob)
            if value not in (None, ""):
                try:
                    return float(value)
                except ValueError:
                    return None
        return None

    def fits(self, job: ClassAd) -> bool:
        for name, units in job_limits(job).items():
            limit = self.maximum(name)
            if limit is not None and self.used.get(name, 0.0) + units > limit:
                return False
        return True

    def take(self, job: ClassAd) -> None:
        for name, units in job_limits(job).items():
            self.used[name] = self.used.get(name, 0.0) + units
