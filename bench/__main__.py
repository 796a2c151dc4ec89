"""`python -m bench [GROUP ...]`: run benchmark groups, print a table, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench import load
from bench.common import REGISTRY, Group, Row, Settings, Stats, profile_group, run_group

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"
DEFAULTS = Settings()

METHOD = """\
Every number here is a **ratio against a baseline timed in the same process**, never an absolute
time: these machines are shared and noisy, and only ratios carry over from one run to the next.
For each comparison the baseline does the nearest thing without our code on top (for the engine,
a bare `transitions` trigger on a machine configured as ours).

How a group is timed:

- each case is calibrated to a loop count that runs for about {round_ms:.0f} ms, then warmed up
  for {warmups};
- then {repeat} timed rounds; in each round every candidate runs its loops right next to its
  baseline's, the two in alternating order from round to round, and the comparisons in an order
  rotated each round; the garbage collector is off while a loop runs (as in `timeit`);
- a ratio is taken per round (candidate / its baseline of the same round), and the table gives
  the **median** of the {repeat} ratios with their [min, max]; per-call microseconds, also as
  median [min, max], are shown for orientation only.

A target, where given, is met when the median ratio is at or below it. Even a median ratio
moves between runs on a shared machine (by up to a quarter in ours, with other work on the
cores), so read a change as real only when it clearly exceeds that and the [min, max] spread.

Regenerate this file with `make bench` (or `.venv/bin/python -m bench`); `python -m bench
engine` runs one group and prints without writing; `--profile` prints a cProfile of each case.
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} (with uncommitted changes)" if dirty else head


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_details(groups: Sequence[Group]) -> list[tuple[str, str]]:
    """What the numbers were measured on, as (name, value) pairs."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()} logical" + (f", {usable} usable" if usable is not None else "")
    libraries = sorted({lib for g in groups for lib in g.libraries}, key=str.lower)
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", _cpu_model()),
        ("cores", cores),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        *((lib, _version(lib)) for lib in libraries),
        ("commit", _git_commit()),
    ]


def _num(x: float) -> str:
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def _span(s: Stats) -> str:
    return f"{_num(s.median)} [{_num(s.low)}, {_num(s.high)}]"


def _status(row: Row) -> str:
    if row.met is None:
        return "-"
    return "met" if row.met else "MISSED"


def _cells(row: Row) -> list[str]:
    target = f"≤ {row.target:.2f}" if row.target is not None else "-"
    return [
        row.label,
        _span(row.micros),
        row.baseline,
        _span(row.baseline_micros),
        _span(row.ratio),
        target,
        _status(row),
    ]


HEADERS = ["case", "µs/call", "baseline", "baseline µs/call", "ratio", "target", "status"]


def text_table(rows: Sequence[Row]) -> str:
    table = [HEADERS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(
    results: Sequence[tuple[Group, list[Row]]],
    details: Sequence[tuple[str, str]],
    settings: Settings,
) -> str:
    out = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench`; edit bench/__main__.py instead. -->",
        "",
        "## Method",
        "",
        METHOD.format(
            round_ms=settings.round_seconds * 1000,
            warmups=f"{settings.warmup} untimed round{'' if settings.warmup == 1 else 's'}",
            repeat=settings.repeat,
        ),
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in details),
        "",
    ]
    for g, rows in results:
        out += [f"## {g.title}", ""]
        out += [f"- {note}" for note in g.notes]
        out += [
            "",
            "| " + " | ".join(HEADERS) + " |",
            "|" + "|".join("---" if i in (0, 2, 6) else "--:" for i in range(len(HEADERS))) + "|",
            *("| " + " | ".join(_cells(r)) + " |" for r in rows),
            "",
        ]
        if g.report:
            out += [*g.report, ""]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    load()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "groups", nargs="*", metavar="GROUP",
        help=f"groups to run (default: all of {', '.join(REGISTRY)})",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=DEFAULTS.repeat, help="timed rounds")
    parser.add_argument(
        "--round-seconds", type=float, default=DEFAULTS.round_seconds,
        help="about how long each case runs per round",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path,
        help=f"write the report here (default: {REPORT.relative_to(ROOT)} when all groups run)",
    )  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of each candidate instead"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.groups if name not in REGISTRY]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    groups = [REGISTRY[name] for name in (args.groups or REGISTRY)]

    if args.profile:
        for g in groups:
            print(profile_group(g))
        return 0

    settings = Settings(repeat=args.repeat, round_seconds=args.round_seconds)
    began = time.perf_counter()
    results = []
    for g in groups:
        print(f"## {g.title}")
        rows = run_group(g, settings)
        results.append((g, rows))
        print(text_table(rows), end="\n\n", flush=True)
        if g.report:
            print("\n".join(g.report), end="\n\n", flush=True)
    details = machine_details(groups)
    for name, value in details:
        print(f"{name}: {value}")
    print(f"took {time.perf_counter() - began:.1f} s")

    output = args.output or (REPORT if not args.groups else None)
    if output is not None and not args.no_write:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(markdown(results, details, settings))
        print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
