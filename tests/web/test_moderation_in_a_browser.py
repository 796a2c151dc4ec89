"""A round of cluster moderation in a real browser, by keyboard alone: at the twilight the lead
moderator records one school's outcome on a year group from the list of the schools taking
part, and sees it beside the others still to record; axe-core on each state.

The demo is shared by every browser test: the round's schools are of no network, which no
dashboard shows, and its lead moderator is a person of its own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.conftest import Demo, assert_accessible, screenshot
from tests.web.test_admin_in_a_browser import press_and_load, tab_to

pytestmark = pytest.mark.browser

EMAIL = "lead.moderator@lime.sch.example"


def _round_at_the_twilight(demo: Demo) -> str:
    base, auth = demo.base, {"Authorization": f"Bearer {demo.token('admin')}"}

    def call(method: str, path: str, **kw: Any) -> Any:
        r = httpx.request(method, f"{base}{path}", headers=auth, **kw)
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    schools = [
        call("POST", "/schools", json={"urn": urn, "name": name, "phase": "Primary"})["id"]
        for urn, name in (
            ("148801", "Lime Primary"),
            ("148802", "Oak Infants"),
            ("148803", "Yew Juniors"),
        )
    ]
    lead = call(
        "POST", "/people", json={"name": "Lena Lead", "email": EMAIL, "school_id": schools[0]}
    )
    call("PUT", f"/people/{lead['id']}/password", json={"password": demo.password})
    grant = {"person_id": lead["id"], "role": "lead_moderator", "scope_kind": "school"}
    call("POST", "/grants", json={**grant, "scope_id": schools[0]})
    # A school of no network has no lead moderator of its network to start it: the admin does.
    body = {"template_id": "cluster-moderation", "host_school_id": schools[0]}
    cycle = call("POST", "/cycles", json=body)["id"]
    login = {"email": EMAIL, "password": demo.password}
    secret = httpx.post(f"{base}/auth/login", json=login).json()["secret"]
    auth = {"Authorization": f"Bearer {secret}"}  # the round is the lead moderator's to run
    for school in schools[1:]:
        call("POST", f"/cycles/{cycle}/participants", json={"school_id": school})
    admin = {"Authorization": f"Bearer {demo.token('admin')}"}
    for name in ("open_for_samples", "begin_twilight"):  # the samples are not the point here
        forced = {"force_reason": "set up for the browser test"}
        tag = httpx.get(f"{base}/cycles/{cycle}", headers=admin).headers["etag"]
        headers = {**admin, "If-Match": tag}
        r = httpx.post(f"{base}/cycles/{cycle}/transitions/{name}", json=forced, headers=headers)
        assert r.status_code == 200, r.text
    return str(cycle)


def test_the_lead_records_a_schools_outcome_by_keyboard(page: Any, demo: Demo) -> None:
    cycle = _round_at_the_twilight(demo)
    page.goto(f"{demo.base}/app/sign-in")
    page.fill("#email", EMAIL)
    page.fill("#password", demo.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app")
    page.goto(f"{demo.base}/app/cycles/{cycle}/review/writing.y6")
    table = page.locator("table", has_text="Oak Infants").inner_text()
    assert table.count("Not yet recorded") == 3 and "Lime Primary (the lead school)" in table
    assert_accessible(page, "each school's outcome on a question")

    tab_to(
        page, "(el.innerText || '').startsWith('Record') && el.innerText.includes('Oak Infants')"
    )
    press_and_load(page)
    assert page.input_value("#school_id") != ""
    tab_to(page, "el.id === 'grade'")  # the scale's first point; arrows move along it
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "grade-exs"
    tab_to(page, "el.id === 'narrative'")
    page.keyboard.type("Oak: 19 of 21 agreed at the expected standard.")
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Save the peer judgement'")
    press_and_load(page)
    assert "The outcome for Oak Infants is saved." in page.inner_text(".banner")
    table = page.locator("table", has_text="Oak Infants").inner_text()
    assert "Oak: 19 of 21 agreed" in table and table.count("Not yet recorded") == 2
    assert_accessible(page, "one school's outcome just recorded")
    screenshot(page, "moderation-outcomes")
