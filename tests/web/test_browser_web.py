"""A clinician's session in headless Chromium (Debian's chromium driven by Playwright).

``screener serve --no-worker`` and ``screener worker`` run as separate processes on a free
port of 127.0.0.1 with a temporary data folder; the browser signs in, creates a patient
and a visit, uploads sample videos, waits for the real analysis, reads the flags,
downloads the PDFs and signs out. The visit walk-through also runs at a phone's size.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.helpers import PASSWORD
from tests.web.test_e2e_video import sample_video

pytestmark = [pytest.mark.browser, pytest.mark.video]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "screener.cli", *args]


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Base URL of a running server with a worker, and its data folder.

    The processes run with an empty home folder and working directory, which the test
    checks are still empty at the end (nothing stored outside the data folder).
    """
    data = tmp_path / "data"
    for folder in ("home", "cwd"):
        (tmp_path / folder).mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENER_", "XDG_", "MPL"))}
    env["HOME"] = str(tmp_path / "home")
    subprocess.run(
        _cli("create-user", "alice", "--password-stdin", "--data-dir", str(data)),
        input=PASSWORD + "\n",
        text=True,
        check=True,
        timeout=600,
        env=env,
        cwd=tmp_path / "cwd",
    )
    port = _free_port()
    log = (tmp_path / "processes.log").open("ab")
    serve = subprocess.Popen(
        _cli("serve", "--no-worker", "--port", str(port), "--data-dir", str(data)),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path / "cwd",
    )
    worker = subprocess.Popen(
        _cli("worker", "--data-dir", str(data), "--poll-seconds", "0.5"),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path / "cwd",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a busy machine starts slowly
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if json.load(response)["status"] == "ok":
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline or serve.poll() is not None:
                    pytest.fail(f"server did not start: {(tmp_path / 'processes.log').read_text()}")
                time.sleep(0.2)
        yield base, data
    finally:
        for proc in (worker, serve):
            proc.send_signal(signal.SIGTERM)
        for proc in (worker, serve):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def test_clinician_session_in_chromium(server: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, data = server
    clip = sample_video("walk")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        failed: list[str] = []
        page.on(
            "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )

        page.goto(f"{base}/")
        expect(page).to_have_url(f"{base}/login?next=%2Fpatients")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Sign in')")
        expect(page.locator("h1")).to_have_text("Your patients")

        page.fill("input[name=code]", "BRW-7")
        page.select_option("select[name=sex]", "female")
        page.click("button:has-text('Add patient')")
        expect(page.locator("h1")).to_have_text("Patient BRW-7")

        page.fill("input[name=visit_date]", "2025-05-02")
        page.fill("input[name=pain]", "5")
        page.check("input[name=first_line_care][value=activity_reduction]")
        page.click("button:has-text('Create visit')")
        expect(page.locator("h1")).to_have_text("Visit of 2025-05-02")

        page.select_option("select[name=kind]", "walk")
        page.set_input_files("input[name=video]", str(clip))
        page.click("button:has-text('Upload and analyse')")
        expect(page.locator("h1")).to_have_text("Walk")
        # progress is polled, then the page reloads with the report
        expect(page.locator("#flags")).to_be_visible(timeout=300_000)
        rec_url = page.url
        summary = json.loads(
            next(data.glob("results/job*/summary.json")).read_text(encoding="utf-8")
        )
        rows = page.locator("#flags tbody tr")
        clinical = [f for f in summary["faults"] if f["metric"] != "femoral_ir_deg"]
        expect(rows).to_have_count(len(clinical))
        expect(page.locator("#flags")).not_to_contain_text("Femoral internal rotation")
        for fault in clinical:
            expect(page.locator("#flags")).to_contain_text(fault["label"])
        for fault in (f for f in summary["faults"] if f["severity"] != "none"):
            expect(page.locator(f"#flags tr.sev-{fault['severity']}").first).to_be_visible()
        expect(page.locator("#plan-message")).to_have_text(summary["plan"]["message"])
        report = page.frame_locator("iframe.report")
        expect(report.locator("body")).to_contain_text("Face", timeout=30_000)

        with page.expect_download() as info:
            page.click("#pdf-link")
        pdf = tmp_path / "report.pdf"
        info.value.save_as(pdf)
        assert pdf.read_bytes().startswith(b"%PDF")
        assert info.value.suggested_filename.startswith("screener-BRW-7-2025-05-02-walk")

        page.goto(f"{base}/patients")
        page.click("a:has-text('BRW-7')")
        expect(page.locator(".charts img").first).to_be_visible()

        page.click("#sign-out")
        expect(page.locator("h1")).to_have_text("Sign in")
        page.goto(rec_url)
        expect(page.locator("h1")).to_have_text("Sign in")  # the session is gone
        assert failed == [] and errors == [], (failed, errors)
        browser.close()
    assert list((tmp_path / "home").iterdir()) == []
    assert list((tmp_path / "cwd").iterdir()) == []


def _pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_visit_with_three_recordings_in_chromium(server: tuple[str, Path], tmp_path: Path) -> None:
    """A PT's visit: intake, three recordings, one plan, the pain edited, both PDFs;
    then the same visit on a phone-sized screen."""
    from playwright.sync_api import expect, sync_playwright

    base, _ = server
    clips = {
        "walk": sample_video("walk"),
        "sls_left": sample_video("sls_left"),
        "jog": sample_video("jog"),
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        failed: list[str] = []
        page.on(
            "response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD)
        page.click("button:has-text('Sign in')")
        page.fill("input[name=code]", "PT-77")
        page.click("button:has-text('Add patient')")
        expect(page.locator("h1")).to_have_text("Patient PT-77")

        form = page.locator("#visit-new")
        form.locator("input[name=visit_date]").fill("2025-05-02")
        form.locator("input[name=pain]").fill("6")
        form.locator("input[name=rest_pain]").fill("1")
        form.locator("input[name=pain_onset]").fill("4 km")
        form.locator("input[name=first_line_care][value=activity_reduction]").check()
        form.locator("input[name=first_line_care][value=cross_training]").check()
        form.locator("input[name=first_line_weeks]").fill("3")
        page.click("button:has-text('Create visit')")
        expect(page.locator("h1")).to_have_text("Visit of 2025-05-02")
        visit_url = page.url

        recordings = []
        for kind, clip in clips.items():  # upload all three, then wait for the worker
            page.goto(visit_url)
            page.select_option("select[name=kind]", kind)
            page.set_input_files("input[name=video]", str(clip))
            page.click("button:has-text('Upload and analyse')")
            expect(page.locator("h1")).not_to_have_text("Visit of 2025-05-02")
            recordings.append(page.url)
        for url in recordings:
            page.goto(url)
            expect(page.locator("#flags")).to_be_visible(timeout=1_200_000)

        page.goto(visit_url)
        expect(page.locator("#visit-plan-status")).to_contain_text("Second-line protocol")
        expect(page.locator("#visit-plan-message")).to_contain_text("6/10")
        expect(page.locator("#sides tbody tr").first).to_be_visible()
        expect(page.locator("#visit-exercises li")).to_have_count(5)

        edit = page.locator("#visit-edit")
        edit.locator("input[name=pain]").fill("2")
        edit.locator("button:has-text('Save the visit')").click()
        expect(page.locator("#visit-plan-status")).to_contain_text("Goal reached")
        expect(page.locator("#visit-plan-message")).to_contain_text("2/10")

        for link, name in (("#visit-report-pdf", "report"), ("#visit-handout-pdf", "handout")):
            with page.expect_download(timeout=600_000) as info:  # printed on request
                page.click(link)
            pdf = tmp_path / f"{name}.pdf"
            info.value.save_as(pdf)
            text = _pdf_text(pdf)
            assert "PT-77" in text and "2025-05-02" in text, (name, text[:500])
            assert info.value.suggested_filename == f"{name}-PT-77-2025-05-02.pdf"
        assert "Goal reached" in _pdf_text(tmp_path / "report.pdf")
        images = subprocess.run(
            ["pdfimages", "-list", str(tmp_path / "report.pdf")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[2:]
        assert len(images) >= 3, images  # a standing still of each recording, at least
        assert "Your exercise plan" in _pdf_text(tmp_path / "handout.pdf")

        page.goto(f"{base}/patients")
        page.click("a:has-text('PT-77')")
        expect(page.locator("#visit-summary tbody tr")).to_have_count(1)
        expect(page.locator("#visit-summary")).to_contain_text("goal reached")
        expect(page.locator("#pain-trend")).to_be_visible()

        phone = browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            storage_state=context.storage_state(),
        )
        mobile = phone.new_page()
        mobile.goto(visit_url)
        expect(mobile.locator("#visit-plan-status")).to_be_visible()
        assert _no_sideways_scroll(mobile), "the visit page scrolls sideways on a phone"
        mobile.goto(f"{base}/patients")
        mobile.click("a:has-text('PT-77')")
        expect(mobile.locator("h1")).to_have_text("Patient PT-77")
        assert _no_sideways_scroll(mobile), "the patient page scrolls sideways on a phone"
        phone.close()
        assert failed == [], failed
        browser.close()
