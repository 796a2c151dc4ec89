"""The browser machinery works end to end: the offline API reference page in Chromium."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.helpers import (
    DemoService,
    assert_accessible,
    expect,
    focused,
    parse_demo_output,
    screenshot,
    tab_to,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_the_api_reference_opens_is_accessible_and_tab_reaches_its_first_link(
    page: Page, demo_service: DemoService
) -> None:
    page.goto("/reference")
    expect(page).to_have_title("Peerloop API reference")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Peerloop")
    assert_accessible(page, context="the API reference")

    first = page.get_by_role("link").first
    name = " ".join(first.inner_text().split())
    reached = tab_to(page, name, role="link")
    assert reached.presses == 1, f"the first Tab went to {reached}"
    assert first.evaluate("el => el === document.activeElement")
    assert focused(page) == reached._replace(presses=0)


def test_the_api_reference_has_headings_in_order_and_fits_a_phone(
    phone_page: Page, demo_service: DemoService
) -> None:
    phone_page.goto("/reference")
    found = assert_accessible(phone_page, context="the API reference on a phone")
    assert not [v["id"] for v in found], "even minor and moderate findings are fixed here"
    # Nothing reaches past the screen's edge (half a pixel is rounding, not a scrollbar).
    past_the_edge = phone_page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)"
        ".slice(0, 5).map(e => e.tagName + ' ' + e.className)"
    )
    assert past_the_edge == [], f"these scroll sideways on a phone: {past_the_edge}"


def test_the_service_printed_its_demo_people(demo_service: DemoService) -> None:
    assert {"school_lead", "review_lead"} <= set(demo_service.tokens), demo_service.printed
    assert all(t.startswith("plt_") for t in demo_service.tokens.values())
    assert demo_service.people["school_lead"].name, demo_service.printed


def test_a_phone_page_is_phone_sized_and_screenshots_are_pngs(
    phone_page: Page, tmp_path: Path
) -> None:
    phone_page.goto("/reference")
    assert phone_page.viewport_size == {"width": 375, "height": 812}
    assert phone_page.evaluate("screen.width") == 375
    path = screenshot(phone_page, "reference-phone", full_page=False, directory=tmp_path)
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (375, 812)
    before = path.stat().st_mtime_ns
    screenshot(phone_page, "reference-phone", full_page=False, directory=tmp_path)
    assert path.stat().st_mtime_ns == before, "an unchanged picture is not rewritten"


def test_tab_to_says_where_the_focus_went_when_it_never_arrives(page: Page) -> None:
    page.set_content('<main><a href="#a">One</a> <button>Two</button></main>')
    went = r'(?s)never reached.*1\. link "One".*2\. button "Two"'
    with pytest.raises(AssertionError, match=went):
        tab_to(page, "Three", max_presses=3)
    assert tab_to(page, re.compile("^On")).name == "One"


def test_assert_accessible_names_each_violation_and_its_elements(page: Page) -> None:
    page.set_content(
        '<html lang="en"><title>Broken</title><main><img src="x.png"><button></button></main>'
    )
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page, context="a broken page")
    message = str(failed.value)
    assert message.startswith("a broken page: 2 serious/critical")
    assert "- image-alt (critical): Images must have alternative text" in message
    assert "- button-name (critical)" in message and "at button" in message and "at img" in message


def test_the_demo_lines_are_read_with_or_without_emails_and_passwords() -> None:
    printed = """Loading the demo partnership  [####################################]  100%
Peerloop demo: open http://127.0.0.1:8000/app in a browser
Sign in as any of these people with the password Xy-12_abCD34
(API reference: http://127.0.0.1:8000/reference). Their API tokens, valid 7 days, for
  school_lead            Ada Head           ada@alder.example.sch.uk           plt_aaa111
  review_lead            Ben Lead           plt_bbb222
  reviewer               Cy Reviewer        cy@example.org  password: own-secret
"""
    people, password = parse_demo_output(printed)
    assert password == "Xy-12_abCD34"
    assert people["school_lead"].name == "Ada Head"
    assert people["school_lead"].email == "ada@alder.example.sch.uk"
    assert people["school_lead"].token == "plt_aaa111"
    assert people["school_lead"].password == "Xy-12_abCD34"
    assert (people["review_lead"].name, people["review_lead"].email) == ("Ben Lead", None)
    assert (people["reviewer"].token, people["reviewer"].password) == (None, "own-secret")
    assert parse_demo_output("  school_lead  Ada Head  plt_x\n")[1] is None
