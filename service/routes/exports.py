"""Exports for data protection: everything held about a school or a person, as a zip
(`service.archive`): a subject access request's answer, or a school leaving the partnership."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

from litestar import get
from litestar.response import Stream

from service.archive import write_archive
from service.routes.common import READ, Caller, PathId, Ws, problems
from service.usecases.exports import Export
from service.usecases.messages import ExportPerson, ExportSchool

__all__ = ["ROUTES"]

TAGS = ["data protection"]


def _zip(export: Export) -> Stream:
    # Written to a temporary file first (an export may hold gigabytes of files), then sent.
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    write_archive(export, spool)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while chunk := spool.read(1 << 20):
                yield chunk

    day = export.exported_at.date().isoformat()
    name = f"peerloop-{export.kind}-{export.subject_id}-{day}.zip"
    return Stream(
        chunks(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@get(
    "/schools/{school_id:str}/export",
    tags=TAGS,
    summary="Everything held about a school, files included, as a zip with a manifest (admin)",
    responses=problems(*READ),
    sync_to_thread=True,
    media_type="application/zip",
)
def export_school(school_id: PathId, principal: Caller, ws: Ws) -> Stream:
    return _zip(ws.handle(ExportSchool(school_id), principal))


@get(
    "/people/{person_id:str}/export",
    tags=TAGS,
    summary="Everything held about a person, as a zip with a manifest (theirs, or the admin's)",
    description="A subject access request's answer: their details, grants, tokens (never a "
    "secret), inbox, what they did and recorded in each cycle, and the files they uploaded.",
    responses=problems(*READ),
    sync_to_thread=True,
    media_type="application/zip",
)
def export_person(person_id: PathId, principal: Caller, ws: Ws) -> Stream:
    return _zip(ws.handle(ExportPerson(person_id), principal))


ROUTES = [export_school, export_person]
