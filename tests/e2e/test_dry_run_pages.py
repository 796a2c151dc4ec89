"""The admin's dry-run page through HTTP: a draft's dates tried on a network's terms before it
is published, each stage's due date and reminder in words; a bad date beside its field; and
the page refused to anyone but an admin."""

from __future__ import annotations

import html

from tests.e2e.flows import ok
from tests.e2e.test_calendars import AUTUMN
from tests.e2e.test_dry_run import SAMPLES
from tests.e2e.test_pages import browser, sign_in
from tests.e2e.world import World

PAGE = "/app/admin/templates/samples-round/versions/1/dry-run"


def test_an_admin_sees_a_drafts_dates_on_a_networks_terms(site: World) -> None:
    ok(
        site.post("admin", "/templates", content=SAMPLES, headers={"content-type": "text/yaml"}),
        201,
    )
    ok(site.put("admin", "/networks/nlc-n/calendar", json=AUTUMN))
    with browser(site) as admin:
        sign_in(admin, "admin")
        version = admin.get("/app/admin/templates/samples-round?version=1")
        assert f'href="{PAGE}"' in version.text
        empty = admin.get(PAGE)
        assert empty.status_code == 200 and 'id="timeline"' not in empty.text
        assert 'id="date-twilight"' in empty.text  # the template's own cycle date is asked
        r = admin.get(
            PAGE, params={"network": "nlc-n", "start": "2026-10-19", "date-twilight": "2026-11-05"}
        )
        assert r.status_code == 200, r.text
        text = html.unescape(r.text)
        table = text.split('id="timeline"')[1].split("</table>")[0]
        assert "Counted on " in text and "own terms" in text
        assert "Thursday 22 October 2026 at 09:00</strong>: Reminder to the Moderator" in table
        assert "Monday 2 November 2026 at 09:00</strong>: Samples in is due" in table
        assert (
            "Friday 6 November 2026 at 11:00</strong>: Moves on by itself: Send the outcomes"
            in (table)
        )
        assert 'value="2026-10-19"' in r.text  # what was asked stays in the form


def test_a_bad_date_is_shown_beside_its_field(site: World) -> None:
    ok(
        site.post("admin", "/templates", content=SAMPLES, headers={"content-type": "text/yaml"}),
        201,
    )
    with browser(site) as admin:
        sign_in(admin, "admin")
        r = admin.get(PAGE, params={"start": "19 October", "date-twilight": "soon"})
        assert r.status_code == 400
        summary = r.text.split('class="error-summary"')[1].split("</div>")[0]
        assert 'href="#start"' in summary and 'href="#date-twilight"' in summary
        assert 'id="start-error"' in r.text and 'id="timeline"' not in r.text
        r = admin.get(PAGE, params={"start": "2026-10-19", "network": "nlc-nowhere"})
        assert r.status_code == 400 and "Choose a network from the list" in r.text


def test_only_an_admin_opens_the_dry_run_page(site: World) -> None:
    ok(
        site.post("admin", "/templates", content=SAMPLES, headers={"content-type": "text/yaml"}),
        201,
    )
    with browser(site) as lead:
        sign_in(lead, "pl_own")
        assert lead.get(PAGE, params={"start": "2026-10-19"}).status_code == 403
