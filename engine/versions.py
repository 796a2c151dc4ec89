"""A template's versions: which one a new cycle starts on, and which number an upload may take.

A template's versions go up one at a time: version N is stored only after N - 1, so that
"version 3" always means the third, and the number never jumps or goes back. A draft may be
replaced until it is published; a published version never changes; a retired one starts no
new cycles, while those running on it go on.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.directory import StoredTemplate
from engine.errors import Conflict, NotFound

__all__ = ["removable", "retirable", "startable", "upload_allowed"]


def _key(template_id: str, version: int) -> str:
    return f"{template_id}@{version}"


def _startable(versions: Sequence[StoredTemplate]) -> list[StoredTemplate]:
    return [v for v in versions if v.status == "published" and v.retired_at is None]


def startable(
    template_id: str, versions: Sequence[StoredTemplate], version: int | None = None
) -> StoredTemplate:
    """The version a new cycle starts on: `version`, or the newest published and not retired.

    Raises:
        NotFound: no such template, or no such version of it.
        Conflict: the version asked for (or every version) is a draft or retired, in words
            that say what to do.
    """
    if not versions:
        raise NotFound("template", template_id)
    ready = _startable(versions)
    newest = f"; start on version {ready[-1].version}" if ready else ""
    if version is not None:
        found = next((v for v in versions if v.version == version), None)
        if found is None:
            raise NotFound("template", _key(template_id, version))
        if found.status != "published":
            raise Conflict(
                "template",
                _key(template_id, version),
                f"version {version} of {template_id!r} is a draft; publish it first{newest}",
            )
        if found.retired_at is not None:
            raise Conflict(
                "template",
                _key(template_id, version),
                f"version {version} of {template_id!r} is retired: no new cycle starts on "
                f"it{newest}",
            )
        return found
    if ready:
        return ready[-1]
    drafts = [v.version for v in versions if v.status == "draft"]
    if drafts and not any(v.status == "published" for v in versions):
        raise Conflict(
            "template",
            template_id,
            f"{template_id!r} has no published version: version {drafts[-1]} is a draft; "
            "publish it first",
        )
    raise Conflict(
        "template",
        template_id,
        f"every published version of {template_id!r} is retired: publish a new version to "
        "start cycles on it",
    )


def upload_allowed(template_id: str, version: int, versions: Sequence[StoredTemplate]) -> None:
    """Whether a document of `version` may be stored (a new version, or a draft replaced).

    Raises:
        Conflict: that version is published (or retired), or its number skips or goes back;
            the message names the version to upload instead.
    """
    by_number = {v.version: v for v in versions}
    highest = max(by_number, default=0)
    found = by_number.get(version)
    if found is not None and found.status == "draft":
        return
    top = by_number.get(highest)
    if top is not None and top.status == "draft":
        instead = f"upload it as version {highest}, which replaces the draft stored there"
    else:
        instead = f"upload it as version {highest + 1}"
    if found is not None:
        raise Conflict(
            "template",
            _key(template_id, version),
            f"version {version} of {template_id!r} is published and never changes; {instead}",
        )
    if version == highest + 1:
        return
    if version > highest + 1:
        said = (
            f"{template_id!r} has no version yet"
            if not highest
            else f"the newest version of {template_id!r} is {highest}"
        )
        raise Conflict(
            "template",
            _key(template_id, version),
            f"version {version} would skip a number: {said}, so the next is {highest + 1}",
        )
    raise Conflict(
        "template",
        _key(template_id, version),
        f"version {version} would go back: the newest version of {template_id!r} is "
        f"{highest}; {instead}",
    )


def retirable(template_id: str, version: int, versions: Sequence[StoredTemplate]) -> StoredTemplate:
    """The version to retire.

    Raises:
        NotFound: no such version.
        Conflict: it is a draft (delete it instead).
    """
    found = next((v for v in versions if v.version == version), None)
    if found is None:
        raise NotFound("template", _key(template_id, version))
    if found.status != "published":
        raise Conflict(
            "template",
            _key(template_id, version),
            f"version {version} of {template_id!r} is a draft: no cycle runs on it, so "
            "delete it rather than retire it",
        )
    return found


def removable(template_id: str, version: int, versions: Sequence[StoredTemplate]) -> StoredTemplate:
    """The draft to delete.

    Raises:
        NotFound: no such version.
        Conflict: it is published (cycles may run on it: retire it instead).
    """
    found = next((v for v in versions if v.version == version), None)
    if found is None:
        raise NotFound("template", _key(template_id, version))
    if found.status != "draft":
        raise Conflict(
            "template",
            _key(template_id, version),
            f"version {version} of {template_id!r} is published and never changes; retire "
            "it to start no new cycles on it",
        )
    return found
