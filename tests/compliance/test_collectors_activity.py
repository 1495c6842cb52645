"""Collectors of decisions, activity and exceptions on crafted data: AGC-05, AGC-10, AGC-07."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from compliance.collectors import COLLECTORS, Status
from compliance.collectors.base import Evidence
from compliance.period import Period, period_parse
from compliance.reports.build import collect_controls
from controls.models import Control
from decisions.models import Activity, Decision
from tests.registry.factories import AgentFactory, capability, publish_policy

pytestmark = pytest.mark.django_db


def collect(ref_id: str, period: Period | None = None) -> Evidence:
    return COLLECTORS[ref_id].collect(period or period_parse(None, None))


# --- AGC-05 logging, AGC-10 drift review ------------------------------------------------------


def _decision(agent, key, at, outcome="allow"):
    return Decision.objects.create(
        request_id=uuid.uuid4(),
        agent=agent,
        agent_slug=agent.slug,
        capability=capability(key),
        capability_key=key,
        decision=outcome,
        reason="test",
        policy_version=1,
        decided_at=at,
    )


def _activity(agent, key, at, reporter, **kwargs):
    return Activity.objects.create(
        agent=agent,
        agent_slug=agent.slug,
        capability=capability(key),
        capability_key=key,
        outcome="success",
        occurred_at=at,
        reported_by=reporter,
        **kwargs,
    )


def test_agc05_statuses(gateway):
    assert collect("AGC-05").status == Status.NO_EVIDENCE
    agent = AgentFactory()
    now = timezone.now()
    _decision(agent, "github:read", now - timedelta(seconds=30))
    _activity(agent, "github:read", now, gateway)
    evidence = collect("AGC-05")
    assert (evidence.status, evidence.checked) == (Status.EFFECTIVE, 2)
    assert evidence.figures["decisions_recorded"] == 1
    unlogged = _activity(agent, "github:write", now, gateway)
    # A decision long before the action does not cover it.
    _decision(agent, "github:write", now - timedelta(hours=2))
    evidence = collect("AGC-05")
    assert (evidence.status, evidence.failed) == (Status.PARTIALLY_EFFECTIVE, 1)
    assert evidence.samples[0].id == str(unlogged.pk)


def test_agc05_not_effective(gateway):
    _activity(AgentFactory(), "github:read", timezone.now(), gateway)
    assert collect("AGC-05").status == Status.NOT_EFFECTIVE


def test_agc10_statuses(gateway, security):
    assert collect("AGC-10").status == Status.NO_EVIDENCE
    agent = AgentFactory()
    now = timezone.now()
    _activity(agent, "github:read", now, gateway)
    _activity(
        agent,
        "github:merge",
        now,
        gateway,
        flagged=True,
        review_status="expected",
        reviewed_by=security,
        reviewed_at=now,
    )
    evidence = collect("AGC-10")
    assert (evidence.status, evidence.figures["flagged_as_drift"]) == (Status.EFFECTIVE, 1)
    waiting = _activity(
        agent, "vault:read_secret", now, gateway, flagged=True, review_status="pending"
    )
    evidence = collect("AGC-10")
    assert (evidence.status, evidence.failed) == (Status.PARTIALLY_EFFECTIVE, 1)
    assert evidence.samples[0].id == str(waiting.pk)
    assert evidence.samples[0].failed


def test_agc10_not_effective(gateway):
    _activity(
        AgentFactory(),
        "vault:read_secret",
        timezone.now(),
        gateway,
        flagged=True,
        review_status="pending",
    )
    assert collect("AGC-10").status == Status.NOT_EFFECTIVE


def test_default_controls_for_capability():
    from controls.selectors import default_controls_for_capability

    low, high = capability("github:read"), capability("github:merge", high_risk=True)
    assert [c.ref_id for c in default_controls_for_capability(low)] == ["AGC-02", "AGC-03"]
    assert [c.ref_id for c in default_controls_for_capability(high)] == [
        "AGC-02",
        "AGC-03",
        "AGC-04",
    ]
    Control.objects.filter(ref_id="AGC-03").update(active=False)
    assert [c.ref_id for c in default_controls_for_capability(high)] == ["AGC-02", "AGC-04"]
    assert not default_controls_for_capability(None).exists()


# --- AGC-07 exception governance, and exceptions making a control excepted ------------------


def _exception(agent, requester, *, risk="low", days=30, key="github:merge", **kwargs):
    from exceptions.models import PolicyException
    from exceptions.services import required_approvals_for

    start = kwargs.pop("starts_at", timezone.now() - timedelta(days=1))
    return PolicyException.objects.create(
        title=f"{risk} exception",
        agent=agent,
        capability=capability(key, high_risk=key == "github:merge"),
        justification="needed",
        risk=risk,
        requested_by=requester,
        starts_at=start,
        expires_at=start + timedelta(days=days),
        status=kwargs.pop("status", "active"),
        required_approvals=kwargs.pop("required_approvals", required_approvals_for(risk)),
        **kwargs,
    )


def _approve(exception, *approvers):
    from exceptions.models import ExceptionApproval

    for approver in approvers:
        ExceptionApproval.objects.create(exception=exception, approver=approver)


def test_agc07_statuses(engineer, security, second_security):
    assert collect("AGC-07").status == Status.NO_EVIDENCE
    agent = AgentFactory(owner=engineer)
    # Each on a capability of its own: two in force at once for one would fail as overlapping.
    _approve(_exception(agent, engineer), security)
    _approve(
        _exception(
            agent, engineer, risk="high", compensating_controls="extra review", key="deploy:release"
        ),
        security,
        second_security,
    )
    _exception(agent, engineer, status="pending")  # never approved: not in force
    _exception(agent, engineer, status="rejected")
    evidence = collect("AGC-07")
    assert (evidence.status, evidence.checked) == (Status.EFFECTIVE, 2)
    long_one = _exception(
        agent, engineer, risk="critical", days=20, compensating_controls="x", key="vault:write"
    )
    _approve(long_one, security, second_security)
    evidence = collect("AGC-07")
    assert (evidence.status, evidence.figures["longer_than_risk_maximum"]) == (
        Status.PARTIALLY_EFFECTIVE,
        1,
    )
    assert evidence.samples[0].id == str(long_one.pk)


def test_agc07_not_effective(engineer, security):
    agent = AgentFactory(owner=engineer)
    _approve(_exception(agent, engineer, risk="high"), security)  # one approver, no comp.
    stale = _exception(
        agent, security, days=10, starts_at=timezone.now() - timedelta(days=20)
    )  # still marked active after it expired, approved by its own requester
    _approve(stale, security)
    _exception(agent, engineer, starts_at=timezone.now() - timedelta(days=300))  # before
    evidence = collect("AGC-07")
    assert (evidence.status, evidence.checked) == (Status.NOT_EFFECTIVE, 2)
    assert evidence.figures["expired_but_not_closed"] == 1
    assert evidence.figures["approved_by_requester"] == 1
    assert evidence.figures["without_compensating_controls"] == 1
    # The high one has one approver of two; the stale one none but its own requester.
    assert evidence.figures["under_approved"] == 2


def test_agc07_reads_the_approvals_stored_when_filed(engineer, security):
    """What the exception needed when it was filed, not the rule recomputed from its risk: a
    low-risk one filed when two approvers were needed, approved by one, is under-approved."""
    agent = AgentFactory(owner=engineer)
    strict = _exception(agent, engineer, required_approvals=2)
    _approve(strict, security)
    evidence = collect("AGC-07")
    assert (evidence.status, evidence.figures["under_approved"]) == (Status.NOT_EFFECTIVE, 1)
    assert evidence.samples[0].id == str(strict.pk)


def test_an_exception_in_force_makes_a_failing_control_excepted(engineer, security):
    publish_policy({"sandbox": {"github:merge": ("allow", None)}}, security)
    report = collect_controls(list(Control.objects.filter(ref_id__in=["AGC-02", "AGC-04"])),
                              period_parse(None, None))  # fmt: skip
    assert report["AGC-02"].status == Status.PARTIALLY_EFFECTIVE
    exception = _exception(AgentFactory(owner=engineer), engineer)
    _approve(exception, security)
    report = collect_controls(list(Control.objects.filter(ref_id__in=["AGC-02", "AGC-04"])),
                              period_parse(None, None))  # fmt: skip
    assert report["AGC-02"].status == Status.EXCEPTED
    assert [s.id for s in report["AGC-02"].exceptions] == [str(exception.pk)]
    assert "Deviation accepted" in " ".join(report["AGC-02"].notes)
    # A high-risk capability's exception is shown on AGC-04 too (nothing failed there).
    assert report["AGC-04"].exceptions
    assert report["AGC-04"].status == Status.NO_EVIDENCE
