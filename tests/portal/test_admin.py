import pytest

from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db


def test_superuser_reads_agents_in_the_admin_but_cannot_edit_around_the_services(admin_client):
    agent = AgentFactory(slug="pay-bot")
    listing = admin_client.get("/admin/registry/agent/")
    assert listing.status_code == 200
    assert b"pay-bot" in listing.content
    change = admin_client.post(f"/admin/registry/agent/{agent.pk}/change/", {"status": "retired"})
    assert change.status_code == 403
    agent.refresh_from_db()
    assert agent.status == "active"
    assert admin_client.get("/admin/registry/agent/add/").status_code == 403
