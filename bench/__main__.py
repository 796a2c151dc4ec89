"""`python -m bench [GROUP ...]`: run benchmark groups, print a table, update docs/benchmarks.md."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench import load
from bench.common import REGISTRY, Settings, profile_group, run_group
from bench.report import (
    DEFAULTS,
    REPORT,
    ROOT,
    git_commit,
    load_average,
    machine_details,
    merge,
    section,
    text_table,
)


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
        help="about how long each calibrated case runs per round",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path,
        help=f"the report to write or update (default: {REPORT.relative_to(ROOT)})",
    )  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of each candidate instead"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.groups if name not in REGISTRY]
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    groups = [REGISTRY[name] for name in dict.fromkeys(args.groups or REGISTRY)]

    if args.profile:
        for g in groups:
            print(profile_group(g))
        return 0

    settings = Settings(repeat=args.repeat, round_seconds=args.round_seconds)
    output = None if args.no_write else (args.output or REPORT)
    began = time.perf_counter()
    commit = git_commit()  # the code this process imported, before the tree moves on
    fresh: dict[str, str] = {}
    for g in groups:
        print(f"## {g.title}", flush=True)
        before, started = load_average(), time.perf_counter()
        rows = run_group(g, settings)
        took = time.perf_counter() - started
        details = machine_details(g, settings, commit, before, load_average(), took)
        print(text_table(rows), end="\n\n", flush=True)
        if g.report:
            print("\n".join(g.report), end="\n\n")
        print("\n".join(f"{name}: {value}" for name, value in details), end="\n\n", flush=True)
        fresh[g.name] = section(g, rows, details)
        if output is not None:
            # Merged after each group, re-reading the file: an interrupted run keeps what it
            # measured, and sections another run wrote meanwhile are kept.
            _write(output, fresh, full=False)
    if output is not None and not args.groups:
        _write(output, fresh, full=True)
    print(f"took {time.perf_counter() - began:.1f} s")
    if output is not None:
        print(f"wrote {output}")
    return 0


def _write(output: Path, fresh: Mapping[str, str], *, full: bool) -> None:
    """Merge the `fresh` sections into `output`; `full` drops every other section."""
    existing = None if full or not output.exists() else output.read_text()
    text = merge(
        existing,
        fresh,
        list(REGISTRY),
        {g.title: g.name for g in REGISTRY.values()},
        {g.name: g.headline for g in REGISTRY.values()},
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
