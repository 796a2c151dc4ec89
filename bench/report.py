"""The benchmark report: text tables, docs/benchmarks.md's sections, and their summary."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from bench.common import Group, Row, Settings, Stats

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "benchmarks.md"
DEFAULTS = Settings()

METHOD = """\
Every number here is a **ratio against a baseline timed in the same process**, never an absolute
time: these machines are shared and noisy, and only ratios carry over from one run to the next.
For each comparison the baseline does the nearest thing without our code on top (for the engine,
a bare `transitions` trigger on a machine configured as ours).

How a group is timed:

- each case is calibrated to a loop count that runs for about a tenth of a second (cases that use
  up fixtures, or run a load for a set number of requests, fix their own count), then warmed up
  for one untimed round;
- then the timed rounds (7 by default); in each round every candidate runs its loops right next
  to its baseline's, the two in alternating order from round to round, and the comparisons in an
  order rotated each round; the garbage collector is off while a loop runs (as in `timeit`);
- a ratio is taken per round (candidate / its baseline of the same round), and the tables give
  the **median** of the rounds' ratios with their [min, max]; per-call microseconds, also as
  median [min, max], are shown for orientation only. A ratio below 1 is faster than the baseline.

A target, where given, is met when the median ratio is at or below it. Even a median ratio
moves between runs on a shared machine (by up to a quarter in ours, with other work on the
cores), so read a change as real only when it clearly exceeds that and the [min, max] spread.
Each section ends with what it was measured on: the date, the machine, the load average before
and after the group ran, the library versions, the commit and the rounds.

Regenerate the whole file with `make bench` (about two hours: compare at N = 10,000, then at
N = 1,000 into docs/benchmarks-compare-n1000.md), or `.venv/bin/python -m bench` (N = 1,000).
`python -m bench GROUP...` runs those groups and replaces only their sections, keeping the
others and rebuilding the summary from the sections present; `--no-write` prints only;
`--profile` prints a cProfile of each case.
"""

SUMMARY_INTRO = """\
The headline ratios of every group below, from its section (each measured on the date shown):
candidate time over its baseline's in the same run, median [min, max] over the rounds; below 1
is faster than the baseline. The scale group's latencies against its target (p95 under 50 ms at
1,000,000 cycles) are in its section and in docs/benchmarks-scale-1m.md."""

HEADERS = ["case", "µs/call", "baseline", "baseline µs/call", "ratio", "target", "status"]
SUMMARY_HEADERS = ["group", "case", "baseline", "ratio", "target", "status", "measured"]

_SECTION = re.compile(
    r"^<!-- bench:group:(?P<name>[\w.-]+) -->\n(?P<body>.*?)\n<!-- /bench:group:(?P=name) -->$",
    re.DOTALL | re.MULTILINE,
)
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit() -> str:
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


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, or "unknown" where the OS has none."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"


def machine_details(
    g: Group, settings: Settings, commit: str, load_before: str, load_after: str, seconds: float
) -> list[tuple[str, str]]:
    """What a group's numbers were measured on, as (name, value) pairs."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = f"{os.cpu_count()} logical" + (f", {usable} usable" if usable is not None else "")
    rounds = (
        f"{settings.repeat} timed after {settings.warmup} warm-up; calibrated cases run about "
        f"{settings.round_seconds * 1000:.0f} ms a round"
    )
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", _cpu_model()),
        ("cores", cores),
        ("load average (1, 5, 15 min)", f"{load_before} before; {load_after} after"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        *((lib, _version(lib)) for lib in sorted(g.libraries, key=str.lower)),
        ("commit", commit),
        ("rounds", rounds),
        ("took", f"{seconds:.0f} s"),
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


def text_table(rows: Sequence[Row]) -> str:
    table = [HEADERS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _md_row(cells: Sequence[str]) -> str:
    # A "|" inside a cell would split it when the table is read back for the summary.
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _md_cells(line: str) -> list[str]:
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(inner)]


def section(g: Group, rows: Sequence[Row], details: Sequence[tuple[str, str]]) -> str:
    """A group's section of the report, without its markers."""
    out = [f"## {g.title}", ""]
    if g.notes:
        out += [*(f"- {note}" for note in g.notes), ""]
    out += [
        _md_row(HEADERS),
        "|" + "|".join("---" if i in (0, 2, 6) else "--:" for i in range(len(HEADERS))) + "|",
        *(_md_row(_cells(r)) for r in rows),
        "",
    ]
    if g.report:
        out += [*g.report, ""]
    out += [
        "Measured on:",
        "",
        "| | |",
        "|---|---|",
        *(_md_row([name, value]) for name, value in details),
    ]
    return "\n".join(out)


# --- the report file: sections kept apart, merged, summarised (text in, text out) ---


def parse_sections(text: str, titles: Mapping[str, str] | None = None) -> dict[str, str]:
    """The group sections of a report, by name, in the file's order.

    A report written before sections had markers is one whole run under a single `## Machine`
    table: its `## <title>` sections are taken for the groups `titles` (title -> name) knows,
    each with that machine table appended, so that a partial run does not drop them.
    """
    found = {m["name"]: m["body"].strip("\n") for m in _SECTION.finditer(text)}
    if found or not titles:
        return found
    return _legacy_sections(text, titles)


def _legacy_sections(text: str, titles: Mapping[str, str]) -> dict[str, str]:
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            blocks.append((line[3:].strip(), []))
        elif blocks:
            blocks[-1][1].append(line)
    machine = next((body for title, body in blocks if title == "Machine"), [])
    machine_table = [line for line in machine if line.startswith("|")]
    sections = {}
    for title, body in blocks:
        name = titles.get(title)
        if name is None:
            continue
        lines = [f"## {title}", *body]
        while lines and not lines[-1].strip():
            lines.pop()
        if machine_table:
            lines += ["", "Measured on (in a whole run, before sections were kept apart):", ""]
            lines += machine_table
        sections[name] = "\n".join(lines)
    return sections


@dataclass(frozen=True, slots=True)
class Headline:
    """One row of the summary, read back from a section's table."""

    group: str
    case: str
    baseline: str
    ratio: str
    target: str
    status: str
    measured: str


def section_rows(body: str) -> list[dict[str, str]]:
    """The rows of a section's ratio table, as header -> cell."""
    lines = body.splitlines()
    header = _md_row(HEADERS)
    try:
        start = lines.index(header)
    except ValueError:
        return []
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = _md_cells(line)
        if len(cells) == len(HEADERS):
            rows.append(dict(zip(HEADERS, cells, strict=True)))
    return rows


def _measured(body: str) -> str:
    for line in body.splitlines():
        if line.startswith("| date |"):
            return _md_cells(line)[1]
    return "unknown"


def headlines(name: str, body: str, declared: Sequence[str] = ()) -> list[Headline]:
    """The summary rows of one section: the `declared` cases, else those with a target, else
    every case."""
    rows = section_rows(body)
    if declared:
        chosen = [r for r in rows if r["case"] in declared]
    else:
        chosen = [r for r in rows if r["target"] != "-"] or rows
    when = _measured(body)
    return [
        Headline(name, r["case"], r["baseline"], r["ratio"], r["target"], r["status"], when)
        for r in chosen
    ]


def document(
    sections: Mapping[str, str], declared: Mapping[str, Sequence[str]] | None = None
) -> str:
    """The whole report: the summary built from `sections` (name -> body, in order), the
    method, then each section between its markers."""
    declared = declared or {}
    summary = [
        h for name, body in sections.items() for h in headlines(name, body, declared.get(name, ()))
    ]
    out = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench`; edit bench/__main__.py instead. A partial run",
        "replaces its groups' sections and rebuilds the summary from every section present. -->",
        "",
        "## Summary",
        "",
        SUMMARY_INTRO,
        "",
        _md_row(SUMMARY_HEADERS),
        "|---|---|---|--:|--:|---|---|",
        *(
            _md_row([h.group, h.case, h.baseline, h.ratio, h.target, h.status, h.measured])
            for h in summary
        ),
        "",
        "## Method",
        "",
        METHOD,
    ]
    for name, body in sections.items():
        out += [f"<!-- bench:group:{name} -->", body, f"<!-- /bench:group:{name} -->", ""]
    return "\n".join(out)


def merge(
    existing: str | None,
    fresh: Mapping[str, str],
    order: Sequence[str],
    titles: Mapping[str, str] | None = None,
    declared: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The report with `fresh` sections (name -> body) replacing the ones `existing` has.

    Sections come in `order` (the registered groups), then any other section `existing` holds
    (a group registered elsewhere), in the order they had: nothing already measured is lost.
    """
    kept = parse_sections(existing, titles) if existing else {}
    combined = {**kept, **fresh}
    names = [n for n in order if n in combined] + [n for n in combined if n not in order]
    return document({n: combined[n] for n in names}, declared)
