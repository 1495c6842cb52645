"""AGC-07 counts exceptions in force at the same time as another for the same agent and
capability: stacked ones, made here directly in the database as if from before filing refused
them. A renewal continuing from its predecessor's expiry only touches it."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.template.loader import render_to_string
from django.utils import timezone

from compliance.collectors import COLLECTORS, Status
from compliance.collectors.base import Evidence
from compliance.period import period_parse
from compliance.reports.build import report_build
from controls.models import Framework
from exceptions.models import ExceptionApproval, PolicyException
from tests.registry.factories import AgentFactory, capability

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
PAGE = f"/compliance/{NIST}/report/"


@pytest.fixture(autouse=True)
def _still_clock():
    """One "now" for the whole test: a renewal starts exactly when its predecessor ends."""
    with time_machine.travel(timezone.now(), tick=False):
        yield


def collect() -> Evidence:
    return COLLECTORS["AGC-07"].collect(period_parse(None, None))


def approved(agent, requester, approver, *, start, end, key="jira:write", **kwargs):
    """A low-risk exception approved by one security member, from `start` to `end` days from
    now (a well-governed one but for what the test makes of it)."""
    now = timezone.now()
    exception = PolicyException.objects.create(
        title="Ticket comments",
        agent=agent,
        capability=capability(key),
        justification="needed",
        risk="low",
        requested_by=requester,
        required_approvals=1,
        starts_at=now + timedelta(days=start),
        expires_at=now + timedelta(days=end),
        status=kwargs.pop("status", "active"),
        **kwargs,
    )
    ExceptionApproval.objects.create(exception=exception, approver=approver)
    return exception


@pytest.fixture
def agent(engineer):
    return AgentFactory(slug="ci-bot", owner=engineer)


def test_stacked_exceptions_are_counted_and_sampled(engineer, security, agent):
    first = approved(agent, engineer, security, start=-10, end=20)
    stacked = approved(agent, engineer, security, start=-2, end=40)
    apart = approved(agent, engineer, security, start=-2, end=40, key="jira:read")
    evidence = collect()
    assert (evidence.checked, evidence.failed) == (3, 2)
    assert evidence.status == Status.PARTIALLY_EFFECTIVE
    assert evidence.figures["overlapping_another_exception"] == 2
    samples = {sample.id: sample for sample in evidence.samples}
    assert samples[str(first.pk)].failed
    assert samples[str(first.pk)].label.endswith(f", in force with exception #{stacked.pk}")
    assert samples[str(stacked.pk)].label.endswith(f", in force with exception #{first.pk}")
    assert not samples[str(apart.pk)].failed
    assert "in force with" not in samples[str(apart.pk)].label
    assert "in force at the same time as another exception" in COLLECTORS["AGC-07"].checks


def test_a_renewal_chain_touches_and_is_not_counted(engineer, security, agent):
    first = approved(agent, engineer, security, start=-25, end=-15, status="expired")
    second = approved(agent, engineer, security, start=-15, end=-5, status="expired", renews=first)
    approved(agent, engineer, security, start=-5, end=20, renews=second)
    evidence = collect()
    assert (evidence.checked, evidence.failed, evidence.status) == (3, 0, Status.EFFECTIVE)
    assert evidence.figures["overlapping_another_exception"] == 0
    assert not any(sample.failed for sample in evidence.samples)


@pytest.mark.parametrize(("revoked_day", "overlapping"), [(-6, 0), (-3, 2)])
def test_a_revoked_one_overlaps_only_while_it_was_in_force(
    engineer, security, agent, revoked_day, overlapping
):
    """Revoked on day -6, before the other began on day -5: never in force together."""
    revoked_at = timezone.now() + timedelta(days=revoked_day)
    approved(agent, engineer, security, start=-10, end=20, status="revoked", revoked_at=revoked_at)
    approved(agent, engineer, security, start=-5, end=20)
    assert collect().figures["overlapping_another_exception"] == overlapping


def test_a_pending_or_rejected_one_is_not_in_force(engineer, security, agent):
    approved(agent, engineer, security, start=-1, end=20)
    approved(agent, engineer, security, start=-1, end=20, status="rejected")
    approved(agent, engineer, security, start=-1, end=20, status="withdrawn")
    assert collect().figures["overlapping_another_exception"] == 0


def test_every_report_format_names_the_figure(client, auditor, engineer, security, agent):
    approved(agent, engineer, security, start=-10, end=20)
    approved(agent, engineer, security, start=-2, end=40)
    client.force_login(auditor)
    page = client.get(PAGE).content.decode()
    assert "<span>Overlapping another exception</span><strong>2</strong>" in page
    data = json.loads(client.get(f"{PAGE}json/").content)
    agc07 = next(c for c in data["controls"] if c["ref_id"] == "AGC-07")
    assert agc07["figures"]["overlapping_another_exception"] == 2
    csv = b"".join(client.get(f"{PAGE}csv/").streaming_content).decode()
    row = next(line for line in csv.splitlines() if ",AGC-07," in line)
    assert "overlapping_another_exception=2" in row
    report = report_build(Framework.objects.get(key=NIST), period_parse(None, None))
    printable = render_to_string("compliance/report_print.html", {"report": report})
    assert "<span>Overlapping another exception</span><strong>2</strong>" in printable
