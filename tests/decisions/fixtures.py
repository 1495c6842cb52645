"""Grants and exceptions made directly, for tests of what decides access."""

from datetime import timedelta

from django.utils import timezone

from access.models import Grant
from tests.registry.factories import capability


def make_grant(agent, key, *, hours=8, scope="", starts_at=None):
    start = starts_at or timezone.now() - timedelta(minutes=1)
    return Grant.objects.create(
        agent=agent,
        capability=capability(key),
        scope=scope,
        starts_at=start,
        expires_at=start + timedelta(hours=hours),
    )


def make_exception(agent, key, *, days=7, risk="low"):
    from exceptions.models import PolicyException

    now = timezone.now()
    return PolicyException.objects.create(
        title=f"{agent.slug} {key}",
        agent=agent,
        capability=capability(key),
        justification="test",
        risk=risk,
        compensating_controls="monitoring",
        requested_by=agent.owner,
        starts_at=now - timedelta(minutes=1),
        expires_at=now + timedelta(days=days),
        status="active",
        activated_at=now,
        required_approvals=1,
    )
