"""The network dashboard, the borough view, the heatmap and the support map through the pages:
what a partnership lead and a chair see of their network, that nobody sees another's, and that
the heatmap is drawn only from the reports shared with the viewer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.e2e.flows import CQA_QUESTIONS, assign, evidence, move, ok, sign, spp_to, start
from tests.e2e.test_pages import browser, sign_in
from tests.e2e.world import World

GRADES = ["strong", "established", "developing", "emerging", "established"]
"""The peer judgement of each CQA question, best first on CQA's scale."""


def _overdue(site: World) -> str:
    """An SPP cycle of the own network in support, with its two actions past their due date
    (1 February 2027) and the support stage past its due time. The API's tokens have expired
    by then: call the API before this."""
    c = start(site)
    spp_to(site, c, "support", fill=False)
    site.clock.set(datetime(2027, 6, 1, 9, 0, tzinfo=UTC))
    return c


def _cqa_report(site: World, school: str, head: str) -> str:
    """A CQA cycle of `school` at its review days, graded on every question by the team."""
    c = start(site, "cqa", school)
    assign(site, c, "review_lead", "review_lead")
    assign(site, c, "reviewer", "reviewer")
    for q in CQA_QUESTIONS:
        evidence(site, "review_lead", c, q)
    for day, at in (
        ("spotlight_day", "2026-10-05T08:30:00Z"),
        ("audit_day", "2026-10-06T08:30:00Z"),
    ):
        ok(site.put("review_lead", f"/cycles/{c}/dates/{day}", json={"at": at}))
    sign(site, head, c, "school_lead")
    sign(site, "review_lead", c, "review_lead")
    move(site, "review_lead", c, "agree_data_and_audit")
    for q, grade in zip(CQA_QUESTIONS, GRADES, strict=True):
        ok(
            site.put(
                "review_lead",
                f"/cycles/{c}/judgements/peer/{q}",
                json={"narrative": f"Seen on the review days: {q}", "grade": grade},
            )
        )
    ok(
        site.post(
            "reviewer",
            f"/cycles/{c}/findings",
            json={
                "kind": "area_for_improvement",
                "text": "Use assessment to adapt lessons.",
                "question_id": CQA_QUESTIONS[2],
            },
        ),
        201,
    )
    return c


def _rows(html: str) -> list[str]:
    """The school of each row of the heatmap's table."""
    body = html.split('class="table heatmap"')[1].split("</tbody>")[0].split("<tbody>")[1]
    return re.findall(r'<th scope="row">([^<]+)<br>', body)


def test_a_partnership_lead_finds_the_overdue_cycles_of_their_network_and_opens_one(
    site: World,
) -> None:
    other = start(site, school="sch-x", who="pl_other")
    c = _overdue(site)
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        # One network: the Network link leads straight to its dashboard.
        page = pl.get("/app/network")
        assert page.status_code == 200 and "<h1>Northbank NLC</h1>" in page.text
        assert (
            "Content-Security-Policy" in page.headers
            and "no-store" in page.headers["cache-control"]
        )
        figures = page.text.split('id="figures"')[1].split("</ul>")[0]
        late = r'cycles\?overdue=1"><span class="figure-count">1</span> overdue cycle<'
        assert re.search(r'href="/app/network/nlc-n/' + late, figures)
        assert re.search(r'<span class="figure-count">2</span> overdue actions', figures)
        overdue = page.text.split('id="overdue"')[1].split("<h2")[0]
        assert f'href="/app/cycles/{c}"' in overdue and "Host Primary School" in overdue
        assert "Xylem" not in page.text and other not in page.text
        # The chart is drawn on the server, one bar per working stage, with its words.
        chart = page.text.split('<svg xmlns="http://www.w3.org/2000/svg" role="img"')[1].split(
            "</svg>"
        )[0]
        assert '<title id="chart-spp-cycle-title">' in chart and "School-to-school support" in chart
        assert "<style" not in chart and "style=" not in chart
        # The actions are the partnership lead's to read: named, with their owner.
        actions = page.text.split('id="overdue-actions"')[1].split("<h2")[0]
        assert "Whole-school feedback policy" in actions and "Reading fair" in actions
        assert "Monday 1 February 2027" in actions
        # Each figure leads to the list it counts, and each cycle there opens.
        listed = pl.get("/app/network/nlc-n/cycles?overdue=1")
        assert listed.status_code == 200 and "<h1>Overdue cycles</h1>" in listed.text
        assert re.findall(r'href="/app/cycles/([^"/]+)"', listed.text) == [c]
        at_stage = pl.get("/app/network/nlc-n/cycles?template=spp-cycle&stage=support")
        assert (
            "Cycles at School-to-school support (Schools Partnership Programme cycle)"
            in at_stage.text
        )
        assert f'href="/app/cycles/{c}"' in at_stage.text
        opened = pl.get(f"/app/cycles/{c}")
        assert opened.status_code == 200 and "Host Primary School" in opened.text
        # A filter that is not one is refused, not guessed at.
        assert pl.get("/app/network/nlc-n/cycles?overdue=yes").status_code == 400


def test_a_chair_of_another_network_sees_none_of_them(site: World) -> None:
    c = _overdue(site)
    with browser(site) as chair:
        sign_in(chair, "chair_other")
        own = chair.get("/app/network")
        assert own.status_code == 200 and "<h1>Southmere NLC</h1>" in own.text
        assert c not in own.text and "Host Primary School" not in own.text
        for path in (
            "/app/network/nlc-n",
            "/app/network/nlc-n/cycles?overdue=1",
            "/app/network/nlc-n/heatmap",
            "/app/network/nlc-n/support",
            "/app/borough",
        ):
            r = chair.get(path)
            assert r.status_code == 404, path
            assert c not in r.text and "Northbank" not in r.text
    with browser(site) as chair:
        # The chair of the network sees the overdue action, not what it is (the plan is not theirs).
        sign_in(chair, "chair_own")
        actions = (
            chair.get("/app/network/nlc-n").text.split('id="overdue-actions"')[1].split("<h2")[0]
        )
        assert (
            "An action of the school&#39;s plan" in actions
            or "An action of the school's plan" in actions
        )
        assert "Whole-school feedback policy" not in actions and "Deputy head" not in actions


def test_the_heatmap_shows_only_shared_reports_and_says_so(site: World) -> None:
    shared = _cqa_report(site, "sch-h", "head_own")
    _cqa_report(site, "sch-e", "head_other")
    with browser(site) as chair:
        sign_in(chair, "chair_own")
        before = chair.get("/app/network/nlc-n/heatmap?template=cqa")
        assert before.status_code == 200
        assert (
            "From 0 reports shared with you. 7 schools of Northbank NLC have not shared theirs"
            in before.text
        )
        assert (
            'class="table heatmap"' not in before.text and "Host Primary School" not in before.text
        )
        ok(site.post("head_own", f"/cycles/{shared}/shares",
                     json={"grantee_kind": "network", "grantee_id": "nlc-n"}), 201)  # fmt: skip
        after = chair.get("/app/network/nlc-n/heatmap?template=cqa")
        assert (
            "From 1 report shared with you. 6 schools of Northbank NLC have not shared theirs"
            in after.text
        )
        assert _rows(after.text) == ["Host Primary School"]
        cells = re.findall(r'<td class="heat heat-([\w-]+)"><a href="([^"]+)">([^<]+)<', after.text)
        assert [(tone, words) for tone, _, words in cells] == [
            ("grade-1", "Strong"),
            ("grade-2", "Established"),
            ("grade-4", "Developing"),
            ("grade-5", "Emerging"),
            ("grade-2", "Established"),
        ]
        assert {href for _, href, _ in cells} == {f"/app/cycles/{shared}/report"}
        legend = after.text.split('class="legend"')[1].split("</ul>")[0]
        assert all(words in legend for words in ("Strong", "Established", "Developing", "Emerging"))
        assert chair.get(f"/app/cycles/{shared}/report").status_code == 200
        # The support map reads the same report: the area to develop, on its question.
        support = chair.get("/app/network/nlc-n/support?template=cqa")
        assert support.status_code == 200
        wanted = support.text.split('id="wanted"')[1].split('id="strong"')[0]
        assert "Host Primary School: How well does the school use assessment" in wanted
        assert "Use assessment to adapt lessons." in wanted
        # Elm's report is not shared: nowhere on either page.
        assert "Elm Primary School" not in after.text and "Elm Primary School" not in support.text
    with browser(site) as pl:
        # The partnership lead of the other network reads no Northbank report: to them, none.
        sign_in(pl, "pl_other")
        assert pl.get("/app/network/nlc-n/heatmap?template=cqa").status_code == 404


def test_the_schools_that_have_not_started_this_school_year_with_a_start_link(site: World) -> None:
    start(site)  # Host Primary School, on 14 September 2026
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        page = pl.get("/app/network/nlc-n")
        year = page.text.split('id="school-year"')[1]
        assert "From Tuesday 1 September 2026 to Tuesday 31 August 2027: 1 of 7 schools" in year
        missing = year.split('id="not-started"')[1].split("</ul>")[0]
        assert "Host Primary School" not in missing
        assert re.findall(r"<li class=\"not-started\">([^<]+?) <a", missing) == [
            "Alder Primary School",
            "Birch Academy",
            "Cedar Primary School",
            "Damson Infant School",
            "Elm Primary School",
            "Fir Secondary School",
        ]
        assert 'href="/app/start?school=sch-a"' in missing
        started = pl.get("/app/network/nlc-n/cycles?started=this")
        assert "<h1>Cycles started this school year</h1>" in started.text
        assert "Host Primary School" in started.text
        form = pl.get("/app/start?school=sch-a")
        assert '<option value="sch-a" selected>' in form.text
    with browser(site) as chair:
        # The chair sees who has not started; starting a cycle is the partnership lead's.
        sign_in(chair, "chair_own")
        missing = chair.get("/app/network/nlc-n").text.split('id="not-started"')[1].split("<h3")[0]
        assert "Alder Primary School" in missing and "/app/start" not in missing
    # A new school year: nobody has started yet.
    site.clock.set(site.clock.now() + timedelta(days=365))
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        year = pl.get("/app/network/nlc-n").text.split('id="school-year"')[1]
        assert "0 of 7 schools" in year and "Host Primary School" in year.split("</ul>")[0]


def test_the_admin_sees_every_network_side_by_side(site: World) -> None:
    start(site, school="sch-x", who="pl_other")
    c = _overdue(site)
    with browser(site) as admin:
        sign_in(admin, "admin")
        chooser = admin.get("/app/network")
        assert chooser.status_code == 200 and "Your networks" in chooser.text
        assert 'href="/app/network/nlc-n"' in chooser.text and 'href="/app/borough"' in chooser.text
        page = admin.get("/app/borough")
        assert page.status_code == 200 and "<h1>Every network</h1>" in page.text
        table = page.text.split('id="networks-caption"')[1].split("</table>")[0]
        rows = dict(
            re.findall(r'<a href="/app/network/(nlc-\w)">[^<]+</a></th>(.*?)</tr>', table, re.S)
        )
        # Southmere's cycle has stayed in its self-review since September: overdue too.
        for net, cycles, actions in (("nlc-n", 1, 2), ("nlc-s", 1, 0)):
            assert re.search(rf'cycles\?overdue=1">{cycles}<', rows[net])
            assert re.search(
                rf'>{actions}<span class="visually-hidden"> overdue actions', rows[net]
            )
        assert "<svg" in page.text and "Cycles under way in each network" in page.text
        assert admin.get("/app/network/nlc-n/cycles?overdue=1").text.count(f"/app/cycles/{c}") == 1


def test_the_partnership_lead_sets_review_teams_from_the_dashboard(site: World) -> None:
    c = start(site)
    spp_to(site, c, "pre_review", fill=False)  # the self-review submitted: a team to choose
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        page = pl.get("/app/network/nlc-n").text
        teams = page.split('id="teams"')[1].split("</ul>")[0]
        assert "Host Primary School: Schools Partnership Programme" in teams
        assert "no team yet" in teams and f'href="/app/cycles/{c}/team"' in teams
        # The link opens the team page, where the team is chosen.
        team_page = pl.get(f"/app/cycles/{c}/team")
        assert team_page.status_code == 200 and "<h1>Team and dates</h1>" in team_page.text
    assign(site, c, "review_lead", "review_lead")
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        teams = pl.get("/app/network/nlc-n").text.split('id="teams"')[1].split("</ul>")[0]
        assert "1 member chosen" in teams
    with browser(site) as chair:
        # The chair watches the network but does not set teams: no list to act on.
        sign_in(chair, "chair_own")
        assert 'id="teams"' not in chair.get("/app/network/nlc-n").text
