"""An access request's justification and a break-glass incident hold visible text: only a
zero-width space, or other invisible characters, is refused like an empty one."""

import pytest

from access import services
from access.models import AccessRequest
from kernel.errors import ApplicationError
from registry.models import Agent
from tests.access.test_api_break_glass import body, world  # noqa: F401 (fixture)
from tests.registry.factories import capability

pytestmark = pytest.mark.django_db

ZERO_WIDTH = "\u200b\u200d\ufeff"


def test_api_refuses_an_invisible_justification(api, engineer, world):  # noqa: F811
    response = api.as_user(engineer).post(
        "/api/v1/access-requests/", body(justification=ZERO_WIDTH), format="json"
    )
    assert response.status_code == 400, response.content
    assert "Say why the agent needs this access" in response.json()["errors"]["justification"][0]
    assert AccessRequest.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["/api/v1/access-requests/", "/api/v1/access-requests/break-glass/"]
)
def test_api_refuses_an_invisible_incident(api, engineer, world, url):  # noqa: F811
    emergency = body(capability="deploy:release", duration_hours=1, incident="\u200b")
    if url.endswith("/access-requests/"):
        emergency["break_glass"] = True
    response = api.as_user(engineer).post(url, emergency, format="json")
    assert response.status_code == 400, response.content
    assert "incident reference" in response.json()["errors"]["incident"][0]
    assert AccessRequest.objects.count() == 0


def test_service_refuses_an_invisible_justification(engineer, world):  # noqa: F811
    with pytest.raises(ApplicationError, match="Say why") as refused:
        services.access_request_submit(
            actor=engineer,
            agent=Agent.objects.get(slug="pay-bot"),
            capability=capability("github:merge"),
            duration_hours=1,
            justification="\u2060 \u3164",
        )
    assert refused.value.field == "justification"
    assert AccessRequest.objects.count() == 0


def test_form_refuses_an_invisible_justification(client, engineer, world):  # noqa: F811
    client.force_login(engineer)
    response = client.post(
        "/requests/new/",
        {
            "agent": "pay-bot",
            "capability": "github:merge",
            "duration_hours": "1",
            "justification": ZERO_WIDTH,
        },
    )
    assert response.status_code == 400
    assert "Say why the agent needs this access" in response.content.decode()
    assert AccessRequest.objects.count() == 0
