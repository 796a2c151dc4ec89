"""SVG diagrams of templates: well-formed, accessible, escaped, deterministic, boxes apart."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.template_files import read_file
from engine.diagram import mermaid, svg
from engine.diagram_svg import STYLE_CSP_SOURCE
from engine.template import Template
from tests.unit.helpers import build, full_template, minimal_template
from tests.unit.strategies import valid_templates

NS = {"s": "http://www.w3.org/2000/svg"}
WORKFLOWS = sorted((Path(__file__).parents[2] / "workflows").glob("*.yaml"))


def shipped(name: str) -> Template:
    return read_file(Path(__file__).parents[2] / "workflows" / name).build()


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # our own output: parsed to check it is well-formed


def stage_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-stage", ""): g for g in root.iterfind(".//s:g[@data-stage]", NS)}


def classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def text_of(element: ET.Element) -> str:
    """What a text element shows, its lines joined by spaces."""
    return " ".join(t.strip() for t in element.itertext() if t.strip())


def desc(root: ET.Element) -> str:
    found = root.find("s:desc", NS)
    assert found is not None
    return found.text or ""


def box(group: ET.Element) -> tuple[float, float, float, float]:
    rect = group.find("s:rect[@class='box']", NS)
    assert rect is not None
    x, y = float(rect.get("x", "")), float(rect.get("y", ""))
    return x, y, x + float(rect.get("width", "")), y + float(rect.get("height", ""))


def overlapping(boxes: dict[str, tuple[float, float, float, float]]) -> list[tuple[str, str]]:
    return [
        (a, b)
        for (a, (ax0, ay0, ax1, ay1)), (b, (bx0, by0, bx1, by1)) in itertools.combinations(
            boxes.items(), 2
        )
        if ax0 < bx1 and bx0 < ax1 and ay0 < by1 and by0 < ay1
    ]


def test_the_minimal_template_is_an_accessible_self_contained_svg() -> None:
    text = svg(build(minimal_template()))
    assert text.startswith("<svg ") and "<?xml" not in text
    root = parse(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%" and root.get("height") is None
    assert re.fullmatch(r"-?[\d.]+ -?[\d.]+ [\d.]+ [\d.]+", root.get("viewBox", ""))
    title, description = root.find("s:title", NS), root.find("s:desc", NS)
    assert title is not None and description is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {description.get('id')}"
    assert title.get("id", "").startswith("pl-mini-v1-")
    assert title.text == "Diagram of Mini review (version 1)"
    # Nothing is fetched: no external references, no script, no foreign objects.
    assert not re.search(r"href|<script|<image|foreignObject|@import|url\((?!#)", text)


def test_every_stage_title_is_real_text_and_every_move_is_in_the_desc() -> None:
    template = build(full_template())
    root = parse(svg(template))
    groups = stage_groups(root)
    assert list(groups) == [s.id for s in template.stages]
    for stage in template.stages:
        shown = groups[stage.id].find("s:text[@class='title']", NS)
        assert shown is not None and text_of(shown) == stage.title
    words = desc(root)
    assert "From Self-review to Peer review: Submit the self-review." in words
    assert "From Peer review to Self-review: Send back for more evidence." in words
    assert (
        "From Self-review, Peer review, Improvement workshop or School-to-school support "
        "to Withdrawn: Withdraw." in words
    )
    for stage in template.stages:
        assert stage.title in words


def test_the_current_stage_is_marked_by_border_and_words_and_done_stages_by_a_tick() -> None:
    template = build(full_template())
    root = parse(svg(template, "workshop", done=["self_review", "review", "nowhere"]))
    groups = stage_groups(root)
    current = groups["workshop"]
    assert classes(current) == {"stage", "current"}
    assert "You are here" in text_of(current)
    rect = current.find("s:rect[@class='box']", NS)
    assert rect is not None and rect.get("stroke") == "#1d70b8" and rect.get("stroke-width") == "4"
    for done in ("self_review", "review"):
        assert classes(groups[done]) == {"stage", "done"}
        assert "✓ Done" in text_of(groups[done])
        rect = groups[done].find("s:rect[@class='box']", NS)
        assert rect is not None and rect.get("fill") == "#f3f2f1"
    assert classes(groups["support"]) == {"stage"}
    assert classes(groups["closed"]) == {"stage", "terminal"}
    assert len(groups["closed"].findall("s:rect", NS)) == 2  # the double border
    assert "You are here" not in text_of(groups["support"])
    words = desc(root)
    assert "Improvement workshop (you are here)" in words
    assert "Self-review (cycles start here; done)" in words
    assert "Closed (the cycle ends here)" in words


def test_an_unknown_current_stage_marks_nothing() -> None:
    template = build(full_template())
    assert svg(template, "nowhere") == svg(template)
    assert "You are here" not in svg(template)


def test_styles_are_attributes_too_so_a_strict_content_security_policy_changes_nothing() -> None:
    text = svg(build(full_template()), "review")
    style = re.search(r"<style>(.*?)</style>", text)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" == STYLE_CSP_SOURCE
    assert ".pl-diagram .current .box{stroke:#1d70b8;stroke-width:4}" in style.group(1)
    without = parse(re.sub(r"<style>.*?</style>", "", text))
    for rect in without.iterfind(".//s:rect", NS):
        assert rect.get("stroke")
    for shown in without.iterfind(".//s:text", NS):
        assert shown.get("fill") and shown.get("font-size")


def test_template_text_cannot_inject_markup() -> None:
    doc = minimal_template()
    doc["title"] = "</title><script>alert(1)</script>"
    doc["stages"][1]["title"] = "<script>alert(1)</script>"
    doc["transitions"][0]["title"] = '"><g onload="alert(1)">&amp;'
    text = svg(build(doc), "middle")
    assert "<script" not in text and "onload=" not in text.replace("onload=&quot;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    root = parse(text)
    middle = stage_groups(root)["middle"]
    shown = middle.find("s:text[@class='title']", NS)
    assert shown is not None and text_of(shown) == "<script>alert(1)</script>"
    assert 'From Start to <script>alert(1)</script>: "><g onload="alert(1)">&amp;.' in desc(root)
    assert not root.findall(".//s:script", NS)


def test_characters_xml_cannot_carry_are_replaced() -> None:
    doc = minimal_template()
    doc["stages"][1]["title"] = "Mid\x00dle\x1b"
    root = parse(svg(build(doc)))
    shown = stage_groups(root)["middle"].find("s:text[@class='title']", NS)
    assert shown is not None and text_of(shown) == "Mid\ufffddle\ufffd"


def test_long_titles_wrap_and_very_long_ones_are_shortened_with_the_full_title_kept() -> None:
    doc = minimal_template()
    doc["stages"][1]["title"] = "Improvement workshop and agreed actions"
    doc["stages"][2]["title"] = "A very long stage title " * 6
    root = parse(svg(build(doc)))
    groups = stage_groups(root)
    lines = groups["middle"].findall("s:text[@class='title']/s:tspan", NS)
    assert [t.text for t in lines] == ["Improvement workshop", "and agreed actions"]
    cut = groups["done"].findall("s:text[@class='title']/s:tspan", NS)
    assert len(cut) == 3 and (cut[-1].text or "").endswith("…")
    full = " ".join(("A very long stage title " * 6).split())
    tooltip = groups["done"].find("s:title", NS)
    assert tooltip is not None and tooltip.text == full
    assert full in desc(root)


def test_the_same_input_gives_the_same_string_and_ids_follow_the_input() -> None:
    template = shipped("spp-cycle.yaml")
    first = svg(template, "peer_review", done=["self_review", "pre_review"])
    assert first == svg(template, "peer_review", done=("pre_review", "self_review"))
    other = svg(template, "pre_review", done=["self_review"])
    swapped = svg(template, "self_review", done=["pre_review"])
    ids = {parse(t).get("id") for t in (first, other, swapped, svg(template))}
    assert len(ids) == 4
    assert all(i and i.startswith("pl-spp-cycle-v1-") for i in ids)


def test_mermaid_is_still_there() -> None:
    assert mermaid(build(minimal_template())).startswith("---\ntitle: Mini review (v1)\n")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_shipped_templates_draw_without_overlapping_boxes(path: Path) -> None:
    template = read_file(path).build()
    for current in (None, template.initial_stage.id):
        root = parse(svg(template, current))
        groups = stage_groups(root)
        assert list(groups) == [s.id for s in template.stages]
        boxes = {sid: box(g) for sid, g in groups.items()}
        assert overlapping(boxes) == []
        words = desc(root)
        for t in template.transitions:
            assert f"to {template.stage(t.dest).title}: {t.title}" in words
            assert all(template.stage(s).title in words for s in t.sources)


def test_a_move_from_many_stages_is_drawn_once_from_a_bracket() -> None:
    template = shipped("spp-cycle.yaml")
    root = parse(svg(template))
    brackets = root.findall(".//s:g[@class='move many']", NS)
    assert len(brackets) == 1  # pause and withdraw share the six working stages
    tip = brackets[0].find("s:title", NS)
    assert tip is not None and (tip.text or "").endswith(": Put on hold / Withdraw the cycle")
    arrows = [(t.text or "") for t in root.iterfind(".//s:g[@class='move']/s:title", NS)]
    assert sum("Put on hold" in a for a in arrows) == 1
    # One arrow from the bracket and one from On hold: not one from each of seven stages.
    assert sum("Withdraw the cycle" in a for a in arrows) == 2
    side = box(stage_groups(root)["on_hold"])
    main = box(stage_groups(root)["self_review"])
    assert side[0] > main[2]  # the side lane stands beside the main path


def test_the_main_path_runs_in_order_and_a_move_back_is_an_arc() -> None:
    template = shipped("spp-cycle.yaml")
    root = parse(svg(template))
    groups = stage_groups(root)
    path = ["self_review", "pre_review", "peer_review", "improvement_workshop", "support"]
    tops = [box(groups[s])[1] for s in [*path, "follow_up", "closed"]]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)
    back = next(
        g
        for g in root.iterfind(".//s:g[@class='move']", NS)
        if (g.findtext("s:title", "", NS)).startswith("From Pre-review to Self-review")
    )
    d = back.find("s:path", NS)
    assert d is not None and "Q" in d.get("d", "")  # rounded, round the left of the boxes
    xs = [float(v) for v in re.findall(r"[MLQ](-?[\d.]+)", d.get("d", ""))]
    assert min(xs) < box(groups["self_review"])[0]


@settings(max_examples=60, deadline=None)
@given(valid_templates(), st.data())
def test_any_valid_template_draws_well_formed_and_names_every_stage(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    template = build(doc)
    ids = [s.id for s in template.stages]
    current = data.draw(st.sampled_from([None, *ids]))
    done = data.draw(st.lists(st.sampled_from(ids), max_size=3))
    text = svg(template, current, done=done)
    assert text == svg(template, current, done=done)
    root = parse(text)
    groups = stage_groups(root)
    assert list(groups) == ids
    assert overlapping({sid: box(g) for sid, g in groups.items()}) == []
    words = desc(root)
    for stage in template.stages:
        name = _shown(stage.title) or stage.id
        tooltip = groups[stage.id].find("s:title", NS)
        assert tooltip is not None and (tooltip.text or "").startswith(name)
        assert name in words
    for t in template.transitions:
        assert (
            f"to {_shown(template.stage(t.dest).title) or t.dest}: {_shown(t.title) or t.id}"
            in words
        )


def _shown(text: str) -> str:
    """A title as the diagram shows it: characters XML cannot carry replaced, spaces collapsed."""
    return " ".join(
        re.sub("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "\ufffd", text).split()
    )
