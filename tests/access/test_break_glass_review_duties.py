"""Reviewing a break-glass use is held to the separation of duties of approving: neither the
person who broke glass nor the agent's owner reviews it (a break-glass use whose agent was
reassigned to a security member since: that member may not review it)."""

import pytest

from access import services
from access.break_glass import break_glass_request
from access.models import AccessRequest
from compliance.collectors import COLLECTORS, Status
from compliance.period import period_parse
from kernel.errors import Forbidden
from registry.models import Agent
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db

OWNS_IT = "You own this agent"


@pytest.fixture
def glass(engineer, security):
    """eve broke glass on pay-bot; the agent was then reassigned to sec1 (security)."""
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    used = break_glass_request(
        actor=engineer,
        agent=agent,
        capability=capability("deploy:release"),
        duration_hours=1,
        justification="rollback",
        incident="INC-7",
    )
    Agent.objects.filter(pk=agent.pk).update(owner=security)
    return AccessRequest.objects.get(pk=used.pk)


def reviewed(glass: AccessRequest) -> tuple:
    glass.refresh_from_db()
    return glass.break_glass_reviewed_by_id, glass.break_glass_reviewed_at


def test_service_refuses_the_agents_owner(glass, security, second_security):
    with pytest.raises(Forbidden, match=OWNS_IT):
        services.break_glass_review(actor=security, access_request=glass, note="looks fine")
    assert reviewed(glass) == (None, None)
    services.break_glass_review(actor=second_security, access_request=glass, note="fine")
    assert reviewed(glass)[0] == second_security.pk


def test_api_refuses_the_agents_owner_as_approving_does(api, glass, security, second_security):
    url = f"/api/v1/access-requests/{glass.pk}/review-break-glass/"
    response = api.as_user(security).post(url, {"note": "looks fine"}, format="json")
    assert response.status_code == 403, response.content
    assert OWNS_IT in response.json()["detail"]
    assert reviewed(glass) == (None, None)
    ok = api.as_user(second_security).post(url, {"note": "rollback was right"}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["break_glass_reviewed_at"]


def test_pages_offer_no_review_button_to_the_agents_owner(client, glass, security, second_security):
    client.force_login(security)
    page = client.get(f"/requests/{glass.pk}/").content.decode()
    assert "Mark break-glass reviewed" not in page
    assert OWNS_IT in page
    assert f'href="/requests/{glass.pk}/"' not in client.get("/approvals/").content.decode()
    response = client.post(f"/requests/{glass.pk}/review-break-glass/", {"note": "fine"})
    assert response.status_code == 403
    assert reviewed(glass) == (None, None)
    client.force_login(second_security)
    assert "Mark break-glass reviewed" in client.get(f"/requests/{glass.pk}/").content.decode()
    assert f'href="/requests/{glass.pk}/"' in client.get("/approvals/").content.decode()


def test_agc04_fails_a_break_glass_reviewed_by_the_agents_owner(glass, security):
    # Recorded as the services would refuse it now (an older review, or written directly).
    glass.break_glass_reviewed_by = security
    glass.break_glass_review_note = "looks fine"
    glass.save(update_fields=["break_glass_reviewed_by", "break_glass_review_note"])
    evidence = COLLECTORS["AGC-04"].collect(period_parse(None, None))
    assert (evidence.status, evidence.failed) == (Status.NOT_EFFECTIVE, 1)
    assert evidence.figures["break_glass_unreviewed"] == 1
    assert evidence.samples[0].failed


def test_agc04_passes_a_break_glass_reviewed_by_someone_else(glass, second_security):
    services.break_glass_review(actor=second_security, access_request=glass, note="fine")
    evidence = COLLECTORS["AGC-04"].collect(period_parse(None, None))
    assert (evidence.failed, evidence.figures["break_glass_unreviewed"]) == (0, 0)
