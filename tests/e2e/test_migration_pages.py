"""The admin's page for moving running cycles to a newer version, through HTTP: each cycle on
an older version with its preview in words, a cycle that cannot move shown so and not offered;
the reason and the choice asked beside their fields; the chosen cycles moved, the others left;
and the page refused to anyone but an admin."""

from __future__ import annotations

import html

from tests.e2e.flows import evidence, ok, start
from tests.e2e.test_migration import SPP, V2
from tests.e2e.test_pages import browser, csrf, sign_in
from tests.e2e.world import World

PAGE = "/app/admin/templates/spp-cycle/versions/2/move-cycles"


def _publish(site: World, text: str) -> None:
    headers = {"content-type": "text/yaml"}
    ok(site.post("admin", "/templates?publish=true", content=text, headers=headers), 201)


def test_an_admin_reads_each_cycles_preview_and_moves_those_chosen(site: World) -> None:
    first, second = start(site), start(site)
    _publish(site, V2)
    with browser(site) as admin:
        sign_in(admin, "admin")
        version = admin.get("/app/admin/templates/spp-cycle?version=2")
        assert f'href="{PAGE}"' in version.text
        page = admin.get(PAGE)
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "The cycles on older versions (2)" in text
        assert text.count("Stays at Self-review, moving from version 1 to 2.") == 2
        assert "Moved: Self-review is due, from Monday 26 October 2026 at 09:00" in text

        # Nothing chosen and no reason: both said beside their fields, nothing moved.
        token = csrf(page.text)
        r = admin.post(PAGE, data={"csrf": token}, follow_redirects=False)
        assert r.status_code == 400
        summary = r.text.split('class="error-summary"')[1].split("</div>")[0]
        assert 'href="#cycles"' in summary and 'href="#reason"' in summary
        assert 'id="reason-error"' in r.text

        r = admin.post(
            PAGE,
            data={"csrf": token, "cycle": [first], "reason": "Agreed at the January meeting"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        done = admin.get(r.headers["location"])
        assert "1 cycle moved to version 2" in done.text
    assert ok(site.get("admin", f"/cycles/{first}"))["template_version"] == 2
    assert ok(site.get("admin", f"/cycles/{second}"))["template_version"] == 1
    history = ok(site.get("admin", f"/cycles/{first}/history"))
    assert history[-1]["reason"].endswith("giving the reason: Agreed at the January meeting")


def test_a_cycle_that_cannot_move_is_shown_so_and_the_page_is_the_admins(site: World) -> None:
    c = start(site)
    evidence(site, "head_own", c, "impact.outcomes")
    _publish(site, SPP.replace("version: 1", "version: 2", 1).replace("impact.outcomes", "x.y"))
    with browser(site) as admin:
        sign_in(admin, "admin")
        page = admin.get(PAGE)
        text = html.unescape(page.text)
        assert "Cannot move: version 2 has no question 'impact.outcomes'" in text
        assert f'value="{c}" disabled' in page.text
        r = admin.post(
            PAGE,
            data={"csrf": csrf(page.text), "cycle": [c], "reason": "New wording"},
            follow_redirects=False,
        )
        assert r.status_code == 409 and "No cycle was moved" in html.unescape(r.text)
    with browser(site) as head:
        sign_in(head, "head_own")
        assert head.get(PAGE).status_code in (403, 404)
