"""Evidence upload on a question page in a real browser (Debian's Chromium): the drop zone, the
checks before sending, the progress bar and the server's own error page, from static/upload.js;
and the plain form, which still works with JavaScript off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Demo, assert_accessible

pytestmark = pytest.mark.browser

HEADS_CYCLE = "cyc-131201"  # Alder Grove Primary School, in its self-review
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
MB = 1024 * 1024

# The other browser tests add evidence to the first question: each test here takes its own.
DROP, TOO_BIG, LARGE, NO_SCRIPT, KEYBOARD, OFFLINE, SERVER_SAYS_NO = range(1, 8)


def sign_in(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.base}/app/sign-in")
    page.fill("#email", demo.email("school_lead"))
    page.fill("#password", demo.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base}/app")


def open_question(page: Any, demo: Demo, n: int) -> str:
    """The head's nth question of the self-review, opened; its address."""
    sign_in(page, demo)
    page.goto(f"{demo.base}/app/cycles/{HEADS_CYCLE}/self-review")
    href = page.locator(".task a").nth(n).get_attribute("href")
    page.goto(f"{demo.base}{href}")
    return str(page.url)


def evidence(page: Any) -> list[str]:
    return list(page.locator("table tbody tr").all_inner_texts())


def drop(page: Any, files: list[tuple[str, str, str]]) -> None:
    """Drop files (name, text, media type) on the drop zone as a person's mouse would."""
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, text, type] of files) {
                transfer.items.add(new File([text], name, {type}));
            }
            return transfer;
        }""",
        files,
    )
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event(".drop-zone", event, {"dataTransfer": transfer})


def add_as_evidence(page: Any) -> None:
    """Press the form's button, and wait for the page the upload leads to."""
    with page.expect_navigation():
        page.click("button:has-text('Add as evidence')")


@pytest.fixture
def plain_page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(java_script_enabled=False, locale="en-GB")
    yield context.new_page()
    context.close()


def test_files_dropped_on_the_zone_are_listed_and_sent(page: Any, demo: Demo) -> None:
    open_question(page, demo, DROP)
    zone = page.locator(".drop-zone")
    assert "Drag files here or choose files" in zone.inner_text()
    assert zone.locator("input#files[type=file][multiple]").count() == 1  # the real input
    assert_accessible(page, "a question page with the drop zone")

    drop(
        page,
        [
            ("Governors' minutes.pdf", PDF.decode(), "application/pdf"),
            ("Attendance.csv", "week,attendance\n1,96.1\n", "text/csv"),
        ],
    )
    chosen = page.inner_text(".upload-chosen")
    assert "2 files chosen" in chosen
    assert "Governors' minutes.pdf" in chosen and "Attendance.csv" in chosen
    assert page.evaluate("document.querySelector('#files').files.length") == 2
    assert page.locator(".error-summary").count() == 0

    add_as_evidence(page)
    assert page.url.endswith("?saved=2")
    assert "2 files added as evidence" in page.inner_text(".banner")
    table = page.inner_text("table")
    assert "Governors' minutes.pdf" in table and "Attendance.csv" in table
    assert_accessible(page, "a question page after an upload")


def test_a_file_over_the_limit_is_refused_before_anything_is_sent(
    page: Any, demo: Demo, tmp_path: Path
) -> None:
    open_question(page, demo, TOO_BIG)
    limit = int(page.get_attribute("form[data-upload]", "data-max-bytes"))
    assert limit == 20 * MB  # the settings' default, said as "20 MB" below
    before = evidence(page)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    report = tmp_path / "Report.pdf"
    with report.open("wb") as f:
        f.write(PDF)
        f.truncate(limit + 1)  # one byte too many
    page.set_input_files("#files", str(report))
    said = "Report.pdf is over 20 MB: the largest file Peerloop takes is 20 MB"
    assert said in page.inner_text(".error-summary")  # at once, on choosing
    assert said in page.inner_text(".field-error .error-message")
    assert page.title().startswith("Error: ")
    assert_accessible(page, "a file refused before sending")

    page.click("button:has-text('Add as evidence')")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert said in page.inner_text(".error-summary")
    assert posts == []
    page.reload()
    assert evidence(page) == before

    # Choosing other files takes the stale message away.
    fine = tmp_path / "Report, shorter.pdf"
    fine.write_bytes(PDF)
    page.set_input_files("#files", str(fine))
    assert page.locator(".error-summary").count() == 0
    assert page.locator(".field-error").count() == 0
    assert not page.title().startswith("Error: ")


def test_progress_is_shown_while_a_large_file_is_sent(
    page: Any, demo: Demo, tmp_path: Path
) -> None:
    open_question(page, demo, LARGE)
    # Every change to the progress area is reported here as it happens, so nothing depends on
    # catching the bar on screen before the page moves on.
    seen: list[tuple[bool, str, float | None]] = []
    page.expose_function(
        "progressSeen", lambda hidden, text, value: seen.append((hidden, text, value))
    )
    page.evaluate(
        """() => {
            const box = document.querySelector('.upload-progress');
            const bar = box.querySelector('progress');
            const label = box.querySelector('.upload-progress-label');
            new MutationObserver(() => window.progressSeen(
                box.hidden, label.textContent, bar.hasAttribute('value') ? bar.value : null
            )).observe(box, {
                subtree: true, childList: true, characterData: true, attributes: true
            });
        }"""
    )
    pack = tmp_path / "Data pack.pdf"
    with pack.open("wb") as f:
        f.write(PDF)
        f.truncate(15 * MB)
    page.set_input_files("#files", str(pack))
    add_as_evidence(page)

    assert "1 file added as evidence" in page.inner_text(".banner")
    assert "Data pack.pdf" in page.inner_text("table") and "15 MB" in page.inner_text("table")
    shown = [s for s in seen if not s[0]]
    assert shown, "the progress area was never shown"
    assert shown[0][1] == "Sending 1 file: 0%"
    assert all(text.startswith("Sending 1 file") for _, text, _ in shown)
    values = [v for _, _, v in shown if v is not None]
    assert values == sorted(values) and values[-1] == 100
    assert shown[-1][1].startswith("Sending 1 file: 100%")
    assert page.locator(".upload-progress").get_attribute("aria-live") == "polite"


def test_with_javascript_off_the_plain_form_still_uploads(
    plain_page: Any, demo: Demo, tmp_path: Path
) -> None:
    page = plain_page
    open_question(page, demo, NO_SCRIPT)
    assert page.locator(".drop-zone").count() == 0
    assert "Drag files here" not in page.inner_text("main")
    pack = tmp_path / "Reading data.pdf"
    pack.write_bytes(PDF)
    notes = tmp_path / "Pupil voice.txt"
    notes.write_text("Pupils say they enjoy the class novel.")
    page.set_input_files("#files", [str(pack), str(notes)])
    page.click("button:has-text('Add as evidence')")
    assert "2 files added as evidence" in page.inner_text(".banner")
    table = page.inner_text("table")
    assert "Reading data.pdf" in table and "Pupil voice.txt" in table


def test_the_file_input_and_the_button_are_reached_and_used_by_keyboard(
    page: Any, demo: Demo, tmp_path: Path
) -> None:
    open_question(page, demo, KEYBOARD)
    page.focus("#narrative")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "files":
            break
    else:
        raise AssertionError("Tab never reached the file input")
    plan = tmp_path / "Improvement plan.docx"
    plan.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    page.set_input_files("#files", str(plan))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "title"
    page.keyboard.type("The improvement plan")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Add as evidence"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "1 file added as evidence" in page.inner_text(".banner")
    assert "The improvement plan" in page.inner_text("table")


def test_a_network_failure_is_said_beside_the_field_and_the_files_are_kept(
    page: Any, demo: Demo
) -> None:
    open_question(page, demo, OFFLINE)
    page.route("**/evidence", lambda route: route.abort("internetdisconnected"))
    drop(page, [("Visit notes.txt", "Notes from the learning walk.", "text/plain")])
    page.click("button:has-text('Add as evidence')")
    message = page.locator(".field-error .error-message")
    assert "could not be sent: check the connection" in message.inner_text()
    assert "could not be sent" in page.inner_text(".error-summary")
    assert page.locator(".upload-progress").is_hidden()
    assert page.evaluate("document.querySelector('#files').files[0].name") == "Visit notes.txt"
    assert_accessible(page, "an upload that could not be sent")

    page.unroute("**/evidence")
    add_as_evidence(page)
    assert "1 file added as evidence" in page.inner_text(".banner")
    assert "Visit notes.txt" in page.inner_text("table")


def test_a_file_the_server_refuses_shows_the_servers_error_page(page: Any, demo: Demo) -> None:
    address = open_question(page, demo, SERVER_SAYS_NO)
    before = evidence(page)
    # A PDF by its name, not by its content: only the server looks inside.
    drop(page, [("Minutes.pdf", "MZ this is a program", "application/pdf")])
    assert page.locator(".error-summary").count() == 0
    with page.expect_response("**/evidence") as answer:
        page.click("button:has-text('Add as evidence')")
    assert answer.value.status == 400
    summary = page.locator(".error-summary")
    assert "Minutes.pdf does not hold a PDF" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.title().startswith("Error: ")
    assert page.url == address
    assert evidence(page) == before
    # The page from the server is enhanced in its turn: the next try can be dropped too.
    assert page.locator(".drop-zone").count() == 1
    assert_accessible(page, "the server's refusal")
