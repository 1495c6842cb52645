"""In a real browser: sam adds a trust provider with its keys inline; alice binds her
production agent to it and sees the binding wait for security."""

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBJECT = "repo:acme/payments-api:environment:production"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def login(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


def inline_jwks() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return json.dumps({"keys": [{**jwk, "kid": "ci-1", "alg": "ES256", "use": "sig"}]})


def test_sam_adds_a_provider_and_alice_binds_her_production_agent(live_server, page: Page, demo):
    base = live_server.url
    login(page, base, "sam")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Trust").click()
    expect(page.get_by_role("heading", name="Trust providers", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="Add a trust provider")
    form.get_by_label("Slug").fill("acme-ci")
    form.get_by_label("Name").fill("Acme CI")
    form.get_by_label("Issuer").fill("https://ci.acme.example")
    form.get_by_label("JWKS (inline)").fill(inline_jwks())
    form.get_by_label("Audience").fill("https://portal.acme.example")
    form.get_by_label("RS256").uncheck()
    expect(form.get_by_label("ES256")).to_be_checked()
    form.get_by_role("button", name="Add provider").click()

    expect(page.get_by_role("status").first).to_contain_text("Trust provider acme-ci added.")
    row = page.locator('tr[data-provider="acme-ci"]')
    expect(row).to_contain_text("Acme CI")
    expect(row).to_contain_text("https://ci.acme.example")
    expect(row).to_contain_text("inline JWKS (1 key)")
    expect(row).to_contain_text("ES256, EdDSA")

    login(page, base, "alice")
    page.goto(f"{base}/agents/payments-fixer/")
    identities = page.locator('[data-section="identities"]')
    identities.get_by_text("Bind a workload identity").click()
    bind = identities.get_by_role("form", name="Bind a workload identity")
    bind.get_by_label("Provider").select_option("acme-ci")
    bind.get_by_label("Subject").fill(SUBJECT)
    bind.get_by_label("Claims").fill("ref=refs/heads/main\nworkflow=deploy*")
    bind.get_by_role("button", name="Add binding").click()

    expect(page.get_by_role("status").first).to_contain_text("awaiting security approval")
    # The demo binds payments-fixer already; the page lands on the new binding's row.
    binding = page.locator(f"tr#{page.url.rsplit('#', 1)[1]}")
    expect(binding).to_contain_text("Acme CI")
    expect(binding.get_by_test_id("binding-status")).to_have_text(
        "awaiting security approval, 0 / 1"
    )
    expect(binding).to_contain_text(SUBJECT)
    expect(binding).to_contain_text("workflow=deploy*")

    login(page, base, "sara")
    page.goto(f"{base}/approvals/")
    queued = page.locator("tr[data-binding]")
    expect(queued).to_contain_text("payments-fixer")
    queued.get_by_role("textbox", name="comment").first.fill("Pipeline checked.")
    queued.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").first).to_contain_text("approved: it is active")
