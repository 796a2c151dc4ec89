"""Evidence: multipart upload (size limit, media-type allowlist checked against the content,
sanitised names), listing, download for those allowed, and erasure (data protection)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, MultipartBody
from litestar.response import File

from service.errors import BadUpload, MediaTypeRefused
from service.presenters import cycle_view
from service.routes.common import (
    READ,
    RECORD,
    Caller,
    PathId,
    Ws,
    etag,
    expected_version,
    problems,
)
from service.schemas import EvidenceErase, EvidenceView, FieldError
from service.usecases.messages import AddEvidence, EraseEvidence, EvidenceFileQuery, ReadCycle

__all__ = ["ALLOWED_MEDIA_TYPES", "ROUTES", "safe_name", "upload_route"]

TAGS = ["evidence"]
_CHUNK = 64 * 1024
_ZIP = b"PK\x03\x04"
_OOXML = "application/vnd.openxmlformats-officedocument"

ALLOWED_MEDIA_TYPES: dict[str, tuple[tuple[str, ...], bytes | None]] = {
    "application/pdf": ((".pdf",), b"%PDF-"),
    "image/png": ((".png",), b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": ((".jpg", ".jpeg"), b"\xff\xd8\xff"),
    "text/plain": ((".txt",), None),
    "text/csv": ((".csv",), None),
    f"{_OOXML}.wordprocessingml.document": ((".docx",), _ZIP),
    f"{_OOXML}.spreadsheetml.sheet": ((".xlsx",), _ZIP),
    f"{_OOXML}.presentationml.presentation": ((".pptx",), _ZIP),
}
"""Media type -> (file extensions, leading bytes the content must start with; None: text)."""

_BY_EXTENSION = {ext: mt for mt, (exts, _) in ALLOWED_MEDIA_TYPES.items() for ext in exts}
_UNSAFE = re.compile(r"[^\w .()+-]+")


@dataclass
class EvidenceUpload:
    """The multipart form: which framework question, a title, and optionally a file."""

    question_id: str
    title: str
    file: UploadFile | None = None


def safe_name(raw: str) -> str:
    """A file name fit to show and to put in Content-Disposition.

    Raises:
        BadUpload: the name holds a path (`/`, `\\`, `..`) or control characters.
    """
    name = unicodedata.normalize("NFC", raw or "").strip()
    if "/" in name or "\\" in name or name in (".", "..") or ".." in name.split("."):
        raise BadUpload(
            "the file name must be a plain name, not a path",
            [FieldError(location="body.file", message=f"{raw!r} is a path, not a file name")],
        )
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise BadUpload(
            "the file name holds control characters",
            [FieldError(location="body.file", message="the file name holds control characters")],
        )
    name = _UNSAFE.sub("_", name).strip(" .")[:150]
    return name or "evidence"


def _media_type(upload: UploadFile, name: str) -> str:
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    ext = ("." + name.rsplit(".", 1)[1].lower()) if "." in name else ""
    if declared in ("", "application/octet-stream"):
        declared = _BY_EXTENSION.get(ext, declared or "application/octet-stream")
    if declared not in ALLOWED_MEDIA_TYPES:
        raise MediaTypeRefused(
            f"files of type {declared!r} are not accepted; send one of "
            + ", ".join(sorted(ALLOWED_MEDIA_TYPES)),
        )
    exts, _ = ALLOWED_MEDIA_TYPES[declared]
    if ext not in exts:
        raise MediaTypeRefused(f"a {declared} file should end in {' or '.join(exts)}, not {ext!r}")
    return declared


def _sniff(media_type: str, head: bytes) -> None:
    """The content must be what the type says: a renamed executable is not a PDF."""
    _, magic = ALLOWED_MEDIA_TYPES[media_type]
    if magic is not None:
        ok = head.startswith(magic)
    else:
        try:
            head.decode("utf-8")
            ok = b"\x00" not in head
        except UnicodeDecodeError as exc:
            ok = exc.start > len(head) - 4  # a character cut at the chunk's end
    if not ok:
        raise MediaTypeRefused(f"the file's content is not {media_type}")


def _chunks(f: IO[bytes], first: bytes) -> Iterator[bytes]:
    yield first
    while chunk := f.read(_CHUNK):
        yield chunk


def add_evidence(
    request: Request[Any, Any, Any],
    cycle_id: PathId,
    data: MultipartBody[EvidenceUpload],
    principal: Caller,
    ws: Ws,
) -> Response[EvidenceView]:
    bad = [
        FieldError(location=f"body.{field}", message=f"at most {limit} characters, no NUL")
        for field, value, limit in (
            ("question_id", data.question_id, 64),
            ("title", data.title, 2000),
        )
        if len(value) > limit or "\x00" in value
    ]
    if bad:
        raise BadUpload("the form is not valid", bad)
    upload = data.file
    chunks = media_type = name = None
    if isinstance(upload, UploadFile):
        name = safe_name(upload.filename)
        media_type = _media_type(upload, name)
        f = upload.file
        first = f.read(_CHUNK)
        _sniff(media_type, first)
        chunks = _chunks(f, first)
    elif upload is not None:
        raise BadUpload(
            "`file` must be a file part",
            [FieldError(location="body.file", message="expected a file, got a plain field")],
        )
    done = ws.handle(
        AddEvidence(
            cycle_id,
            data.question_id,
            data.title,
            chunks,
            media_type,
            name,
            expected_version(request, required=False),
        ),
        principal,
    )
    cycle, evidence_id = done.cycle, done.record_id
    e = cycle.evidence[evidence_id]
    view = EvidenceView(
        id=e.id,
        question_id=e.question_id,
        title=e.title,
        added_by=e.added_by,
        added_at=e.added_at,
        file_name=e.file.original_name if e.file else None,
        media_type=e.file.media_type if e.file else None,
        size=e.file.size if e.file else None,
        download=f"/cycles/{cycle_id}/evidence/{e.id}/file" if e.file else None,
    )
    return Response(
        view,
        status_code=201,
        headers={"ETag": etag(cycle.version), "Location": f"/cycles/{cycle_id}/evidence/{e.id}"},
    )


@get(
    "/cycles/{cycle_id:str}/evidence",
    tags=TAGS,
    summary="The cycle's evidence",
    responses=problems(*READ),
    sync_to_thread=True,
)
def list_evidence(cycle_id: PathId, principal: Caller, ws: Ws) -> list[EvidenceView]:
    ctx = ws.handle(ReadCycle(cycle_id, "evidence"), principal)
    return list(cycle_view(ctx).evidence or [])


@get(
    "/cycles/{cycle_id:str}/evidence/{evidence_id:str}/file",
    tags=TAGS,
    summary="Download an evidence file (host school and review team only)",
    description="Served as an attachment under its cleaned original name, never its path.",
    responses=problems(*READ),
    sync_to_thread=True,
    media_type="application/octet-stream",
)
def download_evidence(cycle_id: PathId, evidence_id: PathId, principal: Caller, ws: Ws) -> File:
    found = ws.handle(EvidenceFileQuery(cycle_id, evidence_id), principal)
    return File(
        path=found.path,
        filename=found.file.original_name,
        media_type=found.file.media_type,
        content_disposition_type="attachment",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
    )


@post(
    "/cycles/{cycle_id:str}/evidence/{evidence_id:str}/erasure",
    tags=TAGS,
    summary="Erase evidence (a data-protection request); the erasure and reason stay in history",
    status_code=204,
    responses=problems(*RECORD),
    sync_to_thread=True,
)
def erase_evidence(
    cycle_id: PathId,
    evidence_id: PathId,
    data: JSONBody[EvidenceErase],
    principal: Caller,
    ws: Ws,
) -> None:
    ws.handle(EraseEvidence(cycle_id, evidence_id, data.reason), principal)


def upload_route(max_body_bytes: int) -> HTTPRouteHandler:
    """The upload route with the app's size limit (settings), made afresh for each app."""
    return post(
        "/cycles/{cycle_id:str}/evidence",
        tags=TAGS,
        summary="Add evidence for a framework question, with a file or without",
        description=(
            "multipart/form-data with `question_id`, `title` and an optional `file`. Files are "
            f"accepted up to {max_body_bytes} bytes with the form (413 beyond) and of the types "
            + ", ".join(sorted(ALLOWED_MEDIA_TYPES))
            + " only, checked against the content itself (415 otherwise). The name given is "
            "kept, cleaned, only to show and download under; files are stored by content hash."
        ),
        responses=problems(*RECORD),
        request_max_body_size=max_body_bytes,
        sync_to_thread=True,
    )(add_evidence)


ROUTES = [list_evidence, download_evidence, erase_evidence]
