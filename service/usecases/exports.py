"""Everything Peerloop holds about a school or a person, files included: a subject access
request's answer, or what a school leaving the partnership takes with it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.access import Principal
from engine.cycle import Cycle
from engine.errors import AccessDenied
from engine.ports import CycleFilter, UnitOfWork
from service.usecases.base import UseCases, handles
from service.usecases.core import export_school, to_plain
from service.usecases.messages import ExportPerson, ExportSchool

__all__ = ["Export", "export_person"]


@dataclass(frozen=True, slots=True)
class Export:
    """What is held about one school or person: JSON-ready `data`, and `files` to put beside
    it (a path in the archive -> the stored file's sha256 and where it is to read, None when
    it is gone from the store)."""

    kind: str
    subject_id: str
    exported_at: datetime
    data: dict[str, Any]
    files: dict[str, tuple[str, Any]] = field(default_factory=dict)


def _file_path(cycle: Cycle, evidence_id: str, name: str) -> str:
    # The uploader's name, made safe to unpack anywhere (no folders, no odd characters).
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "file"
    return f"files/{cycle.id}/{evidence_id}-{safe[:100]}"


@handles(ExportSchool)
def export_a_school(uc: UseCases, q: ExportSchool, caller: Principal) -> Export:
    """The admin's: a school's people, grants, cycles it hosts or takes part in (with what
    they collected and their history), and its evidence files."""
    caller.require_admin()
    now = uc.now
    with uc.uow(readonly=True) as uow:
        data = export_school(uow, q.school_id, now)
        files: dict[str, str] = {}
        hosted = {c["cycle"]["id"] for c in data["cycles"]}
        joined = sorted(uow.cycles.taking_part({q.school_id}) - hosted)
        for cid in joined:
            # Of a cycle it takes part in, only its own part: its evidence, the judgements,
            # findings and sign-offs about it.
            cycle = uow.cycles.get(cid)
            data["cycles"].append({"cycle": to_plain(_part_of(cycle, q.school_id)), "history": []})
        for summary in [*hosted, *joined]:
            cycle = uow.cycles.get(summary)
            for e in cycle.evidence.values():
                mine = summary in hosted or e.school_id == q.school_id
                if e.file is not None and mine:
                    files[_file_path(cycle, e.id, e.file.original_name)] = e.file.sha256
    return Export("school", q.school_id, now, data, _located(uc, files))


def _part_of(cycle: Cycle, school_id: str) -> dict[str, Any]:
    return {
        "id": cycle.id,
        "template_id": cycle.template_id,
        "host_school_id": cycle.host_school_id,
        "stage": cycle.stage,
        "evidence": [e for e in cycle.evidence.values() if e.school_id == school_id],
        "judgements": [j for j in cycle.judgements.values() if j.school_id == school_id],
        "findings": [f for f in cycle.findings.values() if f.school_id == school_id],
        "signoffs": [s for s in cycle.signoffs.values() if s.school_id == school_id],
    }


@handles(ExportPerson)
def export_a_person(uc: UseCases, q: ExportPerson, caller: Principal) -> Export:
    """A subject access request: the person's own (or the admin's for them)."""
    if not (caller.is_admin or caller.id == q.person_id):
        raise AccessDenied("only the person or an admin may export what is held about them")
    now = uc.now
    with uc.uow(readonly=True) as uow:
        data, files = export_person(uow, q.person_id, now)
    return Export("person", q.person_id, now, data, _located(uc, files))


def _located(uc: UseCases, files: dict[str, str]) -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, Any]] = {}
    for path, sha256 in files.items():
        try:
            found[path] = (sha256, uc.files.open(sha256))
        except FileNotFoundError:
            found[path] = (sha256, None)  # erased since: the manifest says so
    return found


def export_person(
    uow: UnitOfWork, person_id: str, now: datetime
) -> tuple[dict[str, Any], dict[str, str]]:
    """Everything held about one person, and the files they uploaded: their details, grants,
    tokens (never a secret or its hash), inbox and preferences, and of every cycle they took
    part in (their school's, or on its team) what they did and what was recorded by them or
    about them, with who read what of it in their name."""
    person = uow.directory.get_person(person_id)
    cycle_ids = set(uow.cycles.member_of(person_id))
    if person.school_id is not None:
        hosted = uow.cycles.list(CycleFilter(school_id=person.school_id, limit=100_000))
        cycle_ids |= {c.id for c in hosted}
    cycles: list[dict[str, Any]] = []
    files: dict[str, str] = {}
    for cid in sorted(cycle_ids):
        cycle = uow.cycles.get(cid)
        theirs = {
            "cycle_id": cid,
            "acted": [e for e in uow.history.for_cycle(cid) if e.actor == person_id],
            "evidence": [e for e in cycle.evidence.values() if e.added_by == person_id],
            "judgements": [j for j in cycle.judgements.values() if j.by == person_id],
            "findings": [f for f in cycle.findings.values() if f.by == person_id],
            "actions": [a for a in cycle.actions.values() if a.owner in (person_id, person.email)],
            "signoffs": [s for s in cycle.signoffs.values() if s.person_id == person_id],
            "team": [
                m for m in (*cycle.team.values(), cycle.champion) if m and m.person_id == person_id
            ],
            "reads": [r for r in uow.reads.for_cycle(cid) if r.person_id == person_id],
        }
        if any(v for k, v in theirs.items() if k != "cycle_id"):
            cycles.append(to_plain(theirs))  # type: ignore[arg-type]
            for e in theirs["evidence"]:
                if e.file is not None:
                    files[_file_path(cycle, e.id, e.file.original_name)] = e.file.sha256
    tokens = [
        {k: v for k, v in to_plain(t).items() if k != "token_hash"}  # type: ignore[union-attr]
        for t in uow.credentials.tokens(person_id)
    ]
    data = {
        "exported_at": now.isoformat(),
        "person": to_plain(person),
        "grants": to_plain(uow.directory.grants_for(person_id)),
        "tokens": tokens,
        "has_password": uow.credentials.password_hash(person_id) is not None,
        "email_preference": uow.inbox.preference(person_id),
        "notifications": to_plain(uow.inbox.for_person(person_id, limit=100_000)),
        "cycles": cycles,
    }
    return data, files
