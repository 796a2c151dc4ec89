"""One contract for storage, run over the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from adapters.clock import FixedClock
from engine import records as R
from engine.calendar import CalendarSpec, WeekdayCalendar
from engine.cycle import Actor, Member
from engine.directory import (
    ApiToken,
    BreakGlass,
    Grant,
    IdempotencyRecord,
    Network,
    Person,
    PersonErasure,
    ReportShare,
    School,
    StoredTemplate,
)
from engine.errors import Conflict, IdempotencyKeyReused, NotFound, StaleCycle
from engine.migration import migrate, plan_migration
from engine.notices import Notice
from engine.ports import CycleFilter
from engine.series import Series
from service.usecases.core import Peerloop, TemplateRegistry, verify_history
from tests.integration.conftest import UowFactory

SPP = (Path(__file__).parents[2] / "workflows" / "spp-cycle.yaml").read_text()
T0 = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)

HEAD = Actor("p_head_a", frozenset({"school_lead"}), "s_a")
LEAD = Actor("p_pl", frozenset({"partnership_lead"}), None)
ADMIN = Actor("p_admin", frozenset({"admin"}), None)


def seed(uow_factory: UowFactory) -> Peerloop:
    app = Peerloop(uow_factory, FixedClock(T0), TemplateRegistry(WeekdayCalendar()))
    with uow_factory() as uow:
        uow.directory.add_network(Network("n1", "North NLC"))
        uow.directory.add_network(Network("n2", "South NLC"))
        for sid, urn, net in (
            ("s_a", "100001", "n1"),
            ("s_b", "100002", "n1"),
            ("s_c", "100003", "n2"),
            ("s_d", "100004", "n2"),
        ):
            uow.directory.add_school(School(sid, urn, f"School {sid}", "Primary", net))
        uow.directory.add_person(Person("p_head_a", "Ada Head", "ada@a.sch.uk", "s_a"))
        uow.commit()
    app.upload_template(SPP, "spp-cycle.yaml", publish=True)
    return app


@pytest.fixture
def app(backend: tuple[str, UowFactory, Engine | None]) -> Peerloop:
    return seed(backend[1])


def as_(actor: Actor):
    return lambda cycle: actor


# -- directory ---------------------------------------------------------------------------------


def test_directory_round_trip_and_duplicates(app: Peerloop) -> None:
    with app.uow() as uow:
        assert [n.id for n in uow.directory.networks()] == ["n1", "n2"]
        assert [s.id for s in uow.directory.schools("n1")] == ["s_a", "s_b"]
        assert uow.directory.get_school("s_c").urn == "100003"
        uow.directory.add_grant(Grant("g1", "p_head_a", "school_lead", "school", "s_a"))
        uow.commit()
    with app.uow() as uow:
        assert uow.directory.grants_for("p_head_a") == [
            Grant("g1", "p_head_a", "school_lead", "school", "s_a")
        ]
        with pytest.raises(Conflict):
            uow.directory.add_school(School("s_z", "100001", "Same URN", "Primary", "n1"))
        with pytest.raises(Conflict):
            uow.directory.add_person(Person("p_other", "Other", "ada@a.sch.uk", None))
        with pytest.raises(NotFound):
            uow.directory.get_person("nobody")
        uow.directory.remove_grant("g1")
        with pytest.raises(NotFound):
            uow.directory.remove_grant("g1")
        uow.commit()
    with app.uow() as uow:
        assert uow.directory.grants_for("p_head_a") == []


def test_who_granted_a_role_and_made_a_token_is_kept(app: Peerloop) -> None:
    granted = Grant("g2", "p_head_a", "school_lead", "school", "s_a", "p_admin", T0)
    token = ApiToken("tok_1", "p_head_a", "x", "f" * 64, T0, T0 + timedelta(days=1), None, None,
                     "p_admin")  # fmt: skip
    with app.uow() as uow:
        uow.directory.add_grant(granted)
        uow.credentials.add_token(token)
        uow.commit()
    with app.uow(readonly=True) as uow:
        assert uow.directory.grants_for("p_head_a") == [granted]
        assert uow.credentials.get_token("tok_1") == token
        assert uow.credentials.get_token("tok_1").made_by_someone_else


def test_a_persons_personal_data_is_erased_everywhere_but_their_id(app: Peerloop) -> None:
    ada = Person("p_head_a", "Ada Head", "ada@a.sch.uk", "s_a")
    bo = Person("p_bo", "Bo Other", "bo@b.sch.uk", "s_b")
    with app.uow() as uow:
        uow.directory.add_person(bo)
        uow.directory.add_grant(Grant("g1", ada.id, "school_lead", "school", "s_a"))
        uow.credentials.add_token(ApiToken("t1", ada.id, "laptop", "h" * 64, T0))
        uow.credentials.set_password(ada.id, "argon2-hash", T0)
        uow.inbox.deliver(
            [
                Notice(ada.id, "grant", "You may lead", "You lead s_a.", None, "/app", "k1"),
                Notice(
                    bo.id,
                    "move",
                    "Ada Head moved it",
                    "Ada Head made the move.",
                    None,
                    "/app",
                    "k2",
                ),
            ],
            T0,
        )
        uow.commit()
    placeholder = Person(ada.id, "Erased person", "erased-1@erased.invalid", None)
    with app.uow() as uow:
        removed = uow.personal_data.erase(ada, placeholder, T0 + timedelta(hours=1))
        uow.personal_data.record(
            PersonErasure(ada.id, "Ada, by email", "Request of 1 Dec", "p_admin", T0, removed)
        )
        uow.commit()
    assert removed["grants"] == 1 and removed["tokens"] == 1 and removed["password"] == 1
    assert removed["notifications"] == 1 and removed["named_in_notices"] == 2
    with app.uow(readonly=True) as uow:
        assert uow.directory.get_person(ada.id) == placeholder
        assert uow.directory.person_by_email("ada@a.sch.uk") is None
        assert uow.directory.grants_for(ada.id) == []
        assert uow.credentials.password_hash(ada.id) is None
        assert uow.credentials.get_token("t1").revoked_at is not None
        assert uow.inbox.for_person(ada.id) == []
        [told] = uow.inbox.for_person(bo.id)
        assert (told.subject, told.text) == (
            "Erased person moved it",
            "Erased person made the move.",
        )
        [erasure] = uow.personal_data.erasures()
        assert (erasure.person_id, erasure.asked_by, erasure.removed) == (
            ada.id,
            "Ada, by email",
            removed,
        )


def test_break_glass_openings_are_kept_per_cycle(app: Peerloop) -> None:
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    later = BreakGlass("bg2", cycle.id, "p_admin", "a second look", T0 + timedelta(hours=1),
                       T0 + timedelta(hours=25))  # fmt: skip
    first = BreakGlass("bg1", cycle.id, "p_admin", "a complaint", T0, T0 + timedelta(hours=24))
    with app.uow() as uow:
        uow.break_glass.add(later)
        uow.break_glass.add(first)
        with pytest.raises(Conflict):
            uow.break_glass.add(dataclasses.replace(first, cycle_id="cyc_nope", id="bg3"))
        uow.commit()
    with app.uow(readonly=True) as uow:
        assert uow.break_glass.for_cycle(cycle.id) == [first, later]
        assert uow.break_glass.for_cycle("cyc_other") == []
    with app.uow() as uow, pytest.raises(Conflict):
        uow.break_glass.add(first)


# -- templates ---------------------------------------------------------------------------------


def test_published_template_never_changes(app: Peerloop) -> None:
    with app.uow() as uow:
        stored = uow.templates.get("spp-cycle", 1)
        assert stored.status == "published" and stored.source == SPP
        changed = dataclasses.replace(stored, source=SPP + "\n# edited", status="draft")
        with pytest.raises(Conflict, match="upload it as version 2"):
            uow.templates.add(changed)


def test_drafts_are_replaced_and_latest_published_is_found(app: Peerloop) -> None:
    v2 = StoredTemplate("spp-cycle", 2, "Draft", SPP, "yaml", "draft", T0)
    with app.uow() as uow:
        uow.templates.add(v2)
        uow.templates.add(dataclasses.replace(v2, title="Draft, edited"))
        uow.commit()
    with app.uow() as uow:
        assert uow.templates.get("spp-cycle", 2).title == "Draft, edited"
        assert uow.templates.latest("spp-cycle").version == 1
        assert uow.templates.latest("spp-cycle", published=False).version == 2
        published = uow.templates.publish("spp-cycle", 2, T0 + timedelta(days=1))
        assert published.status == "published"
        assert published.published_at == T0 + timedelta(days=1)
        uow.commit()
    with app.uow() as uow:
        assert uow.templates.latest("spp-cycle").version == 2
        with pytest.raises(NotFound):
            uow.templates.latest("no-such-template")


def test_versions_are_listed_retired_once_and_drafts_deleted(app: Peerloop) -> None:
    v2 = StoredTemplate("spp-cycle", 2, "Draft", SPP, "yaml", "draft", T0)
    later = T0 + timedelta(days=3)
    with app.uow() as uow:
        uow.templates.add(v2)
        assert uow.templates.retire("spp-cycle", 1, later).retired_at == later
        # Retiring again keeps the first; a draft is never marked retired.
        assert uow.templates.retire("spp-cycle", 1, later + timedelta(days=1)).retired_at == later
        assert uow.templates.retire("spp-cycle", 2, later).retired_at is None
        uow.commit()
    with app.uow() as uow:
        assert [
            (v.version, v.status, v.retired_at) for v in uow.templates.versions("spp-cycle")
        ] == [
            (1, "published", later),
            (2, "draft", None),
        ]
        assert uow.templates.versions("no-such-template") == []
        with pytest.raises(NotFound):
            uow.templates.remove_draft("spp-cycle", 1)  # published: never deleted
        uow.templates.remove_draft("spp-cycle", 2)
        uow.commit()
    with app.uow() as uow:
        assert [v.version for v in uow.templates.versions("spp-cycle")] == [1]
        with pytest.raises(NotFound):
            uow.templates.remove_draft("spp-cycle", 2)


# -- cycles ------------------------------------------------------------------------------------


def test_cycle_round_trip_keeps_everything_collected(app: Peerloop) -> None:
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    t = app.template("spp-cycle", 1)
    now = T0 + timedelta(hours=1)
    # Build up a cycle with every kind of record, through the engine, saved in one go.
    c = app.cycle(cycle.id)
    v = c.version
    events = []
    events.append(R.add_evidence(t, c, HEAD, "ev1", "impact.outcomes", "Data pack", now))
    events.append(R.record_judgement(t, c, HEAD, "self", "impact.outcomes", "Strong", None, now))
    events.append(R.set_focus(t, c, HEAD, ["Reading in KS2", "Attendance"], now))
    with app.uow() as uow:
        uow.cycles.save(c, v, events)
        uow.commit()
    loaded = app.cycle(cycle.id)
    assert loaded == c
    assert loaded.version == v + 3
    assert loaded.focus == ("Reading in KS2", "Attendance")
    assert loaded.evidence["ev1"].added_at == now

    # Later stages: team, champion, findings, actions, support, sign-offs (forced moves).
    for step in ("submit_self_review", "start_peer_review", "complete_peer_review"):
        app.fire(cycle.id, step, as_(ADMIN), force_reason="test set-up")
    c = app.cycle(cycle.id)
    assert c.stage == "improvement_workshop"
    v = c.version
    champion = Actor("p_ch", frozenset({"improvement_champion"}), "s_c")
    events = [
        R.assign_member(t, c, LEAD, Member("p_ch", "improvement_champion", "s_c", "n2"), now),
        R.save_action(
            t,
            c,
            champion,
            "a1",
            "Raise reading",
            "Deputy head",
            date(2027, 3, 1),
            "80% at expected",
            now,
        ),
        R.sign_off(t, c, HEAD, "school_lead", now),
        R.sign_off(t, c, champion, "improvement_champion", now),
    ]
    with app.uow() as uow:
        uow.cycles.save(c, v, events)
        uow.commit()
    assert app.cycle(cycle.id) == c
    app.fire(cycle.id, "agree_actions", as_(champion))
    c = app.cycle(cycle.id)
    v = c.version
    events = [
        R.add_support_link(t, c, LEAD, "l1", "s_b", "Early reading", now),
        R.log_support_activity(t, c, LEAD, "l1", "Phonics lead visited twice", now),
        R.log_support_activity(t, c, LEAD, "l1", "Joint moderation", now),
        R.set_action_status(t, c, HEAD, "a1", "in_progress", "On track", now),
    ]
    with app.uow() as uow:
        uow.cycles.save(c, v, events)
        uow.commit()
    loaded = app.cycle(cycle.id)
    assert loaded == c
    assert loaded.support["l1"].activities == ("Phonics lead visited twice", "Joint moderation")
    assert loaded.actions["a1"].status == "in_progress"
    assert loaded.champion == Member("p_ch", "improvement_champion", "s_c", "n2")


def test_each_schools_judgements_and_sign_offs_are_kept_apart(app: Peerloop) -> None:
    text = (Path(__file__).parents[2] / "workflows" / "cluster-moderation.yaml").read_text()
    app.upload_template(text, "cluster-moderation.yaml", publish=True)
    lead = Actor("p_lm", frozenset({"lead_moderator"}), "s_a")
    cycle = app.start_cycle("cluster-moderation", "s_a", lead)
    t = app.template("cluster-moderation", 1)
    now = T0 + timedelta(hours=1)
    c = app.cycle(cycle.id)
    events = [
        R.add_participant(t, c, lead, sid, f"School {sid}", "n1", now) for sid in ("s_b", "s_c")
    ]
    with app.uow() as uow:
        uow.cycles.save(c, c.version - len(events), events)
        uow.commit()
    app.fire(cycle.id, "open_for_samples", as_(ADMIN), force_reason="test set-up")
    c = app.cycle(cycle.id)
    v = c.version
    moderator = Actor("p_m", frozenset({"moderator"}), "s_b")
    events = [
        R.sign_off(t, c, moderator, "moderator", now),  # of s_b, the signer's school
        R.sign_off(t, c, lead, "lead_moderator", now, school_id="s_c"),  # the lead, for s_c
        R.sign_off(t, c, lead, "lead_moderator", now),  # of s_a, the lead school
    ]
    with app.uow() as uow:
        uow.cycles.save(c, v, events)
        uow.commit()
    loaded = app.cycle(cycle.id)
    assert loaded == c
    assert {k[2] for k in loaded.signoffs} == {"s_a", "s_b", "s_c"}
    app.fire(cycle.id, "begin_twilight", as_(ADMIN), force_reason="test set-up")
    c = app.cycle(cycle.id)
    v = c.version
    q = t.framework.questions[0].id
    events = [
        R.record_judgement(t, c, lead, "peer", q, "Of the round", None, now),
        R.record_judgement(t, c, lead, "peer", q, "Birch: secure", "exs", now, "s_b"),
        R.record_judgement(t, c, lead, "peer", q, "Cedar: two adjusted", "wts", now, "s_c"),
    ]
    with app.uow() as uow:
        uow.cycles.save(c, v, events)
        uow.commit()
    loaded = app.cycle(cycle.id)
    assert loaded == c
    assert {k: j.narrative for k, j in loaded.judgements.items()} == {
        ("peer", q, None): "Of the round",
        ("peer", q, "s_b"): "Birch: secure",
        ("peer", q, "s_c"): "Cedar: two adjusted",
    }
    # Replacing one school's judgement leaves the others as they were.
    v = loaded.version
    events = [
        R.record_judgement(t, loaded, lead, "peer", q, "Birch: greater depth", "gds", now, "s_b")
    ]
    with app.uow() as uow:
        uow.cycles.save(loaded, v, events)
        uow.commit()
    again = app.cycle(cycle.id)
    assert again.judgements[("peer", q, "s_b")].grade == "gds"
    assert again.judgements[("peer", q, "s_c")].grade == "wts"
    assert again.judgements[("peer", q, None)].narrative == "Of the round"


def test_many_cycles_read_at_once_are_each_as_read_alone(app: Peerloop) -> None:
    t = app.template("spp-cycle", 1)
    now = T0 + timedelta(hours=1)
    first = app.start_cycle("spp-cycle", "s_a", LEAD)
    second = app.start_cycle("spp-cycle", "s_b", LEAD)
    quiet = app.start_cycle("spp-cycle", "s_c", LEAD)
    for cycle, title in ((first, "Data pack"), (second, "Reading audit")):
        c = app.cycle(cycle.id)
        v = c.version
        events = [
            R.add_evidence(t, c, HEAD, f"ev-{cycle.id}", "impact.outcomes", title, now),
            R.record_judgement(t, c, HEAD, "self", "impact.outcomes", title, None, now),
        ]
        with app.uow() as uow:
            uow.cycles.save(c, v, events)
            uow.commit()
        steps = ("submit_self_review", "start_peer_review", "complete_peer_review")
        for step in (*steps, "agree_actions"):
            app.fire(cycle.id, step, as_(ADMIN), force_reason="test set-up")
        c = app.cycle(cycle.id)
        v = c.version
        events = [
            R.add_support_link(t, c, LEAD, f"l-{cycle.id}", "s_d", title, now),
            R.log_support_activity(t, c, LEAD, f"l-{cycle.id}", f"{title} visit", now),
        ]
        with app.uow() as uow:
            uow.cycles.save(c, v, events)
            uow.commit()
    with app.uow() as uow:
        uow.shares.add(ReportShare("sh1", second.id, "school", "s_d", "p_head_a", now))
        uow.shares.add(ReportShare("sh2", second.id, "person", "p_x", "p_head_a", now))
        uow.shares.add(ReportShare("sh3", first.id, "person", "p_y", "p_head_a", now))
        uow.shares.revoke("sh3", now)
        uow.commit()
    ids = [first.id, second.id, quiet.id, "cyc_missing", first.id]
    with app.uow() as uow:
        alone = {cid: uow.cycles.get(cid) for cid in (first.id, second.id, quiet.id)}
        assert uow.cycles.get_many(ids) == alone
        # Read again in the same unit of work (a cache, where there is one, answers).
        assert uow.cycles.get_many(ids) == alone
        assert uow.cycles.get_many([]) == {}
        bare = uow.cycles.get_many(ids, records=False)
        shares = uow.shares.for_cycles(ids)
    # Without records: what an access check reads, and nothing a cycle collected.
    assert set(bare) == set(alone)
    for cid, cycle in bare.items():
        whole = alone[cid]
        assert (cycle.stage, cycle.version, cycle.team, cycle.champion) == (
            whole.stage,
            whole.version,
            whole.team,
            whole.champion,
        )
        assert not (cycle.evidence or cycle.judgements or cycle.support or cycle.signoffs)
    assert alone[first.id].evidence and alone[first.id].judgements
    assert alone[second.id].support[f"l-{second.id}"].activities == ("Reading audit visit",)
    assert [e.title for e in alone[first.id].evidence.values()] == ["Data pack"]
    assert [s.id for s in shares[second.id]] == ["sh1", "sh2"]
    assert shares[first.id] == [] and shares[quiet.id] == []


def test_stale_save_is_refused_and_writes_nothing(app: Peerloop) -> None:
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    t = app.template("spp-cycle", 1)
    first, second = app.cycle(cycle.id), app.cycle(cycle.id)
    with app.uow() as uow:
        ev = R.add_evidence(t, first, HEAD, "ev1", "impact.outcomes", "One", T0)
        uow.cycles.save(first, cycle.version, [ev])
        uow.commit()
    with app.uow() as uow, pytest.raises(StaleCycle) as caught:
        ev = R.add_evidence(t, second, HEAD, "ev2", "impact.outcomes", "Two", T0)
        uow.cycles.save(second, cycle.version, [ev])
    assert caught.value.expected == cycle.version
    assert caught.value.actual == cycle.version + 1
    stored = app.cycle(cycle.id)
    assert set(stored.evidence) == {"ev1"}
    with app.uow() as uow:
        assert len(uow.history.for_cycle(cycle.id)) == 2  # started + ev1


def test_leaving_without_commit_rolls_back(app: Peerloop) -> None:
    with app.uow() as uow:
        uow.directory.add_network(Network("n3", "East NLC"))
    with app.uow() as uow, pytest.raises(NotFound):
        uow.directory.get_network("n3")


def test_use_case_failing_half_way_leaves_nothing(app: Peerloop) -> None:
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    real = app.uow

    class Broken:
        """Fails when storing the idempotency record: after the cycle and history writes."""

        def __init__(self, **kw: object) -> None:
            self.inner = real(**kw)

        def __enter__(self):
            self.inner.__enter__()
            self.inner.idempotency.put = self._boom  # type: ignore[method-assign]
            return self.inner

        def __exit__(self, *exc: object) -> None:
            self.inner.__exit__(*exc)  # type: ignore[arg-type]

        def _boom(self, record: IdempotencyRecord) -> None:
            raise RuntimeError("disk full")

    app.uow = Broken  # type: ignore[assignment]
    with pytest.raises(RuntimeError):
        app.fire(cycle.id, "withdraw", as_(HEAD), idempotency_key="k1")
    app.uow = real
    after = app.cycle(cycle.id)
    assert after.stage == "self_review" and after.version == cycle.version
    with app.uow() as uow:
        assert [e.kind for e in uow.history.for_cycle(cycle.id)] == ["started"]
        assert {d.stage for d in uow.deadlines.pending(cycle_id=cycle.id)} == {"self_review"}
        assert uow.idempotency.get("p_head_a:k1") is None


def test_transition_moves_deadlines_with_the_stage(app: Peerloop) -> None:
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    with app.uow() as uow:
        pending = uow.deadlines.pending(cycle_id=cycle.id)
        assert {d.kind for d in pending} == {"due", "reminder", "notify", "escalate"}
        due = next(d for d in pending if d.kind == "due")
        assert due.due_at == T0 + timedelta(weeks=6)
    app.fire(cycle.id, "pause", as_(LEAD))
    with app.uow() as uow:
        assert uow.deadlines.pending(cycle_id=cycle.id) == []  # on hold has no deadline
        cancelled = [d for d in uow.deadlines.for_cycle(cycle.id) if d.status == "cancelled"]
        assert len(cancelled) == len(pending)


def test_a_cycle_moved_to_a_new_version_keeps_it_with_its_new_deadlines(app: Peerloop) -> None:
    v2 = SPP.replace("version: 1", "version: 2", 1).replace("due: P6W", "due: P8W", 1)
    app.upload_template(v2, "spp-cycle.yaml", publish=True)
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD, version=1)
    old, new = app.template("spp-cycle", 1), app.template("spp-cycle", 2)
    c = app.cycle(cycle.id)
    v = c.version
    now = T0 + timedelta(days=1)
    plan = plan_migration(c, old, new, now, WeekdayCalendar())
    events = migrate(plan, c, new, "p_admin", "Agreed by the partnership", now, WeekdayCalendar())
    with app.uow() as uow:
        uow.cycles.save(c, v, events)
        uow.commit()
    loaded = app.cycle(cycle.id)
    assert (loaded.template_version, loaded.version) == (2, v + 1)
    assert loaded == c
    with app.uow() as uow:
        pending = uow.deadlines.pending(cycle_id=cycle.id)
        assert next(d for d in pending if d.kind == "due").due_at == T0 + timedelta(weeks=8)
        summary = uow.cycles.list(CycleFilter(ids=frozenset({cycle.id})))[0]
        assert (summary.template_version, summary.next_due_at) == (2, T0 + timedelta(weeks=8))
        entry = uow.history.for_cycle(cycle.id)[-1]
        assert entry.detail["record"] == "template_version" and "Agreed by" in entry.reason
        assert verify_history(uow, [cycle.id]) == []


def test_series_are_kept_cancelled_once_and_each_day_started_once(app: Peerloop) -> None:
    days = (date(2026, 10, 1), date(2026, 11, 5))
    series = Series("ser1", "spp-cycle", "s_a", "n1", days, "p_pl", T0, participants=("s_b",))
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    with app.uow() as uow:
        uow.series.add(series)
        uow.commit()
    with app.uow() as uow, pytest.raises(Conflict):
        uow.series.add(series)
    with app.uow() as uow:
        assert uow.series.get("ser1") == series
        assert uow.series.list(active=True) == [series] and uow.series.list(active=False) == []
        uow.series.mark_started("ser1", days[0], cycle.id)
        uow.commit()
    with app.uow() as uow, pytest.raises(Conflict, match="started already"):
        uow.series.mark_started("ser1", days[0], cycle.id)
    with app.uow() as uow:
        assert uow.series.started(["ser1", "ser2"]) == {"ser1": {days[0]: cycle.id}, "ser2": {}}
        later = T0 + timedelta(days=2)
        gone = uow.series.cancel("ser1", "p_admin", later)
        assert (gone.cancelled_at, gone.cancelled_by) == (later, "p_admin")
        assert uow.series.cancel("ser1", "p_other", later + timedelta(days=1)) == gone
        uow.commit()
    with app.uow() as uow:
        assert uow.series.list(active=True) == [] and uow.series.list() == [gone]
        with pytest.raises(NotFound):
            uow.series.get("ser-none")


def test_history_is_chained_and_verifies(app: Peerloop) -> None:
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    app.fire(cycle.id, "pause", as_(LEAD))
    app.fire(cycle.id, "reopen", as_(LEAD))
    app.fire(cycle.id, "withdraw", as_(ADMIN), force_reason="school closed")
    with app.uow() as uow:
        entries = uow.history.for_cycle(cycle.id)
        assert [e.seq for e in entries] == [1, 2, 3, 4]
        assert [e.kind for e in entries] == ["started", "transition", "transition", "transition"]
        assert entries[3].forced and entries[3].reason == "school closed"
        assert entries[3].role == "admin"
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
        assert uow.history.head(cycle.id) == (4, entries[-1].hash)
        assert verify_history(uow) == []


def test_list_filters(app: Peerloop) -> None:
    a = app.start_cycle("spp-cycle", "s_a", LEAD, cycle_id="c1")
    b = app.start_cycle("spp-cycle", "s_c", LEAD, cycle_id="c2")
    app.fire(b.id, "pause", as_(LEAD))
    ids = lambda **kw: [c.id for c in app.cycles(CycleFilter(**kw))]  # noqa: E731
    assert ids() == [a.id, b.id]
    assert ids(network_id="n1") == [a.id]
    assert ids(school_id="s_c") == [b.id]
    assert ids(stage="on_hold") == [b.id]
    assert ids(template_id="other") == []
    assert ids(overdue_at=T0 + timedelta(weeks=7)) == [a.id]
    assert ids(overdue_at=T0 + timedelta(weeks=5)) == []
    listed = app.cycles(CycleFilter(ids=frozenset({a.id})))
    assert listed[0].next_due_at == T0 + timedelta(weeks=6)


def test_idempotent_fire_acts_once(app: Peerloop) -> None:
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    first = app.fire(cycle.id, "pause", as_(LEAD), idempotency_key="req-1")
    again = app.fire(cycle.id, "pause", as_(LEAD), idempotency_key="req-1")
    assert again == first
    assert app.cycle(cycle.id).version == cycle.version + 1
    with pytest.raises(IdempotencyKeyReused):
        app.fire(cycle.id, "withdraw", as_(LEAD), idempotency_key="req-1")
    with app.uow() as uow:
        assert [e.kind for e in uow.history.for_cycle(cycle.id)] == ["started", "transition"]


def test_expected_version_guards_fire(app: Peerloop) -> None:
    cycle = app.start_cycle("spp-cycle", "s_a", LEAD)
    app.fire(cycle.id, "pause", as_(LEAD), expected_version=cycle.version)
    with pytest.raises(StaleCycle):
        app.fire(cycle.id, "reopen", as_(LEAD), expected_version=cycle.version)
    assert app.cycle(cycle.id).stage == "on_hold"


def test_calendars_are_kept_per_network_and_replaced_whole(app: Peerloop) -> None:
    autumn = CalendarSpec(
        (("Autumn 1", date(2026, 9, 3), date(2026, 10, 23)),),
        (("INSET day", date(2026, 9, 3)), ("Training day", date(2026, 10, 2))),
    )
    with app.uow() as uow:
        assert uow.calendars.book(UTC).specs == {}
        uow.calendars.save("n1", autumn)
        uow.calendars.save(None, CalendarSpec((("Year", date(2026, 9, 1), date(2027, 7, 20)),)))
        uow.commit()
    with app.uow() as uow:
        book = uow.calendars.book(UTC)
        assert book.specs["n1"] == autumn and book.source("n2") == "default"
        shorter = CalendarSpec((("Autumn 1", date(2026, 9, 7), date(2026, 10, 23)),))
        uow.calendars.save("n1", shorter)  # replaces, closures included
        assert uow.calendars.book(UTC).specs["n1"] == shorter
        # Leaving without commit keeps what was there.
    with app.uow() as uow:
        assert uow.calendars.book(UTC).specs["n1"] == autumn
        assert uow.calendars.remove("n1") is True and uow.calendars.remove("n2") is False
        uow.commit()
    with app.uow(readonly=True) as uow:
        assert set(uow.calendars.book(UTC).specs) == {None}
