"""People are told when someone else acts: a whole SPP cycle through the API, as the host head,
the review team and the partnership lead, with what each finds in their inbox and what a real
SMTP server (aiosmtpd) receives. Nobody hears of their own acts, and nobody else hears at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.notify_email import MailTemplates, SmtpSender
from adapters.outbox import OutboxDispatcher
from service.jobs import MAIL_TEMPLATES
from tests.e2e.flows import (
    assign,
    move,
    ok,
    sign,
    spp_follow_up,
    spp_peer_review,
    spp_self_review,
    spp_support,
    start,
)
from tests.e2e.world import PEOPLE, World
from tests.integration.test_outbox_email import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def subjects(w: World, who: str) -> list[str]:
    """The person's notifications as `kind: subject`, sorted (the test clock stands still, so
    they share one time)."""
    inbox = ok(w.get(who, "/me/notifications"))
    return sorted(f"{n['kind']}: {n['subject']}" for n in inbox["notifications"])


def email_of(who: str) -> str:
    return f"{PEOPLE[who][0]}@school.example"


def whole_spp_cycle(w: World) -> str:
    c = start(w)  # the partnership lead starts it
    spp_self_review(w, c)
    move(w, "head_own", c, "submit_self_review")
    assign(w, c, "review_lead", "review_lead")
    assign(w, c, "reviewer", "reviewer")
    assign(w, c, "reviewer2", "reviewer")
    assign(w, c, "champion", "improvement_champion")
    ok(w.put("review_lead", f"/cycles/{c}/dates/visit_date", json={"at": "2026-10-05T08:30:00Z"}))
    move(w, "review_lead", c, "start_peer_review")
    spp_peer_review(w, c)
    move(w, "review_lead", c, "complete_peer_review")
    share = {"grantee_kind": "person", "grantee_id": PEOPLE["pl_own"][0]}
    ok(w.post("head_own", f"/cycles/{c}/shares", json=share), 201)
    action = {
        "title": "Whole-school feedback policy",
        "owner": email_of("head_own"),
        "due": "2027-02-01",
        "success_criteria": "Seen in book looks",
    }
    made = ok(w.post("champion", f"/cycles/{c}/actions", json=action), 201)
    moved = {**action, "due": "2027-03-01"}
    ok(w.put("champion", f"/cycles/{c}/actions/{made['id']}", json=moved))
    own = {**action, "title": "Reading fair", "owner": email_of("head_own")}
    ok(w.post("head_own", f"/cycles/{c}/actions", json=own), 201)  # the head's own: no notice
    sign(w, "head_own", c, "school_lead")
    sign(w, "champion", c, "improvement_champion")
    move(w, "champion", c, "agree_actions")
    spp_support(w, c)
    move(w, "pl_own", c, "begin_follow_up")
    spp_follow_up(w, c)
    move(w, "pl_own", c, "close")
    return c


EXPECTED: dict[str, list[str]] = {
    "pl_own": [
        "transition: Host Primary School: submit the self-review — now at Pre-review",
        "share: Host Primary School's review report is shared with you",
    ],
    "head_own": [
        "transition: Host Primary School: complete the peer review — now at "
        "Improvement workshop and agreed actions",
        "action: An action for you: Whole-school feedback policy",
        "action: New due date for your action: Whole-school feedback policy",
    ],
    "review_lead": [
        "team: You are a Review lead for Host Primary School's Schools Partnership Programme cycle",
    ],
    "reviewer": [
        "team: You are a Peer reviewer for Host Primary School's Schools Partnership "
        "Programme cycle",
    ],
    "reviewer2": [
        "team: You are a Peer reviewer for Host Primary School's Schools Partnership "
        "Programme cycle",
    ],
    "champion": [
        "team: You are an Improvement champion for Host Primary School's Schools "
        "Partnership Programme cycle",
    ],
}


def test_each_person_is_told_what_others_did_in_a_whole_spp_cycle(
    world: World, smtp: SmtpServer
) -> None:
    whole_spp_cycle(world)
    seen = {who: subjects(world, who) for who in PEOPLE}
    assert {who: s for who, s in seen.items() if s} == {w: sorted(s) for w, s in EXPECTED.items()}

    sender = SmtpSender(
        "127.0.0.1", smtp.port, "peerloop@example.org", MailTemplates(MAIL_TEMPLATES)
    )
    dispatcher = OutboxDispatcher(world.container.engine, {"email": sender}, world.clock.now)
    result = dispatcher.dispatch_all()
    assert (result.retrying, result.dead) == (0, 0), result.errors
    mailed: dict[str, list[str]] = {}
    for msg in smtp.inbox.messages:
        mailed.setdefault(str(msg["To"]), []).append(str(msg["Subject"]))
    mailed = {to: sorted(s) for to, s in mailed.items()}
    by_address = {
        next(
            who for who in PEOPLE if str(to).endswith(f"<{email_of(who)}>") or to == email_of(who)
        ): s
        for to, s in mailed.items()
    }
    assert by_address == {
        who: sorted(s.split(": ", 1)[1] for s in ss) for who, ss in EXPECTED.items()
    }
    body = next(
        m for m in smtp.inbox.messages if "submit the self-review" in str(m["Subject"])
    ).get_content()
    assert "Head Own (Headteacher" in body or "Head Own" in body
    assert "/cycles/" in body


def test_the_inbox_counts_unread_and_marks_read(world: World) -> None:
    c = start(world)
    assign_during_pre_review = {"grantee_kind": "person", "grantee_id": PEOPLE["spare"][0]}
    del assign_during_pre_review
    spp_self_review(world, c)
    move(world, "head_own", c, "submit_self_review")
    assign(world, c, "review_lead", "review_lead")
    inbox: Any = ok(world.get("review_lead", "/me/notifications"))
    assert inbox["unread"] == 1 and inbox["notifications"][0]["link"] == f"/app/cycles/{c}"
    first = inbox["notifications"][0]["id"]
    # Another person's id is ignored: nobody can read or mark someone else's inbox.
    assert ok(world.post("head_own", "/me/notifications/read", json={"ids": [first]})) == {
        "marked": 0,
        "unread": 0,
    }
    assert ok(world.post("review_lead", "/me/notifications/read", json={"ids": [first]})) == {
        "marked": 1,
        "unread": 0,
    }
    assert ok(world.get("review_lead", "/me/notifications?unread=true"))["notifications"] == []


def test_email_off_keeps_the_inbox_and_sends_nothing(world: World, smtp: SmtpServer) -> None:
    ok(world.put("pl_own", "/me/notification-preference", json={"email": "off"}), 204)
    c = start(world)
    spp_self_review(world, c)
    move(world, "head_own", c, "submit_self_review")
    assert ok(world.get("pl_own", "/me/notifications"))["email"] == "off"
    assert len(subjects(world, "pl_own")) == 1
    sender = SmtpSender(
        "127.0.0.1", smtp.port, "peerloop@example.org", MailTemplates(MAIL_TEMPLATES)
    )
    OutboxDispatcher(world.container.engine, {"email": sender}, world.clock.now).dispatch_all()
    assert smtp.inbox.messages == []


def test_a_bad_preference_is_refused_with_the_field_named(world: World) -> None:
    r = world.put("pl_own", "/me/notification-preference", json={"email": "hourly"})
    assert r.status_code == 422 and "email" in r.text


def test_a_persons_move_is_posted_to_the_networks_webhook(world: World) -> None:
    import json

    from adapters.notify_webhook import WebhookSender, webhook_lookup
    from adapters.tables import WebhookRow
    from tests.integration.test_outbox_webhook import SECRET, Receiver

    receiver = Receiver()
    try:
        with world.container.engine.begin() as conn:
            for hook, net in (("wh-n", "nlc-n"), ("wh-s", "nlc-s")):
                conn.execute(
                    WebhookRow.__table__.insert().values(
                        id=hook, network_id=net, url=receiver.url, secret=SECRET, active=True
                    )
                )
        c = start(world)
        spp_self_review(world, c)
        moved = move(world, "head_own", c, "submit_self_review")
        sender = WebhookSender(
            webhook_lookup(world.container.engine), world.clock.now, timeout=5, allow_private=True
        )
        OutboxDispatcher(
            world.container.engine, {"webhook": sender}, world.clock.now
        ).dispatch_all()
        (doc,) = [json.loads(body) for _, _, body in receiver.requests]  # not the other NLC's
        assert doc["event"] == "cycle.moved"
        assert doc["data"] == {
            "cycle_id": c,
            "school_id": "sch-h",
            "network_id": "nlc-n",
            "transition": "submit_self_review",
            "from_stage": "self_review",
            "to_stage": "pre_review",
            "version": moved["version"],
            "actor": PEOPLE["head_own"][0],
            "role": "school_lead",
            "forced": False,
        }
    finally:
        receiver.close()


def test_an_overdue_follow_up_is_escalated_to_the_partnership_lead_and_chair(
    world: World, smtp: SmtpServer
) -> None:
    from datetime import timedelta

    from service.jobs import build_sweeper
    from tests.e2e.flows import spp_to

    c = start(world)
    spp_to(world, c, "follow_up", fill=False)
    before = {who: subjects(world, who) for who in PEOPLE}
    # Four weeks and a day later nobody has closed it: the sweep escalates, once.
    world.clock.set(world.clock.now() + timedelta(weeks=4, days=1))
    sweeper = build_sweeper(world.container)
    sweeper.sweep()
    sweeper.sweep()
    new = {who: [s for s in subjects(world, who) if s not in before[who]] for who in PEOPLE}
    escalation = [s for s in new["pl_own"] if s.startswith("escalate:")]
    assert len(escalation) == 1 and "Follow-up and impact review" in escalation[0]
    assert [s for s in new["chair_own"] if s.startswith("escalate:")] == escalation
    # The reminder a week before fell due too, late: it is not sent about a stage past due.
    assert {who for who, s in new.items() if s} == {"pl_own", "chair_own"}

    sender = SmtpSender(
        "127.0.0.1", smtp.port, "peerloop@example.org", MailTemplates(MAIL_TEMPLATES)
    )
    OutboxDispatcher(world.container.engine, {"email": sender}, world.clock.now).dispatch_all()
    escalated = [m for m in smtp.inbox.messages if str(m["Subject"]).startswith("Escalation")]
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in escalated) == sorted(
        [email_of("pl_own"), email_of("chair_own")]
    )
