"""Shared benchmark machinery: a registry of groups, paired timing, and ratio statistics.

Every result is a ratio against a baseline timed in the same process: each round times a
candidate and its baseline back to back, so drift (frequency scaling, noisy neighbours) hits
both sides of a ratio alike. Absolute microseconds are printed for orientation only; nothing
asserts on them.
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import io
import pstats
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

__all__ = [
    "REGISTRY",
    "Builder",
    "Case",
    "Comparison",
    "Group",
    "Row",
    "Settings",
    "Stats",
    "group",
    "profile_group",
    "run_group",
]


@dataclass(frozen=True, slots=True)
class Case:
    """Something to time.

    Attributes:
        label: what it is, as printed in the table.
        fn: one call of it; may do `calls` operations (e.g. a pause and a reopen) plus any
            cheap reset, so that it can be repeated forever from the same state.
        calls: operations per `fn()` call; times are reported per operation.
        loops: a fixed number of `fn()` calls per round, instead of calibrating one; for
            cases that use up fixtures (a pool of fresh cycles) and so cannot repeat forever.
        begin: called once right before the timed rounds (after calibration and warm-up), so
            that a case which records figures of its own (latencies) can drop what the untimed
            calls left.
    """

    label: str
    fn: Callable[[], object]
    calls: int = 1
    loops: int | None = None
    begin: Callable[[], object] | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """A candidate timed against a baseline, with an optional target for the median ratio."""

    candidate: Case
    baseline: Case
    target: float | None = None


Builder = Callable[[], Sequence[Comparison] | Iterator[Sequence[Comparison]]]
"""Builds a group's fixtures and comparisons. A generator builder yields them once and cleans
up after the yield (temporary databases, schemas), as with `contextlib.contextmanager`."""


@dataclass(frozen=True, slots=True)
class Group:
    """A named set of comparisons, built fresh by `build` each time the group runs.

    `report` holds Markdown lines a builder adds while it runs, for figures that are not paired
    ratios (query latency percentiles, memory); the report prints them after the group's table.
    `headline` names the cases (by label) that the report's summary lists; without it the
    summary lists the cases that have a target, or every case when none has.
    """

    name: str
    title: str
    build: Builder
    libraries: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    report: list[str] = field(default_factory=list)
    headline: tuple[str, ...] = ()


REGISTRY: dict[str, Group] = {}
"""Every registered group by name, in registration order."""


def group(
    name: str,
    *,
    title: str,
    libraries: Sequence[str] = (),
    notes: Sequence[str] = (),
    headline: Sequence[str] = (),
) -> Callable[[Builder], Builder]:
    """Register the decorated function as the benchmark group `name`.

    The function builds its fixtures (untimed) and returns the comparisons to time, or yields
    them once and cleans up after the yield.
    `libraries` are distribution names whose versions go into the report; `headline` the
    labels of the cases the report's summary lists (see `Group`).
    """

    def register(build: Builder) -> Builder:
        if name in REGISTRY:
            raise ValueError(f"benchmark group {name!r} is registered twice")
        REGISTRY[name] = Group(
            name, title, build, tuple(libraries), tuple(notes), headline=tuple(headline)
        )
        return build

    return register


@dataclass(frozen=True, slots=True)
class Settings:
    """How hard to measure.

    Attributes:
        repeat: timed rounds; medians, minima and maxima are taken over them.
        warmup: untimed rounds first (after calibration, which also runs the code).
        round_seconds: roughly how long one case runs per round; sets the loop count.
    """

    repeat: int = 7
    warmup: int = 1
    round_seconds: float = 0.1


@dataclass(frozen=True, slots=True)
class Stats:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(statistics.median(values), min(values), max(values))


@dataclass(frozen=True, slots=True)
class Row:
    """One comparison's result: per-operation microseconds and the paired ratio."""

    group: str
    label: str
    baseline: str
    micros: Stats
    baseline_micros: Stats
    ratio: Stats
    target: float | None
    loops: int

    @property
    def met(self) -> bool | None:
        """Whether the median ratio is within the target (None when there is no target)."""
        return None if self.target is None else self.ratio.median <= self.target


def _time(case: Case, loops: int) -> float:
    """Seconds for `loops` calls, with the collector off as `timeit` does."""
    fn = case.fn
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def _calibrate(case: Case, seconds: float) -> int:
    """A loop count that makes one round of `case` last about `seconds`."""
    loops = 1
    while True:
        took = _time(case, loops)
        if took >= seconds / 10:
            return max(1, round(loops * seconds / took))
        loops *= 10


@contextlib.contextmanager
def _built(g: Group) -> Iterator[list[Comparison]]:
    """The group's comparisons, with its cleanup run afterwards when the builder has one."""
    built = g.build()
    if isinstance(built, Iterator):
        # `contextmanager` semantics: the code after the builder's yield runs on the way out,
        # and an error in timing is thrown in at the yield.
        with contextlib.contextmanager(lambda: built)() as comparisons:
            yield list(comparisons)
    else:
        yield list(built)


def run_group(g: Group, settings: Settings) -> list[Row]:
    """Time every comparison of `g` in paired rounds and return one row per comparison."""
    with _built(g) as comparisons:
        return _run(g, comparisons, settings)


def _run(g: Group, comparisons: list[Comparison], settings: Settings) -> list[Row]:
    loops: dict[int, int] = {}  # per case, so a shared baseline is calibrated once
    for c in comparisons:
        for case in (c.baseline, c.candidate):
            if id(case) not in loops:
                loops[id(case)] = case.loops or _calibrate(case, settings.round_seconds)

    def per_call(case: Case) -> float:
        n = loops[id(case)]
        return _time(case, n) / (n * case.calls)

    for _ in range(settings.warmup):
        for c in comparisons:
            per_call(c.baseline)
            per_call(c.candidate)
    begun: set[int] = set()
    for c in comparisons:
        for case in (c.baseline, c.candidate):
            if case.begin is not None and id(case) not in begun:
                begun.add(id(case))
                case.begin()
    samples: list[tuple[list[float], list[float]]] = [([], []) for _ in comparisons]
    for r in range(settings.repeat):
        # A ratio pairs a candidate with a baseline timed right next to it, in alternating
        # order, so a burst of noise or a drift in clock speed lands on both sides alike.
        # The comparisons' order rotates so none always runs first.
        shift = r % len(comparisons)
        for i in [*range(shift, len(comparisons)), *range(shift)]:
            c, (cand, base) = comparisons[i], samples[i]
            if r % 2:
                cand.append(per_call(c.candidate))
                base.append(per_call(c.baseline))
            else:
                base.append(per_call(c.baseline))
                cand.append(per_call(c.candidate))

    return [
        Row(
            group=g.name,
            label=c.candidate.label,
            baseline=c.baseline.label,
            micros=Stats.of([s * 1e6 for s in cand]),
            baseline_micros=Stats.of([s * 1e6 for s in base]),
            ratio=Stats.of([a / b for a, b in zip(cand, base, strict=True)]),
            target=c.target,
            loops=loops[id(c.candidate)],
        )
        for c, (cand, base) in zip(comparisons, samples, strict=True)
    ]


def _loop(fn: Callable[[], object], loops: int) -> None:
    for _ in range(loops):
        fn()


def profile_group(g: Group, seconds: float = 1.0, top: int = 20) -> str:
    """cProfile output (by own time) for each candidate of `g`, run for about `seconds`."""
    out = io.StringIO()
    seen: set[int] = set()
    with _built(g) as comparisons:
        for c in comparisons:
            case = c.candidate
            if id(case) in seen:
                continue
            seen.add(id(case))
            loops = case.loops or _calibrate(case, seconds)
            profiler = cProfile.Profile()
            profiler.runcall(_loop, case.fn, loops)
            out.write(f"\n=== {g.name}: {case.label} ({loops} loops) ===\n")
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()
