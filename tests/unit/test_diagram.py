"""Mermaid state diagrams of templates."""

from __future__ import annotations

import re

from engine.diagram import mermaid
from tests.unit.helpers import build, full_template, minimal_template


def test_a_diagram_of_the_minimal_template() -> None:
    assert mermaid(build(minimal_template())) == (
        "---\n"
        "title: Mini review (v1)\n"
        "---\n"
        "stateDiagram-v2\n"
        "    direction TB\n"
        '    state "Start" as s_start\n'
        '    state "Middle" as s_middle\n'
        '    state "Done" as s_done\n'
        "    [*] --> s_start\n"
        "    s_start --> s_middle: Go on\n"
        "    s_middle --> s_done: Finish\n"
        "    s_done --> [*]\n"
    )


def test_a_transition_from_several_stages_draws_an_arrow_from_each() -> None:
    text = mermaid(build(full_template()))
    withdraws = [line.strip() for line in text.splitlines() if line.endswith(": Withdraw")]
    assert withdraws == [
        "s_self_review --> s_withdrawn: Withdraw",
        "s_review --> s_withdrawn: Withdraw",
        "s_workshop --> s_withdrawn: Withdraw",
        "s_support --> s_withdrawn: Withdraw",
    ]
    assert "    s_closed --> [*]" in text
    assert "    s_withdrawn --> [*]" in text
    assert "title: Peer review cycle (v3)" in text


def test_the_current_stage_is_highlighted() -> None:
    text = mermaid(build(full_template()), current="workshop")
    assert text.endswith(
        "    classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px\n"
        "    class s_workshop current\n"
    )


def test_an_unknown_current_stage_is_not_highlighted() -> None:
    template = build(full_template())
    assert mermaid(template, current="nowhere") == mermaid(template)
    assert "classDef" not in mermaid(template)


def test_titles_are_made_safe_for_mermaid() -> None:
    doc = minimal_template()
    doc["title"] = 'Review: "QA" model'
    doc["stages"][1]["title"] = 'Pre-review: "data" pack'
    doc["transitions"][1]["title"] = "Finish: sign off"
    text = mermaid(build(doc))
    assert "title: Review - 'QA' model (v1)" in text
    assert "    state \"Pre-review - 'data' pack\" as s_middle\n" in text
    assert "    s_middle --> s_done: Finish - sign off\n" in text


def test_ids_that_mermaid_cannot_read_become_distinct_node_names() -> None:
    doc = minimal_template()
    doc["stages"][1]["id"] = "pre.review"
    doc["stages"].insert(2, {"id": "pre_review", "title": "Pre-review again"})
    doc["transitions"][0]["to"] = "pre.review"
    doc["transitions"][1]["from"] = "pre.review"
    doc["transitions"].append(
        {"id": "on", "title": "On", "from": "pre.review", "to": "pre_review", "roles": "lead"}
    )
    doc["transitions"].append(
        {"id": "end", "title": "End", "from": "pre_review", "to": "done", "roles": "lead"}
    )
    text = mermaid(build(doc))
    nodes = re.findall(r'^    state "[^"]*" as (\S+)$', text, flags=re.MULTILINE)
    assert len(nodes) == 4
    assert len(set(nodes)) == 4, nodes
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", n) for n in nodes)
    # The arrow between the two look-alike stages joins two different nodes.
    arrow = next(line for line in text.splitlines() if line.endswith(": On"))
    source, dest = arrow.strip().removesuffix(": On").split(" --> ")
    assert source != dest
