import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


def test_alice_registers_an_agent_and_finds_it_in_the_filtered_list(live_server, page: Page, demo):
    login(page, live_server.url, "alice")
    page.get_by_role("link", name="Agents", exact=True).click()
    page.get_by_role("link", name="Register an agent").click()
    page.get_by_label("Slug").fill("release-notes-bot")
    page.get_by_label("Name").fill("Release notes bot")
    page.get_by_label("Team").select_option("payments")
    page.get_by_label("Tier").select_option("internal")
    page.get_by_label("Workload identity").fill("spiffe://acme.example/agents/release-notes-bot")
    page.get_by_label("Vendor").fill("claude-code")
    page.get_by_label("Repositories").fill("acme/payments-api\nacme/changelog")
    page.get_by_role("button", name="Register agent").click()

    expect(page.get_by_role("status")).to_contain_text("Agent release-notes-bot registered")
    expect(page.get_by_test_id("agent-status")).to_have_text("active")

    page.get_by_role("link", name="Agents", exact=True).click()
    page.get_by_label("Tier").select_option("internal")
    page.get_by_label("Search").fill("release")
    page.get_by_role("button", name="Filter").click()
    table = page.get_by_role("table", name="Agents")
    expect(table.get_by_role("link", name="release-notes-bot")).to_be_visible()
    expect(table.get_by_role("link", name="payments-fixer")).to_have_count(0)
    expect(page.get_by_text("1 agent", exact=True)).to_be_visible()


def test_security_publishes_a_new_policy_version(live_server, page: Page, demo):
    login(page, live_server.url, "sam")
    page.get_by_role("link", name="Policy", exact=True).click()
    page.get_by_role("button", name="Open a draft from the published version").click()
    # The editor's script reads the cells' values once the page has loaded: edit after that.
    page.wait_for_url("**/policy/#draft", wait_until="load")
    expect(page).to_have_title("Policy · Agent Governance Portal")  # no script tag in it
    draft = page.get_by_role("table", name="Draft v2")
    draft.get_by_label("sandbox github:write effect").select_option("approval")
    draft.get_by_label("sandbox github:write maximum hours").fill("2")
    # A bad cell: jit without its maximum. Nothing is saved, what was typed stays, and the
    # error is on the cell.
    draft.get_by_label("sandbox github:read effect").select_option("jit")
    expect(page.get_by_test_id("unsaved")).to_have_text("2 unsaved changes")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("status")).to_contain_text("Nothing was saved")
    cell = page.locator('td.cell-error[data-tier="sandbox"][data-capability="github:read"]')
    expect(cell.get_by_role("alert")).to_have_text(
        "A jit rule needs a maximum duration (1 to 168 hours)."
    )
    draft = page.get_by_role("table", name="Draft v2")
    expect(draft.get_by_label("sandbox github:write effect")).to_have_value("approval")
    expect(draft.get_by_label("sandbox github:write maximum hours")).to_have_value("2")
    draft.get_by_label("sandbox github:read effect").select_option("allow")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_role("status")).to_contain_text("Draft v2 saved: 1 rule changed.")
    page.get_by_role("link", name="Review impact and publish v2").click()
    # Sandbox is now stricter than production for github:write: named, and a reason is asked.
    expect(page.locator("#warnings")).to_contain_text(
        "production github:write (approval ≤ 8h) is less strict than sandbox (approval ≤ 2h)"
    )
    page.get_by_role("button", name="Publish v2 with these warnings").click()
    expect(page.get_by_role("alert")).to_contain_text("say why (a reason) to publish it")
    page.get_by_label("Why publish this version").fill("Production follows next week.")
    page.get_by_role("button", name="Publish v2 with these warnings").click()
    expect(page.get_by_role("status")).to_contain_text("Policy v2 published")
    matrix = page.get_by_role("table", name="Policy matrix v2")
    expect(matrix.locator('[data-tier="sandbox"][data-capability="github:write"]')).to_contain_text(
        "approval"
    )


def test_security_imports_a_policy_file_and_sees_its_impact_before_publishing(
    live_server, page: Page, demo
):
    login(page, live_server.url, "sam")
    page.goto(f"{live_server.url}/policy/")
    with page.expect_download() as download:
        page.get_by_role("table", name="Policy versions").get_by_role("link", name="YAML").click()
    exported = download.value.path().read_text()
    assert exported.startswith("# Agent Governance Portal tier policy")

    page.get_by_role("link", name="import a policy file").click()
    broken = exported.replace("production:", "prod:")
    page.get_by_label("Policy file", exact=True).set_input_files(
        files=[{"name": "policy.yaml", "mimeType": "application/yaml", "buffer": broken.encode()}]
    )
    page.get_by_role("button", name="Open a draft from this file").click()
    errors = page.get_by_role("table", name="Errors in the policy file")
    expect(errors).to_contain_text("tiers.prod")
    expect(errors).to_contain_text("unknown field; use sandbox, internal, production.")

    opened = exported.replace(
        '"github:read": {effect: allow}', '"github:read": {effect: deny}'
    ).replace(
        '"github:merge": {effect: approval, max_duration_hours: 4}',
        '"github:merge": {effect: allow}',
    )
    page.get_by_label("Or paste the file").fill(opened)
    page.get_by_role("button", name="Open a draft from this file").click()
    expect(page.get_by_role("status")).to_contain_text("Draft v2 opened from the file")
    expect(page.locator("#warnings")).to_contain_text(
        "High-risk production github:merge becomes 'allow'"
    )
    expect(page.get_by_test_id("allow-to-deny")).not_to_have_text("0")
    changed = page.get_by_role("table", name="Decisions that would change")
    expect(changed.get_by_role("link", name="payments-fixer").first).to_be_visible()
    expect(page.get_by_test_id("draft-AGC-02")).to_have_text("Partially effective")
    page.get_by_label("Why publish this version").fill("Merges move to review in the gateway.")
    page.get_by_role("button", name="Publish v2 with these warnings").click()
    expect(page.get_by_role("status")).to_contain_text("Policy v2 published")
    history = page.get_by_role("table", name="Policy versions")
    expect(history).to_contain_text("“Merges move to review in the gateway.”")
