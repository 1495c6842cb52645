"""Which grants are active at a moment (by the times, one query) and what a scope covers."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from access import services
from access.models import Grant
from access.rules import grant_active_q, grant_is_active, scope_covers
from access.selectors import grant_list, grants_active_for_agent
from tests.registry.factories import AgentFactory, capability

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(engineer):
    return AgentFactory(slug="pay-bot", owner=engineer)


@pytest.fixture
def merge(db):
    return capability("github:merge", high_risk=True)


def grant(agent, cap, *, scope="", start=None, hours=2, **extra) -> Grant:
    start = start or timezone.now()
    return Grant.objects.create(
        agent=agent,
        capability=cap,
        scope=scope,
        starts_at=start,
        expires_at=start + timedelta(hours=hours),
        **extra,
    )


@pytest.mark.parametrize(
    ("grant_scope", "requested", "covered"),
    [
        ("", "", True),
        ("", "acme/anything", True),
        ("acme/payments-*", "acme/payments-api", True),
        ("acme/payments-*", "acme/ledger", False),
        ("acme/payments-*", "", False),  # asking for everything is more than the pattern
        ("acme/app", "acme/app", True),
        ("acme/app", "acme/app2", False),
        ("acme/?pp", "acme/app", True),
        ("acme/*", "ACME/app", False),  # case-sensitive, like repository names
    ],
)
def test_scope_covers(grant_scope, requested, covered):
    assert scope_covers(grant_scope, requested) is covered


def test_an_agents_active_grants_are_one_query_soonest_ending_first(
    agent, merge, django_assert_num_queries
):
    grant(AgentFactory(slug="other-bot"), merge)  # another agent's grant
    grant(agent, merge, start=timezone.now() - timedelta(hours=3), hours=1)  # over
    grant(agent, merge, start=timezone.now() + timedelta(hours=1))  # not started
    later = grant(agent, merge, scope="acme/payments-*", hours=4)
    sooner = grant(agent, capability("github:write"), hours=1)
    with django_assert_num_queries(1):
        found = [(g, g.capability.key) for g in grants_active_for_agent(agent.pk)]
    assert found == [(sooner, "github:write"), (later, "github:merge")]


def test_an_agents_active_grants_follow_the_clock_not_the_task(agent, merge):
    issued = grant(agent, merge, hours=2)
    assert list(grants_active_for_agent(agent.pk)) == [issued]
    with time_machine.travel(issued.expires_at + timedelta(minutes=5)):
        # Nobody marked it expired; it has ended all the same.
        assert not Grant.objects.get(pk=issued.pk).expired
        assert list(grants_active_for_agent(agent.pk)) == []
        assert not grant_is_active(issued)


def test_revoked_grants_stop_at_the_revocation(agent, merge, security):
    issued = grant(agent, merge, start=timezone.now() - timedelta(hours=1), hours=4)
    services.grant_revoke(actor=security, grant=issued, reason="suspicious")
    issued.refresh_from_db()
    assert list(grants_active_for_agent(agent.pk)) == []
    assert not grant_is_active(issued)
    # Looking back: before the revocation it was active (drift checks ask about the past).
    before = issued.revoked_at - timedelta(minutes=1)
    assert list(Grant.objects.filter(grant_active_q(before))) == [issued]
    assert grant_is_active(issued, at=before)


def test_grants_expiring_within_hours_are_active_visible_and_ending_soon(
    agent, merge, engineer, other_engineer
):
    soon = grant(agent, merge, hours=2)
    grant(agent, merge, hours=48)  # ends later
    grant(agent, merge, start=timezone.now() - timedelta(hours=3), hours=1)  # already over
    assert list(expiring(24, engineer)) == [soon]
    assert list(expiring(1, engineer)) == []
    assert list(expiring(24, other_engineer)) == []  # not their agent


def expiring(hours: int, user):
    """What the grants page lists for ?expiring_within_hours= (the dashboard's link)."""
    return grant_list(user, filters={"expiring_within_hours": str(hours)})
