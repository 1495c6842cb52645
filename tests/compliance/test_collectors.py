"""Every collector on crafted data, with each status it can give reached at least once."""

import uuid
from datetime import timedelta

import pytest
from django.db.models import Count, Max, Q
from django.utils import timezone

from access.models import AccessRequest, Approval, Grant
from access.services import required_approvals_for
from compliance.collectors import COLLECTORS, Status, collector_for
from compliance.collectors.base import Evidence, tally
from compliance.period import Period, period_parse
from compliance.reports.build import collect_controls, control_status
from controls.models import Control
from decisions.models import Activity, Decision
from kernel.roles import Role
from registry.models import Team
from tests.compliance.factories import EvidenceFileFactory
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, capability, publish_policy

pytestmark = pytest.mark.django_db


def collect(ref_id: str, period: Period | None = None) -> Evidence:
    return COLLECTORS[ref_id].collect(period or period_parse(None, None))


def test_every_shipped_control_has_a_collector():
    shipped = set(Control.objects.values_list("ref_id", flat=True))
    assert shipped == {f"AGC-{n:02d}" for n in range(1, 12)}
    assert shipped <= set(COLLECTORS)
    for ref_id in shipped:
        assert COLLECTORS[ref_id].checks


def test_a_control_without_collector_says_so_and_has_no_evidence():
    evidence = collector_for("AGC-99").collect(period_parse(None, None))
    assert evidence.status == Status.NO_EVIDENCE
    assert not evidence.collected
    assert "No automated collector" in evidence.notes[0]


# --- the status rule --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checked", "failed", "status"),
    [
        (0, 0, Status.NO_EVIDENCE),
        (3, 0, Status.EFFECTIVE),
        (3, 1, Status.PARTIALLY_EFFECTIVE),
        (3, 3, Status.NOT_EFFECTIVE),
    ],
)
def test_status_rule(checked, failed, status):
    assert Evidence(checked=checked, failed=failed).status == status


@pytest.mark.parametrize(
    ("checked", "failed", "files", "exceptions", "status"),
    [
        (3, 1, 0, 1, Status.EXCEPTED),
        (3, 3, 0, 2, Status.EXCEPTED),
        (3, 0, 0, 1, Status.EFFECTIVE),  # an unused exception changes nothing
        (0, 0, 1, 0, Status.EFFECTIVE),  # uploaded evidence only
        (0, 0, 0, 1, Status.NO_EVIDENCE),
        (3, 3, 4, 0, Status.NOT_EFFECTIVE),  # files never outweigh failing records
    ],
)
def test_report_adjustments(checked, failed, files, exceptions, status):
    evidence = Evidence(checked=checked, failed=failed)
    assert control_status(evidence, evidence_files=files, exceptions=exceptions) == status


def test_uploaded_evidence_makes_a_control_without_records_effective(security):
    control = Control.objects.get(ref_id="AGC-07")
    result = collect_controls([control], period_parse(None, None))["AGC-07"]
    assert result.status == Status.NO_EVIDENCE
    EvidenceFileFactory(control=control, effective_on=timezone.now().date())
    EvidenceFileFactory(control=control, effective_on=timezone.now().date() - timedelta(days=400))
    result = collect_controls([control], period_parse(None, None))["AGC-07"]
    assert result.status == Status.EFFECTIVE
    assert result.evidence_files == 1  # the old one is outside the period
    assert "uploaded evidence" in " ".join(result.notes)


# --- AGC-01 central policy ownership ------------------------------------------------------


def test_agc01_statuses(security, engineer):
    assert collect("AGC-01").status == Status.NO_EVIDENCE
    publish_policy({"sandbox": {"github:read": ("allow", None)}}, security)
    assert collect("AGC-01").status == Status.EFFECTIVE
    publish_policy({"sandbox": {"github:read": ("allow", None)}}, engineer)
    evidence = collect("AGC-01")
    assert evidence.status == Status.PARTIALLY_EFFECTIVE
    assert evidence.figures["published_by_non_security"] == 1
    assert evidence.samples[0].failed


def test_agc01_not_effective_and_versions_before_the_period(engineer, security):
    old = publish_policy({"sandbox": {"github:read": ("allow", None)}}, security)
    old.published_at = timezone.now() - timedelta(days=90)
    old.save()
    newer = publish_policy({"sandbox": {"github:read": ("allow", None)}}, security)
    newer.published_at = timezone.now() - timedelta(days=60)
    newer.save()
    # Only the latest version published before the period is in force at its start.
    assert collect("AGC-01").checked == 1
    newer.published_by = engineer
    newer.save()
    assert collect("AGC-01").status == Status.NOT_EFFECTIVE


# --- AGC-02 tool allowlists and deny rules --------------------------------------------------


def test_agc02_statuses(security):
    assert collect("AGC-02").status == Status.NO_EVIDENCE
    gated = {tier: {"github:merge": ("approval", 4)} for tier in ("sandbox", "production")}
    publish_policy(gated, security)  # internal has no rule: deny
    evidence = collect("AGC-02")
    assert (evidence.status, evidence.checked, evidence.failed) == (Status.EFFECTIVE, 3, 0)
    assert evidence.figures["internal_high_risk_denied"] == 1


def test_agc02_partially_and_not_effective(security):
    publish_policy(
        {
            "sandbox": {"github:merge": ("allow", None)},
            "internal": {"github:merge": ("deny", None)},
        },
        security,
    )
    evidence = collect("AGC-02")
    assert evidence.status == Status.PARTIALLY_EFFECTIVE
    assert evidence.samples[0].label.startswith("v1 sandbox github:merge: allow")
    version = publish_policy(
        {tier: {"github:merge": ("jit", 8)} for tier in ("sandbox", "internal", "production")},
        security,
    )
    version.published_at = timezone.now() - timedelta(days=100)
    version.save()
    first = version.__class__.objects.get(number=1)
    first.published_at = timezone.now() - timedelta(days=200)
    first.save()
    assert collect("AGC-02").status == Status.NOT_EFFECTIVE


# --- AGC-06 tiered posture ------------------------------------------------------------------


def test_agc06_statuses(security):
    assert collect("AGC-06").status == Status.NO_EVIDENCE
    publish_policy(
        {
            "sandbox": {"github:read": ("allow", None)},
            "internal": {"github:read": ("jit", 8)},
            "production": {"github:read": ("jit", 8)},
        },
        security,
    )
    assert collect("AGC-06").status == Status.EFFECTIVE


def test_agc06_production_looser_than_sandbox(security):
    publish_policy(
        {
            "sandbox": {"github:write": ("jit", 4), "github:read": ("allow", None)},
            "internal": {"github:read": ("allow", None)},
            "production": {"github:write": ("jit", 8), "github:read": ("jit", 8)},
        },
        security,
    )
    evidence = collect("AGC-06")  # same effect, longer maximum in production
    assert (evidence.status, evidence.failed) == (Status.PARTIALLY_EFFECTIVE, 1)
    assert "github:write" in evidence.samples[0].label


def test_agc06_not_effective(security):
    publish_policy(
        {
            "internal": {"deploy:release": ("approval", 2)},
            "production": {"deploy:release": ("allow", None)},
        },
        security,
    )
    evidence = collect("AGC-06")
    assert (evidence.status, evidence.samples[0].label) == (
        Status.NOT_EFFECTIVE,
        "v1 deploy:release: production is less strict than sandbox, internal",
    )


# --- AGC-08 inventory and ownership, AGC-09 attestation --------------------------------------


def test_agc08_statuses():
    assert collect("AGC-08").status == Status.NO_EVIDENCE
    kept = AgentFactory()
    assert collect("AGC-08").status == Status.EFFECTIVE
    gone = AgentFactory()
    gone.owner.is_active = False
    gone.owner.save()
    AgentFactory(status="retired", owner=gone.owner)  # retired agents are out of scope
    evidence = collect("AGC-08")
    assert (evidence.status, evidence.checked, evidence.failed) == (
        Status.PARTIALLY_EFFECTIVE,
        2,
        1,
    )
    assert evidence.samples[0].id == gone.slug
    assert evidence.samples[0].failed
    kept.delete()
    assert collect("AGC-08").status == Status.NOT_EFFECTIVE


def test_agc09_statuses():
    assert collect("AGC-09").status == Status.NO_EVIDENCE
    AgentFactory()
    assert collect("AGC-09").status == Status.EFFECTIVE
    AgentFactory(last_attested_at=timezone.now() - timedelta(days=100))
    never = AgentFactory(last_attested_at=None)
    evidence = collect("AGC-09")
    assert (evidence.status, evidence.failed) == (Status.PARTIALLY_EFFECTIVE, 2)
    assert evidence.samples[0].id == never.slug
    assert evidence.figures["never_attested"] == 1


def test_agc09_not_effective():
    AgentFactory(last_attested_at=None)
    assert collect("AGC-09").status == Status.NOT_EFFECTIVE


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
        **kwargs,
    )


def _approve(exception, *approvers):
    from exceptions.models import ExceptionApproval

    for approver in approvers:
        ExceptionApproval.objects.create(exception=exception, approver=approver)


def test_agc07_statuses(engineer, security, second_security):
    assert collect("AGC-07").status == Status.NO_EVIDENCE
    agent = AgentFactory(owner=engineer)
    _approve(_exception(agent, engineer), security)
    _approve(
        _exception(agent, engineer, risk="high", compensating_controls="extra review"),
        security,
        second_security,
    )
    _exception(agent, engineer, status="pending")  # never approved: not in force
    _exception(agent, engineer, status="rejected")
    evidence = collect("AGC-07")
    assert (evidence.status, evidence.checked) == (Status.EFFECTIVE, 2)
    long_one = _exception(agent, engineer, risk="critical", days=20, compensating_controls="x")
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


@pytest.mark.django_db
def test_tally_counts_checked_failed_and_figures_in_one_query(django_assert_num_queries):
    for slug, unit in (("a", "x"), ("b", "x"), ("c", "")):
        Team.objects.create(slug=slug, name=slug.upper(), business_unit=unit)
    with django_assert_num_queries(1):
        evidence = tally(
            Team.objects.all(),
            Q(business_unit=""),
            {"teams": Count("pk"), "in_x": Q(business_unit="x"), "last": Max("slug")},
        )
    assert (evidence.checked, evidence.failed) == (3, 1)
    assert evidence.figures == {"teams": 3, "in_x": 2, "last": "c"}
    assert list(evidence.figures) == ["teams", "in_x", "last"]
    assert evidence.samples == []
