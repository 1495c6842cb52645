"""The access collectors on crafted data: AGC-03 just-in-time access, AGC-04 approvals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import AccessRequest, Approval, Grant
from access.services import required_approvals_for
from compliance.collectors import COLLECTORS, Status
from compliance.collectors.base import Evidence
from compliance.period import Period, period_parse
from kernel.roles import Role
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, capability, publish_policy

pytestmark = pytest.mark.django_db


def collect(ref_id: str, period: Period | None = None) -> Evidence:
    return COLLECTORS[ref_id].collect(period or period_parse(None, None))


# --- AGC-03 just-in-time access -------------------------------------------------------------


def _grant(agent, key, hours, **kwargs):
    start = kwargs.pop("starts_at", timezone.now())
    return Grant.objects.create(
        agent=agent,
        capability=capability(key),
        starts_at=start,
        expires_at=start + timedelta(hours=hours),
        **kwargs,
    )


def _request(agent, key, requester, *, status="approved", high_risk=False, **kwargs):
    cap = capability(key, high_risk=high_risk)
    defaults = {
        "justification": "needed",
        "duration_hours": 4,
        "effect": "approval",
        "policy_version": 1,
        "decided_at": timezone.now(),
        # Stored when filed, as access_request_submit does; AGC-04 reads it back.
        "required_approvals": required_approvals_for(agent, cap),
    }
    return AccessRequest.objects.create(
        agent=agent,
        capability=cap,
        requested_by=requester,
        status=status,
        **{**defaults, **kwargs},
    )


def test_agc03_statuses(security, engineer):
    assert collect("AGC-03").status == Status.NO_EVIDENCE
    publish_policy({"sandbox": {"github:write": ("jit", 8)}}, security)
    agent = AgentFactory(tier="sandbox")
    _grant(agent, "github:write", 4)
    evidence = collect("AGC-03")
    assert (evidence.status, evidence.figures["grants_issued"]) == (Status.EFFECTIVE, 1)
    assert evidence.figures["longest_grant_hours"] == 4
    too_long = _grant(agent, "github:write", 12)
    evidence = collect("AGC-03")
    assert (evidence.status, evidence.failed) == (Status.PARTIALLY_EFFECTIVE, 1)
    assert evidence.samples[0].id == str(too_long.pk)
    assert evidence.samples[0].failed
    # Revoked early: judged as issued, and the sample says when it ended.
    too_long.revoked_at = too_long.starts_at + timedelta(hours=1)
    too_long.save(update_fields=["revoked_at"])
    revoked = f"revoked {too_long.revoked_at:%Y-%m-%d %H:%M} UTC"
    assert collect("AGC-03").samples[0].label.endswith(f"for 12.0 h (max 8 h), {revoked}")
    # Outside the period: not counted.
    _grant(agent, "github:write", 12, starts_at=timezone.now() - timedelta(days=45))
    assert collect("AGC-03").checked == 2


def test_agc03_judges_a_grant_by_its_requests_policy_version_and_break_glass(security, engineer):
    publish_policy({"production": {"github:write": ("approval", 8)}}, security)
    publish_policy({"production": {"github:write": ("approval", 2)}}, security)
    agent = AgentFactory(tier="production")
    judged_v1 = _request(agent, "github:write", engineer, policy_version=1)
    _grant(agent, "github:write", 6, request=judged_v1)
    assert collect("AGC-03").status == Status.EFFECTIVE  # 6 h <= v1's 8 h (v2 would say 2)
    glass = _request(agent, "vault:read_secret", engineer, break_glass=True, effect="deny")
    _grant(agent, "vault:read_secret", 3, request=glass)  # break-glass lasts 1 h at most
    assert collect("AGC-03").failed == 1


def test_agc03_not_effective_standing_and_ungranted(security):
    publish_policy({"sandbox": {"github:merge": ("allow", None)}}, security)
    agent = AgentFactory(tier="sandbox")
    _grant(agent, "jira:write", 2)  # no rule allows a grant for it at all
    evidence = collect("AGC-03")
    # Three (tier, high-risk capability) slots, one standing allow; one grant, failing.
    assert (evidence.checked, evidence.failed) == (4, 2)
    assert evidence.figures["standing_allow_on_high_risk"] == 1
    assert evidence.samples[0].label.endswith("(no rule allows a grant)")


def test_agc03_not_effective():
    _grant(AgentFactory(), "jira:write", 2)
    assert collect("AGC-03").status == Status.NOT_EFFECTIVE


# --- AGC-04 approval of high-risk actions ----------------------------------------------------


def test_agc04_statuses(engineer, security, second_security):
    assert collect("AGC-04").status == Status.NO_EVIDENCE
    agent = AgentFactory(tier="production", owner=engineer)
    good = _request(agent, "github:merge", engineer, high_risk=True)
    Approval.objects.create(request=good, approver=security)
    Approval.objects.create(request=good, approver=second_security)
    _request(agent, "github:read", engineer)  # not high risk: out of scope
    _request(agent, "github:merge", engineer, high_risk=True, status="denied")
    evidence = collect("AGC-04")
    assert (evidence.status, evidence.figures["dual_approved"]) == (Status.EFFECTIVE, 1)
    assert evidence.figures["high_risk_requests_denied"] == 1
    assert f"approved by {security.username}, {second_security.username}" in (
        evidence.samples[0].label
    )
    single = _request(agent, "github:merge", engineer, high_risk=True)
    Approval.objects.create(request=single, approver=security)
    evidence = collect("AGC-04")
    assert (evidence.status, evidence.figures["under_approved"]) == (
        Status.PARTIALLY_EFFECTIVE,
        1,
    )
    assert evidence.samples[0].id == str(single.pk)


def test_agc04_not_effective_self_approval_outsiders_and_break_glass(engineer, security):
    sandbox = AgentFactory(tier="sandbox", owner=security)
    own = _request(sandbox, "github:merge", engineer, high_risk=True)
    Approval.objects.create(request=own, approver=security)  # owns the agent
    outsider = _request(sandbox, "github:merge", engineer, high_risk=True)
    Approval.objects.create(request=outsider, approver=make_user("eng2", Role.ENGINEER))
    _request(sandbox, "deploy:release", engineer, high_risk=True, break_glass=True)
    evidence = collect("AGC-04")
    assert (evidence.status, evidence.checked, evidence.failed) == (Status.NOT_EFFECTIVE, 3, 3)
    assert evidence.figures["self_or_owner_approved"] == 1
    assert evidence.figures["break_glass_unreviewed"] == 1


def test_agc04_fails_an_approval_by_who_confirmed_what_the_agent_filed(engineer, security):
    # The agent filed it over MCP; the approver confirmed it as a member of the agent's team
    # (the services refuse this; the control still proves it never happened).
    agent = AgentFactory(tier="sandbox")
    confirmed = _request(
        agent, "github:merge", engineer, high_risk=True, filed_by_agent=True, confirmed_by=security
    )
    Approval.objects.create(request=confirmed, approver=security)
    evidence = collect("AGC-04")
    assert (evidence.checked, evidence.failed) == (1, 1)
    assert evidence.figures["self_or_owner_approved"] == 1
    assert evidence.samples[0].id == str(confirmed.pk)


def test_agc04_reads_the_number_stored_when_filed(engineer, security, second_security):
    # Filed while the agent was in sandbox (one approver), promoted to production since.
    promoted = AgentFactory(tier="production", owner=engineer)
    filed_in_sandbox = _request(promoted, "github:merge", engineer, high_risk=True)
    filed_in_sandbox.required_approvals = 1
    filed_in_sandbox.save(update_fields=["required_approvals"])
    Approval.objects.create(request=filed_in_sandbox, approver=security)
    evidence = collect("AGC-04")
    assert (evidence.status, evidence.figures["under_approved"]) == (Status.EFFECTIVE, 0)
    # Stored as needing two on a sandbox agent: one approver is too few.
    sandbox = AgentFactory(tier="sandbox", owner=engineer)
    needs_two = _request(sandbox, "github:merge", engineer, high_risk=True, required_approvals=2)
    Approval.objects.create(request=needs_two, approver=second_security)
    # Approved at once by a jit rule (stores 0): a high-risk request approved by nobody.
    _request(
        sandbox, "deploy:release", engineer, high_risk=True, effect="jit", required_approvals=0
    )
    evidence = collect("AGC-04")
    assert (evidence.checked, evidence.failed, evidence.figures["under_approved"]) == (3, 2, 2)
