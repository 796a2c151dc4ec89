"""Evidence: multipart upload (size limit, media-type allowlist checked against the content,
the names people give files kept and made safe), listing, download for those allowed, and
erasure (data protection)."""

from __future__ import annotations

import email.message
import email.utils
import re
import unicodedata
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import IO, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, MultipartBody
from litestar.response import File
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState
from multipart import (  # type: ignore[import-untyped]  # Litestar's own multipart parser
    MultipartSegment,
    ParserError,
    ParserLimitReached,
    PushMultipartParser,
)

from service.errors import BadUpload, MediaTypeRefused
from service.presenters import cycle_view, evidence_view
from service.routes.common import (
    READ,
    RECORD,
    Caller,
    PathId,
    Ws,
    check_media_type,
    etag,
    expected_version,
    problems,
)
from service.schemas import EvidenceErase, EvidenceView, FieldError
from service.usecases.messages import AddEvidence, EraseEvidence, EvidenceFileQuery, ReadCycle

__all__ = [
    "ALLOWED_MEDIA_TYPES",
    "KINDS_IN_WORDS",
    "NAME_KEPT",
    "NAME_LONGEST",
    "ROUTES",
    "read_upload",
    "safe_name",
    "upload_route",
]

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

_A_KIND = {
    "application/pdf": "a PDF",
    "image/png": "a PNG image",
    "image/jpeg": "a JPEG image",
    "text/plain": "a plain text file",
    "text/csv": "a CSV file",
    f"{_OOXML}.wordprocessingml.document": "a Word document",
    f"{_OOXML}.spreadsheetml.sheet": "an Excel spreadsheet",
    f"{_OOXML}.presentationml.presentation": "a PowerPoint presentation",
}
"""Each allowed media type as a head teacher would name it, in a sentence."""

KINDS_IN_WORDS = "PDF, Word, Excel, PowerPoint, PNG, JPEG, plain text or CSV"
"""The allowed media types in words, for messages and the route's description."""

_BY_EXTENSION = {ext: mt for mt, (exts, _) in ALLOWED_MEDIA_TYPES.items() for ext in exts}

NAME_KEPT = 150
"""Names up to this many characters are kept as given; longer ones are shortened to it."""
NAME_LONGEST = 255
"""What file systems allow in a name: a longer one is no real file's, and is refused."""
_ENDS = re.compile(r"^[\s.]+|[\s.]+$")  # what Windows drops, and what hides a file on Unix
_JOINERS = {"\u200c", "\u200d"}  # zero-width (non-)joiners: emoji sequences, Persian, Indic
_FILE_FIELD = "file"


@dataclass
class EvidenceUpload:
    """The multipart form: which framework question, a title, and optionally a file."""

    question_id: str
    title: str
    file: UploadFile | None = None
    school_id: str | None = None
    """In a cycle of several schools: the school taking part it is of (by default the
    sender's own, when it takes part)."""


def _refused(message: str) -> BadUpload:
    return BadUpload(message, [FieldError(location=f"body.{_FILE_FIELD}", message=message)])


def _unsafe(ch: str) -> bool:
    """Control, format (bidi overrides, zero-width spaces), private-use, unassigned, or a line
    or paragraph separator: nothing a name shown on one line may hold."""
    category = unicodedata.category(ch)
    return (category[0] == "C" and ch not in _JOINERS) or category in ("Zl", "Zp")


def _shown(raw: str) -> str:
    """A refused name as a message may quote it: what cannot be shown as `?`, and not long."""
    text = "".join("?" if _unsafe(ch) else ch for ch in raw)
    return f"“{text}”" if len(text) <= 80 else f"“{text[:79]}…”"


def safe_name(raw: str) -> str:
    """A file name fit to show and to put in Content-Disposition, as close to the given one as
    that allows: letters of every script, `%`, dashes, emoji... are kept (Litestar's `File`
    sends a non-ASCII name as `filename*=`); leading and trailing dots and spaces are dropped.
    A name longer than `NAME_KEPT` characters is shortened to it by cutting its stem, not its
    extension, and marking the cut with `…`.

    Raises:
        BadUpload: the name is empty, a path (`/` or `\\`), only dots, holds control or
            invisible characters, or is longer than `NAME_LONGEST` characters.
    """
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise _refused("the file has no name: give it one (like report.pdf) and send it again")
    if "/" in name or "\\" in name:
        raise _refused(f"{_shown(raw)} is a path, not a file name: send the file's name only")
    if any(_unsafe(ch) for ch in name):
        raise _refused(
            "the file name holds control or invisible characters: rename the file using "
            "letters, numbers, spaces and punctuation, and send it again"
        )
    name = _ENDS.sub("", name)
    if not name:
        raise _refused(f"{_shown(raw)} is only dots, not a file name: give the file a name")
    if len(name) > NAME_LONGEST:
        raise _refused(
            f"the file name is {len(name)} characters long; at most {NAME_LONGEST} are taken: "
            "rename the file with a shorter name and send it again"
        )
    if len(name) > NAME_KEPT:
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem or len(ext) > 10:  # no extension to keep
            stem, ext = name, ""
        keep = NAME_KEPT - 1 - (len(ext) + 1 if ext else 0)
        name = stem[:keep].rstrip(" .") + "…" + (f".{ext}" if ext else "")
    return name


def _file_name(segment: MultipartSegment) -> str | None:
    """The part's file name ("" for a nameless file), or None for a plain field.

    RFC 7578 asks clients not to send `filename*`, but some do (RFC 5987/2231, as in HTTP
    headers); when it is there it wins over `filename`, as RFC 6266 has it for downloads. The
    standard library's email package decodes it, continuations (`filename*0*=`) included; a
    plain `filename` is read as Litestar reads it (the `multipart` package's WHATWG rules).
    """
    header = segment.header("Content-Disposition", "")
    if "filename*" in header.lower():
        disposition = email.message.Message()
        disposition["Content-Disposition"] = header
        for key, value in disposition.get_params([], header="content-disposition")[1:]:
            if key.lower() == "filename" and isinstance(value, tuple):
                try:
                    return email.utils.collapse_rfc2231_value(value, errors="strict")
                except UnicodeDecodeError:
                    charset = value[0] or "US-ASCII"
                    raise _refused(
                        f"the file name could not be read (its filename* is not {charset} "
                        "text): rename the file and send it again"
                    ) from None
    name: str | None = segment.filename
    return name


def _value(segment: MultipartSegment, data: UploadFile | bytearray) -> Any:
    if isinstance(data, UploadFile):
        if not data.filename and not segment.size:
            data.file.close()
            return ""  # a file input left empty ("no file chosen"): Litestar makes it None
        data.file.seek(0)
        return data
    if segment.name == _FILE_FIELD and data:
        raise BadUpload(
            "`file` must be a file part",
            [FieldError(location="body.file", message="expected a file, got a plain field")],
        )
    # as Litestar does: a field that is not UTF-8 (or its charset) is a 400 (service.errors)
    return data.decode(segment.charset or "utf-8")


async def _parse_form(request: Request[Any, Any, Any], boundary: bytes) -> dict[str, Any]:
    """The form as `litestar._multipart.parse_multipart_form` reads it, but a part is a file
    when it has a file name at all, even an empty or an encoded one (see `_file_name`)."""
    fields: defaultdict[str, list[Any]] = defaultdict(list)
    stream: AsyncIterator[bytes] = request.stream()
    data: UploadFile | bytearray = bytearray()
    try:
        with PushMultipartParser(
            boundary, max_segment_count=request.app.multipart_form_part_limit
        ) as parser:
            segment: MultipartSegment | None = None
            chunk = await anext(stream, b"")
            if not chunk:
                return {}
            while not parser.closed:  # b"" tells the parser the body has ended
                for part in parser.parse(chunk):
                    if isinstance(part, MultipartSegment):
                        segment, filename = part, _file_name(part)
                        data = bytearray()
                        if filename is not None:
                            data = UploadFile(
                                content_type=part.content_type or "",
                                filename=filename,
                                headers=dict(part.headerlist),
                            )
                    elif part:
                        if isinstance(data, UploadFile):
                            await data.write(part)
                        else:
                            data.extend(part)
                    else:  # the end of a part
                        if segment is None:
                            raise ClientException("Unexpected eof in multipart/form-data")
                        fields[segment.name].append(_value(segment, data))
                        data, segment = bytearray(), None
                chunk = await anext(stream, b"")
    except BaseException as exc:
        for value in [data, *(v for values in fields.values() for v in values)]:
            if isinstance(value, UploadFile):
                value.file.close()
        if isinstance(exc, ParserError):
            raise ClientException("Invalid multipart/form-data") from exc
        if isinstance(exc, ParserLimitReached):
            raise ClientException("Request Entity Too Large") from None  # 400, as Litestar
        raise
    return {k: v if len(v) > 1 else v[0] for k, v in fields.items()}


async def _read_upload_form(request: Request[Any, Any, Any]) -> None:
    """The upload route's before_request hook: read the form ourselves (`_parse_form`).

    Litestar takes a part for a file only when its `filename` is not empty and knows no
    `filename*`, so a nameless or an RFC 5987-named file would reach the handler as text (or
    fail as "not UTF-8"). The form read here is left where Litestar looks for a form already
    read (the scope state), so `MultipartBody[EvidenceUpload]` is filled from it.
    """
    await check_media_type(request)  # the app's own before_request: a route's replaces it
    state = ScopeState.from_scope(request.scope)
    ctype, options = request.content_type
    boundary = options.get("boundary")
    if state.form is Empty and ctype == "multipart/form-data" and boundary:
        state.form = await _parse_form(request, boundary.encode())


def _media_type(upload: UploadFile, name: str) -> str:
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    ext = ("." + name.rsplit(".", 1)[1].lower()) if "." in name else ""
    if declared in ("", "application/octet-stream"):
        declared = _BY_EXTENSION.get(ext, declared or "application/octet-stream")
    if declared not in ALLOWED_MEDIA_TYPES:
        sent = "" if declared == "application/octet-stream" else f" (it was sent as {declared})"
        raise _type_refused(
            f"{name} is not a kind of file Peerloop takes{sent}: send a {KINDS_IN_WORDS} file"
        )
    exts, _ = ALLOWED_MEDIA_TYPES[declared]
    if ext not in exts:
        ending = f"ends in {ext}" if ext else "has no extension"
        raise _type_refused(
            f"{name} was sent as {_A_KIND[declared]}, but its name {ending}: rename it to end "
            f"in {' or '.join(exts)}, or send it as the kind of file it is"
        )
    return declared


def _type_refused(message: str) -> MediaTypeRefused:
    return MediaTypeRefused(message, [FieldError(location=f"body.{_FILE_FIELD}", message=message)])


def _sniff(media_type: str, name: str, head: bytes) -> None:
    """The content must be what the type says: a renamed executable is not a PDF."""
    _, magic = ALLOWED_MEDIA_TYPES[media_type]
    kind = _A_KIND[media_type]
    if magic is not None:
        if not head.startswith(magic):
            raise _type_refused(
                f"{name} does not hold {kind}: its content is another kind of file (renamed?)."
                f" Open it, save or export it as {kind}, and send that"
            )
        return
    try:
        head.decode("utf-8")
        ok = b"\x00" not in head
    except UnicodeDecodeError as exc:
        ok = exc.start > len(head) - 4  # a character cut at the chunk's end
    if not ok:
        excel = " (in Excel: Save As “CSV UTF-8”)" if media_type == "text/csv" else ""
        raise _type_refused(
            f"{name} is not text in UTF-8: save it again as {kind} in UTF-8{excel}, and send that"
        )


def _in_words(size: int) -> str:
    """A byte count as people say it: 20 MB, 320 KB (a megabyte of 1024 * 1024 bytes)."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _chunks(f: IO[bytes], first: bytes) -> Iterator[bytes]:
    yield first
    while chunk := f.read(_CHUNK):
        yield chunk


def read_upload(upload: UploadFile) -> tuple[Iterator[bytes], str, str]:
    """An uploaded file's content (read once, as it streams), media type and cleaned name.

    Raises:
        BadUpload: an empty file or a name that is no file name.
        MediaTypeRefused: a kind of file Peerloop does not take, or content not of its kind.
    """
    name = safe_name(upload.filename)
    media_type = _media_type(upload, name)
    f = upload.file
    first = f.read(_CHUNK)
    if not first:
        raise _refused(f"{name} is empty (0 bytes): choose the file again")
    _sniff(media_type, name, first)
    return _chunks(f, first), media_type, name


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
            ("school_id", data.school_id or "", 64),
        )
        if len(value) > limit or "\x00" in value
    ]
    if bad:
        raise BadUpload("the form is not valid", bad)
    upload = data.file
    chunks = media_type = name = None
    if isinstance(upload, UploadFile):
        chunks, media_type, name = read_upload(upload)
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
            data.school_id or None,
        ),
        principal,
    )
    cycle, evidence_id = done.cycle, done.record_id
    e = cycle.evidence[evidence_id]
    view = evidence_view(cycle_id, e, may_download=done.may_download)
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
            "multipart/form-data with `question_id`, `title`, an optional `file` and, in a"
            " cycle of several schools, an optional `school_id` (the sender's own school by"
            " default). A file may"
            f" be {KINDS_IN_WORDS} ({', '.join(sorted(ALLOWED_MEDIA_TYPES))}), checked against"
            " its content (415 otherwise), and the whole form up to"
            f" {_in_words(max_body_bytes)} (413 beyond); an empty file is refused (422). The"
            " name given (`filename`, or an RFC 5987 `filename*=UTF-8''...`, which wins) is"
            " kept only to show and to download under; files are stored by content hash. It"
            " is kept as given, `%`, accents and emoji included, less leading and trailing"
            " dots and spaces; a name that is empty, a path, only dots, or holds control or"
            f" invisible characters is refused (422). Names up to {NAME_KEPT} characters are"
            f" kept whole; up to {NAME_LONGEST} (what file systems allow) they are shortened"
            f" to {NAME_KEPT} by cutting the stem, marked with …, never the extension; longer"
            " names are refused (422). A file part with an empty name and no content (a file"
            " input left empty) is evidence without a file."
        ),
        responses=problems(*RECORD),
        request_max_body_size=max_body_bytes,
        before_request=_read_upload_form,
        sync_to_thread=True,
    )(add_evidence)


ROUTES = [list_evidence, download_evidence, erase_evidence]
