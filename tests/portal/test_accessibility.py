"""WCAG 2.2 AA in real Chromium, for each demo role: axe-core finds no serious or critical
violation on the portal's pages, at desktop width and at 390 px; no page is wider than a
390 px phone; no id is used twice; the skip link, the focus ring and the favicon work.

axe-core comes from the npm registry (tests/idp/package.json, installed by `make install`).
It is evaluated through the DevTools protocol (`page.evaluate`), which the pages' CSP
(`script-src 'self'`) does not apply to, so the pages are tested with their real CSP on.
"""

import os
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from controls.models import Framework
from exceptions.models import PolicyException

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[1] / "idp" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}) on ${v.nodes.length} element(s), e.g. `
      + `${v.nodes[0].target.join(" ")}: ${v.nodes[0].failureSummary.replace(/\\s+/g, " ")}`);
}"""
DUPLICATE_IDS = """() => {
  const seen = new Set(), twice = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    (seen.has(el.id) ? twice : seen).add(el.id);
  }
  return [...twice];
}"""
PAGE_WIDTH = "document.documentElement.scrollWidth"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        message = f"axe-core is not installed at {AXE}: run `make install` (npm ci in tests/idp)"
        required = {name.strip() for name in os.environ.get("PORTAL_REQUIRE", "").split(",")}
        if os.environ.get("CI") == "true" or "browser" in required:
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


def pages() -> dict[str, str]:
    """Every page the issue names, with the demo's objects."""
    framework = Framework.objects.get(key="owasp-agentic-top10-2026").key
    exception = PolicyException.objects.order_by("pk").first()
    assert exception is not None
    return {
        "dashboard": "/",
        "agents": "/agents/",
        "agent": "/agents/payments-fixer/",
        "request form": "/requests/new/",
        "requests": "/requests/",
        "approvals": "/approvals/",
        "policy": "/policy/",
        "exceptions": "/exceptions/",
        "exception form": "/exceptions/new/",
        "exception": f"/exceptions/{exception.pk}/",
        "review": "/review/",
        "compliance": "/compliance/",
        "framework matrix": f"/compliance/{framework}/",
        "report": f"/compliance/{framework}/report/",
        "refused period": f"/compliance/{framework}/report/?from=2026-03-10&to=2026-03-01",
        "audit trail": "/audit/",
        "deliveries": "/deliveries/",
        "control": "/compliance/controls/AGC-01/",  # two forms with a description field
        "not found": "/no/such/page/",
    }


def check(page: Page, axe: str, where: str) -> list[str]:
    """What is wrong with the page as it is shown now."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe)
    problems = [f"{where}: {found}" for found in page.evaluate(RUN_AXE, WCAG_22_AA)]
    problems += [f"{where}: id '{twice}' used twice" for twice in page.evaluate(DUPLICATE_IDS)]
    return problems


@pytest.mark.parametrize("username", ["alice", "sam", "audrey"])
def test_every_page_passes_axe_and_fits_a_phone(
    live_server, page: Page, demo, axe_source, username
):
    failed_requests: list[str] = []
    page.on(
        "response",
        lambda r: (
            r.status == 404 and "/no/such/page/" not in r.url and failed_requests.append(r.url)
        ),
    )
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/")
    problems = check(page, axe_source, "login page")
    login(page, live_server.url, username)
    for name, path in pages().items():
        page.set_viewport_size(DESKTOP)
        response = page.goto(live_server.url + path)
        assert response is not None
        assert response.status < 500, f"{username} {path}: {response.status}"
        problems += check(page, axe_source, f"{username} {name} {path} (1280 px)")
        page.set_viewport_size(PHONE)
        page.wait_for_timeout(150)  # the tables' scroll boxes re-check their size
        width = page.evaluate(PAGE_WIDTH)
        if width > PHONE["width"]:
            problems.append(f"{username} {name} {path}: {width} px wide at 390 px")
        problems += check(page, axe_source, f"{username} {name} {path} (390 px)")
    assert not problems, "\n".join(problems)
    assert not failed_requests, f"404s while loading the pages: {failed_requests}"


def test_refused_forms_show_the_message_on_the_field_and_pass_axe(
    live_server, page: Page, demo, axe_source
):
    """Forms a browser without constraint validation posts (novalidate): the page comes back
    with the message beside the field, what was typed kept, and still passes axe."""
    login(page, live_server.url, "sam")
    problems: list[str] = []
    page.goto(f"{live_server.url}/compliance/nist-csf-2.0/items/PR.AA-06/applicability/")
    page.evaluate(
        "document.querySelector('form[aria-label=\"Change applicability\"]').noValidate = true"
    )
    page.get_by_label("Applicability", exact=True).select_option("no")
    page.get_by_role("button", name="Save a new version").click()
    expect(page.get_by_role("alert").filter(has_text="Give a rationale")).to_be_visible()
    problems += check(page, axe_source, "applicability refused")
    page.goto(f"{live_server.url}/compliance/controls/AGC-02/")
    page.evaluate(
        "document.querySelector('form[aria-label=\"Upload evidence\"]').noValidate = true"
    )
    page.locator("#evidence_file").set_input_files(
        files=[{"name": "scan.txt", "mimeType": "text/plain", "buffer": b"evidence"}]
    )
    page.locator("#evidence_effective_on").fill("2999-01-01")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("alert").filter(has_text="in the future")).to_be_visible()
    expect(page.locator("#evidence_effective_on")).to_have_value("2999-01-01")
    problems += check(page, axe_source, "evidence refused")
    assert not problems, "\n".join(problems)


def test_a_message_after_a_step_passes_axe(live_server, page: Page, demo, axe_source):
    """The message a step leaves ("Draft v2 opened ...") is read out as a status and keeps the
    list it sits in a list (axe's `list` rule: no <li> taking another role)."""
    login(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/policy/")
    page.get_by_role("button", name="Open a draft from the published version").click()
    expect(page.get_by_role("status").first).to_contain_text("v2")
    expect(page.locator(".messages > li")).to_have_count(1)
    assert not check(page, axe_source, "policy page with a message")


def test_skip_link_focus_ring_and_favicon(live_server, page: Page, demo):
    login(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/audit/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None
    assert box["y"] >= 0, "the skip link shows when it has focus"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    assert page.url.endswith("#main")
    # The next Tab goes on from the main content, and the focused control shows a ring.
    page.keyboard.press("Tab")
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.closest('main') !== null, s.outlineStyle,"
        " parseFloat(s.outlineWidth)]; }"
    )
    assert ring[0], "focus moved into the main content"
    assert ring[1] != "none"
    assert ring[2] >= 2
    # Input and button borders: at least 3:1 against white (WCAG 1.4.11).
    border = page.evaluate("getComputedStyle(document.querySelector('main select')).borderColor")
    assert border == "rgb(123, 132, 151)"  # --control, 3.76:1 on white
    icon = page.request.get(f"{live_server.url}/favicon.ico")
    assert icon.ok
    assert icon.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    svg = page.request.get(f"{live_server.url}/static/img/favicon.svg")
    assert svg.ok


def test_tables_scroll_inside_their_box_on_a_phone(live_server, page: Page, demo):
    """At 390 px a wide table scrolls sideways in its own box, which keyboard users can
    focus, or stacks (the audit trail); the page does not widen. Screenshots are kept."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size(PHONE)
    login(page, live_server.url, "sam")
    for name, path in (("approvals", "/approvals/"), ("policy", "/policy/"), ("audit", "/audit/")):
        page.goto(live_server.url + path)
        page.wait_for_timeout(150)
        assert page.evaluate(PAGE_WIDTH) <= PHONE["width"], path
        page.screenshot(path=str(ARTIFACTS / f"phone-390-{name}-sam.png"), full_page=True)
    # The trail's rows stack into labelled lines instead of scrolling.
    cell = page.get_by_role("cell").first
    assert cell.evaluate("el => getComputedStyle(el).display") == "block"
    page.goto(f"{live_server.url}/agents/")
    box = page.get_by_role("region", name=re.compile(r"\(scrolls sideways\)$")).first
    expect(box).to_have_attribute("tabindex", "0")
    box.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # The browser may scroll smoothly: wait for the box to have moved, not for a fixed time.
    page.wait_for_function("el => el.scrollLeft > 0", arg=box.element_handle(), timeout=5000)
