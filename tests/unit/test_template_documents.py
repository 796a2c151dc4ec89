"""Reading a template document: what an author may send and what comes back.

Keys written twice are refused at their lines (YAML and JSON), JSON content issues have
lines, and a document that would expand, nest or refer to itself without end is refused
in bounded time, never echoing more than a line of what it holds.
"""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.template_files import read_document
from engine.errors import InvalidTemplate
from engine.issues import shown

SPP = (pathlib.Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml").read_text()
SPP_JSON = json.dumps(yaml.safe_load(SPP), indent=2)


def _line(text: str, line: int | None) -> str:
    assert line is not None
    return text.splitlines()[line - 1]


def test_a_key_written_twice_is_refused_at_its_line_and_nothing_is_built() -> None:
    # The first stage's deadline written twice: before, the last silently won.
    first = SPP.index("    deadline:")
    twice = SPP[:first] + "    deadline: {due: P5D}\n" + SPP[first:]
    doc = read_document(twice, "spp.yaml")
    template, issues = doc.checked()
    assert template is None
    [found] = [i for i in issues if i.issue.code == "duplicate_key"]
    assert found.issue.location == "stages[0].deadline"
    assert _line(twice, found.line).startswith("    deadline:")
    assert "written twice" in found.issue.message and "first at line" in found.issue.message
    with pytest.raises(InvalidTemplate):
        doc.build()


def test_keys_written_twice_in_json_are_refused_at_their_lines() -> None:
    twice = SPP_JSON.replace('"title":', '"title": "Once",\n  "title":', 1)
    [found] = read_document(twice, "spp.json").validate()
    assert found.issue.code == "duplicate_key"
    assert found.issue.location == "title"
    assert _line(twice, found.line).strip().startswith('"title":')


def test_json_content_issues_come_with_their_lines() -> None:
    broken = SPP_JSON.replace('"to": "peer_review"', '"to": "nowhere"', 1)
    issues = read_document(broken, "spp.json").validate()
    [wrong] = [i for i in issues if i.issue.code == "unknown_stage"]
    assert wrong.issue.message == "unknown stage 'nowhere'"
    assert _line(broken, wrong.line).strip() == '"to": "nowhere",'


def test_the_same_key_in_two_mappings_is_not_a_duplicate() -> None:
    template, issues = read_document(SPP, "spp.yaml").checked()
    assert issues == [] and template is not None
    template, issues = read_document(SPP_JSON, "spp.json").checked()
    assert issues == [] and template is not None


def _bomb(levels: int, at: str) -> str:
    """A document of few aliases standing for 9**levels values at the key `at`."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\n{at}: *l{levels - 1}\n"


@pytest.mark.parametrize("at", ["version", "id"])
def test_an_alias_bomb_is_refused_at_once(at: str) -> None:
    text = _bomb(9, at)  # 72 aliases, 387 million values expanded
    [found] = read_document(text, "bomb.yaml").validate()
    assert "expand it to more than 300,000 values" in found.issue.message


def test_a_smaller_bomb_is_read_but_its_value_is_never_echoed_whole() -> None:
    # 9**5 = 59,049 values: under the bound, so read, and reported as the wrong type.
    text = SPP.replace("version: 1\n", "version: *l4\n", 1)
    text = _bomb(5, "unused").replace("unused: *l4\n", "") + text
    issues = read_document(text, "spp.yaml").validate()
    [version] = [i for i in issues if i.issue.location == "version"]
    assert version.issue.message.startswith("expected a whole number 1 or more, got [[")
    assert len(version.issue.message) < 300
    assert all(len(i.issue.message) < 1000 for i in issues)


def test_a_value_that_contains_itself_is_refused() -> None:
    [found] = read_document("a: &a [1, *a]\n", "loop.yaml").validate()
    assert "refers to a value that contains it" in found.issue.message


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("a: " + "[" * 5000 + "]" * 5000, "deep.yaml"),
        ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "deep.json"),
        ('{"a": ' + "[" * 100 + "]" * 100 + "}", "deep.json"),
    ],
)
def test_deep_nesting_is_refused_as_a_syntax_issue(text: str, name: str) -> None:
    [found] = read_document(text, name).validate()
    assert found.issue.code == "syntax"
    assert "nest" in found.issue.message


def test_a_long_value_is_cut_short_where_a_message_quotes_it() -> None:
    text = SPP.replace("id: spp-cycle", "id: " + "x" * 100_000 + "!", 1)
    [found] = [i for i in read_document(text, "spp.yaml").validate() if i.issue.location == "id"]
    assert found.issue.code == "bad_id"
    assert len(found.issue.message) < 200


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=200),
        lambda inner: (
            st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=20), inner, max_size=6)
        ),
        max_leaves=60,
    )
)
def test_any_value_is_shown_in_a_line(value: object) -> None:
    assert len(shown(value)) <= 400


def test_a_template_of_thousands_of_stages_is_read() -> None:
    """(Its time against one of half as many stages is measured in `bench templates`.)"""
    stages = [
        {"id": f"s{i}", "title": f"Stage {i}", "deadline": {"due": "P14D"}} for i in range(2400)
    ]
    stages[0]["initial"] = True
    stages[-1] = {"id": "s2399", "title": "Closed", "terminal": True}
    moves = [
        {
            "id": f"t{i}",
            "from": f"s{i}",
            "to": f"s{i + 1}",
            "title": f"Move {i}",
            "roles": ["school_lead"],
        }
        for i in range(2399)
    ]
    doc = yaml.safe_load(SPP) | {"stages": stages, "transitions": moves}
    text = yaml.safe_dump(doc, sort_keys=False)
    template, issues = read_document(text, "big.yaml").checked()
    assert issues == [] and template is not None and len(template.stages) == 2400
    assert len(template.transitions_from("s1200")) == 1
