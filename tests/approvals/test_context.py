"""Approval with context (issue #15, point 1): every queue row and detail page shows what is
asked, the rule, why that many approvers, who approved already and the agent's grants now;
after a first approval the approver reads who is still missing."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from access import services
from access.models import AccessRequest, Grant
from approvals.context import agent_context_sections, attach_agent_context
from approvals.rules import ApproverRule, waiting_for, why_approvers
from exceptions.models import ExceptionApproval
from tests.exceptions.factories import ExceptionFactory
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    prod = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    sandbox = AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox")
    return {"prod": prod, "sandbox": sandbox}


def file(engineer, agent, key, **extra) -> AccessRequest:
    return services.access_request_submit(
        actor=engineer,
        agent=agent,
        capability=capability(key, high_risk=key in {"github:merge", "deploy:release"}),
        justification=extra.pop("justification", "Merge the reviewed hotfix PR #812."),
        duration_hours=extra.pop("duration_hours", 2),
        **extra,
    )


def row(page: str, attribute: str, pk: int) -> str:
    """The queue row of one subject (its <tr> ... </tr>)."""
    match = re.search(rf'<tr {attribute}="{pk}">(.*?)</tr>', page, re.S)
    assert match, f"no row {attribute}={pk}"
    return match.group(1)


@pytest.mark.parametrize(
    ("approved", "required", "words"),
    [
        (0, 1, "waiting for a security approver"),
        (0, 2, "waiting for two security approvers"),
        (1, 2, "waiting for a second security approver"),
        (1, 3, "waiting for two more security approvers"),
        (2, 2, ""),
    ],
)
def test_who_is_still_missing_in_words(approved, required, words):
    assert waiting_for(approved, required) == words


def test_why_approvers_says_when_the_rule_changed_since_filing():
    rule = ApproverRule(2, "production + high-risk")
    assert why_approvers(2, rule) == "production + high-risk: two security approvers"
    assert why_approvers(1, rule) == (
        "one security approver when it was filed; now production + high-risk: "
        "two security approvers"
    )


def test_the_reason_comes_from_where_the_number_is_decided(world):
    merge, read = capability("github:merge", high_risk=True), capability("github:read")
    rule = services.approver_rule_for(world["prod"], merge)
    assert (rule.count, str(rule)) == (2, "production + high-risk: two security approvers")
    assert services.required_approvals_for(world["prod"], merge) == 2
    assert str(services.approver_rule_for(world["sandbox"], merge)) == (
        "sandbox + high-risk: one security approver"
    )
    assert str(services.approver_rule_for(world["prod"], read)) == (
        "production, not high-risk: one security approver"
    )


def test_queue_row_shows_the_request_in_full_with_the_agents_grants(
    client, engineer, security, world
):
    jit = file(engineer, world["prod"], "jira:write", duration_hours=3)  # jit: a grant at once
    request = file(
        engineer, world["prod"], "github:merge", scope="acme/payments-api", ticket="PAY-1234"
    )
    client.force_login(security)
    cells = row(client.get("/approvals/").content.decode(), "data-request", request.pk)
    assert "acme/payments-api" in cells
    assert "PAY-1234" in cells
    assert "2 h" in cells
    assert "Merge the reviewed hotfix PR #812." in cells
    assert "approval (policy v1)" in cells
    assert "production + high-risk: two security approvers" in cells
    assert "0 / 2" in cells
    assert "No approval yet." in cells
    # The agent's active grants, linked, with their time left.
    assert f'<a href="/grants/{jit.grant.pk}/">grant #{jit.grant.pk}</a>' in cells
    assert "jira:write" in cells
    assert "Under 24 hours:" in cells


def test_after_my_approval_i_read_who_is_still_missing(
    client, engineer, security, second_security, world
):
    request = file(engineer, world["prod"], "github:merge")
    client.force_login(security)
    done = client.post(
        f"/requests/{request.pk}/approve/",
        {"comment": "diff read", "next": "/approvals/"},
        follow=True,
    )
    page = done.content.decode()
    assert f"You approved request #{request.pk}; waiting for a second security approver." in page
    assert f'data-request="{request.pk}"' not in page  # my queue no longer holds it
    detail = client.get(f"/requests/{request.pk}/").content.decode()
    assert "You approved; waiting for a second security approver." in detail
    assert "sec1 approved" in detail
    assert "“diff read”" in detail
    # The second approver sees who approved already, and why a second is needed.
    client.force_login(second_security)
    cells = row(client.get("/approvals/").content.decode(), "data-request", request.pk)
    assert "1 / 2" in cells
    assert "sec1 approved: “diff read”" in cells
    detail = client.get(f"/requests/{request.pk}/").content.decode()
    assert "Waiting for a second security approver." in detail
    assert "production + high-risk: two security approvers" in detail


def test_request_detail_shows_the_context_to_the_requester_too(client, engineer, world):
    file(engineer, world["sandbox"], "github:write", duration_hours=8)  # jit grant
    request = file(engineer, world["sandbox"], "github:merge", scope="acme/docs", ticket="DOC-9")
    client.force_login(engineer)
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="scope">acme/docs<' in page
    assert 'data-testid="ticket">DOC-9<' in page
    assert "sandbox + high-risk: one security approver" in page
    assert "Waiting for a security approver." in page
    now = re.search(r'data-testid="agent-now">(.*?)</section>', page, re.S).group(1)
    assert "docs-bot now" in now
    assert "github:write" in now


def test_exception_queue_row_and_detail_show_the_rule_and_why_two(
    client, engineer, security, second_security, world
):
    exception = ExceptionFactory(
        agent=world["prod"],
        requested_by=engineer,
        capability=capability("vault:read_secret", high_risk=True),
        justification="Rotate the signing key.",
        expires_at=timezone.now() + timedelta(days=7),
    )
    client.force_login(security)
    cells = row(client.get("/approvals/").content.decode(), "data-exception", exception.pk)
    assert "Rotate the signing key." in cells
    assert "critical risk: two security approvers" in cells
    assert "policy v1: deny for vault:read_secret on production agents" in cells
    assert "No active grants." in cells
    client.post(f"/exceptions/{exception.pk}/approve/", {"comment": "ok"})
    page = client.get(exception.get_absolute_url()).content.decode()
    assert "You approved; waiting for a second security approver." in page
    assert "Policy v1: deny for vault:read_secret on production agents" in page
    assert "critical risk: two security approvers" in page
    assert 'data-testid="agent-now"' in page
    client.force_login(second_security)
    cells = row(client.get("/approvals/").content.decode(), "data-exception", exception.pk)
    assert "1 / 2" in cells
    assert "sec1 approved: “ok”" in cells
    done = client.post(f"/exceptions/{exception.pk}/approve/", follow=True)
    assert f"Exception #{exception.pk} approved: it is active." in done.content.decode()
    assert ExceptionApproval.objects.filter(exception=exception).count() == 2


def test_first_exception_approval_message_names_who_is_missing(client, engineer, security, world):
    exception = ExceptionFactory(agent=world["sandbox"], requested_by=engineer, risk="high")
    client.force_login(security)
    done = client.post(f"/exceptions/{exception.pk}/approve/", follow=True).content.decode()
    assert f"You approved exception #{exception.pk}; waiting for a second security approver." in (
        done
    )


def test_context_providers_are_read_once_for_every_subject(engineer, security, world):
    """One query per provider whatever the number of subjects; each subject gets its agent's
    rows, in the order the providers registered."""
    file(engineer, world["prod"], "jira:write")
    requests = [
        file(engineer, world["prod"], "github:merge"),
        file(engineer, world["sandbox"], "github:merge"),
    ]
    calls = []

    def probe(agents, user):
        calls.append(sorted(agent.slug for agent in agents))
        return {"key": "probe", "title": "Probe", "template": "", "empty": "", "by_agent": {}}

    agent_context_sections.register(probe)
    try:
        attach_agent_context(requests, security)
    finally:
        agent_context_sections._providers.remove(probe)
    assert calls == [["docs-bot", "pay-bot"]]
    keys = [[part["key"] for part in r.agent_context] for r in requests]
    assert keys[0][0] == "grants"
    assert keys[0][-1] == "probe"
    grants = {
        r.agent.slug: [g.capability.key for g in r.agent_context[0]["rows"]] for r in requests
    }
    assert grants == {"pay-bot": ["jira:write"], "docs-bot": []}
    assert Grant.objects.count() == 1
