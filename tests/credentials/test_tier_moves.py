"""An agent's tier changes and its identity bindings follow: on production the bindings that
lack security's approval wait for it again, and the owner, the team and security are told;
below production the bindings that waited take effect again, unless one overlaps another
agent's binding, and the owner and the team are told."""

import jwt
import pytest
from auditlog.models import LogEntry
from django.core import mail

from credentials.models import BindingApproval, BindingStatus
from tests.credentials.conftest import bind, exchange
from tests.credentials.workload import GITHUB_CLAIMS, GITHUB_SUBJECT
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db

SANDBOX_SUBJECT = "repo:acme/sandbox:ref:refs/heads/main"


def move(api, security, agent, tier):
    response = api.as_user(security).patch(f"/api/v1/agents/{agent.slug}/", {"tier": tier})
    assert response.status_code == 200, response.content
    return response


def identities_section(client, user, agent) -> str:
    client.force_login(user)
    html = client.get(f"/agents/{agent.slug}/").content.decode()
    start = html.index('data-section="identities"')
    return html[start : html.index("</section>", start)]


def issued_to(response) -> str:
    assert response.status_code == 200, response.content
    return jwt.decode(response.json()["access_token"], options={"verify_signature": False})["sub"]


def row_of(section: str, binding) -> str:
    start = section.index(f'id="binding-{binding.pk}"')
    return section[start : section.index("</tr>", start)]


@pytest.fixture
def teammate(world):
    mate = make_user("tess", "engineer")
    world["sandbox"].team.members.add(mate)
    return mate


def test_moving_to_production_tells_the_owner_the_team_and_security_what_waits(
    api, client, world, platform, security, engineer, teammate, committed
):
    sandbox, binding = world["sandbox"], world["bindings"]["sandbox"]
    with committed(execute=True):
        move(api, security, sandbox, "production")

    (told,) = mail.outbox
    assert sorted(told.to) == ["eve@example.com", "sec1@example.com", "tess@example.com"]
    assert told.subject == (
        "[Agent portal] Agent sandbox-bot is production now: 1 workload identity binding "
        "waits for security"
    )
    assert (
        f"- #{binding.pk} GitHub Actions (github-actions), subject {SANDBOX_SUBJECT}\n" in told.body
    )
    assert "every token exchange through them is refused until security approves" in told.body
    assert (
        "approve or reject them on the approvals page: "
        "http://127.0.0.1:8000/approvals/#identity-bindings" in told.body
    )
    assert "Open it in the portal: http://127.0.0.1:8000/agents/sandbox-bot/" in told.body

    refused = exchange(client, platform.token(SANDBOX_SUBJECT), "github:read")
    assert "awaits security approval" in refused.json()["error_description"]
    page = identities_section(client, engineer, sandbox)
    assert (
        "<strong>1 binding waits for security approval:</strong> sandbox-bot is a production "
        "agent, so a binding takes effect only once security approves it. Until then every "
        "token exchange through it is refused." in page
    )
    row = row_of(page, binding)
    assert "awaiting security approval, 0 / 1" in row
    assert "production agent: no credential through it until security approves" in row
    assert 'href="/approvals/#identity-bindings"' not in page  # engineers approve nothing
    assert 'href="/approvals/#identity-bindings"' in identities_section(client, security, sandbox)


def test_nobody_is_told_when_no_binding_goes_back_to_pending(
    api, world, provider, security, second_security, engineer, committed
):
    team = TeamFactory(slug="payments")
    bare = AgentFactory(slug="bare-bot", owner=engineer, team=team, tier="sandbox")
    approved = AgentFactory(slug="approved-bot", owner=engineer, team=team, tier="production")
    kept = bind(approved, provider, "repo:acme/approved:ref:refs/heads/main", {})
    BindingApproval.objects.create(binding=kept, approver=second_security)
    closed = AgentFactory(slug="closed-bot", owner=engineer, team=team, tier="sandbox")
    bind(closed, provider, "repo:acme/closed:ref:refs/heads/main", {}, BindingStatus.REMOVED)
    with committed(execute=True):
        move(api, security, bare, "production")
        move(api, security, approved, "internal")
        move(api, security, approved, "production")
        move(api, security, closed, "production")
    kept.refresh_from_db()
    assert kept.status == BindingStatus.ACTIVE
    assert mail.outbox == []


def test_moving_down_puts_the_waiting_bindings_into_effect_audited_and_told(
    api, client, world, platform, security, engineer, teammate, committed
):
    sandbox, binding = world["sandbox"], world["bindings"]["sandbox"]
    with committed(execute=True):
        move(api, security, sandbox, "production")
    assert [m.subject for m in mail.outbox] == [
        "[Agent portal] Agent sandbox-bot is production now: 1 workload identity binding "
        "waits for security"
    ]
    mail.outbox.clear()
    token = platform.token(SANDBOX_SUBJECT)
    assert exchange(client, token, "github:read").status_code == 400

    with committed(execute=True):
        move(api, security, sandbox, "sandbox")

    binding.refresh_from_db()
    assert (binding.status, binding.required_approvals) == (BindingStatus.ACTIVE, 0)
    entries = LogEntry.objects.get_for_object(binding).filter(actor=security).order_by("id")
    assert [e.changes_dict["status"] for e in entries] == [
        ["active", "pending"],
        ["pending", "active"],
    ]
    (told,) = mail.outbox
    assert sorted(told.to) == ["eve@example.com", "tess@example.com"]  # security moved it
    assert told.subject == (
        "[Agent portal] Agent sandbox-bot is sandbox now: its workload identity bindings need "
        "no security approval"
    )
    assert (
        "Active now, and token exchanges through them work:\n"
        f"- #{binding.pk} GitHub Actions (github-actions), subject "
        f"{SANDBOX_SUBJECT}\n" in told.body
    )
    assert "Still pending" not in told.body

    assert exchange(client, token, "github:read").status_code == 200
    page = identities_section(client, engineer, sandbox)
    assert 'data-testid="bindings-waiting"' not in page
    assert 'data-testid="binding-status">active</span>' in row_of(page, binding)


def test_a_binding_added_on_production_takes_effect_when_the_agent_moves_down(
    api, client, world, provider, platform, security, engineer, committed
):
    fixer = world["fixer"]
    body = {"provider": provider.slug, "subject": "repo:acme/payments:ref:refs/heads/dev"}
    added = api.as_user(engineer).post(
        f"/api/v1/agents/{fixer.slug}/identities/", body, format="json"
    )
    assert added.json()["status"] == "pending"
    with committed(execute=True):
        move(api, security, fixer, "internal")
    listed = api.as_user(engineer).get(f"/api/v1/agents/{fixer.slug}/identities/").json()
    assert {b["id"]: b["status"] for b in listed}[added.json()["id"]] == "active"
    assert "repo:acme/payments:ref:refs/heads/dev" in mail.outbox[0].body


def test_moving_down_leaves_a_binding_that_overlaps_another_agents_pending_and_says_so(
    api, client, world, provider, platform, security, second_security, engineer, committed
):
    fixer = world["fixer"]
    waiting = world["bindings"]["fixer"]
    waiting.status, waiting.required_approvals = BindingStatus.PENDING, 1
    waiting.save()
    # Made before the overlap rule refused it: another agent's live binding a token matches too.
    other_agent = AgentFactory(slug="ci-bot", tier="sandbox")
    other = bind(other_agent, provider, GITHUB_SUBJECT, {"ref": "refs/heads/*"})

    with committed(execute=True):
        move(api, security, fixer, "sandbox")

    waiting.refresh_from_db()
    assert waiting.status == BindingStatus.PENDING
    assert not LogEntry.objects.get_for_object(waiting).filter(actor=security).exists()
    (told,) = mail.outbox
    assert told.to == ["eve@example.com"]
    assert "Active now" not in told.body
    assert "take effect" not in told.body  # none did
    assert (
        "On sandbox a workload identity binding needs no security approval, but the bindings "
        "below stay pending.\n" in told.body
    )
    assert (
        f"Still pending: #{waiting.pk} GitHub Actions (github-actions), subject "
        f"{GITHUB_SUBJECT}, claims environment=production, event_name=push, "
        "ref=refs/heads/main, repository=acme/payments-api: a token could match both it and "
        f"binding #{other.pk} of agent 'ci-bot', and every exchange with such a token would be "
        "refused. Have one of the two removed, then add this one again (on sandbox a binding "
        "is active when added)." in told.body
    )
    row = row_of(identities_section(client, engineer, fixer), waiting)
    assert f"pending: overlaps binding #{other.pk} of agent ci-bot" in row
    assert "Have one of the two removed, then add this one again" in row

    # Nor does security approve it into effect while the other binding is live.
    url = f"/api/v1/agents/{fixer.slug}/identities/{waiting.pk}/approve/"
    refused = api.as_user(second_security).post(url, {}, format="json")
    assert refused.status_code == 400
    assert f"binding #{other.pk} of agent 'ci-bot'" in refused.json()["detail"]
    waiting.refresh_from_db()
    assert waiting.status == BindingStatus.PENDING
    # Left pending, it keeps ci-bot's exchanges working (active, both would be refused).
    token = platform.token(GITHUB_SUBJECT, **GITHUB_CLAIMS)
    assert issued_to(exchange(client, token, "github:read")) == "agent:ci-bot"

    # What the page says works: the other binding removed, this one added again is active.
    api.as_user(security).delete(f"/api/v1/agents/ci-bot/identities/{other.pk}/")
    api.as_user(engineer).delete(f"/api/v1/agents/{fixer.slug}/identities/{waiting.pk}/")
    again = {"provider": provider.slug, "subject": GITHUB_SUBJECT, "claims": GITHUB_CLAIMS}
    added = api.as_user(engineer).post(
        f"/api/v1/agents/{fixer.slug}/identities/", again, format="json"
    )
    assert added.json()["status"] == "active", added.content
    assert issued_to(exchange(client, token, "github:read")) == "agent:payments-fixer"
