"""The schools taking part, on a cycle's page through HTTP: the lead moderator adds a school of
the network and takes it out, each said on the page; a moderator sees the schools but may not
change them; choosing no school is said beside the field."""

from __future__ import annotations

import html

from tests.e2e.test_cluster_moderation import LEAD, _set_up, _start
from tests.e2e.test_pages import browser, csrf, sign_in
from tests.e2e.world import World


def test_the_lead_adds_and_takes_out_a_school_on_the_cycle_page(site: World) -> None:
    _set_up(site)
    c = _start(site)
    with browser(site) as lead:
        sign_in(lead, LEAD)
        page = lead.get(f"/app/cycles/{c}")
        assert page.status_code == 200
        assert 'id="schools"' in page.text and "(the lead school)" in page.text
        assert '<option value="sch-a">Alder Primary School</option>' in page.text
        r = lead.post(
            f"/app/cycles/{c}/participants", data={"csrf": csrf(page.text), "school_id": "sch-a"}
        )
        assert r.status_code == 200 and str(r.url).endswith(f"/app/cycles/{c}?joined=sch-a#schools")
        text = html.unescape(r.text)
        assert "Alder Primary School now takes part" in text
        assert '<option value="sch-a">' not in r.text  # no longer offered
        empty = lead.post(f"/app/cycles/{c}/participants", data={"csrf": csrf(r.text)})
        assert empty.status_code == 400 and "Choose the school that takes part" in empty.text
        r = lead.post(f"/app/cycles/{c}/participants/sch-a/remove", data={"csrf": csrf(r.text)})
        assert r.status_code == 200 and "no longer takes part" in html.unescape(r.text)
    assert site.get(LEAD, f"/cycles/{c}/participants").json() == []


def test_a_moderator_sees_the_schools_but_may_not_change_them(site: World) -> None:
    _set_up(site)
    c = _start(site)
    site.post(LEAD, f"/cycles/{c}/participants", json={"school_id": "sch-a"})
    with browser(site) as moderator:
        sign_in(moderator, "review_lead")
        page = moderator.get(f"/app/cycles/{c}")
        assert page.status_code == 200 and "Alder Primary School" in page.text
        assert "Add the school" not in page.text and "Take Alder" not in page.text
        r = moderator.post(
            f"/app/cycles/{c}/participants", data={"csrf": csrf(page.text), "school_id": "sch-b"}
        )
        assert r.status_code == 409
    with browser(site) as outsider:
        sign_in(outsider, "head_other")
        assert outsider.get(f"/app/cycles/{c}").status_code == 404
