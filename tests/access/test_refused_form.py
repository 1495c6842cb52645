"""The access request form, posted and refused (by the form or by the service): the form again
with a 400, the refusal beside its field, what was typed kept, and nothing filed."""

import pytest

from access.models import AccessRequest, Grant
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # The form refuses it.
        ({"duration_hours": "0"}, "Ask for at least 1 hour."),
        # The service refuses it: the policy already allows it.
        ({"agent": "docs-bot", "capability": "github:read"}, "Nothing to request"),
    ],
)
def test_a_refused_request_is_a_400_on_its_form_with_what_was_typed(
    client, engineer, world, overrides, message
):
    client.force_login(engineer)
    data = {
        "agent": "pay-bot",
        "capability": "github:merge",
        "duration_hours": "2",
        "justification": "Hotfix for the ledger rounding bug",
        **overrides,
    }
    response = client.post("/requests/new/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'role="alert"' in page
    assert "Back to the dashboard" not in page  # the form, not the error page
    assert "Hotfix for the ledger rounding bug</textarea>" in page
    assert f'value="{data["duration_hours"]}"' in page
    assert f'<option value="{data["agent"]}" selected>' in page
    assert not AccessRequest.objects.exists()
    assert not Grant.objects.exists()
