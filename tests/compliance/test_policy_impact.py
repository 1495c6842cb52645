"""The impact of a draft: the decision log replayed against it, warnings, the policy controls."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from decisions.models import Decision
from decisions.services.log import decide_and_record
from registry.models import PolicyRule
from registry.services import policy as policy_services
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, capability, publish_policy

URL = "/api/v1/policy/versions/{}/impact/"


@pytest.fixture
def logged(security, engineer):
    """v1 published; four agents that asked about four capabilities; draft v2 opened."""
    merge = capability("github:merge", high_risk=True)
    capability("github:read")
    capability("jira:write")
    capability("deploy:release", high_risk=True)
    publish_policy(
        {
            "sandbox": {
                "github:read": ("allow", None),
                "jira:write": ("allow", None),
                "github:merge": ("jit", 8),
                "deploy:release": ("approval", 8),
            },
            "internal": {
                "github:read": ("allow", None),
                "github:merge": ("jit", 8),
                "deploy:release": ("approval", 4),
            },
            "production": {
                "github:read": ("allow", None),
                "github:merge": ("approval", 4),
                "deploy:release": ("approval", 2),
            },
        },
        security,
    )
    agents = {
        tier: AgentFactory(slug=f"{tier}-bot", tier=tier, owner=engineer)
        for tier in ("sandbox", "internal", "production")
    }
    agents["held"] = AgentFactory(slug="held-bot", tier="production", owner=engineer)
    make_grant(agents["internal"], "github:merge", scope="acme/*")
    make_exception(agents["held"], "deploy:release")
    asks = [
        ("sandbox-bot", "github:read", ""),
        ("sandbox-bot", "jira:write", ""),
        ("internal-bot", "github:merge", "acme/api"),
        ("internal-bot", "github:merge", "other/api"),
        ("production-bot", "github:read", ""),
        ("production-bot", "github:merge", "acme/api"),
        ("held-bot", "deploy:release", ""),
    ]
    for slug, key, scope in asks:
        for _ in range(3):  # repeats are replayed once
            decide_and_record(agent_slug=slug, capability_key=key, scope=scope)
    draft = policy_services.policy_draft_create(actor=security, notes="next")
    return {"draft": draft, "merge": merge, "agents": agents}


def set_rule(security, draft, tier, key, effect, hours=None):
    policy_services.policy_rule_set(
        actor=security,
        version=draft,
        tier=tier,
        capability=capability(key),
        effect=effect,
        max_duration_hours=hours,
    )


def test_the_draft_changes_exactly_the_decisions_its_rules_touch(api, security, logged):
    draft = logged["draft"]
    set_rule(security, draft, "sandbox", "jira:write", "deny")  # sandbox-bot loses jira
    set_rule(security, draft, "production", "github:merge", "allow")  # production-bot gains
    set_rule(security, draft, "internal", "github:merge", "approval", 4)  # grant still counts
    policy_services.policy_rule_remove(
        actor=security, version=draft, tier="production", capability=capability("deploy:release")
    )  # held-bot keeps its exception: unchanged
    body = api.as_user(security).get(URL.format(draft.number)).json()
    assert body["summary"] == {"allow_to_deny": 1, "deny_to_allow": 1, "unchanged": 5}
    assert body["replayed"] == 7
    assert body["changes"] == [
        {
            "agent": "production-bot",
            "capability": "github:merge",
            "scope": "acme/api",
            "published": "deny",
            "draft": "allow",
            "reason": f"Standing allow: production github:merge in policy v{draft.number}.",
        },
        {
            "agent": "sandbox-bot",
            "capability": "jira:write",
            "scope": "",
            "published": "allow",
            "draft": "deny",
            "reason": f"Denied by rule: sandbox jira:write in policy v{draft.number}.",
        },
    ]
    assert body["changes_truncated"] is False


def test_loosenings_are_warned_and_the_policy_controls_judge_both_versions(api, security, logged):
    draft = logged["draft"]
    set_rule(security, draft, "production", "github:merge", "allow")
    body = api.as_user(security).get(URL.format(draft.number)).json()
    assert [(w["kind"], w["tier"], w["capability"]) for w in body["warnings"]] == [
        ("high_risk_opened", "production", "github:merge"),
        ("production_less_strict", "production", "github:merge"),
    ]
    agc02, agc06 = body["controls"]["AGC-02"], body["controls"]["AGC-06"]
    assert (agc02["published"], agc02["draft"]) == ("partially_effective", "partially_effective")
    assert agc02["draft_failed"] == [
        f"v{draft.number} internal github:merge: jit on a high-risk capability",
        f"v{draft.number} production github:merge: allow on a high-risk capability",
        f"v{draft.number} sandbox github:merge: jit on a high-risk capability",
    ]
    assert (agc06["published"], agc06["draft"]) == ("effective", "partially_effective")
    assert agc06["draft_failed"] == [
        f"v{draft.number} github:merge: production is less strict than sandbox, internal"
    ]


def test_only_the_chosen_days_are_replayed(api, security, logged):
    Decision.objects.filter(agent_slug="sandbox-bot").update(
        decided_at=timezone.now() - timedelta(days=45)
    )
    set_rule(security, logged["draft"], "sandbox", "jira:write", "deny")
    client = api.as_user(security)
    recent = client.get(URL.format(2) + "?days=30").json()
    assert recent["summary"]["allow_to_deny"] == 0
    assert recent["replayed"] == 5
    older = client.get(URL.format(2) + "?days=60").json()
    assert older["summary"]["allow_to_deny"] == 1


@pytest.mark.parametrize("days", ["0", "401", "soon"])
def test_a_bad_period_is_a_400(api, security, logged, days):
    response = api.as_user(security).get(URL.format(2) + f"?days={days}")
    assert response.status_code == 400
    assert "days" in response.json()["errors"]


def test_a_published_version_or_unknown_one_has_no_impact(api, security, logged):
    client = api.as_user(security)
    published = client.get(URL.format(1))
    assert published.status_code == 400
    assert published.json()["detail"] == "v1 is published: the impact is shown for a draft."
    assert client.get(URL.format(99)).status_code == 404


@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway"])
def test_only_security_sees_a_drafts_impact(api, role_users, logged, role):
    response = api.as_user(role_users[role]).get(URL.format(2))
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Only security manages the policy")


def test_the_replay_reads_a_fixed_number_of_queries(api, security, logged):
    client = api.as_user(security)
    client.get(URL.format(2))  # warm the snapshot of capabilities
    with CaptureQueriesContext(connection) as few:
        client.get(URL.format(2))
    more = AgentFactory(slug="more-bot", tier="internal", owner=logged["agents"]["sandbox"].owner)
    for key in ("github:read", "github:merge", "jira:write"):
        make_grant(more, key)
        for scope in ("a", "b", "c"):
            decide_and_record(agent_slug=more.slug, capability_key=key, scope=scope)
    with CaptureQueriesContext(connection) as many:
        body = client.get(URL.format(2)).json()
    assert body["replayed"] == 16
    assert len(many) == len(few)


def test_the_review_page_shows_the_impact_beside_the_changes(client, security, logged):
    set_rule(security, logged["draft"], "production", "github:merge", "allow")
    client.force_login(security)
    page = client.get(reverse("registry:policy-publish", args=[2])).content.decode()
    assert "High-risk production github:merge becomes &#x27;allow&#x27;" in page
    assert 'data-testid="deny-to-allow">1<' in page
    assert 'href="/agents/production-bot/"' in page
    assert 'data-testid="draft-AGC-06">Partially effective<' in page
    assert PolicyRule.objects.filter(version__number=2).count() == 10  # reading changed nothing
