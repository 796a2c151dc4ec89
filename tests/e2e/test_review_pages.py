"""The review pages over HTTP: the team records peer judgements and findings, bad input is told
beside its field, the report reads as its readers see it, the host's head shares it and
withdraws the share, and whoever may not read it finds no trace of it."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from tests.e2e.flows import (
    CQA_QUESTIONS,
    SPP_QUESTIONS,
    assign,
    evidence,
    move,
    ok,
    sign,
    spp_to,
    start,
)
from tests.e2e.test_pages import browser, csrf, sign_in
from tests.e2e.world import World

Q0, Q1 = SPP_QUESTIONS[0], SPP_QUESTIONS[1]
Q0_TEXT = "To what extent do all groups of pupils achieve well"
REPORT_WORDS = ("Pupils read widely.", "Strong reading culture", "Feedback in writing")


def main(html: str) -> str:
    """The page's main content as text, without markup."""
    m = re.search(r"<main.*?</main>", html, flags=re.S)
    assert m, html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(0))).replace("&#39;", "'")


def report(w: World, c: str) -> dict[str, Any]:
    """What is saved, as the API gives it to the review lead."""
    out: dict[str, Any] = ok(w.get("review_lead", f"/cycles/{c}/report"))
    return out


def at_peer_review(w: World, *, filled: bool = False) -> str:
    c = start(w)
    spp_to(w, c, "peer_review", fill=filled)
    return c


def cqa_at_review_days(w: World) -> str:
    """A CQA cycle (graded on Strong / Established / Developing / Emerging) at its review days."""
    c = start(w, "cqa")
    assign(w, c, "review_lead", "review_lead")
    assign(w, c, "reviewer", "reviewer")
    for q in CQA_QUESTIONS:
        evidence(
            w, "head_own", c, q, file=("strand data.csv", b"year,score\n2026,61\n", "text/csv")
        )
    for day, at in (
        ("spotlight_day", "2026-10-05T08:30:00Z"),
        ("audit_day", "2026-10-06T08:30:00Z"),
    ):
        ok(w.put("review_lead", f"/cycles/{c}/dates/{day}", json={"at": at}))
    sign(w, "head_own", c, "school_lead")
    sign(w, "review_lead", c, "review_lead")
    move(w, "review_lead", c, "agree_data_and_audit")
    return c


def post(client: TestClient[Any], path: str, form: dict[str, str], token_from: str) -> Any:
    """A form sent from the page at `token_from`, as the browser would (without following)."""
    token = csrf(client.get(token_from).text)
    return client.post(path, data={"csrf": token, **form}, follow_redirects=False)


# -- the team records the review ------------------------------------------------------------


def test_the_review_team_records_a_peer_judgement_and_findings_in_pages(site: World) -> None:
    c = at_peer_review(site)
    review = f"/app/cycles/{c}/review"
    with browser(site) as lead:
        sign_in(lead, "review_lead")
        cycle = lead.get(f"/app/cycles/{c}").text
        assert f'href="{review}"' in cycle
        page = main(lead.get(review).text)
        assert "The team has judged 0 of 8 questions" in page
        assert page.count("Not started") == 8
        # The host's self-judgement and focus are beside the team's work, for context.
        assert f"Our view on {Q0}: secure, with next steps." in page
        assert "Reading in KS2" in page and "Attendance" in page
        assert "Strengths" in page and "Areas to develop" in page

        qpage = lead.get(f"{review}/{Q0}")
        assert Q0_TEXT in qpage.text and "Save the peer judgement" in qpage.text
        assert 'name="grade"' not in qpage.text  # SPP gives no grades
        r = post(lead, f"{review}/{Q0}", {"narrative": "A strong reading culture."}, review)
        assert r.status_code == 303
        assert r.headers["location"] == f"{review}?saved=judgement&question={Q0}"
        page = main(lead.get(r.headers["location"]).text)
        assert f"The peer judgement on “{Q0_TEXT}" in page
        assert "The team has judged 1 of 8 questions" in page and page.count("Not started") == 7
        assert "A strong reading culture." in page

        r = post(
            lead,
            f"/app/cycles/{c}/findings",
            {"kind": "strength", "text": "Pupils talk about books with joy.", "question_id": Q0},
            review,
        )
        assert r.status_code == 303 and r.headers["location"] == f"{review}?saved=finding"
        r = post(lead, f"/app/cycles/{c}/findings",
                 {"kind": "area_to_develop", "text": "Marking is uneven.", "question_id": ""},
                 review)  # fmt: skip
        assert r.status_code == 303
        page = main(lead.get(f"{review}?saved=finding").text)
        assert "The finding is saved." in page
        strengths, _, areas = page.partition("Areas to develop")
        assert "Pupils talk about books with joy." in strengths
        assert f"On “{Q0_TEXT}" in strengths and "recorded by Review Lead" in strengths
        assert "Marking is uneven." in areas and "On the school as a whole" in areas
        # The findings on a question are on its page too.
        assert "Pupils talk about books with joy." in lead.get(f"{review}/{Q0}").text
        history = main(lead.get(f"/app/cycles/{c}").text)
        assert "Review Lead (Review lead) added a finding" in history
        assert "added a peer judgement" in history

    saved = report(site, c)
    assert [(j["question_id"], j["narrative"]) for j in saved["peer_judgements"]] == [
        (Q0, "A strong reading culture.")
    ]
    assert sorted((f["kind"], f["text"], f["question_id"]) for f in saved["findings"]) == [
        ("area_to_develop", "Marking is uneven.", None),
        ("strength", "Pupils talk about books with joy.", Q0),
    ]


def test_a_graded_framework_takes_its_own_scale_and_says_what_is_missing(site: World) -> None:
    c = cqa_at_review_days(site)
    q = CQA_QUESTIONS[0]
    review = f"/app/cycles/{c}/review"
    with browser(site) as reviewer:
        sign_in(reviewer, "reviewer")
        qpage = reviewer.get(f"{review}/{q}").text
        for label in ("Strong", "Established", "Developing", "Emerging"):
            assert f">{label}</label>" in qpage
        r = post(reviewer, f"{review}/{q}", {"narrative": "Leaders plan change well."}, review)
        assert r.status_code == 303
        page = main(reviewer.get(review).text)
        assert "No grade yet" in page and "In progress" in page
        assert "Strength" in page and "Area for improvement" in page  # the template's kinds

        r = post(reviewer, f"{review}/{q}", {"narrative": "Leaders plan well.", "grade": "top"},
                 review)  # fmt: skip
        assert r.status_code == 400
        assert 'href="#grade"' in r.text and "Choose a grade from the scale" in r.text
        assert "Leaders plan well.</textarea>" in r.text  # what was typed is kept

        r = post(reviewer, f"{review}/{q}",
                 {"narrative": "Leaders plan change well.", "grade": "established"},
                 review)  # fmt: skip
        assert r.status_code == 303
        page = main(reviewer.get(review).text)
        assert "Established" in page and "Completed" in page
    (judged,) = report(site, c)["peer_judgements"]
    assert (judged["grade"], judged["narrative"]) == ("established", "Leaders plan change well.")


def test_bad_input_is_told_beside_its_field_and_nothing_is_saved(site: World) -> None:
    c = at_peer_review(site)
    review = f"/app/cycles/{c}/review"
    with browser(site) as lead:
        sign_in(lead, "review_lead")
        r = post(lead, f"{review}/{Q0}", {"narrative": "   "}, review)
        assert r.status_code == 400 and "There is a problem" in r.text
        assert '<a href="#narrative">Write what the team found on this question</a>' in r.text
        assert 'aria-invalid="true"' in r.text

        r = post(lead, f"{review}/{Q0}", {"narrative": "Fine.", "grade": "good"}, review)
        assert r.status_code == 400 and 'href="#grade"' in r.text
        assert "This framework gives no grades" in r.text

        r = post(lead, f"/app/cycles/{c}/findings", {"kind": "", "text": ""}, review)
        assert r.status_code == 400
        assert '<a href="#kind">Choose what kind of finding this is</a>' in r.text
        assert '<a href="#text">Write the finding</a>' in r.text
        assert 'id="kind"' in r.text and 'id="text"' in r.text  # the links' targets

        r = post(lead, f"/app/cycles/{c}/findings",
                 {"kind": "strength", "text": "Kept when refused", "question_id": "no.such"},
                 review)  # fmt: skip
        assert r.status_code == 400 and 'href="#question_id"' in r.text
        assert "Kept when refused</textarea>" in r.text  # what was typed is kept
        assert 'value="strength" checked' in r.text

        r = lead.post(f"/app/cycles/{c}/findings", data={"kind": "strength", "text": "No token"})
        assert r.status_code == 400 and "This form had expired" in r.text
        assert lead.get(f"{review}/no.such.question").status_code == 404
    saved = report(site, c)
    assert saved["peer_judgements"] == [] and saved["findings"] == []


def test_a_stage_or_role_that_may_not_record_is_refused_in_words(site: World) -> None:
    c = at_peer_review(site, filled=True)
    review = f"/app/cycles/{c}/review"
    before = report(site, c)
    with browser(site) as head:
        # The host's head reads the review but does not record it.
        sign_in(head, "head_own")
        page = head.get(review)
        assert page.status_code == 200 and "Add a finding" not in page.text
        assert "the review team records the judgements and findings" in page.text
        r = post(head, f"/app/cycles/{c}/findings", {"kind": "strength", "text": "Ours"}, review)
        assert r.status_code == 409 and "The finding could not be saved" in r.text
        told = "Only the review lead or peer reviewer may record findings at Peer review"
        assert f"{told}: nothing was saved" in main(r.text)
    move(site, "review_lead", c, "complete_peer_review")
    with browser(site) as lead:
        sign_in(lead, "review_lead")
        page = lead.get(review).text
        assert "which does not take judgements or findings" in page
        assert "Save the peer judgement" not in lead.get(f"{review}/{Q1}").text
        # A page left open from before the move: refused, with what was typed kept.
        r = post(lead, f"{review}/{Q1}", {"narrative": "Typed during the visit"}, review)
        assert r.status_code == 409 and "The peer judgement could not be saved" in r.text
        assert "is not the stage to record peer judgements: nothing was saved" in r.text
        assert "Typed during the visit</textarea>" in r.text
    after = report(site, c)
    assert (after["peer_judgements"], after["findings"]) == (
        before["peer_judgements"],
        before["findings"],
    )


# -- the report and who may read it ---------------------------------------------------------


def test_the_report_reads_in_words_and_the_head_shares_and_withdraws_it(site: World) -> None:
    c = at_peer_review(site, filled=True)
    url = f"/app/cycles/{c}/report"
    with browser(site) as head:
        sign_in(head, "head_own")
        assert f'href="{url}"' in head.get(f"/app/cycles/{c}").text
        page = head.get(url).text
        text = main(page)
        assert "Review report: Host Primary School" in text
        assert "Schools Partnership Programme cycle" in text and "Peer review" in text
        assert "Review Lead (Review lead)" in text and "Reviewer2 (Peer reviewer)" in text
        assert "Reading in KS2" in text
        assert "Review visit Monday 5 October 2026 at 09:30" in text  # Europe/London
        assert "Strong reading culture across the school." in text
        strengths, _, areas = text.partition("Areas to develop")
        assert "Pupils read widely." in strengths
        assert "Feedback in writing is not acted on." in areas
        assert "Nobody else can read it yet." in text
        # The lists to choose from: networks, schools (not the host), people of the head's school.
        assert 'value="network:nlc-n"' in page and 'value="school:sch-e"' in page
        assert 'value="school:sch-h"' not in page and 'value="person:p-staff-h"' in page
        assert "@media print" in head.get("/static/peerloop.css").text

        r = post(head, f"{url}/shares", {"grantee": "school:sch-e"}, url)
        assert r.status_code == 303 and r.headers["location"] == f"{url}?shared=school:sch-e"
        text = main(head.get(r.headers["location"]).text)
        assert "The head of Elm Primary School can now read this report." in text
        row = text.split("Who can read it")[1]
        assert "The head of Elm Primary School" in row and "by Head Own" in row
        assert "Monday 14 September 2026 at 09:00" in row
        assert 'value="school:sch-e"' not in head.get(url).text  # not offered twice
        history = main(head.get(f"/app/cycles/{c}").text)
        assert "Head Own (Host headteacher) shared the report with the head of Elm Primary" in (
            history
        )

    (share,) = ok(site.get("head_own", f"/cycles/{c}/shares"))
    assert (share["grantee_kind"], share["grantee_id"]) == ("school", "sch-e")
    with browser(site) as elm:
        sign_in(elm, "head_other")
        shared = elm.get(url)
        assert shared.status_code == 200 and "Pupils read widely." in shared.text
        assert "Who else can read this report" not in shared.text  # only the host's head shares
        r = elm.post(f"{url}/shares/{share['id']}/withdraw",
                     data={"csrf": csrf(shared.text)}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 409
        assert "Only the host headteacher may stop sharing the report" in main(r.text)

    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(url).text
        assert f'action="{url}/shares/{share["id"]}/withdraw"' in page
        r = head.post(f"{url}/shares/{share['id']}/withdraw", data={"csrf": csrf(page)},
                      follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        text = main(head.get(r.headers["location"]).text)
        assert "The head of Elm Primary School can no longer read this report." in text
        assert "Nobody else can read it yet." in text
        history = main(head.get(f"/app/cycles/{c}").text)
        assert "stopped sharing the report with the head of Elm Primary School" in history
    assert ok(site.get("head_own", f"/cycles/{c}/shares")) == []
    with browser(site) as elm:
        sign_in(elm, "head_other")
        assert elm.get(url).status_code == 404


def test_a_share_needs_a_choice_and_only_the_host_head_may_make_one(site: World) -> None:
    c = at_peer_review(site, filled=True)
    url = f"/app/cycles/{c}/report"
    with browser(site) as head:
        sign_in(head, "head_own")
        for chosen, words in (
            ("", "Choose who to share the report with"),
            ("school:", "Choose who to share the report with from the list"),
            ("planet:mars", "Choose who to share the report with from the list"),
            ("school:sch-nowhere", "Choose who to share the report with from the list"),
        ):
            r = post(head, f"{url}/shares", {"grantee": chosen}, url)
            assert r.status_code == 400, chosen
            assert f'<a href="#grantee">{words}</a>' in r.text and 'id="grantee"' in r.text
        assert post(head, f"{url}/shares", {"grantee": "network:nlc-n"}, url).status_code == 303
        r = post(head, f"{url}/shares", {"grantee": "network:nlc-n"}, url)
        assert r.status_code == 409 and "The report is already shared with them" in r.text
        r = post(head, f"{url}/shares", {"grantee": "person:p-staff-h"}, url)
        assert r.status_code == 303
        text = main(head.get(r.headers["location"]).text)
        assert "Staff Own can now read this report." in text
        assert "The leads of Northbank NLC (its chair and partnership leads)" in text
    with browser(site) as staff:
        sign_in(staff, "staff_own")  # who could not read it before
        assert "Strong reading culture" in staff.get(url).text
    with browser(site) as lead:
        sign_in(lead, "review_lead")
        page = lead.get(url)
        assert page.status_code == 200 and "Strong reading culture" in page.text
        assert "Who else can read this report" not in page.text
        r = lead.post(f"{url}/shares", data={"csrf": csrf(page.text), "grantee": "school:sch-e"})
        assert r.status_code == 409
        assert "Only the host headteacher may share the report" in main(r.text)
    shares = ok(site.get("head_own", f"/cycles/{c}/shares"))
    assert sorted((s["grantee_kind"], s["grantee_id"]) for s in shares) == [
        ("network", "nlc-n"),
        ("person", "p-staff-h"),
    ]


def test_who_may_not_read_the_report_gets_no_link_no_text_and_a_not_found(site: World) -> None:
    c = at_peer_review(site, filled=True)
    paths = [f"/app/cycles/{c}/report", f"/app/cycles/{c}/review", f"/app/cycles/{c}/review/{Q0}"]
    for who in ("chair_own", "staff_own", "pl_own", "head_other_net"):
        with browser(site) as person:
            sign_in(person, who)
            seen = [person.get("/app").text, person.get("/app/notifications").text]
            cycle = person.get(f"/app/cycles/{c}")
            seen.append(cycle.text)
            if who != "head_other_net":  # they see the cycle's stage, not its report
                assert cycle.status_code == 200, who
                assert f"/app/cycles/{c}/report" not in cycle.text
                assert f"/app/cycles/{c}/review" not in cycle.text
            for path in paths:
                r = person.get(path)
                assert r.status_code == 404 and "Page not found" in r.text, (who, path)
                seen.append(r.text)
            token = csrf(seen[0])
            for path, form in (
                (f"/app/cycles/{c}/findings", {"kind": "strength", "text": "Sneaked in"}),
                (f"/app/cycles/{c}/review/{Q0}", {"narrative": "Sneaked in"}),
                (f"/app/cycles/{c}/report/shares", {"grantee": f"person:{site.person(who)}"}),
            ):
                r = person.post(path, data={"csrf": token, **form})
                assert r.status_code == 404, (who, path, r.status_code)
                seen.append(r.text)
            for html in seen:
                for words in REPORT_WORDS:
                    assert words not in html, (who, words)
    saved = report(site, c)
    assert all(f["text"] != "Sneaked in" for f in saved["findings"])
    assert ok(site.get("head_own", f"/cycles/{c}/shares")) == []
