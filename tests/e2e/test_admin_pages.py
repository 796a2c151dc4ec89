"""The admin's pages through HTTP: a template uploaded with mistakes, each shown at its line and
fixed, published and started; a diff between versions; people and grants; a GIAS import
previewed before anything is stored; and everyone else refused the pages."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from tests.e2e.test_pages import browser, csrf, sign_in
from tests.e2e.world import WORKFLOWS, World

SAMPLE = Path(__file__).parents[2] / "docs" / "gias-sample.csv"
CQA = (WORKFLOWS / "cqa.yaml").read_text()
GOOD = CQA.replace("id: cqa\n", "id: cqa-local\n", 1).replace(
    "title: Collaborative Quality Analysis (CQA)", "title: Riverside CQA", 1
)
# Two slips of the kind docs/templates.md walks through: a date that is not declared and a
# parameter the requirement does not have.
BAD = GOOD.replace("{date: spotlight_day}", "{date: spotlight}").replace(
    "actions_agreed: {min: 3}", "actions_agreed: {minimum: 3}"
)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_an_admin_fixes_two_mistakes_at_their_lines_publishes_and_starts_a_cycle(
    site: World,
) -> None:
    date_line = line_of(BAD, "{date: spotlight}")
    param_line = line_of(BAD, "{minimum: 3}")
    with browser(site) as admin:
        sign_in(admin, "admin")
        library = admin.get("/app/admin/templates")
        assert library.status_code == 200
        assert "Collaborative Quality Analysis (CQA)" in library.text
        token = csrf(library.text)

        r = admin.post("/app/admin/templates", data={"csrf": token, "source": BAD})
        assert r.status_code == 400
        summary = r.text.split('class="error-summary"')[1].split("</div>")[0]
        assert f'href="#line-{date_line}"' in summary
        assert f"line {date_line}: transitions[0].requires[4].date: unknown cycle date" in summary
        assert f'href="#line-{param_line}"' in summary
        assert f"line {param_line}: transitions[3].requires[0].minimum:" in summary
        # The lines themselves are marked in words, and what was typed is kept to fix.
        assert f'id="line-{date_line}"' in r.text and f'id="line-{param_line}"' in r.text
        assert f"Problem on line {date_line}" in r.text
        assert f"Problem on line {param_line}" in r.text
        assert "{date: spotlight}" in r.text.split('id="source"')[1].split("</textarea>")[0]
        assert "cqa-local" not in admin.get("/app/admin/templates").text  # nothing stored

        # One fixed, one left: only the one left is shown.
        half = BAD.replace("{date: spotlight}", "{date: spotlight_day}")
        r = admin.post("/app/admin/templates", data={"csrf": token, "source": half})
        assert r.status_code == 400
        assert f"line {param_line}:" in r.text and f"line {date_line}:" not in r.text

        # Fixed, as a file this time: stored as a draft, which cannot start a cycle.
        r = admin.post(
            "/app/admin/templates",
            data={"csrf": token, "source": ""},
            files={"file": ("cqa-local.yaml", GOOD.encode(), "application/yaml")},
        )
        assert r.status_code == 200, r.text
        assert "Version 1 is uploaded as a draft" in r.text
        assert str(r.url).endswith("/app/admin/templates/cqa-local?version=1&saved=uploaded")
        assert "<svg" in r.text and "Publish version 1" in r.text
        assert 'value="cqa-local"' not in admin.get("/app/start").text

        r = admin.post(
            "/app/admin/templates/cqa-local/versions/1/publish", data={"csrf": csrf(r.text)}
        )
        assert r.status_code == 200 and "Version 1 is published" in r.text
        assert "Publish version 1" not in r.text

        # Published, it is offered to start a cycle on, and one starts.
        start = admin.get("/app/start")
        assert 'value="cqa-local"' in start.text and "Riverside CQA" in start.text
        r = admin.post(
            "/app/start",
            data={"csrf": csrf(start.text), "template": "cqa-local", "school": "sch-h"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        cycle_id = r.headers["location"].split("/app/cycles/")[1].split("?")[0]
    cycle = site.get("admin", f"/cycles/{cycle_id}").json()
    assert cycle["template_id"] == "cqa-local" and cycle["template_version"] == 1


def test_a_published_version_is_not_replaced_and_the_page_says_what_to_do(site: World) -> None:
    with browser(site) as admin:
        sign_in(admin, "admin")
        token = csrf(admin.get("/app/admin/templates").text)
        r = admin.post("/app/admin/templates", data={"csrf": token, "source": CQA})
        assert r.status_code == 409
        assert "is published and never changes; upload it as version 2" in r.text
        assert 'href="#source"' in r.text
        r = admin.post("/app/admin/templates", data={"csrf": token, "source": "  "})
        assert r.status_code == 400 and "Paste the template, or choose its file" in r.text
        r = admin.post("/app/admin/templates", data={"csrf": token, "source": "id: [unclosed"})
        assert r.status_code == 400 and "YAML syntax error" in r.text
        r = admin.post(
            "/app/admin/templates",
            data={"csrf": token},
            files={"file": ("t.yaml", b"\xff\xfe\x00binary", "application/octet-stream")},
        )
        assert r.status_code == 400 and "The file is not a text file" in r.text
        r = admin.post("/app/admin/templates", data={"source": CQA})
        assert r.status_code == 400 and "This form had expired" in r.text
        # Larger than the API takes: refused beside the field, as a file or as pasted text.
        big = CQA + "#" * (512 * 1024)
        r = admin.post(
            "/app/admin/templates",
            data={"csrf": token},
            files={"file": ("big.yaml", big.encode(), "application/yaml")},
        )
        assert r.status_code == 413 and "The file is larger than 512 KB" in r.text
        r = admin.post("/app/admin/templates", data={"csrf": token, "source": big * 3})
        assert r.status_code == 413 and "The template is larger than 512 KB" in r.text


def test_the_diff_between_two_versions_says_what_was_added_and_removed(site: World) -> None:
    v2 = CQA.replace("version: 1\n", "version: 2\n", 1).replace(
        "title: Spotlight on Learning day", "title: Spotlight on Learning visit"
    )
    with browser(site) as admin:
        sign_in(admin, "admin")
        token = csrf(admin.get("/app/admin/templates").text)
        r = admin.post("/app/admin/templates", data={"csrf": token, "source": v2})
        assert r.status_code == 200 and "Version 2 is uploaded as a draft" in r.text
        assert 'name="from_version"' in r.text  # two versions: they can be compared

        r = admin.get("/app/admin/templates/cqa/diff?from_version=1&to_version=2")
        assert r.status_code == 200
        assert "Changes from version 1 to version 2" in r.text
        assert "2 lines added, 2 lines removed" in r.text
        rows = re.findall(r'<tr class="diff-(\w+)">(.*?)</tr>', r.text, flags=re.S)
        removed = [body for kind, body in rows if kind == "removed"]
        added = [body for kind, body in rows if kind == "added"]
        assert any("<del>" in b and "version: 1" in b and "Removed" in b for b in removed)
        assert any("<ins>" in b and "Spotlight on Learning visit" in b and "Added" in b
                   for b in added)  # fmt: skip
        assert "unchanged lines not shown" in r.text  # the long unchanged runs are folded

        r = admin.get("/app/admin/templates/cqa/diff?from_version=2&to_version=2")
        assert r.status_code == 400 and "Choose two different versions" in r.text
        r = admin.get("/app/admin/templates/cqa/diff?from_version=9&to_version=x")
        assert r.status_code == 400 and 'href="#from_version"' in r.text
        assert admin.get("/app/admin/templates/nothing-here").status_code == 404
        assert admin.get("/app/admin/templates/cqa?version=7").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/app/admin",
        "/app/admin/templates",
        "/app/admin/templates/cqa",
        "/app/admin/templates/cqa/diff?from_version=1&to_version=1",
        "/app/admin/people",
        "/app/admin/schools",
    ],
)
def test_anyone_but_the_admin_gets_403_pages_and_no_admin_link(site: World, path: str) -> None:
    with browser(site) as pl:
        sign_in(pl, "pl_own")
        tasks = pl.get("/app")
        assert tasks.status_code == 200 and 'href="/app/admin"' not in tasks.text
        r = pl.get(path)
        assert r.status_code == 403 and "You cannot see this part" in r.text
        assert "only an admin may do this" in r.text


def test_anyone_but_the_admin_is_refused_every_admin_form(site: World) -> None:
    sample = SAMPLE.read_bytes()
    with browser(site) as head:
        sign_in(head, "head_own")
        token = csrf(head.get("/app").text)
        posts = [
            head.post("/app/admin/templates", data={"csrf": token, "source": CQA}),
            head.post("/app/admin/templates/cqa/versions/1/publish", data={"csrf": token}),
            head.post("/app/admin/people", data={"csrf": token, "name": "X", "email": "x@y.uk"}),
            head.post(
                "/app/admin/grants",
                data={"csrf": token, "person": "p-head-h", "role": "admin", "where": "global"},
            ),
            head.post("/app/admin/grants/g-p-head-h-0/remove", data={"csrf": token}),
            head.post(
                "/app/admin/schools/import",
                data={"csrf": token, "network": "nlc-n"},
                files={"file": ("gias.csv", sample, "text/csv")},
            ),
            head.post(
                "/app/admin/schools/import/confirm",
                data={"csrf": token, "network": "nlc-n", "csv": sample.decode()},
            ),
        ]
        assert [r.status_code for r in posts] == [403] * len(posts)
    assert site.get("head_own", "/people/p-head-h/grants").json()[0]["role"] == "school_lead"
    assert not any(s["urn"] == "131301" for s in site.get("admin", "/schools").json())


def test_people_by_school_with_their_roles_add_a_person_give_and_remove_a_role(
    site: World,
) -> None:
    with browser(site) as admin:
        sign_in(admin, "admin")
        page = admin.get("/app/admin/people")
        assert page.status_code == 200
        holders = page.text.split('id="holders"')[1]
        host = re.split(r"<h[34][ >]", holders.split(">Host Primary School</h4>")[1])[0]
        assert "Head Own" in host and "School lead" in host
        # The seeded grants were stored without who gave them: the page says so, not a guess.
        assert "not recorded" in host
        token = csrf(page.text)

        r = admin.post("/app/admin/people", data={"csrf": token, "name": "", "email": "nope"})
        assert r.status_code == 400
        assert 'href="#name"' in r.text and 'href="#email"' in r.text
        assert "Enter an email address like name@school.example" in r.text
        assert 'value="nope"' in r.text  # what was typed is kept
        r = admin.post("/app/admin/people", data={"csrf": token, "name": "Dup",
                                                  "email": "p-head-h@school.example"})  # fmt: skip
        assert r.status_code == 400 and "Someone already has that email address" in r.text
        r = admin.post("/app/admin/people", data={"csrf": token, "name": "Ada Lovelace",
                                                  "email": "ada@birch.example",
                                                  "school": "sch-b"})  # fmt: skip
        assert r.status_code == 200 and "Ada Lovelace is added" in r.text
        ada = next(p for p in site.get("admin", "/people").json() if p["name"] == "Ada Lovelace")
        assert ada["school_id"] == "sch-b"

        r = admin.post("/app/admin/grants", data={"csrf": token, "person": ada["id"]})
        assert r.status_code == 400
        assert 'href="#grant-role"' in r.text and 'href="#grant-where"' in r.text
        r = admin.post("/app/admin/grants", data={"csrf": token, "person": ada["id"],
                                                  "role": "school_staff",
                                                  "where": "school:sch-nowhere"})  # fmt: skip
        assert r.status_code == 400 and "Choose one from the list" in r.text
        r = admin.post("/app/admin/grants", data={"csrf": token, "person": ada["id"],
                                                  "role": "school_staff",
                                                  "where": "school:sch-b"})  # fmt: skip
        assert r.status_code == 200 and "The role is given to Ada Lovelace" in r.text
        grants = site.get("admin", f"/people/{ada['id']}/grants").json()
        assert [(g["role"], g["scope_kind"], g["scope_id"]) for g in grants] == [
            ("school_staff", "school", "sch-b")
        ]
        birch = re.split(r"<h[34][ >]", r.text.split(">Birch Academy</h4>")[1])[0]
        ada_row = birch.split("Ada Lovelace")[1].split("</tr>")[0]
        # Who gave the role and when, beside it (the admin is named "Admin" here).
        assert "School staff" in ada_row and "<td>Admin</td>" in ada_row
        assert "Monday 14 September 2026 at 09:00" in ada_row

        # Nobody gives themselves a role that opens a school's confidential content: the
        # refusal is said in words, and nothing is saved.
        r = admin.post("/app/admin/grants", data={"csrf": token, "person": "p-admin",
                                                  "role": "school_lead",
                                                  "where": "school:sch-h"})  # fmt: skip
        assert r.status_code == 409 and "There is a problem" in r.text
        assert "You cannot give yourself the role school_lead" in r.text
        assert [g["role"] for g in site.get("admin", "/people/p-admin/grants").json()] == ["admin"]

        r = admin.post(
            f"/app/admin/grants/{grants[0]['id']}/remove",
            data={"csrf": token, "person": ada["id"]},
        )
        assert r.status_code == 200 and "The role is removed from Ada Lovelace" in r.text
        assert site.get("admin", f"/people/{ada['id']}/grants").json() == []


def test_a_gias_file_is_previewed_with_its_bad_rows_and_imported_only_when_confirmed(
    site: World,
) -> None:
    lines = SAMPLE.read_text().splitlines()
    # Line 4 of the file gets a URN that is not one; the closed school (last line) is left out.
    lines[3] = lines[3].replace("138401", "13840X")
    text = "\n".join(lines) + "\n"
    before = {s["urn"] for s in site.get("admin", "/schools").json()}
    with browser(site) as admin:
        sign_in(admin, "admin")
        page = admin.get("/app/admin/schools")
        assert page.status_code == 200 and "Northbank NLC" in page.text
        token = csrf(page.text)

        r = admin.post(
            "/app/admin/schools/import",
            data={"csrf": token, "network": "nlc-n"},
            files={"file": ("gias.csv", text.encode("cp1252"), "text/csv")},
        )
        assert r.status_code == 200, r.text
        assert "Nothing is imported yet" in r.text
        assert "4 schools to add, 1 row with problems" in r.text
        assert "line 4: URN &#39;13840X&#39; is not a six-digit number" in r.text
        shown = r.text.split('name="csv"')[0]
        assert "Elmstead Primary School" in shown
        assert "Old Mill Primary School" not in shown  # closed, so left out
        assert {s["urn"] for s in site.get("admin", "/schools").json()} == before

        confirm = r.text.split('action="/app/admin/schools/import/confirm"')[1].split("</form>")[0]
        csv_sent = re.search(r'name="csv" value="([^"]*)"', confirm, flags=re.S)
        assert csv_sent and "Add 4 schools, leaving out the 1 row with problems" in confirm
        r = admin.post(
            "/app/admin/schools/import/confirm",
            data={"csrf": token, "network": "nlc-n", "csv": html.unescape(csv_sent.group(1))},
        )
        assert r.status_code == 200 and "4 schools added" in r.text
        added = {s["urn"]: s for s in site.get("admin", "/schools").json()}
        assert set(added) - before == {"131301", "131302", "100601", "102701"}
        assert added["131301"]["network_id"] == "nlc-n"
        northbank = r.text.split(">Northbank NLC <span")[1].split("<h3")[0]
        assert "Elmstead Primary School" in northbank

        # The same file again adds nothing: those schools are known by their URN.
        r = admin.post(
            "/app/admin/schools/import",
            data={"csrf": token, "network": "nlc-n"},
            files={"file": ("gias.csv", text.encode(), "text/csv")},
        )
        assert r.status_code == 200 and "0 schools to add" in r.text
        assert "Add 0" not in r.text and "4 already in Peerloop" in r.text


def test_a_gias_file_that_cannot_be_read_is_refused_beside_the_field(site: World) -> None:
    with browser(site) as admin:
        sign_in(admin, "admin")
        token = csrf(admin.get("/app/admin/schools").text)
        cases = [
            ({"network": "nlc-n"}, None, 400, "Choose the CSV file exported from GIAS"),
            ({}, ("g.csv", SAMPLE.read_bytes()), 400, "Choose the network these schools join"),
            ({"network": "nlc-nowhere"}, ("g.csv", SAMPLE.read_bytes()), 400,
             "Choose a network from the list"),
            ({"network": "none"}, ("g.csv", b"Name,Phase\nA,Primary\n"), 400,
             "Line 1: missing column(s): URN, EstablishmentName"),
            ({"network": "none"}, ("g.csv", b"URN,EstablishmentName,PhaseOfEducation (name)\n"
                                   b"12,,Primary\n"), 400,
             "Line 2: URN &#39;12&#39; is not a six-digit number; EstablishmentName is empty"),
            ({"network": "none"}, ("g.pdf", b"%PDF\x00\x01"), 400, "not a CSV text file"),
            ({"network": "none"}, ("g.csv", b"URN,x\n" + b"1" * (3 * 1024 * 1024)), 413,
             "The file is larger than 2 MB"),
        ]  # fmt: skip
        for fields, file, status, words in cases:
            files = {"file": (file[0], file[1], "text/csv")} if file else None
            r = admin.post("/app/admin/schools/import", data={"csrf": token, **fields}, files=files)
            assert r.status_code == status, (words, r.text)
            assert "There is a problem" in r.text and words in r.text, words
            assert 'href="#' in r.text
    assert not any(s["urn"] == "131301" for s in site.get("admin", "/schools").json())


def test_the_admin_index_counts_and_links_each_part(site: World) -> None:
    with browser(site) as admin:
        sign_in(admin, "admin")
        tasks = admin.get("/app")
        assert 'href="/app/admin"' in tasks.text
        r = admin.get("/app/admin")
        assert r.status_code == 200
        for href in ("/app/admin/templates", "/app/admin/people", "/app/admin/schools"):
            assert f'href="{href}"' in r.text
        assert "9 schools in 2 networks" in r.text
