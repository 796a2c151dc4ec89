"""The action plan, its follow-up (the RAG view) and school-to-school support through the pages:
what each person sees, what is saved, and what is refused beside the field with nothing saved."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from litestar.testing import TestClient

from tests.e2e.flows import SPP_QUESTIONS, assign, move, ok, sign, spp_to, spp_workshop, start
from tests.e2e.test_pages import browser, csrf, sign_in
from tests.e2e.world import World


@contextmanager
def signed_in(w: World, who: str) -> Iterator[TestClient[Any]]:
    """A browser signed in as `who` now (sessions last a working day of the world's clock)."""
    with browser(w) as client:
        sign_in(client, who)
        yield client


def _actions(w: World, c: str) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in w.get("head_own", f"/cycles/{c}/actions").json()}


def _findings(w: World, c: str) -> dict[str, dict[str, Any]]:
    return {f["kind"]: f for f in w.get("head_own", f"/cycles/{c}").json()["findings"]}


def _counts(html: str) -> dict[str, int]:
    """The RAG summary line: colour (in words) -> how many actions."""
    found = re.findall(r'class="tag tag-\w+">(Red|Amber|Green|Open)</strong> (\d+) action', html)
    return {name: int(n) for name, n in found}


def _row(html: str, title: str) -> str:
    """The table row of the action with this title."""
    for row in re.findall(r"<tr id=\"action-.*?</tr>", html, flags=re.S):
        if f">{title}</a>" in row:
            return str(row)
    raise AssertionError(f"no row for {title!r}")


def _action(
    title: str, owner: str = "", due: str = "", criteria: str = "", finding: str = ""
) -> dict[str, str]:
    """The add or change form's fields; `due` as typed, "27 3 2027"."""
    day, month, year = [*due.split(), "", "", ""][:3]
    return {
        "title": title,
        "owner": owner,
        "due_day": day,
        "due_month": month,
        "due_year": year,
        "success_criteria": criteria,
        "finding_id": finding,
    }


def _refused(r: Any, status: int, field: str | None, words: str) -> None:
    """The error summary at the top (linking to the field), and the message beside it."""
    assert r.status_code == status, r.text
    summary = r.text.split('class="error-summary"')[1].split("</div>")[0]
    assert words in summary, summary
    if field is not None:
        assert f'href="#{field}"' in summary
        beside = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', r.text, re.S)
        assert beside and words in beside.group(1), r.text
    assert "<title>Error: " in r.text


def test_actions_are_agreed_on_the_page_one_answering_a_finding(site: World) -> None:
    c = start(site)
    spp_to(site, c, "improvement_workshop", fill=False)
    to_develop = _findings(site, c)["area_to_develop"]
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}/actions")
        assert page.status_code == 200 and "No actions are agreed yet" in page.text
        # The owner is chosen from the host's staff and the team, named; the finding from the
        # review's findings, in words.
        assert '<option value="p-staff-h">Staff Own</option>' in page.text
        assert "Champion, Improvement champion" in page.text
        assert f'<option value="{to_develop["id"]}">Area to develop: {to_develop["text"]}' in (
            page.text
        )
        token = csrf(page.text)
        r = head.post(
            f"/app/cycles/{c}/actions",
            data={
                "csrf": token,
                **_action(
                    "Whole-school feedback policy",
                    "p-staff-h",
                    "1 2 2027",
                    "Seen in book looks",
                    to_develop["id"],
                ),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        assert r.headers["location"].startswith(f"/app/cycles/{c}/actions?saved=added&action=")
        page = head.get(r.headers["location"])
        assert "Action added" in page.text
        assert "“Whole-school feedback policy” is in the plan, owned by Staff Own" in page.text
        row = _row(page.text, "Whole-school feedback policy")
        assert "<td>Staff Own</td>" in row and "p-staff-h" not in row  # named, not an id
        assert "Monday 1 February 2027" in row and "Seen in book looks" in row
        assert f"Area to develop: {to_develop['text']}" in row
        assert "Open: no update yet" in row
        saved = _actions(site, c)["Whole-school feedback policy"]
        assert (saved["owner"], saved["due"], saved["finding_id"]) == (
            "p-staff-h",
            "2027-02-01",
            to_develop["id"],
        )
        # The owner hears of it and finds it in their tasks.
        with browser(site) as staff:
            sign_in(staff, "staff_own")
            assert "Whole-school feedback policy" in staff.get("/app").text

    # The champion adds one too, with no finding. Running the workshop, they choose owners
    # from the host's people and the team, though they may not list the host's staff elsewhere.
    with browser(site) as champion:
        sign_in(champion, "champion")
        page = champion.get(f"/app/cycles/{c}/actions")
        owners = page.text.split('id="owner"')[1].split("</select>")[0]
        assert 'value="p-staff-h">Staff Own<' in owners and 'value="p-head-d"' in owners
        assert "p-staff-h@school.example" not in page.text  # names only, no addresses
        r = champion.post(
            f"/app/cycles/{c}/actions",
            data={
                "csrf": csrf(page.text),
                **_action("Reading fair", "p-head-d", "3 3 2027", "All"),
            },
        )
        assert r.status_code == 200 and "Action added" in r.text
        assert _actions(site, c)["Reading fair"]["finding_id"] is None


def test_bad_input_is_said_beside_its_field_and_nothing_is_saved(site: World) -> None:
    c = start(site)
    spp_to(site, c, "improvement_workshop", fill=False)
    with browser(site) as head:
        sign_in(head, "head_own")
        token = csrf(head.get(f"/app/cycles/{c}/actions").text)
        good = _action("Phonics training", "p-head-h", "1 2 2027", "Book looks")
        cases = [
            ({"title": "  "}, "title", "Enter what the action is"),
            ({"owner": "p-nobody"}, "owner", "Choose the owner from the list"),
            ({"due_day": "31", "due_month": "2"}, "due-day", "must be a real date"),
            ({"due_year": "9999"}, "due-day", "must be within 10 years of today"),
            ({"due_year": "27"}, "due-day", "must have 4 numbers"),
            ({"due_day": "one"}, "due-day", "must be a real date"),
            ({"due_month": "", "due_year": ""}, "due-day", "must include a month and a year"),
            ({"finding_id": "f-nope"}, "finding_id", "Choose a finding of this review"),
        ]
        for change, field, words in cases:
            r = head.post(f"/app/cycles/{c}/actions", data={"csrf": token, **good, **change})
            _refused(r, 400, field, words)
            # What was typed is kept, to be put right.
            assert 'value="Book looks"' in r.text or ">Book looks</textarea>" in r.text
        assert _actions(site, c) == {}
        # A form without its CSRF token is not ours.
        r = head.post(f"/app/cycles/{c}/actions", data={"csrf": "forged", **good})
        assert r.status_code == 400 and "This form had expired" in r.text
        assert _actions(site, c) == {}

    # A role that may read the plan but not record actions is refused (409), in words.
    with browser(site) as staff:
        sign_in(staff, "staff_own")
        page = staff.get(f"/app/cycles/{c}/actions")
        assert page.status_code == 200 and "Add an action" not in page.text
        r = staff.post(f"/app/cycles/{c}/actions", data={"csrf": csrf(page.text), **good})
        _refused(r, 409, None, "Only the improvement champion or host headteacher may do this")
    assert _actions(site, c) == {}

    # At a stage that does not collect actions, none is added.
    spp_workshop(site, c)
    move(site, "champion", c, "agree_actions")
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}/actions")
        assert "Add an action" not in page.text
        r = head.post(f"/app/cycles/{c}/actions", data={"csrf": csrf(page.text), **good})
        _refused(r, 409, None, "School-to-school support is not the stage to record actions")
        missing = head.get(f"/app/cycles/{c}/actions/act_nothing")
        assert missing.status_code == 404
    assert set(_actions(site, c)) == {"Whole-school feedback policy", "Reading fair"}


def test_partnership_lead_sees_the_plan_but_not_the_findings(site: World) -> None:
    c = start(site)
    spp_to(site, c, "improvement_workshop", fill=False)
    finding = _findings(site, c)["area_to_develop"]
    with browser(site) as head:
        sign_in(head, "head_own")
        token = csrf(head.get(f"/app/cycles/{c}/actions").text)
        head.post(
            f"/app/cycles/{c}/actions",
            data={"csrf": token, **_action("Feedback policy", "p-head-h", "", "", finding["id"])},
        )
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        page = pl.get(f"/app/cycles/{c}/actions")
        assert page.status_code == 200
        row = _row(page.text, "Feedback policy")
        assert "A finding of the review (you cannot see the report)" in row
        assert finding["text"] not in page.text
        assert "Head Own" in row and "No date yet" in row
    with browser(site) as outsider:
        sign_in(outsider, "head_other_net")
        assert outsider.get(f"/app/cycles/{c}/actions").status_code == 404


def test_support_and_follow_up_with_dated_activities_and_the_rag_view(site: World) -> None:
    c = start(site)
    spp_to(site, c, "improvement_workshop", fill=False)
    finding = _findings(site, c)["area_to_develop"]
    with signed_in(site, "head_own") as head:
        token = csrf(head.get(f"/app/cycles/{c}/actions").text)
        plan = [
            ("Feedback policy", "10 2 2027", finding["id"]),  # will be met
            ("Reading corners", "24 9 2026", ""),  # due within 14 days
            ("Attendance calls", "1 3 2027", ""),  # will not be met
            ("Governor visits", "1 6 2027", ""),  # no update
        ]
        for title, due, fid in plan:
            r = head.post(
                f"/app/cycles/{c}/actions",
                data={"csrf": token, **_action(title, "p-head-h", due, "Seen", fid)},
            )
            assert r.status_code == 200, r.text
    sign(site, "head_own", c, "school_lead")
    sign(site, "champion", c, "improvement_champion")
    move(site, "champion", c, "agree_actions")
    ids = {t: a["id"] for t, a in _actions(site, c).items()}

    with signed_in(site, "head_own") as head:
        page = head.get(f"/app/cycles/{c}/support")
        assert "No partner school is linked yet" in page.text
        # The review's areas to develop are offered as the area of support.
        assert f'value="{finding["text"]}"' in page.text
        token = csrf(page.text)
        for data, field, words in [
            ({"area_choice": "other", "area": "Phonics"}, "school", "Choose the partner school"),
            ({"school": "sch-zz", "area": "Phonics"}, "school", "from the list"),
            ({"school": "sch-h", "area": "Phonics"}, "school", "cannot support itself"),
            ({"school": "sch-e", "area_choice": "other", "area": " "}, "area", "Enter what the"),
        ]:
            r = head.post(f"/app/cycles/{c}/support", data={"csrf": token, **data})
            _refused(r, 400, field, words)
        assert site.get("head_own", f"/cycles/{c}/support").json() == []
        r = head.post(
            f"/app/cycles/{c}/support",
            data={"csrf": token, "school": "sch-e", "area_choice": finding["text"]},
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = head.get(r.headers["location"])
        assert "Support link added" in page.text and "Elm Primary School" in page.text
    (link,) = site.get("head_own", f"/cycles/{c}/support").json()
    assert (link["supporting_school_id"], link["area"]) == ("sch-e", finding["text"])

    # Two activities, logged on different days: newest first, each with its date.
    url = f"/app/cycles/{c}/support/{link['id']}/activities"
    for when, text in [
        (datetime(2026, 9, 15, 14, 30, tzinfo=UTC), "Joint book look"),
        (datetime(2026, 9, 22, 14, 30, tzinfo=UTC), "Moderation twilight with Elm"),
    ]:
        site.clock.set(when)
        with signed_in(site, "head_own") as head:
            page = head.get(f"/app/cycles/{c}/support")
            r = head.post(url, data={"csrf": csrf(page.text), "activity": text})
            assert r.status_code == 200 and "Activity logged" in r.text
    with signed_in(site, "head_own") as head:
        token = csrf(head.get(f"/app/cycles/{c}/support").text)
        r = head.post(url, data={"csrf": token, "activity": ""})
        _refused(r, 400, f"activity-{link['id']}", "Enter what was done")
        page = head.get(f"/app/cycles/{c}/support").text
        newest = page.index("Moderation twilight with Elm")
        oldest = page.index("Joint book look")
        assert newest < oldest
        assert "Tuesday 22 September 2026 at 15:30" in page[newest:oldest]
        assert "Tuesday 15 September 2026 at 15:30" in page[oldest:]
        assert "logged by Head Own" in page
    (link,) = site.get("head_own", f"/cycles/{c}/support").json()
    assert link["activities"] == ["Joint book look", "Moderation twilight with Elm"]
    assert [(a["at"], a["by"]) for a in link["activity_log"]] == [
        ("2026-09-15T14:30:00Z", "p-head-h"),
        ("2026-09-22T14:30:00Z", "p-head-h"),
    ]

    # The head records progress at the support stage.
    status_url = f"/app/cycles/{c}/actions/{{}}/status"
    with signed_in(site, "head_own") as head:
        page = head.get(f"/app/cycles/{c}/actions/{ids['Feedback policy']}")
        assert "Record how it is going" in page.text and "Change the action" not in page.text
        token = csrf(page.text)
        r = head.post(
            status_url.format(ids["Feedback policy"]), data={"csrf": token, "note": "Looked"}
        )
        _refused(r, 400, "status", "Choose how the action is going")
        for title, status in [
            ("Feedback policy", "met"),
            ("Reading corners", "in_progress"),
            ("Attendance calls", "not_met"),
        ]:
            r = head.post(
                status_url.format(ids[title]),
                data={"csrf": token, "status": status, "note": f"{title}: checked"},
                follow_redirects=False,
            )
            assert r.status_code == 303
            assert r.headers["location"] == (
                f"/app/cycles/{c}/actions?saved=status&action={ids[title]}"
            )
        page = head.get(r.headers["location"]).text
        assert "Progress recorded" in page and "“Attendance calls” is now red: not met" in page
        assert _counts(page) == {"Red": 1, "Amber": 1, "Green": 1, "Open": 1}
        assert "Green: met" in _row(page, "Feedback policy")
        assert "Amber: due soon, in progress" in _row(page, "Reading corners")
        assert "Due soon (within 14 days)" in _row(page, "Reading corners")
        assert "Red: not met" in _row(page, "Attendance calls")
        assert "Open: no update yet" in _row(page, "Governor visits")
        assert "Feedback policy: checked" in _row(page, "Feedback policy")

    # The partnership lead may link schools now, but not record progress until the follow-up.
    with signed_in(site, "pl_own") as pl:
        page = pl.get(f"/app/cycles/{c}/support")
        # The review's areas are not offered to someone who may not read the review.
        assert "Link a partner school" in page.text and 'name="area_choice"' not in page.text
        r = pl.post(
            status_url.format(ids["Governor visits"]),
            data={"csrf": csrf(page.text), "status": "met"},
        )
        _refused(r, 409, None, "Only the host headteacher may do this")
    assert _actions(site, c)["Governor visits"]["status"] is None

    # Time passes: the action still in progress after its due date is overdue, and red.
    move(site, "pl_own", c, "begin_follow_up")
    site.clock.set(datetime(2026, 9, 26, 9, 0, tzinfo=UTC))
    with signed_in(site, "pl_own") as pl:
        page = pl.get(f"/app/cycles/{c}/actions").text
        assert "Red: overdue, in progress" in _row(page, "Reading corners")
        assert '<strong class="tag tag-red">Overdue</strong>' in _row(page, "Reading corners")
        assert _counts(page) == {"Red": 2, "Amber": 0, "Green": 1, "Open": 1}
        r = pl.post(
            status_url.format(ids["Reading corners"]),
            data={"csrf": csrf(page), "status": "partially_met", "note": "Four of six"},
        )
        assert r.status_code == 200 and "is now amber: partially met" in r.text
        assert _counts(r.text) == {"Red": 1, "Amber": 1, "Green": 1, "Open": 1}
        # Nothing is logged at the follow-up: the support page only reads.
        assert "Log an activity" not in pl.get(f"/app/cycles/{c}/support").text


def test_changing_an_action_keeps_its_progress_and_an_owner_in_words(site: World) -> None:
    c = start(site)
    spp_to(site, c, "improvement_workshop", fill=False)
    finding = _findings(site, c)["strength"]
    made = site.post(
        "champion",
        f"/cycles/{c}/actions",
        json={"title": "Reading fair", "owner": "Deputy head", "due": "2027-02-01"},
    ).json()
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}/actions/{made['id']}")
        assert page.status_code == 200 and "<h1>Reading fair</h1>" in page.text
        # The owner written in words before is kept as a choice, and chosen.
        assert '<option value="Deputy head" selected>Deputy head (as written before)' in page.text
        assert 'id="due-day" name="due_day" type="text" inputmode="numeric" maxlength="2"' in (
            page.text
        )
        assert 'value="1"' in page.text and 'value="2027"' in page.text
        r = head.post(
            f"/app/cycles/{c}/actions/{made['id']}",
            data={
                "csrf": csrf(page.text),
                **_action(
                    "Reading fair for families",
                    "Deputy head",
                    "8 3 2027",
                    "50 families",
                    finding["id"],
                ),
            },
        )
        assert r.status_code == 200 and "Action changed" in r.text
    saved = _actions(site, c)["Reading fair for families"]
    assert (saved["owner"], saved["due"], saved["finding_id"]) == (
        "Deputy head",
        "2027-03-08",
        finding["id"],
    )


def test_the_api_takes_the_finding_and_refuses_one_of_no_finding_or_a_far_date(
    site: World,
) -> None:
    c = start(site)
    spp_to(site, c, "improvement_workshop", fill=False)
    finding = _findings(site, c)["area_to_develop"]
    url = f"/cycles/{c}/actions"
    made = site.post("champion", url, json={"title": "Feedback", "finding_id": finding["id"]})
    assert made.status_code == 201 and made.json()["finding_id"] == finding["id"]
    changed = site.put("champion", f"{url}/{made.json()['id']}", json={"title": "Feedback"})
    assert changed.status_code == 200 and changed.json()["finding_id"] is None
    for body, field in [
        ({"title": "Feedback", "finding_id": "f_nothing"}, "finding_id"),
        ({"title": "Feedback", "due": "9999-12-31"}, "due"),
    ]:
        r = site.post("champion", url, json=body)
        assert r.status_code == 422, r.text
        assert field in r.text
    assert [a["title"] for a in site.get("champion", url).json()] == ["Feedback"]


def test_what_people_type_is_shown_as_text(site: World) -> None:
    c = start(site)
    spp_to(site, c, "improvement_workshop", fill=False)
    with signed_in(site, "head_own") as head:
        token = csrf(head.get(f"/app/cycles/{c}/actions").text)
        r = head.post(
            f"/app/cycles/{c}/actions",
            data={"csrf": token, **_action("<script>alert(1)</script>", "", "", "<b>x</b>")},
        )
        assert r.status_code == 200
        assert "<script>alert(1)</script>" not in r.text and "<b>x</b>" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_partner_schools_strong_in_an_area_are_suggested_from_reports_shared_with_the_host(
    site: World,
) -> None:
    question = SPP_QUESTIONS[1]
    # The host's cycle, with an area to develop on the question, up to school-to-school support.
    c = start(site)
    spp_to(site, c, "peer_review")
    area = "Gaps for disadvantaged pupils are not closing."
    body = {"kind": "area_to_develop", "text": area, "question_id": question}
    ok(site.post("review_lead", f"/cycles/{c}/findings", json=body), 201)
    move(site, "review_lead", c, "complete_peer_review")
    spp_workshop(site, c)
    move(site, "champion", c, "agree_actions")
    # Elm Primary's review found a strength on the same question.
    partner = start(site, school="sch-e")
    force = {"force_reason": "set-up of the partner school's review"}
    move(site, "admin", partner, "submit_self_review", json=force)
    assign(site, partner, "reviewer", "reviewer")
    move(site, "admin", partner, "start_peer_review", json=force)
    strength = {"kind": "strength", "text": "Disadvantaged pupils thrive.", "question_id": question}
    ok(site.post("reviewer", f"/cycles/{partner}/findings", json=strength), 201)

    def support_form(who: str) -> str:
        with signed_in(site, who) as person:
            page = person.get(f"/app/cycles/{c}/support").text
        return page.split('id="add-link-heading"')[1].split("</form>")[0]

    # Not shared with the host yet: nothing is suggested.
    form = support_form("head_own")
    assert "Suggested" not in form and "Strong in this" not in form
    ok(
        site.post(
            "head_other",
            f"/cycles/{partner}/shares",
            json={"grantee_kind": "school", "grantee_id": "sch-h"},
        ),
        201,
    )
    form = support_form("head_own")
    suggested = form.split("<optgroup")[1]
    assert 'label="Suggested: strong where the review found areas to develop"' in suggested
    assert '<option value="sch-e">Elm Primary School</option>' in suggested.split("</optgroup>")[0]
    assert form.count('value="sch-e"') == 1  # not offered a second time under its network
    assert "Strong in this: Elm Primary School" in form
    assert "from the 1 review report of other schools you may read" in form
