"""The schools taking part, on a cycle's page through HTTP: the lead moderator adds a school of
the network and takes it out, each said on the page; a moderator sees the schools but may not
change them; choosing no school is said beside the field."""

from __future__ import annotations

import html

from tests.e2e.flows import move
from tests.e2e.test_cluster_moderation import LEAD, _samples, _set_up, _sign, _start
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


def _at_the_twilight(site: World) -> str:
    """A round of the lead school with Alder and Birch, every sample in and signed off."""
    _set_up(site)
    c = _start(site)
    for school in ("sch-a", "sch-b"):
        site.post(LEAD, f"/cycles/{c}/participants", json={"school_id": school})
    site.put(LEAD, f"/cycles/{c}/dates/twilight", json={"at": "2026-10-08T16:00:00+01:00"})
    move(site, LEAD, c, "open_for_samples")
    for who, role in (("review_lead", "moderator"), ("reviewer", "moderator")):
        _samples(site, who, c)
        _sign(site, who, c, role)
    _samples(site, LEAD, c)
    _sign(site, LEAD, c, "lead_moderator")
    move(site, LEAD, c, "begin_twilight")
    return c


def test_the_lead_records_each_schools_outcome_on_the_question_page(site: World) -> None:
    c = _at_the_twilight(site)
    path = f"/app/cycles/{c}/review/writing.y6"
    with browser(site) as lead:
        sign_in(lead, LEAD)
        page = lead.get(path)
        assert page.status_code == 200
        text = html.unescape(page.text)
        # Every school is listed, none with an outcome yet, each with a link to record one.
        for name in ("(the lead school)", "Alder Primary School", "Birch Academy"):
            assert name in text
        assert text.count("Not yet recorded") == 3
        assert f"{path}?school=sch-a#peer-judgement" in page.text
        chosen = lead.get(f"{path}?school=sch-a")
        assert '<option value="sch-a" selected>' in chosen.text
        saved = lead.post(
            path,
            data={
                "csrf": csrf(chosen.text),
                "school_id": "sch-a",
                "grade": "exs",
                "narrative": "Alder: 24 of 28 agreed at the expected standard.",
            },
        )
        assert saved.status_code == 200 and "school=sch-a" in str(saved.url)
        text = html.unescape(saved.text)
        assert "The outcome for Alder Primary School is saved." in text
        assert "Alder: 24 of 28 agreed" in text and text.count("Not yet recorded") == 2
        # A school not taking part is said beside the field; nothing is saved.
        wrong = lead.post(
            path, data={"csrf": csrf(saved.text), "school_id": "sch-e", "narrative": "Elm's"}
        )
        assert wrong.status_code == 400
        assert "Choose one of the schools taking part" in html.unescape(wrong.text)
    outcomes = site.get(LEAD, f"/cycles/{c}/judgements").json()
    assert [(j["school_id"], j["grade"]) for j in outcomes] == [("sch-a", "exs")]
    # Alder's moderator reads Alder's outcome; Birch's reads none of it.
    with browser(site) as alder:
        sign_in(alder, "review_lead")
        assert "Alder: 24 of 28 agreed" in html.unescape(alder.get(path).text)
    with browser(site) as birch:
        sign_in(birch, "reviewer")
        text = html.unescape(birch.get(path).text)
        assert "Alder: 24 of 28" not in text and "Alder Primary School" not in text
        assert "Birch Academy" in text and text.count("Not yet recorded") == 1
