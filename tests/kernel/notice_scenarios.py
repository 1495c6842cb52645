"""Every notice the portal sends, each made by the real service that causes it.

A scenario prepares what must exist before (`prepare(world)`), then returns `act`: the change
itself, run inside the test's committed block, returning the object's id and its page's path.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from access import grant_upkeep
from access import services as access
from access.break_glass import break_glass_request
from access.models import Grant
from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from credentials.services import bindings
from decisions.services.activity import activity_report
from exceptions import services as exceptions
from exceptions import upkeep
from exceptions.rules import risk_floor
from registry.services.agents import agent_suspend, agent_update
from tests.exceptions.factories import ExceptionFactory
from tests.registry.factories import capability

ENGINEER = "eve@example.com"
SECURITY = "sec1@example.com"

Act = Callable[[], tuple[int, str]]


@dataclass(frozen=True)
class Scenario:
    event: str
    object_type: str
    recipients: frozenset[str]
    prepare: Callable[[dict], Act]


def _submit(world, agent, key, **extra):
    service = break_glass_request if extra.get("incident") else access.access_request_submit
    return service(
        actor=world["engineer"],
        agent=world[agent],
        capability=capability(key),
        duration_hours=1,
        justification="release 4.2",
        **extra,
    )


def request_filed(world) -> Act:
    def act():
        request = _submit(world, "sandbox", "github:merge", scope="acme/payments-api")
        return request.pk, f"/requests/{request.pk}/"

    return act


def _decided(decide):
    def prepare(world) -> Act:
        request = _submit(world, "sandbox", "github:merge")

        def act():
            decide(world["security"], request)
            return request.pk, f"/requests/{request.pk}/"

        return act

    return prepare


def _approve(security, request):
    access.access_request_approve(actor=security, access_request=request)


def _deny(security, request):
    access.access_request_deny(actor=security, access_request=request, comment="not this week")


def _jit_grant(world) -> Grant:
    return Grant.objects.get(request=_submit(world, "sandbox", "github:write"))


def grant_expiring(world) -> Act:
    grant = _jit_grant(world)
    Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() + timedelta(minutes=50))

    def act():
        assert grant_upkeep.grants_remind_expiring() == 1
        return grant.pk, f"/grants/{grant.pk}/"

    return act


def grant_revoked(world) -> Act:
    grant = _jit_grant(world)

    def act():
        access.grant_revoke(actor=world["security"], grant=grant, reason="token leaked in CI logs")
        return grant.pk, f"/grants/{grant.pk}/"

    return act


def agent_suspended(world) -> Act:
    def act():
        agent = agent_suspend(
            actor=world["security"], agent=world["prod"], reason="compromised workload token"
        )
        return agent.pk, f"/agents/{agent.slug}/"

    return act


def _gha() -> TrustProvider:
    return TrustProvider.objects.create(
        slug="gha", name="GitHub Actions", issuer="https://gha.example", audience="portal"
    )


def binding_filed(world) -> Act:
    agent, provider = world["prod"], _gha()

    def act():
        binding = bindings.binding_add(
            actor=world["engineer"],
            agent=agent,
            provider=provider,
            subject="repo:acme/payments-api:environment:production",
        )
        return binding.pk, f"/agents/{agent.slug}/#binding-{binding.pk}"

    return act


def _binding_decided(decide):
    def prepare(world) -> Act:
        agent = world["prod"]
        binding = bindings.binding_add(
            actor=world["engineer"], agent=agent, provider=_gha(), subject="repo:acme/pay:ref:x"
        )

        def act():
            decide(world["security"], binding)
            return binding.pk, f"/agents/{agent.slug}/#binding-{binding.pk}"

        return act

    return prepare


def _approve_binding(security, binding):
    bindings.binding_approve(actor=security, binding=binding)


def _reject_binding(security, binding):
    bindings.binding_reject(actor=security, binding=binding, comment="use the release workflow")


def _tier_move(agent_key: str, status: str, tier: str):
    """An agent with one binding in `status` moves to `tier` (credentials follows)."""

    def prepare(world) -> Act:
        agent = world[agent_key]
        IdentityBinding.objects.create(
            agent=agent,
            provider=_gha(),
            subject=f"repo:acme/{agent.slug}:ref:refs/heads/main",
            requested_by=world["engineer"],
            required_approvals=0 if status == BindingStatus.ACTIVE else 1,
            status=status,
        )

        def act():
            agent_update(actor=world["security"], agent=agent, tier=tier)
            return agent.pk, f"/agents/{agent.slug}/"

        return act

    return prepare


def exception_filed(world) -> Act:
    agent, cap = world["sandbox"], capability("deploy:release")

    def act():
        exception = exceptions.exception_request(
            actor=world["engineer"],
            title="Release from the sandbox during the migration",
            agent=agent,
            capability=cap,
            justification="the release pipeline moves this week",
            risk=str(risk_floor(agent, cap)),
            compensating_controls="two-person review of each release",
            expires_at=timezone.now() + timedelta(days=10),
        )
        return exception.pk, f"/exceptions/{exception.pk}/"

    return act


def _pending_exception(world):
    return ExceptionFactory(
        agent=world["sandbox"], capability=capability("jira:write"), required_approvals=1
    )


def exception_approved(world) -> Act:
    exception = _pending_exception(world)

    def act():
        exceptions.exception_approve(actor=world["security"], exception=exception)
        return exception.pk, f"/exceptions/{exception.pk}/"

    return act


def exception_rejected(world) -> Act:
    exception = _pending_exception(world)

    def act():
        exceptions.exception_reject(
            actor=world["security"], exception=exception, comment="use a jit grant"
        )
        return exception.pk, f"/exceptions/{exception.pk}/"

    return act


def exception_withdrawn(world) -> Act:
    exception = _pending_exception(world)

    def act():
        exceptions.exception_withdraw(actor=exception.requested_by, exception=exception)
        return exception.pk, f"/exceptions/{exception.pk}/"

    return act


def exception_expiring(world) -> Act:
    exception = ExceptionFactory(
        agent=world["sandbox"],
        capability=capability("jira:write"),
        status="active",
        activated_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=6),
    )

    def act():
        assert upkeep.exceptions_send_reminders() == 1
        return exception.pk, f"/exceptions/{exception.pk}/"

    return act


def drift_flagged(world) -> Act:
    def act():
        rows = activity_report(
            actor=world["gateway"],
            items=[
                {
                    "agent": "prod-bot",
                    "capability": "deploy:release",
                    "target": "acme/payments-api",
                    "outcome": "success",
                    "occurred_at": timezone.now(),
                }
            ],
        )
        return rows[0].pk, "/review/"

    return act


def break_glass_used(world) -> Act:
    def act():
        request = _submit(world, "prod", "deploy:release", incident="INC-7")
        return request.pk, f"/requests/{request.pk}/"

    return act


def _s(event: str, object_type: str, to: set[str], prepare) -> Scenario:
    return Scenario(event, object_type, frozenset(to), prepare)


SCENARIOS = {
    "request filed": _s("access_request.filed", "access_request", {SECURITY}, request_filed),
    "request approved": _s(
        "access_request.approved", "access_request", {ENGINEER}, _decided(_approve)
    ),
    "request denied": _s("access_request.denied", "access_request", {ENGINEER}, _decided(_deny)),
    "grant expiring": _s("grant.expiring", "grant", {ENGINEER}, grant_expiring),
    "grant revoked": _s("grant.revoked", "grant", {ENGINEER}, grant_revoked),
    "agent suspended": _s("agent.suspended", "agent", {ENGINEER}, agent_suspended),
    "bindings await approval": _s(
        "agent.bindings_await_approval",
        "agent",
        {ENGINEER, SECURITY},
        _tier_move("sandbox", BindingStatus.ACTIVE, "production"),
    ),
    "bindings need no approval": _s(
        "agent.bindings_need_no_approval",
        "agent",
        {ENGINEER},
        _tier_move("prod", BindingStatus.PENDING, "sandbox"),
    ),
    "binding filed": _s("binding.filed", "binding", {SECURITY}, binding_filed),
    "binding approved": _s(
        "binding.approved", "binding", {ENGINEER}, _binding_decided(_approve_binding)
    ),
    "binding rejected": _s(
        "binding.rejected", "binding", {ENGINEER}, _binding_decided(_reject_binding)
    ),
    "exception filed": _s("exception.filed", "exception", {SECURITY}, exception_filed),
    "exception approved": _s("exception.approved", "exception", {ENGINEER}, exception_approved),
    "exception rejected": _s("exception.rejected", "exception", {ENGINEER}, exception_rejected),
    "exception withdrawn": _s("exception.withdrawn", "exception", {SECURITY}, exception_withdrawn),
    "exception expiring": _s(
        "exception.expiring", "exception", {ENGINEER, SECURITY}, exception_expiring
    ),
    "drift flagged": _s("activity.drift_flagged", "activity", {SECURITY}, drift_flagged),
    "break-glass used": _s(
        "access_request.break_glass", "access_request", {SECURITY}, break_glass_used
    ),
}
