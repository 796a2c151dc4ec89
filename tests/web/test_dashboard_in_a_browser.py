"""The network dashboard in a real browser (Debian's Chromium): the demo's partnership lead finds
an overdue cycle of their network and opens it by keyboard; the NLC chair sees the judgement
heatmap drawn only from the reports shared with them; the admin sees every network side by
side. axe-core on every page and state reached.

Demo cycles are not moved on (the demo server is shared with the other browser tests): the
report shared here, Northbank Academy's (with a strength its review lead adds on a question,
a record its stage takes), is withdrawn again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.web.conftest import Demo, assert_accessible, screenshot
from tests.web.test_pages_in_a_browser import sign_in_with_the_keyboard

pytestmark = pytest.mark.browser

NETWORK = "nlc-north"
REVIEWED = "cyc-138304"  # Northbank Academy, at its peer review, led by the demo review lead
HOST_HEAD = "reviewer"  # the demo's reviewer is Northbank Academy's head
QUESTION = "impact.outcomes"


def api(demo: Demo, role: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {demo.token(role)}"}
    return httpx.Client(base_url=demo.base, headers=headers, timeout=30)


def tab_to(page: Any, selector: str, presses: int = 120) -> None:
    """Tab forwards until `selector` has the focus, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def enter(page: Any) -> None:
    with page.expect_navigation():
        page.keyboard.press("Enter")


def fits_a_phone(page: Any) -> None:
    """At 320 px the page itself does not scroll sideways (a wide table scrolls in its box)."""
    page.set_viewport_size({"width": 320, "height": 800})
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert_accessible(page, f"{page.url} at 320 px")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert wide <= 320, f"{page.url} is {wide} px wide at 320 px"


def rows(page: Any) -> list[str]:
    """The schools of the heatmap's rows (none when there is no table)."""
    heads = page.locator("table.heatmap tbody th")
    return [heads.nth(i).inner_text().split("\n")[0].strip() for i in range(heads.count())]


@contextmanager
def shared(demo: Demo) -> Iterator[str]:
    """Northbank Academy's report, with a strength on QUESTION, shared with the network."""
    with api(demo, "review_lead") as lead:
        found = lead.post(
            f"/cycles/{REVIEWED}/findings",
            json={"kind": "strength", "text": "Pupils read widely.", "question_id": QUESTION},
        )
        assert found.status_code == 201, found.text
    with api(demo, HOST_HEAD) as head:
        made = head.post(
            f"/cycles/{REVIEWED}/shares", json={"grantee_kind": "network", "grantee_id": NETWORK}
        )
        assert made.status_code == 201, made.text
        try:
            yield str(made.json()["id"])
        finally:
            gone = head.delete(f"/cycles/{REVIEWED}/shares/{made.json()['id']}")
            assert gone.status_code == 200, gone.text


def test_the_partnership_lead_finds_an_overdue_cycle_and_opens_it_by_keyboard(
    page: Any, demo: Demo
) -> None:
    sign_in_with_the_keyboard(page, demo, "partnership_lead")
    tab_to(page, "a[href='/app/network']")
    enter(page)
    assert page.url == f"{demo.base}/app/network"
    assert page.inner_text("h1") == "Northbank NLC"
    chart = page.locator(".chart-box svg").first
    assert chart.get_attribute("role") == "img" and "Self-review" in chart.inner_html()
    assert "Cycles by stage" in page.inner_text("main")
    assert_accessible(page, "the network dashboard")
    fits_a_phone(page)
    screenshot(page, "network-dashboard")

    # The first overdue cycle, reached and opened by keyboard alone.
    assert page.locator("#overdue-cycles a").count() >= 1
    tab_to(page, "#overdue-cycles a")
    school = page.evaluate("document.activeElement.textContent").split(":")[0].strip()
    enter(page)
    assert re.fullmatch(rf"{re.escape(demo.base)}/app/cycles/[^/]+", page.url)
    assert page.inner_text("h1") == school
    assert_accessible(page, "an overdue cycle opened from the dashboard")

    # The figure leads to the list it counts; the list's cycles are the overdue ones.
    page.go_back()
    count = int(page.locator(".figures a[href$='cycles?overdue=1'] .figure-count").inner_text())
    page.click(".figures a[href$='cycles?overdue=1']")
    assert page.inner_text("h1") == "Overdue cycles"
    assert page.locator("tbody tr").count() == count
    assert page.locator("tbody .tag-red").count() == count
    assert_accessible(page, "the overdue cycles of the network")
    fits_a_phone(page)

    # A school that has not started this school year: its Start link chooses it in advance.
    page.goto(f"{demo.base}/app/network/{NETWORK}")
    start = page.locator("#not-started ~ ul a[href^='/app/start?school=']").first
    school_id = (start.get_attribute("href") or "").split("=", 1)[1]
    start.focus()
    enter(page)
    assert page.inner_text("h1") == "Start a cycle"
    assert page.eval_on_selector("#school", "s => s.value") == school_id
    assert_accessible(page, "starting a cycle from the dashboard")


def test_the_chair_sees_the_heatmap_only_from_the_reports_shared_with_them(
    page: Any, demo: Demo
) -> None:
    sign_in_with_the_keyboard(page, demo, "network_lead")
    page.goto(f"{demo.base}/app/network")
    assert page.inner_text("h1") == "Northbank NLC"
    assert_accessible(page, "the network dashboard, as its chair sees it")
    page.get_by_role("link", name="Judgement heatmap", exact=True).focus()
    enter(page)
    assert page.inner_text("h1") == "Judgement heatmap"
    before = rows(page)
    assert "Northbank Academy" not in before
    drawn = re.search(r"From (\d+) reports? shared with you", page.inner_text("main"))
    assert drawn and int(drawn.group(1)) == len(before)
    assert_accessible(page, "the heatmap before the share")

    with shared(demo):
        page.reload()
        after = rows(page)
        assert sorted(after) == sorted([*before, "Northbank Academy"])
        assert f"From {len(after)} report" in page.inner_text("main")
        row = page.locator("table.heatmap tbody tr", has=page.locator("th", has_text="Northbank"))
        first = row.locator("td").first
        assert first.inner_text().startswith("Strength")
        assert "heat-strength" in (first.get_attribute("class") or "")
        assert first.locator("a").get_attribute("href") == f"/app/cycles/{REVIEWED}/report"
        # Every cell says its answer in words; the colour only repeats it (the key says how).
        cells = row.locator("td")
        assert all(cells.nth(i).inner_text().strip() for i in range(cells.count()))
        assert "Strength" in page.inner_text(".legend")
        assert_accessible(page, "the heatmap with a shared report")
        fits_a_phone(page)
        screenshot(page, "heatmap")

        # A cell, by keyboard, opens the report it was drawn from.
        tab_to(page, f"table.heatmap a[href='/app/cycles/{REVIEWED}/report']")
        enter(page)
        assert page.inner_text("h1") == "Review report: Northbank Academy"
        assert_accessible(page, "a report opened from the heatmap")

        page.goto(f"{demo.base}/app/network/{NETWORK}/support")
        assert page.inner_text("h1") == "Support map"
        strong = page.inner_text("main").split("Where schools are strong", 1)[1]
        assert "Northbank Academy" in strong and "Pupils read widely." in strong
        assert_accessible(page, "the support map")

    page.goto(f"{demo.base}/app/network/{NETWORK}/heatmap")
    assert rows(page) == before  # withdrawn: the row has gone again

    # Another network's dashboard does not exist for this chair.
    missing = page.goto(f"{demo.base}/app/network/nlc-south")
    assert missing is not None and missing.status == 404
    assert_accessible(page, "another network's dashboard, not found")


def test_the_admin_sees_every_network_side_by_side(page: Any, demo: Demo) -> None:
    sign_in_with_the_keyboard(page, demo, "admin")
    tab_to(page, "a[href='/app/network']")
    enter(page)
    assert page.inner_text("h1") == "Your networks"
    assert_accessible(page, "the networks to choose from")
    page.get_by_role("link", name="Every network side by side").focus()
    enter(page)
    assert page.inner_text("h1") == "Every network"
    table = page.locator("#networks-caption").locator("xpath=..")
    assert table.locator("tbody tr").count() == 3
    assert_accessible(page, "every network side by side")
    fits_a_phone(page)
    # Each network's figure leads to its own list.
    page.locator("a[href='/app/network/nlc-central/cycles?active=1']").click()
    assert page.inner_text("h1") == "Cycles under way"
    assert "Central Riverside NLC" in page.inner_text(".caption")
    assert_accessible(page, "a network's cycles under way, from the borough view")
