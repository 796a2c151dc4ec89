"""The demo's admin in a real browser (Debian's Chromium): a template pasted with two mistakes,
each shown at its line, fixed and published by keyboard; the versions compared; people and
grants; a GIAS file previewed with its bad row and imported when confirmed; a network's term
dates checked, saved and removed. axe-core on every page and state reached.

What these add to the demo (a template of its own id, schools of no network) leaves the
networks, their schools and their cycles as the other browser tests find them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_dry_run import SAMPLES
from tests.unit.test_calendar_usecases import HALF_TERM_ICS
from tests.web.conftest import ROOT, Demo, assert_accessible, screenshot
from tests.web.test_pages_in_a_browser import sign_in_with_the_keyboard

pytestmark = pytest.mark.browser

CQA = (ROOT / "workflows" / "cqa.yaml").read_text()
GOOD = CQA.replace("id: cqa\n", "id: cqa-browser\n", 1).replace(
    "title: Collaborative Quality Analysis (CQA)", "title: Riverside CQA", 1
)
BAD = GOOD.replace("{date: spotlight_day}", "{date: spotlight}").replace(
    "actions_agreed: {min: 3}", "actions_agreed: {minimum: 3}"
)
SAMPLE = ROOT / "docs" / "gias-sample.csv"


def urns(demo: Demo) -> set[str]:
    """The URNs of every school, as the API lists them to the admin."""
    auth = {"Authorization": f"Bearer {demo.token('admin')}"}
    return {s["urn"] for s in httpx.get(f"{demo.base}/schools", headers=auth).json()}


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def tab_to(page: Any, test: str, limit: int = 80) -> None:
    """Press Tab until `test` (JavaScript, on `el`, the focused element) is true."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {test}; }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {test}")


def press_and_load(page: Any, key: str = "Enter") -> None:
    """Press `key` on a form's button and wait for the page it answers with."""
    with page.expect_navigation():
        page.keyboard.press(key)


def click_and_load(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def focused_text(page: Any) -> str:
    return " ".join(str(page.evaluate("document.activeElement.innerText || ''")).split())


def test_an_admin_fixes_a_template_at_its_lines_and_publishes_it_by_keyboard(
    page: Any, demo: Demo
) -> None:
    date_line = line_of(BAD, "{date: spotlight}")
    param_line = line_of(BAD, "{minimum: 3}")
    sign_in_with_the_keyboard(page, demo, "admin")
    tab_to(page, "el.getAttribute('href') === '/app/admin'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app/admin")
    assert page.inner_text("h1") == "Admin"
    assert_accessible(page, "the admin index")

    page.goto(f"{demo.base}/app/admin/templates")
    assert page.inner_text("h1") == "Templates"
    assert "Collaborative Quality Analysis (CQA)" in page.inner_text("main")
    assert_accessible(page, "the template library")
    # Pasted into the box, sent with the button: all by keyboard.
    tab_to(page, "el.id === 'source'")
    page.keyboard.insert_text(BAD)
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText.startsWith('Check and upload')")
    press_and_load(page)

    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    words = summary.inner_text()
    assert f"line {date_line}: transitions[0].requires[4].date: unknown cycle date" in words
    assert f"line {param_line}: transitions[3].requires[0].minimum:" in words
    assert "{date: spotlight}" in page.input_value("#source")  # what was sent is kept
    assert_accessible(page, "a template with two problems")
    screenshot(page, "admin-template-errors")

    # The summary's first link goes to the line, marked in words.
    page.keyboard.press("Tab")
    assert focused_text(page).startswith(f"line {date_line}:")
    page.keyboard.press("Enter")
    assert page.url.endswith(f"#line-{date_line}")
    row = page.locator(f"#line-{date_line}")
    assert row.is_visible() and f"Problem on line {date_line}" in row.inner_text()
    assert "{date: spotlight}" in row.inner_text()
    assert f"Problem on line {param_line}" in page.inner_text(f"#line-{param_line}")

    # From the line, back to the box to fix it (everything selected and replaced), and sent
    # again.
    page.keyboard.press("Tab")
    assert focused_text(page) == f"Fix it in the box (line {date_line})"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "source"
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(GOOD)
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText.startsWith('Check and upload')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app/admin/templates/cqa-browser?version=1&saved=uploaded")
    assert "Version 1 is uploaded as a draft" in page.inner_text(".banner")
    assert page.locator(".diagram svg").is_visible()
    assert_accessible(page, "a draft, before it is published")

    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Publish version 1'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app/admin/templates/cqa-browser?version=1&saved=published")
    assert "Version 1 is published" in page.inner_text(".banner")
    assert page.locator("button:has-text('Publish version 1')").count() == 0
    assert_accessible(page, "a version just published")

    page.goto(f"{demo.base}/app/admin/templates")
    library = page.inner_text("main")
    assert "Riverside CQA" in library and "cqa-browser" in library
    screenshot(page, "admin-templates")
    page.goto(f"{demo.base}/app/start")
    assert page.locator("label:has-text('Riverside CQA')").is_visible()


def test_two_versions_compared_say_what_was_added_and_removed(page: Any, demo: Demo) -> None:
    v1 = GOOD.replace("id: cqa-browser\n", "id: cqa-compared\n", 1)
    v2 = v1.replace("version: 1\n", "version: 2\n", 1).replace(
        "title: Spotlight on Learning day", "title: Spotlight on Learning visit"
    )
    sign_in_with_the_keyboard(page, demo, "admin")
    for text in (v1, v2):
        page.goto(f"{demo.base}/app/admin/templates")
        page.fill("#source", text)
        click_and_load(page, "button:has-text('Check and upload')")
        assert "is uploaded as a draft" in page.inner_text(".banner")
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Show the changes'")
    press_and_load(page)
    assert page.inner_text("h1") == "Changes from version 1 to version 2"
    assert "2 lines added, 2 lines removed" in page.inner_text("main")
    removed = page.locator("tr.diff-removed").all_inner_texts()
    added = page.locator("tr.diff-added").all_inner_texts()
    assert any("Removed" in r and "Spotlight on Learning day" in r for r in removed)
    assert any("Added" in a and "Spotlight on Learning visit" in a for a in added)
    assert_accessible(page, "the changes between two versions")
    page.select_option("#to_version", "1")
    click_and_load(page, "button:has-text('Show the changes')")
    assert "Choose two different versions to compare" in page.inner_text(".error-summary")
    assert_accessible(page, "the same version twice")


def test_a_draft_is_deleted_and_a_version_retired_by_keyboard(page: Any, demo: Demo) -> None:
    v1 = GOOD.replace("id: cqa-browser\n", "id: cqa-retired\n", 1).replace(
        "title: Riverside CQA", "title: Retiring CQA", 1
    )
    v2 = v1.replace("version: 1\n", "version: 2\n", 1)
    sign_in_with_the_keyboard(page, demo, "admin")
    for text in (v1, v2):
        page.goto(f"{demo.base}/app/admin/templates")
        page.fill("#source", text)
        click_and_load(page, "button:has-text('Check and upload')")
    page.goto(f"{demo.base}/app/admin/templates/cqa-retired?version=1")
    click_and_load(page, "button:has-text('Publish version 1')")

    page.goto(f"{demo.base}/app/admin/templates/cqa-retired?version=2")
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Delete the draft of version 2'")
    press_and_load(page)
    assert "The draft of version 2 is deleted" in page.inner_text(".banner")
    assert "Version 2" not in page.inner_text("table")
    assert_accessible(page, "a draft just deleted")

    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Retire version 1'")
    press_and_load(page)
    assert page.url.endswith("/app/admin/templates/cqa-retired?version=1&saved=retired")
    assert "Version 1 is retired" in page.inner_text(".banner")
    assert "Retired" in page.inner_text("table")
    assert page.locator("button:has-text('Retire version 1')").count() == 0
    assert_accessible(page, "a version just retired")
    page.goto(f"{demo.base}/app/admin/templates")
    assert "every published version is retired" in page.inner_text("main")
    page.goto(f"{demo.base}/app/start")
    assert page.locator("label:has-text('Retiring CQA')").count() == 0


def test_a_drafts_dates_are_tried_on_a_calendar_by_keyboard(page: Any, demo: Demo) -> None:
    auth = {"Authorization": f"Bearer {demo.token('admin')}", "content-type": "text/yaml"}
    draft = SAMPLES.replace("id: samples-round", "id: samples-browser", 1)
    assert httpx.post(f"{demo.base}/templates", content=draft, headers=auth).status_code == 201
    sign_in_with_the_keyboard(page, demo, "admin")
    page.goto(f"{demo.base}/app/admin/templates/samples-browser?version=1")
    tab_to(page, "(el.innerText || '').startsWith('Try its dates')")
    press_and_load(page)
    assert page.inner_text("h1") == "Try its dates on a calendar"
    assert_accessible(page, "the dry-run form")

    tab_to(page, "el.id === 'start'")
    page.fill("#start", "2026-10-19")
    tab_to(page, "el.id === 'date-twilight'")
    page.fill("#date-twilight", "2026-11-05")
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Show the dates'")
    press_and_load(page)
    timeline = page.inner_text("#timeline + p") + page.inner_text("table")
    assert "Samples in is due" in timeline and "Moves on by itself: Send the outcomes" in timeline
    assert_accessible(page, "a template's dates on a calendar")
    screenshot(page, "admin-dry-run")

    page.fill("#start", "")
    page.fill("#date-twilight", "")
    page.goto(f"{page.url.split('?')[0]}?start=19+October")
    summary = page.locator(".error-summary")
    assert summary.is_visible() and "Enter the start date as a date" in summary.inner_text()
    assert_accessible(page, "a dry run with a bad date")


def test_running_cycles_are_moved_to_a_new_version_after_their_preview_by_keyboard(
    page: Any, demo: Demo
) -> None:
    v1 = GOOD.replace("id: cqa-browser\n", "id: cqa-moving\n", 1).replace(
        "title: Riverside CQA", "title: Moving CQA", 1
    )
    v2 = v1.replace("version: 1\n", "version: 2\n", 1).replace("due: P4W", "due: P5W", 1)
    auth = {"Authorization": f"Bearer {demo.token('admin')}"}
    for text in (v1, v2):
        r = httpx.post(
            f"{demo.base}/templates?publish=true",
            content=text,
            headers={**auth, "content-type": "text/yaml"},
        )
        assert r.status_code == 201, r.text
    # The demo is shared by every browser test: the cycle is of a school of no network, which
    # no dashboard shows.
    school = {"urn": "149999", "name": "Moving Test School", "phase": "Primary"}
    made = httpx.post(f"{demo.base}/schools", json=school, headers=auth)
    assert made.status_code == 201, made.text
    body = {"template_id": "cqa-moving", "host_school_id": made.json()["id"], "template_version": 1}
    started = httpx.post(f"{demo.base}/cycles", json=body, headers=auth)
    assert started.status_code == 201, started.text
    cycle = started.json()["id"]

    sign_in_with_the_keyboard(page, demo, "admin")
    page.goto(f"{demo.base}/app/admin/templates/cqa-moving?version=2")
    tab_to(page, "(el.innerText || '').startsWith('Move running cycles to version 2')")
    press_and_load(page)
    assert page.inner_text("h1") == "Move running cycles to version 2"
    plan = page.inner_text("#cycles")
    assert "Stays at Data and audit activities agreed, moving from version 1 to 2." in plan
    assert "Moved: Data and audit activities agreed is due, from" in plan
    assert_accessible(page, "the preview of moving running cycles")
    screenshot(page, "admin-move-cycles")

    tab_to(page, f"el.value === '{cycle}'")
    assert page.evaluate("document.activeElement.checked")  # chosen by default
    tab_to(page, "el.id === 'reason'")
    page.keyboard.type("The partnership gave the audit a fifth week")
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText.startsWith('Move the chosen cycles')")
    press_and_load(page)
    assert "1 cycle moved to version 2" in page.inner_text(".banner")
    assert_accessible(page, "cycles just moved to a new version")
    view = httpx.get(f"{demo.base}/cycles/{cycle}", headers=auth).json()
    assert view["template_version"] == 2


def test_people_and_their_roles_and_a_person_refused_beside_the_fields(
    page: Any, demo: Demo
) -> None:
    sign_in_with_the_keyboard(page, demo, "admin")
    page.goto(f"{demo.base}/app/admin/people")
    assert page.inner_text("h1") == "People and grants"
    assert "Pat Admin" in page.locator("table.people-table").first.inner_text()
    assert_accessible(page, "people and grants")
    page.fill("#email", "not an address")
    click_and_load(page, "button:has-text('Add the person')")
    summary = page.inner_text(".error-summary")
    assert "Enter the person's full name" in summary
    assert "Enter an email address like name@school.example" in summary
    assert page.input_value("#email") == "not an address"
    assert_accessible(page, "a person refused")


def test_a_gias_file_is_previewed_with_its_bad_row_then_imported(
    page: Any, demo: Demo, tmp_path: Path
) -> None:
    lines = SAMPLE.read_text().splitlines()
    lines[3] = lines[3].replace("138401", "13840X")  # line 4 of the file
    gias = tmp_path / "gias.csv"
    gias.write_text("\n".join(lines) + "\n")
    sign_in_with_the_keyboard(page, demo, "admin")
    page.goto(f"{demo.base}/app/admin/schools")
    assert page.inner_text("h1") == "Schools"
    assert "Northbank NLC" in page.inner_text("main")
    assert_accessible(page, "the schools")

    # Sent without a network chosen: refused beside the field, nothing read.
    page.set_input_files("#file", str(gias))
    click_and_load(page, "button:has-text('Check the file')")
    assert "Choose the network these schools join" in page.inner_text(".error-summary")
    assert_accessible(page, "an import refused")

    page.set_input_files("#file", str(gias))
    page.focus("#network")
    page.select_option("#network", "none")
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Check the file'")
    press_and_load(page)
    assert page.inner_text("h1") == "Check the schools to import"
    main = page.inner_text("main")
    assert "Nothing is imported yet" in main and "4 schools to add, 1 row with problems" in main
    assert "line 4: URN '13840X' is not a six-digit number" in main
    assert_accessible(page, "the import's preview")

    assert "131301" not in urns(demo)  # nothing imported yet
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText.startsWith('Add 4 schools')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app/admin/schools?imported=4")
    assert "4 schools added" in page.inner_text(".banner")
    assert "Elmstead Primary School" in page.inner_text("main")
    assert "Quayside Academy" not in page.inner_text("main")  # its row had the problem
    assert {"131301", "131302", "100601", "102701"} <= urns(demo)
    assert_accessible(page, "schools just imported")


def test_a_networks_term_dates_are_checked_then_saved_and_removed_by_keyboard(
    page: Any, demo: Demo, tmp_path: Path
) -> None:
    ics = tmp_path / "southside-terms.ics"
    ics.write_bytes(HALF_TERM_ICS)
    sign_in_with_the_keyboard(page, demo, "admin")
    page.goto(f"{demo.base}/app/admin/calendars")
    assert page.inner_text("h1") == "School calendars"
    assert_accessible(page, "the school calendars")
    page.focus("a[href='/app/admin/calendars/nlc-south']")
    press_and_load(page)
    assert "No terms are loaded" in page.inner_text("main")

    page.set_input_files("#file", str(ics))
    page.focus("#file")
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Check the terms'")
    press_and_load(page)
    assert page.inner_text("h1").startswith("Check the calendar for")
    table = page.inner_text(".terms-table")
    assert "Autumn half-term: Monday 26 October 2026 to Friday 30 October 2026" in table
    assert "71" in page.inner_text(".terms-table tfoot")
    assert_accessible(page, "a calendar's preview")
    screenshot(page, "admin-calendar")

    tab_to(page, "el.tagName === 'BUTTON' && el.innerText.startsWith('Save these terms')")
    press_and_load(page)
    assert "Deadlines planned from now on count these school days" in page.inner_text(".banner")
    auth = {"Authorization": f"Bearer {demo.token('admin')}"}
    saved = httpx.get(f"{demo.base}/networks/nlc-south/calendar", headers=auth).json()
    assert (saved["source"], saved["school_days"]) == ("own", 71)
    assert_accessible(page, "a calendar just saved")

    # Removed again, so the other browser tests find the demo's weekdays.
    tab_to(page, "el.tagName === 'BUTTON' && el.innerText === 'Remove the terms'")
    press_and_load(page)
    assert "counts Monday to Friday again" in page.inner_text(".banner")
    removed = httpx.get(f"{demo.base}/networks/nlc-south/calendar", headers=auth).json()
    assert removed["source"] == "weekdays"
