"""Evidence uploads a head teacher gets wrong are answered beside the file, in words: what is
wrong with it and what to do, with nothing stored; the names people give files are kept."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.flows import PDF, ok, start
from tests.e2e.world import World

KINDS = "PDF, Word, Excel, PowerPoint, PNG, JPEG, plain text or CSV"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


def stored(w: World) -> tuple[int, list[str]]:
    root = w.container.files.root
    files = sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return w.table_count("evidence"), files


def upload(w: World, cycle: str, file: tuple[str, bytes, str]) -> Any:
    parts = {"question_id": (None, "impact.outcomes"), "title": (None, "Notes"), "file": file}
    return w.post("head_own", f"/cycles/{cycle}/evidence", files=parts)


def upload_raw(w: World, cycle: str, disposition: str, content: bytes, ctype: str) -> Any:
    """The file part written by hand, for what clients send that httpx would not."""
    b = "peerloop-test-boundary"
    head = (
        f'--{b}\r\nContent-Disposition: form-data; name="question_id"\r\n\r\nimpact.outcomes\r\n'
        f'--{b}\r\nContent-Disposition: form-data; name="title"\r\n\r\nNotes\r\n'
        f'--{b}\r\nContent-Disposition: form-data; name="file"; {disposition}\r\n'
        f"Content-Type: {ctype}\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{b}--\r\n".encode()
    return w.post(
        "head_own",
        f"/cycles/{cycle}/evidence",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={b}"},
    )


def refused(r: Any, status: int, kind: str, *, as_detail: bool = True) -> str:
    """The problem's one message beside the file (also its detail), checked and returned."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == f"urn:peerloop:problem:{kind}"
    assert [e["location"] for e in body["errors"]] == ["body.file"], body
    message: str = body["errors"][0]["message"]
    assert body["detail"] == message or not as_detail
    return message


@pytest.fixture
def cycle(world: World) -> str:
    return start(world)


def test_an_empty_file_is_called_empty(world: World, cycle: str) -> None:
    before = stored(world)
    message = refused(
        upload(world, cycle, ("Report.pdf", b"", "application/pdf")), 422, "invalid-upload"
    )
    assert message == "Report.pdf is empty (0 bytes): choose the file again"
    assert stored(world) == before


def test_a_long_name_keeps_its_extension(world: World, cycle: str) -> None:
    name = "Pupil premium strategy statement " * 4 + "2026.pdf"  # 140 characters
    assert ok(upload(world, cycle, (name, PDF, "application/pdf")), 201)["file_name"] == name
    long = "a" * 147 + ".pdf"  # 151 characters: shortened to 150, the extension kept
    kept = ok(upload(world, cycle, (long, PDF, "application/pdf")), 201)["file_name"]
    assert kept == "a" * 145 + "….pdf"
    assert len(kept) == 150


def test_an_absurdly_long_name_is_refused_in_words(world: World, cycle: str) -> None:
    before = stored(world)
    r = upload(world, cycle, ("b" * 296 + ".pdf", PDF, "application/pdf"))
    message = refused(r, 422, "invalid-upload")
    assert "300 characters" in message and "255" in message
    assert stored(world) == before


def test_a_file_without_a_name_is_told_so(world: World, cycle: str) -> None:
    before = stored(world)
    for content, ctype in ((PDF, "application/pdf"), (PNG, "image/png")):
        r = upload_raw(world, cycle, 'filename=""', content, ctype)
        assert refused(r, 422, "invalid-upload").startswith("the file has no name")
    assert stored(world) == before


def test_no_file_chosen_is_evidence_without_a_file(world: World, cycle: str) -> None:
    # what a browser sends for a file input left empty: no name, no bytes
    r = upload_raw(world, cycle, 'filename=""', b"", "application/octet-stream")
    assert ok(r, 201)["file_name"] is None


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ("filename*=UTF-8''Caf%C3%A9%20r%C3%A9sum%C3%A9.pdf", "Café résumé.pdf"),
        ("filename*=utf-8'en'%F0%9F%93%9A%20reading.pdf", "📚 reading.pdf"),
        ("filename=\"fallback.pdf\"; filename*=UTF-8''Ann%C3%A9e%206.pdf", "Année 6.pdf"),
        ("filename*0*=UTF-8''Caf%C3%A9; filename*1=\" notes.pdf\"", "Café notes.pdf"),
    ],
    ids=["filename* only", "with a language", "filename* wins", "continued (RFC 2231)"],
)
def test_an_encoded_name_is_decoded(
    world: World, cycle: str, disposition: str, expected: str
) -> None:
    assert (
        ok(upload_raw(world, cycle, disposition, PDF, "application/pdf"), 201)["file_name"]
        == expected
    )


def test_an_encoded_name_that_is_not_utf8_is_refused_beside_the_file(
    world: World, cycle: str
) -> None:
    before = stored(world)
    r = upload_raw(world, cycle, "filename*=UTF-8''%FF%FE.pdf", PDF, "application/pdf")
    assert "could not be read" in refused(r, 422, "invalid-upload")
    assert stored(world) == before


def test_the_names_people_give_are_kept_and_downloaded_under(world: World, cycle: str) -> None:
    name = "Year 6 \u2013 78% reading 📚 (draft).pdf"  # an en dash, as Word makes it
    made = ok(upload(world, cycle, (name, PDF, "application/pdf")), 201)
    assert made["file_name"] == name
    r = world.get("head_own", made["download"])
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["content-disposition"] == f"attachment; filename*=utf-8''{quote(name)}"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../../etc/passwd.txt", "is a path"),
        ("..\\..\\boot.txt", "is a path"),
        ("...", "only dots"),
        (" . . ", "only dots"),
        ("report\u202etxt.pdf", "control or invisible characters"),
        ("bell\x07.txt", "control or invisible characters"),
    ],
)
def test_paths_controls_and_dots_are_still_refused(
    world: World, cycle: str, name: str, words: str
) -> None:
    before = stored(world)
    quoted = name.replace("\\", "\\\\")
    r = upload_raw(world, cycle, f'filename="{quoted}"', b"x", "text/plain")
    assert words in refused(r, 422, "invalid-upload")
    assert stored(world) == before


def test_a_refused_kind_of_file_names_the_kinds_taken(world: World, cycle: str) -> None:
    before = stored(world)
    r = upload(world, cycle, ("run.exe", b"MZ\x90\x00", "application/x-msdownload"))
    message = refused(r, 415, "unsupported-media-type")
    assert message.startswith("run.exe is not a kind of file") and KINDS in message
    r = upload(world, cycle, ("report.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))
    message = refused(r, 415, "unsupported-media-type")
    assert message.startswith("report.pdf does not hold a PDF")
    r = upload(world, cycle, ("Notes.docx", PDF, "application/pdf"))
    message = refused(r, 415, "unsupported-media-type")
    assert "Notes.docx" in message and "ends in .docx" in message and ".pdf" in message
    assert stored(world) == before


def test_too_large_keeps_its_status_and_type(world: World, cycle: str) -> None:
    before = stored(world)
    r = upload(world, cycle, ("big.pdf", PDF + b"0" * (300 * 1024), "application/pdf"))
    assert r.status_code == 413 and r.json()["type"] == "urn:peerloop:problem:file-too-large"
    r = upload(world, cycle, ("huge.pdf", PDF + b"0" * (400 * 1024), "application/pdf"))
    assert r.status_code == 413
    assert r.json()["type"] == "urn:peerloop:problem:request-entity-too-large"
    assert stored(world) == before


def test_punctuation_windows_would_change_is_kept_for_the_browser_to_adapt(
    world: World, cycle: str
) -> None:
    name = 'Plan: autumn "draft" <v2>?.pdf'
    made = ok(upload(world, cycle, (name, PDF, "application/pdf")), 201)
    assert made["file_name"] == name
    r = world.get("head_own", made["download"])
    assert r.headers["content-disposition"] == f"attachment; filename*=utf-8''{quote(name)}"


def test_a_plain_field_where_the_file_goes_is_told_so(world: World, cycle: str) -> None:
    parts = {
        "question_id": (None, "impact.outcomes"),
        "title": (None, "Notes"),
        "file": (None, "x"),
    }
    r = world.post("head_own", f"/cycles/{cycle}/evidence", files=parts)
    message = refused(r, 422, "invalid-upload", as_detail=False)
    assert message == "expected a file, got a plain field"


def test_a_form_cut_short_is_a_bad_request_and_stores_nothing(world: World, cycle: str) -> None:
    before = stored(world)
    b = "cut"
    body = (
        f'--{b}\r\nContent-Disposition: form-data; name="question_id"\r\n\r\nimpact.outcomes\r\n'
        f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + PDF
    r = world.post(
        "head_own",
        f"/cycles/{cycle}/evidence",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={b}"},
    )
    assert r.status_code == 400 and r.json()["type"] == "urn:peerloop:problem:bad-request"
    assert stored(world) == before
