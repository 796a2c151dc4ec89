"""The admin's school-calendar pages through HTTP: an ICS file checked term by term before it
is saved, its school days shown, mistakes beside the field with nothing saved, the network's
own terms removed, and everyone else refused."""

from __future__ import annotations

import html

from tests.e2e.test_pages import browser, csrf, sign_in
from tests.e2e.world import World
from tests.unit.test_calendar_usecases import HALF_TERM_ICS


def test_an_admin_checks_an_ics_file_then_saves_it_for_a_network(site: World) -> None:
    with browser(site) as admin:
        sign_in(admin, "admin")
        overview = admin.get("/app/admin/calendars")
        assert overview.status_code == 200
        assert (
            "Monday to Friday" in overview.text
            and 'href="/app/admin/calendars/nlc-n"' in overview.text
        )
        page = admin.get("/app/admin/calendars/nlc-n")
        assert "No terms are loaded" in page.text
        token = csrf(page.text)
        r = admin.post(
            "/app/admin/calendars/nlc-n/import",
            data={"csrf": token},
            files={"file": ("riverside.ics", HALF_TERM_ICS, "text/calendar")},
        )
        assert r.status_code == 200, r.text
        text = html.unescape(r.text)
        assert "Nothing is saved yet" in text and "71 school days" in text
        assert (
            "Autumn half-term: Monday 26 October 2026 to Friday 30 October 2026 (5 school days)"
            in text
        )
        table = text.split('class="table terms-table"')[1].split("</table>")[0]
        assert "Autumn term" in table and "Parents' evening" not in table
        # Only the preview: the network still counts weekdays.
        assert site.get("admin", "/networks/nlc-n/calendar").json()["source"] == "weekdays"
        r = admin.post(
            "/app/admin/calendars/nlc-n/import/confirm",
            data={
                "csrf": csrf(r.text),
                "filename": "riverside.ics",
                "source": HALF_TERM_ICS.decode(),
            },
        )
        assert r.status_code == 200 and str(r.url).endswith(
            "/app/admin/calendars/nlc-n?saved=imported"
        )
        assert "Deadlines planned from now on count these school days" in r.text
        assert "Its own terms: 71 school days" in r.text
        assert site.get("head_own", "/networks/nlc-n/calendar").json()["school_days"] == 71
        assert "Its own terms (1 term)" in admin.get("/app/admin/calendars").text

        r = admin.post("/app/admin/calendars/nlc-n/remove", data={"csrf": csrf(r.text)})
        assert r.status_code == 200 and "counts Monday to Friday again" in html.unescape(r.text)
        assert site.get("admin", "/networks/nlc-n/calendar").json()["source"] == "weekdays"


def test_mistakes_are_shown_beside_the_field_and_nothing_is_saved(site: World) -> None:
    with browser(site) as admin:
        sign_in(admin, "admin")
        token = csrf(admin.get("/app/admin/calendars/default").text)
        pasted = "terms:\n  - {name: Autumn, first: 2026-12-18, last: 2026-09-03}\n"
        r = admin.post(
            "/app/admin/calendars/default/import", data={"csrf": token, "source": pasted}
        )
        assert r.status_code == 400
        summary = r.text.split('class="error-summary"')[1].split("</div>")[0]
        assert 'href="#file"' in summary and "ends before it starts" in summary
        assert 'id="file-error"' in r.text and "2026-12-18" in r.text  # what was typed is kept
        r = admin.post("/app/admin/calendars/default/import", data={"csrf": token, "source": ""})
        assert r.status_code == 400 and "Choose the calendar file, or paste the terms" in r.text
        r = admin.post(
            "/app/admin/calendars/default/import",
            data={"csrf": token},
            files={"file": ("terms.ics", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n", "text/calendar")},
        )
        assert r.status_code == 400 and "no term dates" in r.text
        r = admin.post(
            "/app/admin/calendars/default/import",
            data={"csrf": token},
            files={"file": ("t.ics", b"\xff\xfe\x00binary", "application/octet-stream")},
        )
        assert r.status_code == 400 and "The file is not a text file" in r.text
        r = admin.post(
            "/app/admin/calendars/default/import",
            data={"csrf": token},
            files={"file": ("big.ics", b"X" * (1024 * 1024 + 1), "text/calendar")},
        )
        assert r.status_code == 413 and "larger than" in r.text
        assert admin.get("/app/admin/calendars/nlc-missing").status_code == 404
    assert site.get("admin", "/networks/default/calendar").json()["source"] == "weekdays"


def test_only_an_admin_opens_the_calendar_pages(site: World) -> None:
    with browser(site) as lead:
        sign_in(lead, "pl_own")
        assert lead.get("/app/admin/calendars").status_code == 403
        page = lead.get("/app/admin/calendars/nlc-n")
        assert page.status_code == 403 and "Autumn" not in page.text
        token = csrf(lead.get("/app").text)
        r = lead.post("/app/admin/calendars/nlc-n/remove", data={"csrf": token})
        assert r.status_code == 403


def test_the_partnership_default_is_shown_as_its_own_terms_and_can_be_removed(site: World) -> None:
    terms = {"terms": [{"name": "Autumn term", "first": "2026-09-03", "last": "2026-12-18"}]}
    assert site.put("admin", "/networks/default/calendar", json=terms).status_code == 200
    with browser(site) as admin:
        sign_in(admin, "admin")
        page = admin.get("/app/admin/calendars/default")
        assert "These terms: 77 school days" in page.text and "Remove these terms" in page.text
        assert "counts the partnership" not in page.text.split("<h1")[1].split("</p>")[0]
        r = admin.post("/app/admin/calendars/default/remove", data={"csrf": csrf(page.text)})
        assert r.status_code == 200 and "No terms are loaded" in r.text
    assert site.get("admin", "/networks/default/calendar").json()["source"] == "weekdays"
