"""Setting the team and dates, signing off and starting a cycle through the pages: what a
person sees, what is saved, and what is refused beside the field with nothing saved."""

from __future__ import annotations

import re

from tests.e2e.flows import move, spp_to, start
from tests.e2e.test_pages import browser, csrf, sign_in
from tests.e2e.world import World


def _team(w: World, c: str) -> dict[str, str]:
    body = w.get("pl_own", f"/cycles/{c}").json()
    return {m["person_id"]: m["role"] for m in body["team"]}


def test_the_partnership_lead_sets_the_team_and_sees_independence_problems(site: World) -> None:
    c = start(site)
    spp_to(site, c, "pre_review", fill=False)
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        page = pl.get(f"/app/cycles/{c}/team")
        assert page.status_code == 200 and "Nobody is on the team yet" in page.text
        # The host's own staff are never offered; other schools' people are, by school.
        assert "p-staff-h" not in page.text and "p-head-h" not in page.text
        assert "Alder Primary School" in page.text
        token = csrf(page.text)
        r = pl.post(f"/app/cycles/{c}/team", data={"csrf": token, "person": "p-head-a",
                                                   "role": "review_lead"})  # fmt: skip
        assert r.status_code == 200 and "The team is updated" in r.text
        assert _team(site, c) == {"p-head-a": "review_lead"}
        # The same school on the team twice is a problem said now, before the move refuses it.
        pl.post(f"/app/cycles/{c}/team", data={"csrf": token, "person": "p-head-b",
                                               "role": "reviewer"})  # fmt: skip
        r = pl.post(f"/app/cycles/{c}/team", data={"csrf": token, "person": "p-head-a",
                                                   "role": "improvement_champion"})  # fmt: skip
        assert r.status_code == 400
        assert "There is a problem" in r.text
        assert "cannot also be its improvement champion" in r.text
        assert _team(site, c) == {"p-head-a": "review_lead", "p-head-b": "reviewer"}
        # Nothing chosen: both fields named, nothing saved.
        r = pl.post(f"/app/cycles/{c}/team", data={"csrf": token})
        assert r.status_code == 400
        assert 'href="#person"' in r.text and 'href="#role"' in r.text
        r = pl.post(f"/app/cycles/{c}/team", data={"csrf": token, "person": "p-nobody",
                                                   "role": "reviewer"})  # fmt: skip
        assert r.status_code == 400 and "Choose someone from the list" in r.text
        # Removing is one button, and the history says who did it.
        r = pl.post(f"/app/cycles/{c}/team/p-head-b/remove", data={"csrf": token})
        assert r.status_code == 200 and "no longer on the team" in r.text
        assert _team(site, c) == {"p-head-a": "review_lead"}
        # The history names the people, not their ids.
        history = pl.get(f"/app/cycles/{c}").text.split("<h2>History</h2>")[1]
        name = site.get("pl_own", "/people/p-head-a").json()["name"]
        assert f"added {name} as review lead" in history
        assert "p-head-a" not in history and "p-head-b" not in history


def test_the_team_page_says_what_is_wrong_with_the_team_as_it_stands(site: World) -> None:
    c = start(site)
    spp_to(site, c, "pre_review", fill=False)
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        token = csrf(pl.get(f"/app/cycles/{c}/team").text)
        r = pl.post(f"/app/cycles/{c}/team", data={"csrf": token, "person": "p-head-x",
                                                   "role": "reviewer"})  # fmt: skip
        assert r.status_code == 200 and "Problems with the team as it stands" not in r.text
        # Someone of the host school is never offered, but a form sent by hand can name one:
        # it is saved (the move refuses it later) and the page says so in words, by school.
        r = pl.post(f"/app/cycles/{c}/team", data={"csrf": token, "person": "p-staff-h",
                                                   "role": "reviewer"})  # fmt: skip
        assert r.status_code == 200 and "Problems with the team as it stands" in r.text
        assert "Host Primary School" in r.text.split("Problems with the team as it stands")[1]


def test_a_visit_date_is_set_in_words_and_a_nonsense_date_is_refused(site: World) -> None:
    c = start(site)
    spp_to(site, c, "pre_review", fill=False)
    with browser(site) as lead:
        sign_in(lead, "pl_own")
        token = csrf(lead.get(f"/app/cycles/{c}/team").text)
        for bad in ("", "14/03/2027", "9999-12-31", "0001-01-01"):
            r = lead.post(f"/app/cycles/{c}/dates/visit_date", data={"csrf": token, "day": bad})
            assert r.status_code == 400, bad
            assert 'href="#date-visit_date"' in r.text and "a real day" in r.text
        assert "visit_date" not in (site.get("pl_own", f"/cycles/{c}").json().get("dates") or {})
        r = lead.post(f"/app/cycles/{c}/dates/visit_date",
                      data={"csrf": token, "day": "2027-03-15"})  # fmt: skip
        assert r.status_code == 200 and "The date is set" in r.text
        assert "Now Monday 15 March 2027 at 09:00" in r.text
        dates = site.get("pl_own", f"/cycles/{c}").json()["dates"]
        assert dates["visit_date"].startswith("2027-03-15T09:00:00")


def test_a_head_reads_the_team_but_cannot_change_it(site: World) -> None:
    c = start(site)
    spp_to(site, c, "pre_review")
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}/team")
        assert page.status_code == 200
        assert "Alder Primary School" in page.text  # the review lead's school, on the team
        assert "Add someone" not in page.text and "Remove" not in page.text
        token = csrf(page.text)
        r = head.post(f"/app/cycles/{c}/team", data={"csrf": token, "person": "p-head-e",
                                                     "role": "reviewer"})  # fmt: skip
        assert r.status_code == 409
        assert "p-head-e" not in _team(site, c)


def test_sign_offs_are_made_from_the_cycle_page_in_the_callers_own_role(site: World) -> None:
    c = start(site)
    spp_to(site, c, "improvement_workshop", fill=False)
    with browser(site) as head:
        sign_in(head, "head_own")
        page = head.get(f"/app/cycles/{c}")
        assert "Sign-offs for this stage" in page.text
        assert "Sign off as host headteacher" in page.text
        assert "Sign off as improvement champion" not in page.text  # not the head's role
        token = csrf(page.text)
        r = head.post(f"/app/cycles/{c}/signoffs", data={"csrf": token, "role": "school_lead"})
        assert r.status_code == 200 and "Your sign-off as Host headteacher is recorded" in r.text
        signed = r'Host headteacher</strong>:\s*<strong class="tag tag-green">Signed'
        assert re.search(signed, r.text)
        # Signing in a role one does not hold is refused on the page, nothing recorded.
        r = head.post(f"/app/cycles/{c}/signoffs",
                      data={"csrf": token, "role": "improvement_champion"})  # fmt: skip
        assert r.status_code == 409 and "The sign-off could not be recorded" in r.text
        roles = {s["role"] for s in site.get("head_own", f"/cycles/{c}").json()["signoffs"]}
        assert roles == {"school_lead"}


def test_a_partnership_lead_starts_a_cycle_from_the_page_once_however_often_pressed(
    site: World,
) -> None:
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        assert 'href="/app/start"' in pl.get("/app").text
        form = pl.get("/app/start")
        assert form.status_code == 200
        assert "Host Primary School" in form.text and "Xylem Primary School" not in form.text
        token = csrf(form.text)
        r = pl.post("/app/start", data={"csrf": token, "template": "spp-cycle"})
        assert r.status_code == 400 and 'href="#school"' in r.text
        data = {"csrf": token, "template": "spp-cycle", "school": "sch-e"}
        first = pl.post("/app/start", data=data, follow_redirects=False)
        again = pl.post("/app/start", data=data, follow_redirects=False)
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        page = pl.get(first.headers["location"])
        assert "The cycle has started" in page.text and "Elm Primary School" in page.text
        # Another network's school is not the partnership lead's to start.
        r = pl.post("/app/start", data={"csrf": token, "template": "spp-cycle", "school": "sch-x"})
        assert r.status_code == 400 and "partnership lead" in r.text.lower()
    with browser(site) as head:
        sign_in(head, "head_own")
        assert 'href="/app/start"' not in head.get("/app").text
        r = head.get("/app/start")
        assert r.status_code == 403


def test_moving_on_after_the_team_is_set_on_the_page(site: World) -> None:
    c = start(site)
    spp_to(site, c, "pre_review", fill=False)
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        token = csrf(pl.get(f"/app/cycles/{c}/team").text)
        for person, role in (("p-head-a", "review_lead"), ("p-head-b", "reviewer"),
                             ("p-head-c", "reviewer")):  # fmt: skip
            pl.post(f"/app/cycles/{c}/team", data={"csrf": token, "person": person, "role": role})
        pl.post(f"/app/cycles/{c}/dates/visit_date", data={"csrf": token, "day": "2027-03-15"})
    move(site, "review_lead", c, "start_peer_review")
    assert site.get("pl_own", f"/cycles/{c}").json()["stage"] == "peer_review"
