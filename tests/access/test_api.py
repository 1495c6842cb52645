from datetime import timedelta

import pytest

from access.models import AccessRequest, Approval, Grant
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, other_engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox")
    AgentFactory(
        slug="other-bot", owner=other_engineer, team=TeamFactory(slug="platform"), tier="sandbox"
    )


def body(**overrides):
    return {
        "agent": "pay-bot",
        "capability": "github:merge",
        "justification": "hotfix",
        "duration_hours": 2,
        **overrides,
    }


def post(api, user, url, data=None):
    return api.as_user(user).post(url, data or {}, format="json")


def test_submit_returns_the_documented_shape(api, engineer, world):
    response = post(api, engineer, "/api/v1/access-requests/", body(ticket="PAY-1", scope="acme/*"))
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "pending"
    assert data["required_approvals"] == 2
    assert data["approvals"] == []
    assert data["grant"] is None
    assert (data["agent"], data["capability"], data["scope"]) == (
        "pay-bot",
        "github:merge",
        "acme/*",
    )


def test_jit_returns_its_grant(api, engineer, world):
    response = post(
        api,
        engineer,
        "/api/v1/access-requests/",
        body(agent="docs-bot", capability="github:write", duration_hours=8),
    )
    assert response.status_code == 201
    grant = response.json()["grant"]
    assert grant["active"] is True
    assert grant["capability"] == "github:write"


@pytest.mark.parametrize(
    ("overrides", "status", "field", "message"),
    [
        ({"capability": "vault:read_secret"}, 400, "capability", "policy exception"),
        (
            {"agent": "docs-bot", "capability": "github:read"},
            400,
            "capability",
            "Nothing to request",
        ),
        ({"duration_hours": 9}, 400, "duration_hours", "the maximum is 4 hours"),
        ({"duration_hours": "two"}, 400, "duration_hours", "valid integer"),
        ({"duration_hours": 10**9}, 400, "duration_hours", "less than or equal"),
        ({"justification": ""}, 400, "justification", "may not be blank"),
        ({"agent": "ghost"}, 400, "agent", "No agent with slug 'ghost'"),
        ({"capability": "github"}, 400, "capability", "tool:action"),
        ({"capability": "github:fly"}, 400, "capability", "No capability 'github:fly'"),
        ({"agent": "other-bot", "capability": "github:merge"}, 403, None, "Only the owner"),
    ],
)
def test_bad_submissions(api, engineer, world, overrides, status, field, message):
    response = post(api, engineer, "/api/v1/access-requests/", body(**overrides))
    assert response.status_code == status, response.content
    data = response.json()
    assert message in data["detail"]
    if field:
        assert field in data["errors"]
    assert not AccessRequest.objects.exists()


@pytest.fixture
def pending(api, engineer, world):
    return post(api, engineer, "/api/v1/access-requests/", body()).json()["id"]


def test_two_security_approvals_issue_the_grant(api, security, second_security, engineer, pending):
    first = post(api, security, f"/api/v1/access-requests/{pending}/approve/", {"comment": "ok"})
    assert (first.json()["status"], len(first.json()["approvals"])) == ("pending", 1)
    again = post(api, security, f"/api/v1/access-requests/{pending}/approve/")
    assert again.status_code == 400
    assert "already" in again.json()["detail"]
    second = post(api, second_security, f"/api/v1/access-requests/{pending}/approve/")
    data = second.json()
    assert data["status"] == "approved"
    assert [a["approver"] for a in data["approvals"]] == ["sec1", "sec2"]
    assert data["grant"]["active"] is True
    mine = api.as_user(engineer).get("/api/v1/grants/?active=true&agent=pay-bot").json()
    assert [g["id"] for g in mine["results"]] == [data["grant"]["id"]]


def test_deny_requires_a_comment(api, security, pending):
    response = post(api, security, f"/api/v1/access-requests/{pending}/deny/")
    assert response.status_code == 400
    assert "comment" in response.json()["errors"]
    assert AccessRequest.objects.get(pk=pending).status == "pending"
    denied = post(api, security, f"/api/v1/access-requests/{pending}/deny/", {"comment": "no"})
    assert denied.json()["status"] == "denied"


def test_cancel_then_approve_is_refused(api, engineer, security, pending):
    assert post(api, engineer, f"/api/v1/access-requests/{pending}/cancel/").status_code == 200
    response = post(api, security, f"/api/v1/access-requests/{pending}/approve/")
    assert response.status_code == 400
    assert "cancelled" in response.json()["detail"]
    assert not Grant.objects.exists()


def test_requests_of_another_team_are_invisible(api, other_engineer, pending):
    client = api.as_user(other_engineer)
    assert client.get(f"/api/v1/access-requests/{pending}/").status_code == 404
    assert client.get("/api/v1/access-requests/").json()["count"] == 0
    assert client.get("/api/v1/access-requests/abc/").status_code == 404


def test_filters_mine_awaiting_me_status(api, engineer, security, second_security, pending):
    post(
        api, engineer, "/api/v1/access-requests/", body(agent="docs-bot", capability="github:write")
    )
    client = api.as_user(engineer)
    assert client.get("/api/v1/access-requests/?mine=true").json()["count"] == 2
    assert client.get("/api/v1/access-requests/?status=pending").json()["count"] == 1
    post(api, security, f"/api/v1/access-requests/{pending}/approve/")
    sec1 = api.as_user(security).get("/api/v1/access-requests/?awaiting_me=true").json()
    sec2 = api.as_user(second_security).get("/api/v1/access-requests/?awaiting_me=true").json()
    assert (sec1["count"], sec2["count"]) == (0, 1)
    bad = api.as_user(engineer).get("/api/v1/access-requests/?status=maybe")
    assert bad.status_code == 400


def test_revoke_through_the_api(api, engineer, security, world):
    grant_id = post(
        api, engineer, "/api/v1/access-requests/", body(agent="docs-bot", capability="github:write")
    ).json()["grant"]["id"]
    refused = post(api, engineer, f"/api/v1/grants/{grant_id}/revoke/", {"reason": "x"})
    assert refused.status_code == 403
    no_reason = post(api, security, f"/api/v1/grants/{grant_id}/revoke/")
    assert no_reason.status_code == 400
    done = post(api, security, f"/api/v1/grants/{grant_id}/revoke/", {"reason": "leak"})
    assert (done.status_code, done.json()["active"]) == (200, False)
    assert api.as_user(engineer).get("/api/v1/grants/?active=true").json()["count"] == 0


def test_list_query_counts_are_constant(api, engineer, security, world, django_assert_num_queries):
    client = api.as_user(security)
    post(api, engineer, "/api/v1/access-requests/", body())
    # token with roles, count, requests (+agent, capability, users, grant), approvals
    with django_assert_num_queries(4):
        client.get("/api/v1/access-requests/")
    mate = make_user("mate", "engineer")
    for i in range(30):
        AccessRequest.objects.create(
            agent_id=AccessRequest.objects.first().agent_id,
            capability_id=AccessRequest.objects.first().capability_id,
            scope=f"s{i}",
            justification="j",
            duration_hours=1,
            requested_by=mate,
            effect="approval",
            policy_version=1,
            required_approvals=1,
        )
    client = api.as_user(security)
    with django_assert_num_queries(4):
        assert client.get("/api/v1/access-requests/").json()["count"] == 31
    for key in ("github:write", "github:merge"):
        post(api, engineer, "/api/v1/access-requests/", body(agent="docs-bot", capability=key))
    client = api.as_user(engineer)
    with django_assert_num_queries(3):  # token with roles, count, grants with their joins
        assert client.get("/api/v1/grants/").json()["count"] == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"duration_hours": True}, "duration_hours", "valid integer"),
        ({"duration_hours": 0}, "duration_hours", "greater than or equal to 1"),
        ({"duration_hours": -3}, "duration_hours", "greater than or equal to 1"),
        ({"justification": None}, "justification", "may not be null"),
        ({"agent": ["pay-bot"]}, "agent", "Not a valid string"),
        ({"scope": "x" * 501}, "scope", "no more than 500"),
        ({"ticket": "x" * 101}, "ticket", "no more than 100"),
        ({"break_glass": "maybe"}, "break_glass", "valid boolean"),
        ({"break_glass": True}, "incident", "incident reference"),
    ],
)
def test_more_bad_submissions_change_nothing(api, engineer, world, data, field, message):
    response = post(
        api, engineer, "/api/v1/access-requests/", body(capability="deploy:release", **data)
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert message in str(response.json())
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("field", ["agent", "capability", "justification", "duration_hours"])
def test_each_required_field(api, engineer, world, field):
    data = body()
    del data[field]
    response = post(api, engineer, "/api/v1/access-requests/", data)
    assert response.status_code == 400
    assert "required" in str(response.json()["errors"][field])
    assert not AccessRequest.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(api, engineer, world):
    response = api.as_user(engineer).post("/api/v1/access-requests/", [1, 2], format="json")
    assert response.status_code == 400
    assert "JSON object" in response.json()["detail"]


def test_forged_and_wrong_targets_change_nothing(api, engineer, security, world, pending):
    jit = post(
        api, engineer, "/api/v1/access-requests/", body(agent="docs-bot", capability="github:write")
    ).json()
    cases = [
        ("/api/v1/access-requests/999999/approve/", {}, 404, "No access request #999999"),
        ("/api/v1/access-requests/abc/deny/", {"comment": "x"}, 404, "No access request"),
        ("/api/v1/grants/999999/revoke/", {"reason": "x"}, 404, "No grant #999999"),
        (f"/api/v1/access-requests/{jit['id']}/approve/", {}, 400, "is already approved"),
        (f"/api/v1/access-requests/{jit['id']}/deny/", {"comment": "late"}, 400, "is approved"),
        (
            f"/api/v1/access-requests/{pending}/review-break-glass/",
            {"note": "?"},
            400,
            "did not break glass",
        ),
        (f"/api/v1/access-requests/{pending}/approve/", {"comment": ["x"]}, 400, "valid string"),
        (f"/api/v1/access-requests/{pending}/deny/", {"comment": "x" * 4001}, 400, "4000"),
        (f"/api/v1/access-requests/{pending}/deny/", {"comment": "  "}, 400, "blank"),
        (f"/api/v1/grants/{jit['grant']['id']}/revoke/", {"reason": ""}, 400, "blank"),
    ]
    before = (
        list(AccessRequest.objects.values_list("status", flat=True)),
        Approval.objects.count(),
        list(Grant.objects.values_list("revoked_at", flat=True)),
    )
    for url, data, status, message in cases:
        response = post(api, security, url, data)
        assert response.status_code == status, (url, response.content)
        assert message in str(response.json()), (url, response.content)
    after = (
        list(AccessRequest.objects.values_list("status", flat=True)),
        Approval.objects.count(),
        list(Grant.objects.values_list("revoked_at", flat=True)),
    )
    assert after == before


def test_another_persons_request_cannot_be_cancelled(api, engineer, world, pending):
    teammate = make_user("mate", "engineer")
    AccessRequest.objects.get(pk=pending).agent.team.members.add(teammate)
    response = post(api, teammate, f"/api/v1/access-requests/{pending}/cancel/")
    assert response.status_code == 403
    assert "Only the person who filed" in response.json()["detail"]
    assert AccessRequest.objects.get(pk=pending).status == "pending"


def test_grant_list_query_count_is_constant(
    api, engineer, security, world, django_assert_num_queries
):
    from tests.registry.factories import capability

    post(
        api, engineer, "/api/v1/access-requests/", body(agent="docs-bot", capability="github:write")
    )
    client = api.as_user(security)
    with django_assert_num_queries(3):  # token with roles, count, grants with their joins
        assert client.get("/api/v1/grants/?active=true").json()["count"] == 1
    agent_id = Grant.objects.get().agent_id
    now = Grant.objects.get().starts_at
    for i in range(40):
        Grant.objects.create(
            agent_id=agent_id,
            capability=capability(f"tool{i}:act"),
            starts_at=now,
            expires_at=now + timedelta(hours=1),
            revoked_by=security if i % 2 else None,
            revoked_at=now if i % 2 else None,
        )
    client = api.as_user(security)
    with django_assert_num_queries(3):
        assert client.get("/api/v1/grants/").json()["count"] == 41
    client = api.as_user(engineer)
    with django_assert_num_queries(3):
        assert client.get("/api/v1/grants/?active=true&agent=docs-bot").json()["count"] == 21


def test_every_change_is_in_the_audit_trail_with_its_actor(
    api, engineer, security, second_security, pending
):
    from auditlog.models import LogEntry

    post(api, security, f"/api/v1/access-requests/{pending}/approve/")
    post(api, second_security, f"/api/v1/access-requests/{pending}/approve/")
    request = AccessRequest.objects.get(pk=pending)
    post(api, security, f"/api/v1/grants/{request.grant.pk}/revoke/", {"reason": "done"})

    def actors(obj) -> list[tuple[str, str]]:
        entries = LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk")
        return [(e.get_action_display(), e.actor.username) for e in entries]

    assert actors(request) == [("create", "eve"), ("update", "sec2")]
    assert actors(request.grant) == [("create", "sec2"), ("update", "sec1")]
    assert [actors(a) for a in request.approvals.all()] == [
        [("create", "sec1")],
        [("create", "sec2")],
    ]


def test_grant_filters(api, engineer, security, world):
    for key in ("github:write", "github:merge"):
        post(api, engineer, "/api/v1/access-requests/", body(agent="docs-bot", capability=key))
    pending = AccessRequest.objects.get(capability__key="github:merge")
    post(api, security, f"/api/v1/access-requests/{pending.pk}/approve/")
    client = api.as_user(engineer)

    def keys(query: str) -> list[str]:
        return sorted(
            g["capability"] for g in client.get(f"/api/v1/grants/?{query}").json()["results"]
        )

    assert keys("") == ["github:merge", "github:write"]
    assert keys("capability=github:merge") == ["github:merge"]
    assert keys("agent=pay-bot") == []
    revoke = Grant.objects.get(capability__key="github:write").pk
    post(api, security, f"/api/v1/grants/{revoke}/revoke/", {"reason": "done"})
    assert keys("active=true") == ["github:merge"]
    assert keys("active=false") == ["github:write"]
    assert client.get("/api/v1/grants/?active=perhaps").status_code == 400


@pytest.mark.parametrize("flag", ["mine", "awaiting_me", "break_glass"])
def test_request_flags_are_true_or_false(api, security, world, flag):
    client = api.as_user(security)
    assert client.get(f"/api/v1/access-requests/?{flag}=true").status_code == 200
    assert client.get(f"/api/v1/access-requests/?{flag}=false").status_code == 200
    bad = client.get(f"/api/v1/access-requests/?{flag}=perhaps")
    assert bad.status_code == 400
    assert flag in bad.json()["errors"]
