"""An ICS feed of one person's deadlines, so heads see them in the calendar they already use.

The feed holds the due time of the current stage of every cycle the person has a role on
(overdue ones stay until the stage is left) and the due date of every open action they own,
or, as the host headteacher, of their school's actions. Events are titled in words (the
stage's title from the cycle's template, the school's name); UIDs are stable, so calendar apps
update events in place when a deadline moves or a title changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

import icalendar
import sqlalchemy as sa

from adapters.tables import (
    ActionRow,
    CycleRow,
    DeadlineTableRow,
    GrantRow,
    ParticipantRow,
    PersonRow,
    SchoolRow,
    TeamMemberRow,
    TemplateRow,
)
from adapters.template_files import read_document
from engine.cycle import DONE_STATUSES
from engine.errors import NotFound, PeerloopError
from engine.validation import build_template

__all__ = ["person_feed"]

D = DeadlineTableRow.__table__
C = CycleRow.__table__
ACTION = ActionRow.__table__
GRANT = GrantRow.__table__
PERSON = PersonRow.__table__
SCHOOL = SchoolRow.__table__
TEAM = TeamMemberRow.__table__
PARTICIPANT = ParticipantRow.__table__
TEMPLATE = TemplateRow.__table__

OPEN = ("pending", "fired")  # fired: the stage is overdue, which a head still wants to see


def _cycle_scope(
    conn: sa.Connection, person_id: str, leads: frozenset[str]
) -> tuple[sa.ColumnElement[bool], set[str]]:
    """Which cycles the person has a role on (those their schools take part in too), and
    the schools they lead (hold one of `leads` for)."""
    grants = conn.execute(
        sa.select(GRANT.c.role, GRANT.c.scope_kind, GRANT.c.scope_id).where(
            GRANT.c.person_id == person_id
        )
    ).all()
    if any(g.scope_kind == "global" for g in grants):
        return sa.true(), {g.scope_id for g in grants if g.role in leads and g.scope_id}
    by_kind: dict[str, set[str]] = {}
    for g in grants:
        if g.scope_id:
            by_kind.setdefault(g.scope_kind, set()).add(g.scope_id)
    team = sa.select(TEAM.c.cycle_id).where(TEAM.c.person_id == person_id)
    cond = sa.or_(
        C.c.id.in_(team),
        C.c.champion["person_id"].as_string() == person_id,
        C.c.network_id.in_(sorted(by_kind.get("network", ()))),
        C.c.host_school_id.in_(sorted(by_kind.get("school", ()))),
        C.c.id.in_(
            sa.select(PARTICIPANT.c.cycle_id).where(
                PARTICIPANT.c.school_id.in_(sorted(by_kind.get("school", ())))
            )
        ),
        C.c.id.in_(sorted(by_kind.get("cycle", ()))),
    )
    led = {g.scope_id for g in grants if g.role in leads and g.scope_kind == "school"}
    return cond, {s for s in led if s}


@lru_cache(maxsize=64)
def _titles_in(source: str, source_format: str) -> dict[str, str]:
    """Stage id -> title of one template document. Keyed by the text itself, so a draft
    edited in place is read again; reading a template takes tens of milliseconds."""
    try:
        template = build_template(read_document(source, f"x.{source_format}").data)
    except PeerloopError:  # a stored template that no longer reads: fall back to the ids
        return {}
    return {stage.id: stage.title for stage in template.stages}


def _stage_titles(
    conn: sa.Connection, versions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int, str], str]:
    """The stage titles of the template versions the feed's cycles run on."""
    wanted = sorted(set(versions))
    if not wanted:
        return {}
    rows = conn.execute(
        sa.select(
            TEMPLATE.c.template_id, TEMPLATE.c.version, TEMPLATE.c.source, TEMPLATE.c.source_format
        ).where(sa.tuple_(TEMPLATE.c.template_id, TEMPLATE.c.version).in_(wanted))
    )
    return {
        (r.template_id, r.version, stage): title
        for r in rows
        for stage, title in _titles_in(r.source, r.source_format).items()
    }


def person_feed(
    conn: sa.Connection,
    person_id: str,
    now: datetime,
    tz: tzinfo,
    *,
    stage_titles: dict[tuple[str, int, str], str] | None = None,
    limit: int = 1000,
    leads: frozenset[str] = frozenset(),
) -> bytes:
    """The person's deadlines as an iCalendar document.

    `stage_titles` ((template id, version, stage id) -> title) names the stages; by default
    the titles are read from the stored templates, and a stage without one shows its id.

    Raises:
        NotFound: no such person.
    """
    person = conn.execute(sa.select(PERSON).where(PERSON.c.id == person_id)).mappings().first()
    if person is None:
        raise NotFound("person", person_id)
    scope, led_schools = _cycle_scope(conn, person_id, leads)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Peerloop//deadlines//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Peerloop deadlines: {person['name']}")
    cal.add("x-wr-timezone", str(tz))

    stages = conn.execute(
        sa.select(
            D.c.id,
            D.c.due_at,
            D.c.stage,
            D.c.status,
            C.c.id.label("cycle_id"),
            C.c.template_id,
            C.c.template_version,
            SCHOOL.c.name.label("school"),
        )
        .join_from(D, C, D.c.cycle_id == C.c.id)
        .join(SCHOOL, SCHOOL.c.id == C.c.host_school_id)
        .where(D.c.kind == "due", D.c.status.in_(OPEN), D.c.stage == C.c.stage, scope)
        .order_by(D.c.due_at)
        .limit(limit)
    ).mappings()
    due = stages.all()
    titles = stage_titles
    if titles is None:
        titles = _stage_titles(conn, ((r["template_id"], r["template_version"]) for r in due))
    for r in due:
        title = titles.get((r["template_id"], r["template_version"], r["stage"]), r["stage"])
        event = icalendar.Event()
        event.add("uid", f"deadline-{r['id']}@peerloop")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", r["due_at"].astimezone(UTC))
        event.add("dtend", r["due_at"].astimezone(UTC) + timedelta(minutes=30))
        overdue = " (overdue)" if r["status"] == "fired" else ""
        event.add("summary", f"{title} due: {r['school']}{overdue}")
        event.add("description", f"Peerloop cycle {r['cycle_id']}, stage {title}.")
        event.add("categories", ["Peerloop"])
        cal.add_component(event)

    email = str(person["email"])
    mine = sa.or_(
        ACTION.c.owner == person_id,
        sa.func.lower(ACTION.c.owner) == email.lower(),
        C.c.host_school_id.in_(sorted(led_schools)),
    )
    actions = conn.execute(
        sa.select(
            ACTION.c.id,
            ACTION.c.title,
            ACTION.c.owner,
            ACTION.c.due,
            C.c.id.label("cycle_id"),
            SCHOOL.c.name.label("school"),
        )
        .join_from(ACTION, C, ACTION.c.cycle_id == C.c.id)
        .join(SCHOOL, SCHOOL.c.id == C.c.host_school_id)
        .where(
            ACTION.c.due.is_not(None),
            sa.or_(ACTION.c.status.is_(None), ACTION.c.status.not_in(DONE_STATUSES)),
            mine,
        )
        .order_by(ACTION.c.due)
        .limit(limit)
    ).mappings()
    for a in actions:
        event = icalendar.Event()
        event.add("uid", f"action-{a['cycle_id']}-{a['id']}@peerloop")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", a["due"])
        event.add("dtend", a["due"] + timedelta(days=1))
        event.add("summary", f"Action due: {a['title']} ({a['school']})")
        event.add(
            "description", f"Owner: {a['owner'] or 'not set'}. Peerloop cycle {a['cycle_id']}."
        )
        event.add("categories", ["Peerloop"])
        cal.add_component(event)
    return bytes(cal.to_ical())
