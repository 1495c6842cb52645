""" "Grant active at t" and "exception in force at t", each in its four forms, against ONE table.

Each rule is stated once (access.rules, exceptions.rules) as an ORM `Q` and a predicate on a
loaded row; the decision query (decisions.selectors.decision_facts) and the query of many
decisions at once (decisions.many_facts: batches, effective access, with and without a list of
capabilities) write it in SQL. Every case below is asserted on all four forms, so they cannot
drift apart.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import Grant
from access.rules import grant_active_q, grant_is_active
from decisions.many_facts import many_facts
from decisions.selectors import decision_facts
from exceptions.models import PolicyException
from exceptions.rules import exception_in_force_q, exception_is_in_force
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, capability

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
US = timedelta(microseconds=1)

# (starts_at, expires_at, revoked_at) as offsets from the moment asked about, and the answer.
WINDOWS = [
    pytest.param(-H, H, None, True, id="inside"),
    pytest.param(0 * H, H, None, True, id="start-is-inclusive"),
    pytest.param(US, H, None, False, id="not-started-yet"),
    pytest.param(-H, US, None, True, id="last-microsecond"),
    pytest.param(-H, 0 * H, None, False, id="expiry-is-exclusive"),
    pytest.param(-2 * H, -H, None, False, id="expired"),
    pytest.param(-H, H, -US, False, id="revoked-before"),
    pytest.param(-H, H, 0 * H, False, id="revoked-at-that-moment"),
    pytest.param(-H, H, US, True, id="revoked-later"),
    pytest.param(-2 * H, -H, -H / 2, False, id="expired-and-revoked"),
]


@pytest.fixture
def agent(engineer):
    capability("deploy:release")
    return AgentFactory(slug="rules-bot", owner=engineer)


def _times(at, starts, expires, revoked):
    return {
        "starts_at": at + starts,
        "expires_at": at + expires,
        "revoked_at": None if revoked is None else at + revoked,
    }


@pytest.mark.parametrize(("starts", "expires", "revoked", "active"), WINDOWS)
def test_grant_active_q_predicate_and_sql_agree(agent, starts, expires, revoked, active):
    at = timezone.now().replace(microsecond=500_000)
    grant = make_grant(agent, "deploy:release")
    Grant.objects.filter(pk=grant.pk).update(**_times(at, starts, expires, revoked))
    grant.refresh_from_db()
    cap = grant.capability_id

    assert grant_is_active(grant, at) is active
    assert Grant.objects.filter(grant_active_q(at), pk=grant.pk).exists() is active
    facts = decision_facts(agent_slug=agent.slug, capability_id=cap, at=at)
    assert facts.grants == ([(grant.pk, "")] if active else [])
    for listed in ({cap}, None):  # a batch's capabilities; every capability
        many = many_facts(slugs={agent.slug}, capability_ids=listed, at=at)
        assert many.for_pair(agent.slug, cap).grants == facts.grants


@pytest.mark.parametrize(
    "status", [s for s, _ in PolicyException._meta.get_field("status").choices]
)
@pytest.mark.parametrize(("starts", "expires", "revoked", "in_window"), WINDOWS)
def test_exception_in_force_q_predicate_and_sql_agree(
    agent, status, starts, expires, revoked, in_window
):
    at = timezone.now().replace(microsecond=500_000)
    exception = make_exception(agent, "deploy:release")
    PolicyException.objects.filter(pk=exception.pk).update(
        status=status, **_times(at, starts, expires, revoked)
    )
    exception.refresh_from_db()
    cap = exception.capability_id
    in_force = in_window and status in PolicyException.EVER_ACTIVE_STATUSES

    assert exception_is_in_force(exception, at) is in_force
    assert PolicyException.objects.filter(exception_in_force_q(at), pk=exception.pk).exists() is (
        in_force
    )
    facts = decision_facts(agent_slug=agent.slug, capability_id=cap, at=at)
    assert facts.exception_ids == ([exception.pk] if in_force else [])
    for listed in ({cap}, None):  # a batch's capabilities; every capability
        many = many_facts(slugs={agent.slug}, capability_ids=listed, at=at)
        assert many.for_pair(agent.slug, cap).exception_ids == facts.exception_ids
