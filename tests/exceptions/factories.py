"""Exceptions made directly in any state, for tests that start from a given status."""

from datetime import timedelta

import factory
from django.utils import timezone

from decisions.selectors import decision_facts
from exceptions.models import ExceptionApproval, PolicyException
from exceptions.rules import risk_floor
from exceptions.services import required_approvals_for
from registry.models import Agent
from tests.portal.factories import UserFactory
from tests.registry.factories import AgentFactory, capability


class ExceptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyException

    title = factory.Sequence(lambda n: f"Exception {n}")
    agent = factory.SubFactory(AgentFactory)
    capability = factory.LazyFunction(lambda: capability("vault:read_secret", high_risk=True))
    justification = "needed for the test"
    # The lowest risk its agent and capability allow (exceptions.rules.risk_floor).
    risk = factory.LazyAttribute(lambda e: str(risk_floor(e.agent, e.capability)))
    compensating_controls = "alerting"
    requested_by = factory.LazyAttribute(lambda e: e.agent.owner)
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    expires_at = factory.LazyAttribute(lambda e: e.starts_at + timedelta(days=10))
    status = "pending"
    required_approvals = factory.LazyAttribute(lambda e: required_approvals_for(e.risk))


def active_exception(**kwargs) -> PolicyException:
    approver = kwargs.pop("approver", None) or UserFactory(role="security")
    exception = ExceptionFactory(status="active", activated_at=timezone.now(), **kwargs)
    ExceptionApproval.objects.create(exception=exception, approver=approver)
    return exception


def decided_exception(*, agent_id: int, capability_id: int, at=None) -> PolicyException | None:
    """The exception the decision path (its one query) finds in force for (agent, capability)
    at `at`, the oldest when several are."""
    slug = Agent.objects.values_list("slug", flat=True).get(pk=agent_id)
    found = decision_facts(agent_slug=slug, capability_id=capability_id, at=at or timezone.now())
    return PolicyException.objects.get(pk=found.exception_ids[0]) if found.exception_ids else None
