"""The documents people hand over, as PDF: a finished cycle's self-evaluation, peer review
report and action plan, read back as text (the school, the cycle, the content, who it was
produced for and when), and refused to whoever may not read their content."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import pypdf
import pytest

from service.web import documents
from service.web.documents import (
    STATIC,
    DocumentTooSlow,
    attachment,
    own_static_files,
    render_pdf,
)
from service.web.view import in_words
from tests.e2e.flows import SPP_PATH, cqa_to_close, move, ok, spp_to, start
from tests.e2e.test_pages import browser, sign_in
from tests.e2e.world import World

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def closed_cycle(w: World) -> str:
    """An SPP cycle played to closed, its first action answering the area to develop."""
    c = start(w)
    spp_to(w, c, "improvement_workshop")
    findings = ok(w.get("head_own", f"/cycles/{c}"))["findings"]
    area = next(f for f in findings if f["kind"] == "area_to_develop")
    policy = next(
        a
        for a in ok(w.get("head_own", f"/cycles/{c}/actions"))
        if a["title"] == "Whole-school feedback policy"
    )
    fields = {k: policy[k] for k in ("title", "owner", "due", "success_criteria")}
    ok(w.put("champion", f"/cycles/{c}/actions/{policy['id']}",
             json={**fields, "finding_id": area["id"]}))  # fmt: skip
    move(w, "champion", c, "agree_actions")
    for stage, work, who, transition in SPP_PATH:
        if stage in ("support", "follow_up"):
            work(w, c)
            move(w, who, c, transition)
    return c


def text_of(pdf: bytes) -> str:
    """The PDF's text, its lines joined with single spaces."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def download(client: Any, path: str) -> bytes:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content.startswith(b"%PDF-")
    return bytes(r.content)


def refused(client: Any, path: str, status: int) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == status, f"{path}: {r.status_code}"
    assert "application/pdf" not in r.headers.get("content-type", "")
    assert b"%PDF" not in r.content
    assert "content-disposition" not in r.headers


def producer(w: World, who: str) -> str:
    """The line on every document: who it was produced for and when (the world's clock, in
    Europe/London, in words)."""
    return f"Produced for {who} by Peerloop on {in_words(w.clock.now())}"


def test_a_finished_cycle_s_documents_carry_the_school_the_cycle_and_what_was_found(
    site: World,
) -> None:
    c = closed_cycle(site)
    on = site.clock.now().date().isoformat()
    with browser(site) as head:
        sign_in(head, "head_own")
        for page, pdf in (("report", "report.pdf"), ("self-review", "self-review.pdf"),
                          ("actions", "actions.pdf")):  # fmt: skip
            assert (
                f'href="/app/cycles/{c}/{pdf}">Download as PDF</a>'
                in head.get(f"/app/cycles/{c}/{page}").text
            )

        r = head.get(f"/app/cycles/{c}/report.pdf")
        assert r.status_code == 200, r.text[:3000]
        assert r.headers["content-disposition"] == (
            f'attachment; filename="Host Primary School peer review report {on}.pdf"'
        )
        report = download(head, f"/app/cycles/{c}/report.pdf")
        text = text_of(report)
        for words in (
            "Peer review report",
            "Host Primary School",
            "Framework Schools Partnership Programme cycle",
            f"Cycle {c}",
            "Stage Closed",
            producer(site, "Head Own"),
            "Review Lead (Review lead)",
            "Reading in KS2",
            "Strong reading culture across the school.",
            "No peer judgement recorded.",
            "Strengths Pupils read widely.",
            "Areas to develop Feedback in writing is not acted on.",
            f"Host Primary School · Peer review report · cycle {c}",
            "Page 1 of",
        ):
            assert words in text, words
        screenshot_first_page(report, "report-pdf")

        plan = text_of(download(head, f"/app/cycles/{c}/actions.pdf"))
        for words in (
            "Action plan",
            "Host Primary School",
            producer(site, "Head Own"),
            "Whole-school feedback policy",
            "Reading fair",
            "Owner Deputy head",
            "Due Monday 1 February 2027",
            "Success criteria Seen in book looks",
            "The finding it answers Area to develop: Feedback in writing is not acted on.",
            "Green Met",
            "Amber Partially met",
            "Checked at the impact review",
            "Elm Primary School",
            "Joint book look with Elm's English lead",
        ):
            assert words in plan, words

        own = text_of(download(head, f"/app/cycles/{c}/self-review.pdf"))
        for words in (
            "Self-evaluation",
            "Host Primary School",
            producer(site, "Head Own"),
            "Reading in KS2",
            "To what extent do all groups of pupils achieve well",
            "Our view on impact.outcomes: secure, with next steps.",
            "Evidence for impact.outcomes",
        ):
            assert words in own, words


def test_the_report_pdf_is_refused_to_whoever_may_not_read_the_report_until_it_is_shared(
    site: World,
) -> None:
    c = closed_cycle(site)
    report, own, plan = (f"/app/cycles/{c}/{d}.pdf" for d in ("report", "self-review", "actions"))
    with browser(site) as anonymous:
        r = anonymous.get(report, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/app/sign-in?next=")
    with browser(site) as chair:
        sign_in(chair, "chair_own")  # sees the network's cycles: their stages, nothing inside
        refused(chair, report, 404)
        refused(chair, own, 403)
        refused(chair, plan, 403)
    with browser(site) as staff:
        sign_in(staff, "staff_own")  # the host's staff read the self-review and the plan
        refused(staff, report, 404)
        their_plan = text_of(download(staff, plan))
        assert "Whole-school feedback policy" in their_plan
        # The action answers a finding, which is the report's: named, not quoted.
        assert "The finding it answers A finding of the review (in the report)" in their_plan
        assert "Feedback in writing is not acted on." not in their_plan
        assert producer(site, "Staff Own") in text_of(download(staff, own))
    with browser(site) as elm:
        sign_in(elm, "head_other")  # another school's head: no part in this cycle
        for path in (report, own, plan):
            refused(elm, path, 404)

    ok(site.post("head_own", f"/cycles/{c}/shares",
                 json={"grantee_kind": "network", "grantee_id": "nlc-n"}), 201)  # fmt: skip
    with browser(site) as chair:
        sign_in(chair, "chair_own")
        text = text_of(download(chair, report))
        assert "Pupils read widely." in text and producer(site, "Chair Own") in text
        refused(chair, plan, 403)  # a share opens the report, not the plan


def test_a_document_not_ready_in_time_is_a_page_saying_so(
    site: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = start(site)

    def too_slow(html: str) -> bytes:
        raise DocumentTooSlow

    monkeypatch.setattr(documents, "render_pdf", too_slow)
    with browser(site) as head:
        sign_in(head, "head_own")
        r = head.get(f"/app/cycles/{c}/self-review.pdf")
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    assert "The document is not ready" in r.text and b"%PDF" not in r.content


def test_a_graded_framework_s_report_gives_each_grade_in_words(site: World) -> None:
    c = start(site, "cqa")
    cqa_to_close(site, c)
    with browser(site) as head:
        sign_in(head, "head_own")
        text = text_of(download(head, f"/app/cycles/{c}/report.pdf"))
    assert "Established Agreed at the closing session" in text
    assert "Areas for improvement Use assessment to adapt lessons." in text


def test_a_file_name_that_is_not_plain_ascii_is_also_given_in_utf_8() -> None:
    assert attachment("Host Primary School action plan 2026-09-14.pdf") == (
        'attachment; filename="Host Primary School action plan 2026-09-14.pdf"'
    )
    assert attachment("École Saint-Exupéry self-evaluation 2026-09-14.pdf") == (
        'attachment; filename="Ecole Saint-Exupery self-evaluation 2026-09-14.pdf"; '
        "filename*=UTF-8''%C3%89cole%20Saint-Exup%C3%A9ry%20self-evaluation%202026-09-14.pdf"
    )


def test_a_document_fetches_only_peerloop_s_own_static_files() -> None:
    fetcher = own_static_files()
    css = fetcher.fetch((STATIC / "peerloop.css").as_uri())
    assert b"@media print" in css.read()
    css.close()
    for url in (
        "http://127.0.0.1:9/logo.png",
        "https://example.org/font.woff2",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/hostname",
        (STATIC / "peerloop.css").as_uri().replace("/static/peerloop.css", "/pages.py"),
        (STATIC.as_uri() + "/../pages.py"),
        "file://elsewhere" + str(STATIC / "peerloop.css"),
    ):
        with pytest.raises(ValueError, match="only Peerloop's static files"):
            fetcher.fetch(url)
    # What is refused is left out, and the document is still made.
    pdf = render_pdf('<p>Kept</p><img src="http://127.0.0.1:9/x.png" alt="">')
    assert "Kept" in text_of(pdf)


def test_a_document_not_drawn_in_time_is_not_waited_for() -> None:
    def slow(html: str) -> bytes:
        time.sleep(0.5)
        return b"%PDF-"

    started = time.monotonic()
    with pytest.raises(DocumentTooSlow):
        render_pdf("<p>Slow</p>", seconds=0.05, draw=slow)
    assert time.monotonic() - started < 0.4


def screenshot_first_page(pdf: bytes, name: str) -> Path:
    """docs/screenshots/<name>.png, page 1 at 110 dpi: made when missing, or again with
    PEERLOOP_SCREENSHOTS=1 (the document carries its date, so every run would change it)."""
    import pypdfium2

    path = SHOTS / f"{name}.png"
    if path.exists() and os.environ.get("PEERLOOP_SCREENSHOTS") != "1":
        return path
    SHOTS.mkdir(parents=True, exist_ok=True)
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=110 / 72).to_pil()
        image.save(path, optimize=True)
    finally:
        document.close()
    return path
