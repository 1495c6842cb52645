"""Every collector on crafted data, with each status it can give reached at least once."""

from datetime import timedelta

import pytest
from django.db.models import Count, Max, Q
from django.utils import timezone

from compliance.collectors import COLLECTORS, Status, collector_for
from compliance.collectors.base import Evidence, tally
from compliance.period import Period, period_parse
from compliance.reports.build import collect_controls, control_status
from controls.models import Control
from registry.models import Team
from tests.compliance.factories import EvidenceFileFactory
from tests.registry.factories import AgentFactory, publish_policy

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
