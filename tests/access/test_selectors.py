"""Which grant is active for (agent, capability, scope) at a moment: one query, by the times."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from access import services
from access.models import Grant
from access.selectors import grant_active_for, grant_is_active, scope_covers
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


def test_grant_active_for_is_one_query_and_matches_the_scope(
    agent, merge, django_assert_num_queries
):
    other_agent = AgentFactory(slug="other-bot")
    grant(other_agent, merge)  # another agent's grant
    grant(agent, capability("github:write"))  # another capability
    scoped = grant(agent, merge, scope="acme/payments-*")
    with django_assert_num_queries(1):
        found = grant_active_for(
            agent_id=agent.pk, capability_id=merge.pk, scope="acme/payments-api"
        )
    assert found == scoped
    with django_assert_num_queries(1):
        assert grant_active_for(agent_id=agent.pk, capability_id=merge.pk, scope="acme/x") is None
    assert grant_active_for(agent_id=agent.pk, capability_id=merge.pk) is None
    unscoped = grant(agent, merge)
    assert grant_active_for(agent_id=agent.pk, capability_id=merge.pk, scope="acme/x") == unscoped
    # The oldest covering grant answers, as the decision API names it.
    assert (
        grant_active_for(agent_id=agent.pk, capability_id=merge.pk, scope="acme/payments-api")
        == scoped
    )


def test_grant_active_for_follows_the_clock_not_the_task(agent, merge):
    start = timezone.now()
    issued = grant(agent, merge, start=start, hours=2)
    lookup = {"agent_id": agent.pk, "capability_id": merge.pk, "scope": ""}
    assert grant_active_for(**lookup, at=start - timedelta(seconds=1)) is None  # not yet
    assert grant_active_for(**lookup, at=start) == issued
    assert grant_active_for(**lookup, at=issued.expires_at - timedelta(microseconds=1)) == issued
    assert grant_active_for(**lookup, at=issued.expires_at) is None  # expiry is exclusive
    with time_machine.travel(issued.expires_at + timedelta(minutes=5)):
        # Nobody marked it expired; it has ended all the same.
        assert not Grant.objects.get(pk=issued.pk).expired
        assert grant_active_for(**lookup) is None
        assert not grant_is_active(issued)


def test_revoked_grants_stop_at_the_revocation(agent, merge, security):
    issued = grant(agent, merge, start=timezone.now() - timedelta(hours=1), hours=4)
    lookup = {"agent_id": agent.pk, "capability_id": merge.pk}
    services.grant_revoke(actor=security, grant=issued, reason="suspicious")
    issued.refresh_from_db()
    assert grant_active_for(**lookup) is None
    assert not grant_is_active(issued)
    # Looking back: before the revocation it was active (drift checks ask about the past).
    before = issued.revoked_at - timedelta(minutes=1)
    assert grant_active_for(**lookup, at=before) == issued
    assert grant_is_active(issued, at=before)
