"""The series page in a real browser, by keyboard alone: an admin sets up a series of cycles
for a school on a school day of its network's calendar, sees it listed with its next day, and
cancels it; axe-core on each state."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from tests.web.conftest import Demo, assert_accessible, screenshot
from tests.web.test_admin_in_a_browser import press_and_load, tab_to
from tests.web.test_pages_in_a_browser import sign_in_with_the_keyboard

pytestmark = pytest.mark.browser

SCHOOL = "sch-102606"


def a_school_day(demo: Demo) -> date:
    """A day a few days ahead that the school's network counts as a school day."""
    auth = {"Authorization": f"Bearer {demo.token('admin')}"}
    school = httpx.get(f"{demo.base}/schools", headers=auth).json()
    network = next(s["network_id"] for s in school if s["id"] == SCHOOL)
    terms = httpx.get(f"{demo.base}/networks/{network}/calendar", headers=auth).json()["terms"]
    day = date.today() + timedelta(days=3)
    for _ in range(400):
        in_term = not terms or any(t["first"] <= day.isoformat() <= t["last"] for t in terms)
        if day.weekday() < 5 and in_term:
            return day
        day += timedelta(days=1)
    raise AssertionError("no school day in the coming year")


def test_a_series_is_set_up_and_cancelled_by_keyboard(page: Any, demo: Demo) -> None:
    day = a_school_day(demo)
    sign_in_with_the_keyboard(page, demo, "admin")
    page.goto(f"{demo.base}/app/start")
    tab_to(page, "(el.innerText || '').startsWith('Start cycles on several days')")
    press_and_load(page)
    assert page.inner_text("h1") == "Cycles that recur"
    assert_accessible(page, "the series page")

    tab_to(page, "el.id === 'title'")
    page.keyboard.type("Browser series")
    tab_to(page, "el.id === 'school'")
    page.select_option("#school", SCHOOL)
    tab_to(page, "el.id === 'day-1'")
    page.fill("#day-1", day.isoformat())
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Set up the series'")
    press_and_load(page)
    assert "The series is set up" in page.inner_text(".banner"), page.inner_text("main")
    card = page.locator("section.card", has_text="Browser series")
    assert f"{day.day} {day:%B %Y}" in card.inner_text()
    assert_accessible(page, "a series just set up")
    screenshot(page, "series")

    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Cancel Browser series'")
    press_and_load(page)
    assert "The series is cancelled" in page.inner_text(".banner")
    assert "Cancelled" in page.locator("section.card", has_text="Browser series").inner_text()
    assert_accessible(page, "a series just cancelled")
