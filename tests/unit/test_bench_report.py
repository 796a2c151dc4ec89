"""The benchmark report: group sections replaced in place, the summary rebuilt from them."""

from __future__ import annotations

from bench.common import Group, Row, Stats
from bench.report import document, headlines, merge, parse_sections, section

ORDER = ["engine", "persistence", "deadlines", "http"]


def _table(*rows: tuple[str, str, str, str]) -> str:
    """A section's ratio table; each row is (case, baseline, ratio, target)."""
    lines = [
        "| case | µs/call | baseline | baseline µs/call | ratio | target | status |",
        "|---|--:|---|--:|--:|--:|---|",
    ]
    for case, baseline, ratio, target in rows:
        status = "-" if target == "-" else "met"
        lines.append(f"| {case} | 10.00 [9.00, 11.00] | {baseline} | 5.00 [4.00, 6.00] "
                     f"| {ratio} | {target} | {status} |")  # fmt: skip
    return "\n".join(lines)


def _body(title: str, date: str, *rows: tuple[str, str, str, str]) -> str:
    return "\n".join(
        [f"## {title}", "", _table(*rows), "", "Measured on:", "", "| | |", "|---|---|",
         f"| date | {date} |", "| CPU | test CPU |"]
    )  # fmt: skip


ENGINE = _body("Engine", "2026-01-01 10:00 UTC", ("fire", "bare", "1.80 [1.60, 2.00]", "≤ 2.00"))
PERSISTENCE = _body(
    "Persistence", "2026-01-02 10:00 UTC", ("fire, SQLite", "sqlite3", "2.10 [2.00, 2.50]", "-")
)


def _report(**sections: str) -> str:
    return document(sections)


def test_a_partial_run_replaces_only_its_own_section() -> None:
    existing = _report(engine=ENGINE, persistence=PERSISTENCE)
    newer = _body("Engine", "2026-02-01 10:00 UTC", ("fire", "bare", "1.50 [1.40, 1.70]", "≤ 2.00"))

    merged = parse_sections(merge(existing, {"engine": newer}, ORDER))

    assert merged == {"engine": newer, "persistence": PERSISTENCE}


def test_a_section_another_run_wrote_is_kept_even_if_not_registered_here() -> None:
    theirs = _body("Scale", "2026-01-03 10:00 UTC", ("query", "psycopg", "1.10 [1.00, 1.20]", "-"))
    existing = _report(engine=ENGINE, scale=theirs)

    merged = parse_sections(merge(existing, {"http": "## HTTP\n\nnew"}, ORDER))

    # Registered groups in registry order, then the others in the order the file had them.
    assert list(merged) == ["engine", "http", "scale"]
    assert merged["scale"] == theirs


def test_a_new_group_goes_in_registry_order() -> None:
    existing = _report(engine=ENGINE, http="## HTTP\n\nold")

    merged = parse_sections(merge(existing, {"persistence": PERSISTENCE}, ORDER))

    assert list(merged) == ["engine", "persistence", "http"]


def test_a_full_run_keeps_only_what_it_measured() -> None:
    merged = parse_sections(merge(None, {"persistence": PERSISTENCE}, ORDER))

    assert merged == {"persistence": PERSISTENCE}


def test_merging_the_same_sections_again_changes_nothing() -> None:
    once = merge(_report(engine=ENGINE), {"persistence": PERSISTENCE}, ORDER)

    assert merge(once, {"persistence": PERSISTENCE}, ORDER) == once


def test_the_summary_lists_every_section_present_with_its_date() -> None:
    text = merge(_report(engine=ENGINE), {"persistence": PERSISTENCE}, ORDER)
    summary = text.split("## Summary", 1)[1].split("## Method", 1)[0]

    assert "| engine | fire | bare | 1.80 [1.60, 2.00] | ≤ 2.00 | met | 2026-01-01 10:00 UTC |" in (
        summary
    )
    assert "| persistence | fire, SQLite | sqlite3 | 2.10 [2.00, 2.50] | - | - | 2026-01-02" in (
        summary
    )
    # Built from the sections, it comes before them, and only once.
    assert text.count("## Summary") == 1
    assert text.index("## Summary") < text.index("<!-- bench:group:engine -->")


def test_the_summary_prefers_cases_with_a_target() -> None:
    body = _body(
        "Engine",
        "2026-01-01 10:00 UTC",
        ("fire", "bare", "1.80 [1.60, 2.00]", "≤ 2.00"),
        ("available", "bare", "1.10 [1.00, 1.20]", "-"),
    )

    assert [h.case for h in headlines("engine", body)] == ["fire"]


def test_the_summary_takes_the_declared_cases_when_a_group_names_them() -> None:
    body = _body(
        "HTTP",
        "2026-01-01 10:00 UTC",
        ("GET, 1 client", "bare GET, 1 client", "4.00 [3.00, 5.00]", "-"),
        ("GET, 8 clients", "bare GET, 8 clients", "3.00 [2.00, 4.00]", "-"),
        ("GET, 32 clients", "bare GET, 32 clients", "3.50 [3.00, 4.00]", "-"),
    )
    declared = {"http": ("GET, 1 client", "GET, 32 clients")}

    text = document({"http": body}, declared)

    assert "| http | GET, 1 client |" in text
    assert "| http | GET, 32 clients |" in text
    assert "| http | GET, 8 clients |" not in text


def test_a_section_without_a_ratio_table_adds_nothing_to_the_summary() -> None:
    assert headlines("notes", "## Notes\n\nJust prose.") == []


def test_a_report_from_before_sections_is_split_by_title_with_its_machine() -> None:
    legacy = "\n".join(
        [
            "# Benchmarks",
            "",
            "## Method",
            "",
            "How it is timed.",
            "",
            "## Machine",
            "",
            "| | |",
            "|---|---|",
            "| date | 2025-12-31 09:00 UTC |",
            "",
            "## Engine: WorkflowMachine",
            "",
            _table(("fire", "bare", "1.90 [1.70, 2.10]", "≤ 2.00")),
            "",
            "## A group nobody registers any more",
            "",
            "Gone.",
        ]
    )
    titles = {"Engine: WorkflowMachine": "engine", "HTTP": "http"}

    sections = parse_sections(legacy, titles)

    assert list(sections) == ["engine"]
    assert sections["engine"].startswith("## Engine: WorkflowMachine")
    [headline] = headlines("engine", sections["engine"])
    assert (headline.ratio, headline.measured) == ("1.90 [1.70, 2.10]", "2025-12-31 09:00 UTC")

    merged = parse_sections(merge(legacy, {"http": "## HTTP\n\nnew"}, ORDER, titles))
    assert list(merged) == ["engine", "http"]


def test_a_written_section_reads_back_including_a_pipe_in_a_label() -> None:
    g = Group("http", "HTTP", build=list, notes=("One note.",), headline=("GET | 1 client",))
    g.report.append("Extra figures.")
    row = Row(
        group="http",
        label="GET | 1 client",
        baseline="bare GET",
        micros=Stats(400.0, 300.0, 500.0),
        baseline_micros=Stats(100.0, 90.0, 110.0),
        ratio=Stats(4.0, 3.0, 5.0),
        target=None,
        loops=1,
    )
    body = section(g, [row], [("date", "2026-03-01 08:00 UTC"), ("CPU", "test CPU")])

    [headline] = headlines("http", body, g.headline)

    assert (headline.case, headline.baseline, headline.ratio) == (
        "GET | 1 client",
        "bare GET",
        "4.00 [3.00, 5.00]",
    )
    assert headline.measured == "2026-03-01 08:00 UTC"
    assert parse_sections(document({"http": body})) == {"http": body}
