"""The series page through HTTP: a lead moderator sets up a term's twilights with the schools
taking part, a day that is not a school day said beside its field, nothing made; the series
listed with its next days; cancelled from the page; someone who may not start cycles sees the
series of their school but no form."""

from __future__ import annotations

import html

from tests.e2e.flows import ok
from tests.e2e.test_cluster_moderation import LEAD, _set_up
from tests.e2e.test_pages import browser, csrf, sign_in
from tests.e2e.world import World


def test_a_lead_sets_up_a_terms_twilights_and_cancels_them(site: World) -> None:
    _set_up(site)
    with browser(site) as lead:
        sign_in(lead, LEAD)
        page = lead.get("/app/series")
        assert page.status_code == 200 and 'id="make"' in page.text
        form = {
            "csrf": csrf(page.text),
            "title": "Writing moderation",
            "template": "cluster-moderation",
            "school": "sch-h",
            "day-1": "2026-10-01",
            "day-2": "2026-10-03",  # a Saturday
            "participants": ["sch-a", "sch-b"],
        }
        r = lead.post("/app/series", data=form, follow_redirects=False)
        assert r.status_code == 400
        text = html.unescape(r.text)
        assert 'href="#day-2"' in r.text and 'id="day-2-error"' in r.text
        assert "Saturday 3 October 2026 is not a school day" in text
        assert 'value="2026-10-01"' in r.text  # what was typed stays
        assert ok(site.get(LEAD, "/series")) == []  # nothing made

        form["day-2"] = "2026-11-05"
        r = lead.post("/app/series", data=form, follow_redirects=False)
        assert r.status_code == 303, r.text
        listed = html.unescape(lead.get(r.headers["location"]).text)
        assert "The series is set up" in listed
        assert "Thursday 1 October 2026; Thursday 5 November 2026" in listed
        assert "Alder Primary School, Birch Academy" in listed
        (made,) = ok(site.get(LEAD, "/series"))
        cancel = lead.post(
            f"/app/series/{made['id']}/cancel",
            data={"csrf": csrf(page.text)},
            follow_redirects=False,
        )
        assert cancel.status_code == 303
        assert "The series is cancelled" in lead.get(cancel.headers["location"]).text
    assert ok(site.get(LEAD, "/series"))[0]["cancelled_by"] == site.person(LEAD)
    with browser(site) as staff:
        sign_in(staff, "staff_own")
        seen = staff.get("/app/series")
        assert seen.status_code == 200 and "Writing moderation" in seen.text
        assert 'id="make"' not in seen.text and "/cancel" not in seen.text
