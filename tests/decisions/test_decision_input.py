"""Bodies JSON allows but no decision can be made of: a lone surrogate (`"\\ud800"`, which no
database stores) and a key sent twice. Each is a 400 that says which, on every way in (a
gateway's token on the fast path, a session through DRF, the batch), and nothing is recorded."""

import json

import pytest

from decisions.models import Decision
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db

SURROGATE = "Surrogate characters are not allowed: U+D800."


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")


@pytest.fixture(params=["token", "session"])
def caller(request, api, client, gateway, security):
    """The gateway's token (the fast path), or security's session (the DRF view)."""
    if request.param == "token":
        return api.as_user(gateway)
    client.force_login(security)
    return client


def raw(field: str, value: str = "\\ud800") -> str:
    """A decision body as the gateway sends it, with `value` written into `field` verbatim."""
    body = {"agent": "pay-bot", "capability": "github:read", "scope": "acme/app"}
    parts = [f'"{name}":{json.dumps(text)}' for name, text in body.items() if name != field]
    return "{" + ",".join([*parts, f'"{field}":"{value}"']) + "}"


def post(client, path: str, body: str):
    return client.post(path, data=body, content_type="application/json")


@pytest.mark.parametrize("field", ["agent", "capability", "scope"])
def test_a_lone_surrogate_is_a_400_naming_the_field(caller, world, field):
    response = post(caller, "/api/v1/decisions/", raw(field))
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == f"{field}: {SURROGATE}"
    assert response.json()["errors"] == {field: [f"{field}: {SURROGATE}"]}
    assert Decision.objects.count() == 0


@pytest.mark.parametrize("field", ["agent", "capability", "scope"])
def test_a_lone_surrogate_in_a_batch_names_its_index_and_nothing_is_decided(caller, world, field):
    good = raw("scope", "acme/app")
    response = post(caller, "/api/v1/decisions/batch/", f'{{"requests":[{good},{raw(field)}]}}')
    assert response.status_code == 400, response.content
    assert response.json()["detail"] == f"requests[1]: {field}: {SURROGATE}"
    assert response.json()["index"] == 1
    assert Decision.objects.count() == 0


def test_the_decision_api_words_it_as_the_other_endpoints_do(api, engineer, gateway, world):
    other = post(
        api.as_user(engineer),
        "/api/v1/access-requests/",
        '{"agent":"pay-bot","capability":"github:merge","duration_hours":1,'
        '"justification":"\\ud800"}',
    )
    decision = post(api.as_user(gateway), "/api/v1/decisions/", raw("scope"))
    assert (other.status_code, decision.status_code) == (400, 400)
    assert other.json()["detail"] == SURROGATE
    assert decision.json()["detail"].endswith(SURROGATE)


def test_other_text_outside_ascii_is_decided_as_usual(api, gateway, world):
    response = post(api.as_user(gateway), "/api/v1/decisions/", raw("scope", "acme/caf\\u00e9"))
    assert response.status_code == 200, response.content
    assert Decision.objects.get().scope == "acme/café"


def test_a_key_sent_twice_is_a_400_not_the_last_one_decided(caller, world):
    body = '{"agent":"pay-bot","capability":"github:read","agent":"other-bot"}'
    response = post(caller, "/api/v1/decisions/", body)
    assert response.status_code == 400, response.content
    assert response.json() == {
        "detail": "Duplicate key 'agent' in a JSON object: send each field once.",
        "code": "duplicate_key",
    }
    assert Decision.objects.count() == 0


def test_a_key_sent_twice_in_a_batch_item_is_a_400_and_nothing_is_decided(caller, world):
    twice = '{"agent":"pay-bot","capability":"github:read","capability":"github:merge"}'
    body = f'{{"requests":[{raw("scope", "acme/app")},{twice}]}}'
    response = post(caller, "/api/v1/decisions/batch/", body)
    assert response.status_code == 400, response.content
    assert "Duplicate key 'capability'" in response.json()["detail"]
    assert Decision.objects.count() == 0
    items = f'{{"requests":[{raw("scope", "acme/app")},{raw("scope", "acme/web")}]}}'
    assert post(caller, "/api/v1/decisions/batch/", items).status_code == 200
    assert Decision.objects.count() == 2


@pytest.mark.parametrize(
    ("role", "path", "says"),
    [
        ("gateway", "/api/v1/decisions/", "Unknown field '\\ud800': this endpoint reads "),
        ("gateway", "/api/v1/decisions/batch/", "Unknown field '\\ud800': this endpoint reads "),
        # Elsewhere the JSON reader refuses any key or string holding one, however nested.
        ("engineer", "/api/v1/access-requests/", SURROGATE),
    ],
)
def test_an_unknown_field_named_with_a_lone_surrogate_is_a_400(
    api, role_users, world, role, path, says
):
    response = post(api.as_user(role_users[role]), path, '{"\\ud800": 1}')
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith(says)
    assert Decision.objects.count() == 0
