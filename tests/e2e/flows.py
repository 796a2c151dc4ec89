"""Driving cycles through their templates over HTTP, each step by the person whose job it is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.world import World

SPP_QUESTIONS = [
    "impact.outcomes",
    "impact.disadvantaged",
    "forward.vision",
    "forward.capacity",
    "inward.teaching",
    "inward.self_evaluation",
    "outward.partnership",
    "outward.community",
]
CQA_QUESTIONS = [
    "leadership.change",
    "environment.motivation",
    "assessment.feedback",
    "pedagogy.opportunities",
    "support.resources",
]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json() if r.content and "json" in r.headers.get("content-type", "") else r


def start(w: World, template: str = "spp-cycle", school: str = "sch-h", who: str = "pl_own") -> str:
    body = ok(w.post(who, "/cycles", json={"template_id": template, "host_school_id": school}), 201)
    return str(body["id"])


def move(w: World, who: str, cycle_id: str, name: str, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = ok(w.fire(who, cycle_id, name, **kw))
    return out


def evidence(
    w: World, who: str, cycle_id: str, question: str, *, file: tuple[str, bytes, str] | None = None
) -> dict[str, Any]:
    # (None, value): a plain form field, so that a form without a file is multipart too
    parts: dict[str, Any] = {
        "question_id": (None, question),
        "title": (None, f"Evidence for {question}"),
    }
    if file:
        parts["file"] = file
    r = w.post(who, f"/cycles/{cycle_id}/evidence", files=parts)
    out: dict[str, Any] = ok(r, 201)
    return out


def assign(w: World, cycle_id: str, who: str, role: str, by: str = "pl_own") -> None:
    ok(w.put(by, f"/cycles/{cycle_id}/team/{w.person(who)}", json={"role": role}))


def sign(w: World, who: str, cycle_id: str, role: str) -> None:
    ok(w.post(who, f"/cycles/{cycle_id}/signoffs", json={"role": role}), 201)


# -- SPP ----------------------------------------------------------------------------------------


def spp_self_review(w: World, c: str) -> None:
    for i, q in enumerate(SPP_QUESTIONS):
        who = "staff_own" if i % 2 else "head_own"
        evidence(w, who, c, q, file=("Data pack.pdf", PDF, "application/pdf") if i == 0 else None)
        ok(
            w.put(
                "head_own",
                f"/cycles/{c}/judgements/self/{q}",
                json={"narrative": f"Our view on {q}: secure, with next steps."},
            )
        )
    ok(w.put("head_own", f"/cycles/{c}/focus", json={"lines": ["Reading in KS2", "Attendance"]}))


def spp_pre_review(w: World, c: str) -> None:
    assign(w, c, "review_lead", "review_lead")
    assign(w, c, "reviewer", "reviewer")
    assign(w, c, "reviewer2", "reviewer")
    assign(w, c, "champion", "improvement_champion")
    ok(w.put("review_lead", f"/cycles/{c}/dates/visit_date", json={"at": "2026-10-05T08:30:00Z"}))


def spp_peer_review(w: World, c: str) -> None:
    ok(
        w.post(
            "reviewer",
            f"/cycles/{c}/findings",
            json={
                "kind": "strength",
                "text": "Pupils read widely.",
                "question_id": SPP_QUESTIONS[0],
            },
        ),
        201,
    )
    ok(
        w.post(
            "review_lead",
            f"/cycles/{c}/findings",
            json={"kind": "area_to_develop", "text": "Feedback in writing is not acted on."},
        ),
        201,
    )
    ok(
        w.put(
            "review_lead",
            f"/cycles/{c}/judgements/peer/{SPP_QUESTIONS[0]}",
            json={"narrative": "Strong reading culture across the school."},
        )
    )


def spp_workshop(w: World, c: str) -> None:
    for who, title in (("champion", "Whole-school feedback policy"), ("head_own", "Reading fair")):
        ok(
            w.post(
                who,
                f"/cycles/{c}/actions",
                json={
                    "title": title,
                    "owner": "Deputy head",
                    "due": "2027-02-01",
                    "success_criteria": "Seen in book looks",
                },
            ),
            201,
        )
    sign(w, "head_own", c, "school_lead")
    sign(w, "champion", c, "improvement_champion")


def spp_support(w: World, c: str) -> None:
    link = ok(
        w.post(
            "head_own",
            f"/cycles/{c}/support",
            json={"supporting_school_id": "sch-e", "area": "Feedback in writing"},
        ),
        201,
    )
    ok(
        w.post(
            "head_own",
            f"/cycles/{c}/support/{link['id']}/activities",
            json={"text": "Joint book look with Elm's English lead"},
        ),
        201,
    )


def spp_follow_up(w: World, c: str) -> None:
    actions = ok(w.get("head_own", f"/cycles/{c}/actions"))
    for a, status in zip(actions, ("met", "partially_met"), strict=False):
        ok(
            w.post(
                "pl_own" if status == "met" else "head_own",
                f"/cycles/{c}/actions/{a['id']}/status",
                json={"status": status, "note": "Checked at the impact review"},
            )
        )
    sign(w, "head_own", c, "school_lead")
    sign(w, "pl_own", c, "partnership_lead")


SPP_PATH: list[tuple[str, Callable[[World, str], None], str, str]] = [
    # (stage, what is done there, who moves on, transition)
    ("self_review", spp_self_review, "head_own", "submit_self_review"),
    ("pre_review", spp_pre_review, "review_lead", "start_peer_review"),
    ("peer_review", spp_peer_review, "review_lead", "complete_peer_review"),
    ("improvement_workshop", spp_workshop, "champion", "agree_actions"),
    ("support", spp_support, "pl_own", "begin_follow_up"),
    ("follow_up", spp_follow_up, "pl_own", "close"),
]


def spp_to(w: World, c: str, stage: str, *, fill: bool = True) -> None:
    """Take an SPP cycle (in self-review) to `stage`; `fill` also does that stage's work."""
    for here, work, who, transition in SPP_PATH:
        if here == stage:
            if fill:
                work(w, c)
            return
        work(w, c)
        move(w, who, c, transition)
    assert stage == "closed", stage


# -- CQA ----------------------------------------------------------------------------------------


def cqa_to_close(w: World, c: str) -> list[tuple[str, str]]:
    """The whole CQA, returning (who, transition) for each move."""
    moves: list[tuple[str, str]] = []

    def go(who: str, name: str) -> None:
        move(w, who, c, name)
        moves.append((who, name))

    assign(w, c, "review_lead", "review_lead")
    assign(w, c, "reviewer", "reviewer")
    for i, q in enumerate(CQA_QUESTIONS):
        who = ("head_own", "staff_own", "review_lead")[i % 3]
        evidence(w, who, c, q, file=("strand data.csv", b"year,score\n2026,61\n", "text/csv"))
    for day, at in (
        ("spotlight_day", "2026-10-05T08:30:00Z"),
        ("audit_day", "2026-10-06T08:30:00Z"),
    ):
        ok(w.put("review_lead", f"/cycles/{c}/dates/{day}", json={"at": at}))
    sign(w, "head_own", c, "school_lead")
    sign(w, "review_lead", c, "review_lead")
    go("review_lead", "agree_data_and_audit")
    for i, q in enumerate(CQA_QUESTIONS):
        who = "review_lead" if i % 2 else "reviewer"
        ok(
            w.put(
                who,
                f"/cycles/{c}/judgements/peer/{q}",
                json={"narrative": f"Draft judgement on {q}", "grade": "developing"},
            )
        )
    ok(
        w.post(
            "reviewer",
            f"/cycles/{c}/findings",
            json={"kind": "strength", "text": "A calm, purposeful environment."},
        ),
        201,
    )
    go("review_lead", "complete_review_days")
    ok(
        w.put(
            "review_lead",
            f"/cycles/{c}/judgements/peer/{CQA_QUESTIONS[2]}",
            json={"narrative": "Agreed at the closing session", "grade": "established"},
        )
    )
    ok(
        w.post(
            "review_lead",
            f"/cycles/{c}/findings",
            json={"kind": "area_for_improvement", "text": "Use assessment to adapt lessons."},
        ),
        201,
    )
    sign(w, "head_own", c, "school_lead")
    sign(w, "review_lead", c, "review_lead")
    go("review_lead", "agree_profile")
    for n, term in enumerate(("2027-01-15", "2027-04-20", "2027-07-10")):
        ok(
            w.post(
                "head_own" if n % 2 else "review_lead",
                f"/cycles/{c}/actions",
                json={
                    "title": f"Term {n + 1} action",
                    "owner": "Deputy head",
                    "due": term,
                    "success_criteria": "Seen in lesson visits",
                },
            ),
            201,
        )
    sign(w, "head_own", c, "school_lead")
    sign(w, "review_lead", c, "review_lead")
    go("head_own", "agree_plan")
    for a in ok(w.get("head_own", f"/cycles/{c}/actions")):
        ok(
            w.post(
                "head_own",
                f"/cycles/{c}/actions/{a['id']}/status",
                json={"status": "met", "note": "Done"},
            )
        )
    sign(w, "head_own", c, "school_lead")
    sign(w, "review_lead", c, "review_lead")
    go("review_lead", "close")
    return moves
