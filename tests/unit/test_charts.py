"""Bar charts drawn on the server: well-formed whatever the labels, every label escaped, bars in
proportion to their values, readable without colour, nothing a strict CSP refuses."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from engine.charts import BAR_COLOUR, Bar, bar_chart, shown_label

NS = {"s": "http://www.w3.org/2000/svg"}
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

labels = st.text(min_size=0, max_size=80)
bars = st.lists(
    st.builds(Bar, labels, st.integers(min_value=0, max_value=10_000)), min_size=1, max_size=12
)


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)  # our own output: parsed to check it is well-formed


def chart(found: list[Bar], **kw: str) -> ET.Element:
    return parse(
        bar_chart(
            found,
            title=kw.get("title", "Cycles by stage"),
            description=kw.get("description", "How many cycles are at each stage."),
            chart_id=kw.get("chart_id", "c"),
        )
    )


def in_xml(text: str) -> str:
    """A label as XML can carry it: characters it cannot hold replaced, spaces collapsed."""
    return " ".join(XML_ILLEGAL.sub("\ufffd", text).split())


def rows(root: ET.Element) -> list[ET.Element]:
    return root.findall("s:g", NS)


@given(bars, labels, labels)
def test_every_label_title_and_description_is_escaped_into_well_formed_svg(
    found: list[Bar], title: str, description: str
) -> None:
    root = chart(found, title=title, description=description)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.findtext("s:title", namespaces=NS) == in_xml(title)
    assert root.findtext("s:desc", namespaces=NS) == in_xml(description)
    drawn = rows(root)
    assert len(drawn) == len(found)
    for g, bar in zip(drawn, found, strict=True):
        # The whole label (and its count) in the row's title; the label as shown beside the bar.
        assert g.findtext("s:title", namespaces=NS) == f"{in_xml(bar.label)}: {bar.value}"
        texts = [t.text or "" for t in g.findall("s:text", NS)]
        assert texts == [shown_label(bar.label), str(bar.value)]


@given(bars)
def test_bars_are_in_proportion_to_their_values(found: list[Bar]) -> None:
    root = chart(found)
    widths = []
    for g, bar in zip(rows(root), found, strict=True):
        rect = g.find("s:rect", NS)
        if bar.value == 0:
            assert rect is None  # nothing drawn, but the label and "0" are
            widths.append(0.0)
        else:
            assert rect is not None and rect.get("fill") == BAR_COLOUR
            widths.append(float(rect.get("width", "")))
    top = max(b.value for b in found)
    if top == 0:
        return
    longest = max(widths)
    for width, bar in zip(widths, found, strict=True):
        assert abs(width / longest - bar.value / top) < 0.01
    # The largest value has the longest bar, and it stays inside the drawing.
    assert widths[[b.value for b in found].index(top)] == longest
    assert longest <= float(root.get("width", ""))


def test_labels_and_counts_are_text_and_one_colour_is_used_so_it_reads_without_colour() -> None:
    root = chart([Bar("Self-review", 4), Bar("Peer review", 2), Bar("Follow-up", 0)])
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c-title c-desc"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["Self-review", "4", "Peer review", "2", "Follow-up", "0"]
    fills = {r.get("fill") for r in root.iter("{http://www.w3.org/2000/svg}rect")}
    assert fills == {BAR_COLOUR}


def test_nothing_a_strict_content_security_policy_refuses() -> None:
    text = bar_chart([Bar("<style>x</style>", 3)], title="t", description="d", chart_id="c")
    assert "<style" not in text and "style=" not in text and "<script" not in text
    assert "&lt;style&gt;x&lt;/style&gt;" in text


def test_no_data_draws_a_sentence_instead_of_bars() -> None:
    text = bar_chart([], title="Cycles", description="None yet", chart_id="c", empty="No cycles")
    root = parse(text)
    assert rows(root) == [] and root.find(".//s:rect", NS) is None
    assert [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")] == ["No cycles"]


def test_a_long_label_is_cut_on_the_chart_but_whole_in_the_title() -> None:
    name = "St Anselm's CE Primary School and Nursery, Upper Site, with its Children's Centre"
    root = chart([Bar(name, 3)])
    (g,) = rows(root)
    shown = g.findtext("s:text", namespaces=NS) or ""
    assert shown.endswith("…") and len(shown) <= 64 and name.startswith(shown[:-1])
    assert g.findtext("s:title", namespaces=NS) == f"{name}: 3"


@given(st.text(max_size=40))
def test_the_chart_id_is_always_a_safe_id(chart_id: str) -> None:
    root = parse(bar_chart([Bar("a", 1)], title="t", description="d", chart_id=chart_id))
    ids = root.get("aria-labelledby", "").split()
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids)
    named = [root.find(tag, NS) for tag in ("s:title", "s:desc")]
    assert [e.get("id") if e is not None else None for e in named] == ids
