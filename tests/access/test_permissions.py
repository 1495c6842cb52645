"""Every access endpoint and page, for every role; a refusal changes nothing.

The world: eve (engineer) owns pay-bot (production) and docs-bot (sandbox) and has filed a
pending merge request, broken glass once, and holds a jit grant. oscar is an engineer of
another team; sec1/sec2 are security; aud the auditor; gw the gateway; norole has no role.
"""

import pytest

from access import services
from access.break_glass import break_glass_request
from access.models import AccessRequest, Approval, Grant
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db

ROLES = [
    "engineer",
    "other_engineer",
    "security",
    "second_security",
    "auditor",
    "gateway",
    "norole",
    "anonymous",
]
READERS = {"engineer", "security", "second_security", "auditor"}
SECURITY = {"security", "second_security"}


@pytest.fixture
def users(engineer, other_engineer, security, second_security, auditor, gateway, no_role_user):
    return {
        "engineer": engineer,
        "other_engineer": other_engineer,
        "security": security,
        "second_security": second_security,
        "auditor": auditor,
        "gateway": gateway,
        "norole": no_role_user,
        "anonymous": None,
    }


@pytest.fixture
def world(engineer, other_engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    prod = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    sandbox = AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox")
    AgentFactory(slug="other-bot", owner=other_engineer, team=TeamFactory(slug="platform"))

    def submit(agent, key, **extra):
        return services.access_request_submit(
            actor=engineer,
            agent=agent,
            capability=capability(key),
            duration_hours=1,
            justification="needed",
            **extra,
        )

    glass = break_glass_request(
        actor=engineer,
        agent=prod,
        capability=capability("deploy:release"),
        duration_hours=1,
        justification="needed",
        incident="INC-1",
    )
    return {
        "pending": submit(prod, "github:merge"),
        "glass": glass,
        "jit_grant": Grant.objects.get(request=submit(sandbox, "github:write")),
    }


def snapshot() -> tuple:
    """Everything a refused call must leave as it was."""
    return (
        list(AccessRequest.objects.order_by("pk").values_list("status", "decision_comment")),
        list(AccessRequest.objects.values_list("break_glass_reviewed_at", flat=True)),
        Approval.objects.count(),
        list(Grant.objects.order_by("pk").values_list("pk", "revoked_at")),
    )


def api_expected(role: str, allowed: set[str]) -> int:
    """200 for the allowed, 401 for anonymous, 403 for every other role."""
    if role in allowed:
        return 200
    if role == "anonymous":
        return 401
    return 403


# ---------------------------------------------------------------- API reads


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/api/v1/access-requests/", "/api/v1/grants/"])
def test_api_lists_per_role(api, users, world, role, url):
    response = api.as_user(users[role]).get(url)
    readers = READERS | {"other_engineer"}
    assert response.status_code == api_expected(role, readers)
    if response.status_code == 200:
        # Engineers see their agents' records; oscar none; security and the auditor all.
        expected = 0 if role == "other_engineer" else (3 if "access" in url else 2)
        assert response.json()["count"] == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", ["request", "grant"])
def test_api_details_per_role(api, users, world, role, kind):
    if kind == "request":
        url = f"/api/v1/access-requests/{world['pending'].pk}/"
    else:
        url = f"/api/v1/grants/{world['jit_grant'].pk}/"
    response = api.as_user(users[role]).get(url)
    expected = 404 if role == "other_engineer" else api_expected(role, READERS)
    assert response.status_code == expected, response.content
    assert "detail" in response.json() or response.status_code == 200


# ---------------------------------------------------------------- API writes

WRITES = [
    # (name, url in the world, body, roles that succeed)
    ("approve", "/api/v1/access-requests/{pending}/approve/", {}, SECURITY),
    ("deny", "/api/v1/access-requests/{pending}/deny/", {"comment": "no"}, SECURITY),
    ("cancel", "/api/v1/access-requests/{pending}/cancel/", {}, {"engineer"}),
    (
        "review",
        "/api/v1/access-requests/{glass}/review-break-glass/",
        {"note": "fine"},
        SECURITY,
    ),
    ("revoke", "/api/v1/grants/{grant}/revoke/", {"reason": "leak"}, SECURITY),
]


def _url(template: str, world: dict) -> str:
    return template.format(
        pending=world["pending"].pk, glass=world["glass"].pk, grant=world["jit_grant"].pk
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "url", "body", "allowed"), WRITES, ids=[w[0] for w in WRITES])
def test_api_writes_per_role(api, users, world, role, name, url, body, allowed):
    before = snapshot()
    response = api.as_user(users[role]).post(_url(url, world), body, format="json")
    expected = api_expected(role, allowed)
    if name == "cancel" and role == "other_engineer":
        expected = 404  # an engineer may cancel, but never sees another team's request
    assert response.status_code == expected, response.content
    if expected == 200:
        assert snapshot() != before
    else:
        assert response.json()["detail"]
        assert snapshot() == before


@pytest.mark.parametrize("role", ROLES)
def test_api_submit_per_role(api, users, world, role):
    before = AccessRequest.objects.count()
    body = {
        "agent": "docs-bot",
        "capability": "github:merge",
        "justification": "x",
        "duration_hours": 1,
    }
    response = api.as_user(users[role]).post("/api/v1/access-requests/", body, format="json")
    # Security holds REQUEST_ACCESS but runs no agent of eve's team: the service refuses (403).
    expected = {"engineer": 201, "anonymous": 401}.get(role, 403)
    assert response.status_code == expected, response.content
    assert AccessRequest.objects.count() == before + (1 if expected == 201 else 0)


# ---------------------------------------------------------------- HTML pages


def html_expected(role: str, allowed: set[str], ok: int = 200) -> int:
    if role in allowed:
        return ok
    if role == "anonymous":
        return 302
    return 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("page", "allowed"),
    [
        ("/requests/", READERS | {"other_engineer"}),
        ("/requests/?all=1", READERS | {"other_engineer"}),
        ("/requests/new/", {"engineer", "other_engineer"} | SECURITY),
        ("/requests/{pending}/", READERS),
        ("/requests/{glass}/", READERS),
        ("/approvals/", SECURITY),
    ],
)
def test_pages_per_role(client, users, world, role, page, allowed):
    if users[role] is not None:
        client.force_login(users[role])
    url = _url(page, world)
    response = client.get(url)
    expected = html_expected(role, allowed)
    if role == "other_engineer" and "{" in page:
        expected = 404  # another team's request: not found, not leaked
    assert response.status_code == expected
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/?next=")


HTML_WRITES = [
    ("approve", "/requests/{pending}/approve/", {}, SECURITY),
    ("deny", "/requests/{pending}/deny/", {"comment": "no"}, SECURITY),
    ("cancel", "/requests/{pending}/cancel/", {}, {"engineer"}),
    ("review", "/requests/{glass}/review-break-glass/", {"note": "fine"}, SECURITY),
    ("revoke", "/grants/{grant}/revoke/", {"reason": "leak"}, SECURITY),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "url", "body", "allowed"), HTML_WRITES, ids=[w[0] for w in HTML_WRITES]
)
def test_html_writes_per_role(client, users, world, role, name, url, body, allowed):
    if users[role] is not None:
        client.force_login(users[role])
    before = snapshot()
    response = client.post(_url(url, world), body)
    expected = html_expected(role, allowed, ok=302)
    if name == "cancel" and role == "other_engineer":
        expected = 404
    assert response.status_code == expected, response.content[:300]
    if role in allowed:
        assert not response["Location"].startswith("/accounts/login/")
        assert snapshot() != before
    else:
        assert snapshot() == before
        if role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/requests/", "/approvals/", "/requests/new/"])
def test_pages_refuse_other_methods(client, security, world, url):
    client.force_login(security)
    response = client.put(url)
    assert response.status_code == 405
