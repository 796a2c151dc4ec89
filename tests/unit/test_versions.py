"""A template's version numbers, under any sequence of uploads, publishes, retirements and
deletions an admin could make: they never skip or go back, a published version is never
replaced, and a start always runs on the newest published version not retired."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.directory import StoredTemplate
from engine.errors import Conflict, NotFound
from engine.versions import removable, retirable, startable, upload_allowed

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _stored(version: int, status: str = "draft") -> StoredTemplate:
    return StoredTemplate("t", version, "T", "src", "yaml", status, T0)  # type: ignore[arg-type]


steps = st.lists(
    st.tuples(st.sampled_from(["upload", "publish", "retire", "delete"]), st.integers(0, 8)),
    max_size=40,
)


@settings(max_examples=300)
@given(steps)
def test_any_history_of_changes_keeps_the_numbers_in_order(history: list[tuple[str, int]]) -> None:
    stored: dict[int, StoredTemplate] = {}
    for step, version in history:
        versions = [stored[v] for v in sorted(stored)]
        before = dict(stored)
        try:
            if step == "upload":
                upload_allowed("t", version, versions)
                # Accepted: a draft replaced, or the very next number (never a skip or a
                # step back, never a published version replaced).
                if version in stored:
                    assert stored[version].status == "draft"
                else:
                    assert version == max(stored, default=0) + 1
                stored[version] = _stored(version)
            elif step == "publish" and version in stored:
                stored[version] = dataclasses.replace(stored[version], status="published")
            elif step == "retire":
                retirable("t", version, versions)
                stored[version] = dataclasses.replace(stored[version], retired_at=T0)
            elif step == "delete":
                removable("t", version, versions)
                del stored[version]
        except (Conflict, NotFound):
            assert stored == before  # a refusal changes nothing
        published = [v for v in sorted(stored) if stored[v].status == "published"]
        ready = [v for v in published if stored[v].retired_at is None]
        if ready:
            assert startable("t", [stored[v] for v in sorted(stored)]).version == ready[-1]
        elif stored:
            with pytest.raises(Conflict):
                startable("t", [stored[v] for v in sorted(stored)])


def test_the_messages_name_what_to_do() -> None:
    one, two = _stored(1, "published"), _stored(2)
    with pytest.raises(Conflict, match="upload it as version 2, which replaces the draft"):
        upload_allowed("t", 1, [one, two])
    with pytest.raises(Conflict, match="would skip a number: the newest version of 't' is 2"):
        upload_allowed("t", 4, [one, two])
    with pytest.raises(Conflict, match="is a draft; publish it first; start on version 1"):
        startable("t", [one, two], 2)
    with pytest.raises(NotFound):
        startable("t", [])
