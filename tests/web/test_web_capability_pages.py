"""The pages of the attacks and assessment capabilities (and the later ones): what they show matches the
run's files, their forms follow the CSRF and isolation rules, and a refused form says why."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from webapp_fixtures import PASSWORD, Finished

MISSING = "AAAAAAAAAAAAAAAAAAAAAA"


def _browser(finished: Finished, email: str = "adam@acme.test") -> tuple[TestClient, str]:
    """A signed-in browser and its CSRF token (read from a page's sign-out form)."""
    browser = TestClient(finished.world.app)
    r = browser.post("/signin", data={"email": email, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    page = browser.get("/uploads").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    return browser, token.group(1)


def test_attacks_page_shows_classes_campaigns_anomalies_and_pages_entries(finished: Finished) -> None:
    browser, _ = _browser(finished)
    uid = finished.upload_id
    run = finished.world.data / "runs" / uid
    attacks = json.loads((run / "insights.json").read_text())["attacks"]
    lines = [json.loads(x) for x in (run / "attacks.jsonl").read_text().splitlines()]
    page = browser.get(f"/uploads/{uid}/attacks")
    assert page.status_code == 200
    text = page.text
    assert f'href="/uploads/{uid}/attacks"' in text  # the tab
    for c in attacks["classes"]:
        assert html.escape(c["label"]) in text
        for t in c["techniques"]:
            assert t["id"] in text
    for c in attacks["campaigns"]:
        assert f"<td>{c['campaign']}</td>" in text
    assert text.count("<tr>", text.index('id="anomalies"'), text.index('id="entries"')) == 1 + len(
        attacks["anomalies"]
    )
    assert f"Entries 1–{min(50, len(lines))} of {len(lines)}" in text
    assert f'href="/api/v1/uploads/{uid}/attacks/stix"' in text
    # the next page, and one class only
    second = browser.get(f"/uploads/{uid}/attacks", params={"offset": 50}).text
    assert f"Entries 51–{min(100, len(lines))} of {len(lines)}" in second
    wanted = lines[0]["attack"]["class"]
    only = browser.get(f"/uploads/{uid}/attacks", params={"class": wanted}).text
    count = sum(1 for x in lines if x["attack"]["class"] == wanted)
    assert f"of {count} of class <code>{wanted}</code>" in only
    # nonsense parameters are ignored, not errors
    odd = browser.get(f"/uploads/{uid}/attacks", params={"class": "<x>", "offset": "-3"})
    assert odd.status_code == 200 and f"of {len(lines)}</caption>" in odd.text and "<x>" not in odd.text


def test_assessment_page_shows_the_recommendation_and_takes_a_profile(finished: Finished) -> None:
    browser, csrf = _browser(finished)
    uid = finished.upload_id
    page = browser.get(f"/uploads/{uid}/assessment")
    assert page.status_code == 200
    doc = json.loads((finished.world.data / "runs" / uid / "assessment.json").read_text())
    rec = doc["recommendation"]
    assert html.escape(rec["explanation"], quote=True) in page.text
    assert f'<span class="band band-{doc["severity"]["band"]}">' in page.text
    assert 'name="profile"' in page.text and '<label for="profile">' in page.text
    url = f"/uploads/{uid}/assessment"
    assert browser.post(url, data={"profile": "constraints: {}"}).status_code == 403  # no CSRF token
    hostile = "priorities: {trust: 12}\n# <script>alert(1)</script>"
    bad = browser.post(url, data={"profile": hostile, "csrf_token": csrf})
    assert bad.status_code == 400
    assert "priorities.trust" in bad.text and 'role="alert"' in bad.text
    assert "<script>alert(1)" not in bad.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in bad.text
    good = browser.post(url, data={"profile": "constraints: {tee_hardware: true}", "csrf_token": csrf})
    assert good.status_code == 200 and 'id="assessment-saved"' in good.text
    again = json.loads((finished.world.data / "runs" / uid / "assessment.json").read_text())
    assert again["profile"]["constraints"]["tee_hardware"] is True
    assert "tee-processing" not in again["recommendation"]["excluded"]


@pytest.mark.parametrize("page", ["/attacks", "/assessment"])
def test_capability_forms_are_isolated(finished: Finished, page: str) -> None:
    browser, csrf = _browser(finished, "bob@globex.test")
    other = browser.post(f"/uploads/{finished.upload_id}{page}", data={"csrf_token": csrf, "profile": "x: 1"})
    missing = browser.post(f"/uploads/{MISSING}{page}", data={"csrf_token": csrf, "profile": "x: 1"})
    assert other.status_code == missing.status_code == 404
    assert other.text.replace(finished.upload_id, "") == missing.text.replace(MISSING, "")
    assert browser.get(f"/uploads/{finished.upload_id}{page}").status_code == 404


def test_enrichment_api_pages_the_overview_and_the_lookups(finished: Finished) -> None:
    c, h, uid = finished.world.client, finished.acme, finished.upload_id
    run = finished.world.data / "runs" / uid
    overview = json.loads((run / "enrichment-overview.json").read_text())["indicators"]
    lookups = [json.loads(x) for x in (run / "enrichment.jsonl").read_text().splitlines()]
    assert overview and lookups and "enrichment" in finished.upload["capabilities"]
    first = c.get(f"/api/v1/uploads/{uid}/enrichment", params={"limit": 3}, headers=h).json()
    assert first["total"] == first["matching"] == len(overview)
    assert first["indicators"] == overview[:3]
    assert sum(first["verdicts"].values()) == len(overview)
    huge = c.get(f"/api/v1/uploads/{uid}/enrichment", params={"offset": 2**64}, headers=h)
    assert huge.status_code == 422  # not a 500: the offset is echoed as a 64-bit JSON number
    second = c.get(f"/api/v1/uploads/{uid}/enrichment", params={"limit": 3, "offset": 3}, headers=h).json()
    assert second["indicators"] == overview[3:6]
    verdict = overview[0]["verdict"]
    chosen = c.get(f"/api/v1/uploads/{uid}/enrichment", params={"verdict": verdict}, headers=h).json()
    assert chosen["matching"] == sum(1 for i in overview if i["verdict"] == verdict)
    assert {i["verdict"] for i in chosen["indicators"]} == {verdict}
    value = overview[0]["value"]
    one = c.get(f"/api/v1/uploads/{uid}/enrichment/lookups", params={"value": value}, headers=h).json()
    assert one["items"] == [r for r in lookups if r["value"] == value]
    assert {s["service"] for s in overview[0]["sources"]} <= {r["service"] for r in one["items"]}
    paged = c.get(f"/api/v1/uploads/{uid}/enrichment/lookups", params={"limit": 2}, headers=h).json()
    assert paged["total"] == len(lookups) and paged["items"] == lookups[:2]
    download = c.get(f"/api/v1/uploads/{uid}/downloads/stix-enrichment.json", headers=h)
    assert download.status_code == 200 and download.json()["type"] == "bundle"


def test_enrichment_page_shows_verdicts_per_indicator(finished: Finished) -> None:
    browser, _ = _browser(finished)
    uid = finished.upload_id
    overview = json.loads((finished.world.data / "runs" / uid / "enrichment-overview.json").read_text())[
        "indicators"
    ]
    page = browser.get(f"/uploads/{uid}/enrichment")
    assert page.status_code == 200
    assert f'<dd id="count-enriched">{len(overview)}</dd>' in page.text
    for i in overview[:50]:
        assert f"<code>{html.escape(i['value'])}</code>" in page.text
    verdict = overview[-1]["verdict"]
    only = browser.get(f"/uploads/{uid}/enrichment", params={"verdict": verdict}).text
    shown = re.findall(r'<td class="verdict-([a-z]+)">', only)
    assert shown and set(shown) == {verdict}
