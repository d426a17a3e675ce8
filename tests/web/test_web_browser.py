"""End to end in Debian's Chromium, driven by Playwright against ``ppcti serve`` on a loopback port: sign in,
upload the sample, watch it complete, open every page and check its figures against the run's files,
download the STIX bundle; a second holder cannot reach the first one's pages. Screenshots of every page
are kept in ``out/test-artifacts/web`` (or ``$PPCTI_ARTIFACTS``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ppcti.store import Database
from ppcti_process import child_env, ppcti_command
from webapp_fixtures import PASSWORD, ROOT, SAMPLE, add_people, enrich_run_folder, free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("PPCTI_ARTIFACTS", ROOT / "out" / "test-artifacts")) / "web"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    tmp = tmp_path_factory.mktemp("serve")
    db_url = f"sqlite:///{tmp / 'ppcti.db'}"
    db = Database(db_url)
    add_people(db)
    db.dispose()
    port = free_port()
    env = child_env()
    command = ppcti_command(
        "serve",
        "--db",
        db_url,
        "--data",
        str(tmp / "data"),
        "--listen",
        f"127.0.0.1:{port}",
        "--nlp",
        "regex",
        "--workers",
        "1",
    )
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(base + "/signin", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "ppcti serve did not start: " + (tmp / "server.log").read_text()
                    ) from None
                time.sleep(0.3)
        yield base, tmp / "data", db_url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _sign_in(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/signin")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/uploads")


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _int(page, selector: str) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator(selector).first.inner_text().strip())


def test_holder_journey_and_isolation(server: tuple[str, Path, str], browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, data, db_url = server
    context = browser.new_context(viewport={"width": 1366, "height": 800}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(base + "/signin")
    _shot(page, "01-signin")
    _sign_in(page, base, "adam@acme.test")
    page.get_by_label("ZIP archive or log file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Upload and process").click()
    page.wait_for_url(f"{base}/uploads/*")
    upload_id = page.url.rsplit("/", 1)[1]
    page.locator("#job-state.state-done").wait_for(timeout=300_000)
    run = data / "runs" / upload_id
    # server jobs do not enrich: as `ppcti enrich` would (in a thread: Playwright's loop runs in this one)
    db = Database(db_url)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(enrich_run_folder, db, data, upload_id, tmp_path).result()
    db.dispose()
    page.reload()
    summary = json.loads((run / "summary.json").read_text())
    assert _int(page, "#count-events") == summary["events"]
    assert _int(page, "#count-rejects") == summary["rejects"]
    assert _int(page, "#count-files") == len(summary["files"]) == page.locator("#files tbody tr").count()
    assert _int(page, "#count-duplicates") == sum(summary["duplicates"].values())
    _shot(page, "02-overview")

    page.get_by_role("link", name="Personal data").click()
    pii = json.loads((run / "pii.json").read_text())
    rows = page.locator("#pii tbody tr")
    assert rows.count() > 0
    assert sum(int(t) for t in page.locator("#pii tbody tr td:nth-child(4)").all_inner_texts()) == len(
        pii["findings"]
    )
    page.locator("#kg svg .node").first.wait_for()
    page.locator("#kg svg .node").first.focus()
    page.keyboard.press("Enter")
    assert "linked resources" in page.locator("#kg-selection").inner_text()
    _shot(page, "03-pii")

    page.get_by_role("link", name="CTI (STIX 2.1)").click()
    aggregate = json.loads((run / "cti" / "aggregate.json").read_text())
    assert _int(page, "#cti-objects") == len(aggregate["objects"])
    indicators = sum(1 for o in aggregate["objects"] if o["type"] == "indicator")
    assert page.locator("#indicators tbody tr").count() == indicators
    first_pattern = page.locator("#indicators tbody tr td:nth-child(2)").first.inner_text()
    page.get_by_label("Search").fill(first_pattern[-18:])
    assert 1 <= page.locator("#indicators tbody tr:not([hidden])").count() < indicators
    _shot(page, "04-cti")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download STIX bundle").click()
    saved = tmp_path / "stix.json"
    info.value.save_as(saved)
    assert json.loads(saved.read_text()) == aggregate

    page.get_by_role("link", name="Analysis").click()
    insights = json.loads((run / "insights.json").read_text())
    assert _int(page, "#count-targets") == len(insights["targets"])
    assert _int(page, "#count-botnets") == len(insights["botnets"])
    _shot(page, "05-analysis")

    page.get_by_role("link", name="Attacks", exact=True).click()
    attacks = insights["attacks"]
    assert _int(page, "#count-classified") == attacks["counts"]["classified"]
    assert page.locator("#attack-classes tbody tr").count() == len(attacks["classes"])
    wanted = attacks["classes"][-1]["cls"]
    page.get_by_label("Class", exact=True).select_option(wanted)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"{base}/uploads/{upload_id}/attacks?class={wanted}*")
    shown = page.locator("#attack-entries tbody tr").count()
    assert 0 < shown == min(50, attacks["classes"][-1]["events"])
    _shot(page, "05a-attacks")

    page.get_by_role("link", name="Assessment").click()
    assert page.locator("#recommended").inner_text().strip()
    assert page.locator("#explanation").inner_text().startswith("Recommended:")
    _shot(page, "05b-assessment")
    page.get_by_label("Profile (YAML)").fill("priorities: {trust: 12}")
    page.get_by_role("button", name="Assess").click()
    assert "priorities.trust" in page.locator("#assessment-error").inner_text()
    _shot(page, "05c-assessment-bad-profile")
    # the refused profile's 400 is the only failed load so far
    assert errors == ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]
    errors.clear()

    page.get_by_role("link", name="Enrichment").click()
    overview = json.loads((run / "enrichment-overview.json").read_text())["indicators"]
    assert _int(page, "#count-enriched") == len(overview)
    assert page.locator("#enriched tbody tr").count() == min(50, len(overview))
    _shot(page, "05d-enrichment")

    page.get_by_role("link", name="MISP / TAXII").click()
    assert _int(page, "#misp-objects") > 0
    with page.expect_download() as info:
        page.get_by_role("link", name="Download MISP event (JSON)").click()
    info.value.save_as(tmp_path / "misp.json")
    assert json.loads((tmp_path / "misp.json").read_text())["Event"]["Object"]
    assert page.get_by_label("Password").get_attribute("type") == "password"
    _shot(page, "05e-misp-taxii")

    page.get_by_role("link", name="FHE correlation").click()
    from ppcti.fhe import keygen  # the holder's side: the secret key stays in this folder

    keygen(tmp_path / "keys")
    page.get_by_label("Your public key (public.key)").set_input_files(str(tmp_path / "keys" / "public.key"))
    with page.expect_download() as info:
        page.get_by_role("button", name="Get encrypted query").click()
    info.value.save_as(tmp_path / "query.zip")
    with zipfile.ZipFile(tmp_path / "query.zip") as zf:
        values = [v["value"] for v in json.loads(zf.read("mapping.json"))["values"]]
    found = {"matches": [{"value": v, "found": i < 2, "entries": []} for i, v in enumerate(values)]}
    (tmp_path / "fhe_matches.json").write_text(json.dumps(found))
    page.get_by_label("fhe_matches.json").set_input_files(str(tmp_path / "fhe_matches.json"))
    page.get_by_role("button", name="Show the answer").click()
    assert _int(page, "#fhe-found") == 2
    assert page.locator("#fhe-table tbody tr").count() == len(values)
    _shot(page, "05f-fhe")

    page.goto(base + "/uploads")
    assert page.locator(f'tr[data-upload="{upload_id}"] .state-done').count() == 1
    _shot(page, "06-uploads")
    assert dialogs == [] and errors == []

    # another holder: the same addresses are "not found", the list is empty
    other = browser.new_context().new_page()
    _sign_in(other, base, "bob@globex.test")
    assert other.locator("#uploads tbody").inner_text().strip() == "No uploads yet."
    pages = ("", "/pii", "/cti", "/analysis", "/attacks", "/assessment", "/enrichment", "/export", "/fhe")
    for suffix in pages:
        response = other.goto(f"{base}/uploads/{upload_id}{suffix}")
        assert response is not None and response.status == 404
        assert other.get_by_role("heading", name="Not found").is_visible()
    response = other.goto(f"{base}/api/v1/uploads/{upload_id}/cti/stix")
    assert response is not None and response.status == 404
    _shot(other, "07-other-holder")
    context.close()


def test_a_change_is_committed_before_its_response(server: tuple[str, Path, str]) -> None:
    """Against the real server: the request right after sign-in always finds the new session."""
    import httpx

    base, _, _ = server
    for _ in range(10):
        with httpx.Client(base_url=base) as client:
            r = client.post("/api/v1/auth/signin", json={"email": "alice@acme.test", "password": PASSWORD})
            made = client.post(
                "/api/v1/tokens", json={"name": "t"}, headers={"X-CSRF-Token": r.json()["csrf_token"]}
            )
            assert made.status_code == 201, made.text
