"""Requests an agent files itself (over MCP, as its workload identity): filed for its owner,
out of security's queue until the owner or the agent's team confirms them, declined with a
reason, expired when nobody confirms them; and every move the pipeline refuses."""

import threading
from datetime import timedelta

import pytest
import time_machine
from auditlog.models import LogEntry
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from access import agent_requests, services
from access.limits import AGENT_FILED_AWAITING_MAX
from access.models import AccessRequest, Grant
from access.selectors import requests_awaiting
from kernel.errors import ApplicationError, Forbidden
from tests.access.test_services import submit
from tests.portal.factories import make_user
from tests.registry.factories import (
    AgentFactory,
    TeamFactory,
    capability,
    demo_policy,
    publish_policy,
)

pytestmark = pytest.mark.django_db

WORKLOAD = "github-actions: repo:acme/payments-api:environment:production"


@pytest.fixture
def teammate(db):
    return make_user("tina", "engineer", email="tina@example.com")


@pytest.fixture
def world(engineer, teammate, second_security, security):
    team = TeamFactory(slug="payments", members=[engineer, teammate, second_security])
    demo_policy(security)
    return {
        "prod": AgentFactory(slug="prod-bot", owner=engineer, team=team, tier="production"),
        "sandbox": AgentFactory(slug="sandbox-bot", owner=engineer, team=team, tier="sandbox"),
    }


def agent_files(agent, key, hours=2, **extra):
    return agent_requests.agent_request_file(
        agent=agent,
        workload=WORKLOAD,
        capability=capability(key),
        duration_hours=hours,
        justification=extra.pop("justification", "merge the release branch"),
        **extra,
    )


def fresh(access_request):
    return AccessRequest.objects.get(pk=access_request.pk)


def test_filed_by_the_agent_for_its_owner_out_of_securitys_queue(
    engineer, teammate, security, world, committed
):
    with committed(execute=True):
        filed = agent_files(world["prod"], "github:merge")
    assert (filed.status, filed.requested_by, filed.filed_by_agent) == (
        "awaiting_owner",
        engineer,
        True,
    )
    assert filed.filed_by_workload == WORKLOAD
    assert filed.required_approvals == 2
    assert not requests_awaiting(security).exists()
    # The owner and the team are asked; security is told nothing yet.
    (told,) = mail.outbox
    assert told.subject == "[Agent portal] Agent prod-bot asks for github:merge: confirm it?"
    assert set(told.to) == {"eve@example.com", "tina@example.com", "sec2@example.com"}
    assert "Security sees it only once you (or a member of its team) confirm it" in told.body
    entry = LogEntry.objects.get_for_object(filed).get()
    assert entry.additional_data["source"] == f"MCP: agent prod-bot ({WORKLOAD})"


def test_the_same_checks_as_a_persons_request(engineer, world):
    with pytest.raises(ApplicationError, match="the maximum is 4 hours"):
        agent_files(world["prod"], "github:merge", hours=9)
    with pytest.raises(ApplicationError, match="Policy v1 denies vault:read_secret"):
        agent_files(world["prod"], "vault:read_secret")
    with pytest.raises(ApplicationError, match="Say why the agent needs this access"):
        agent_files(world["prod"], "github:merge", justification="  ")
    first = agent_files(world["prod"], "github:merge")
    duplicate = f"Request #{first.pk} for the same access already awaits its owner's confirmation."
    with pytest.raises(ApplicationError, match=duplicate):
        agent_files(world["prod"], "github:merge")
    # The owner filing the same access by hand is pointed at the agent's request.
    with pytest.raises(ApplicationError, match=duplicate):
        submit(engineer, world["prod"], "github:merge")
    assert AccessRequest.objects.count() == 1


def test_an_agent_cannot_flood_its_owner_with_requests(engineer, world):
    for n in range(AGENT_FILED_AWAITING_MAX):
        agent_files(world["prod"], "github:merge", scope=f"repo:acme/r{n}")
    with pytest.raises(ApplicationError, match="already has 5 requests awaiting its owner's"):
        agent_files(world["prod"], "github:merge", scope="repo:acme/one-more")
    assert AccessRequest.objects.count() == AGENT_FILED_AWAITING_MAX
    # Another agent of the same owner is not held back by it.
    assert agent_files(world["sandbox"], "github:merge").status == "awaiting_owner"


def test_an_agent_whose_owner_left_files_nothing(engineer, world):
    engineer.is_active = False
    engineer.save()
    with pytest.raises(ApplicationError, match="owner eve has left: security gives the agent"):
        agent_files(world["sandbox"], "github:merge")
    assert not AccessRequest.objects.exists()


def test_the_owner_confirms_and_security_takes_it_from_there(
    engineer, security, second_security, world, committed
):
    with committed(execute=True):
        filed = agent_files(world["prod"], "github:merge")
    assert not [m for m in mail.outbox if "Approval needed" in m.subject]
    with committed(execute=True):
        confirmed = agent_requests.agent_request_confirm(actor=engineer, access_request=filed)
    assert (confirmed.status, confirmed.confirmed_by, confirmed.required_approvals) == (
        "pending",
        engineer,
        2,
    )
    assert confirmed.confirmed_at is not None
    assert list(requests_awaiting(security)) == [confirmed]
    # Security is told now, not when the agent filed it.
    told = {m.subject: m for m in mail.outbox}
    approval_needed = told[f"[Agent portal] Approval needed: #{filed.pk} github:merge on prod-bot"]
    assert set(approval_needed.to) == {"sec1@example.com", "sec2@example.com"}
    # Security reads that the agent filed it and who stands behind it.
    assert f"Filed by agent prod-bot itself through MCP ({WORKLOAD}); confirmed by eve." in (
        approval_needed.body
    )
    services.access_request_approve(actor=security, access_request=confirmed)
    services.access_request_approve(actor=second_security, access_request=confirmed)
    assert fresh(filed).status == "approved"
    assert Grant.objects.filter(request=filed).exists()


def test_a_teammate_confirms_and_never_approves_what_they_confirmed(
    engineer, security, second_security, world
):
    filed = agent_files(world["prod"], "github:merge")
    agent_requests.agent_request_confirm(actor=second_security, access_request=filed)
    assert fresh(filed).confirmed_by == second_security
    assert requests_awaiting(security).exists()
    assert not requests_awaiting(second_security).exists()
    with pytest.raises(Forbidden, match="You confirmed this request for your agent"):
        services.access_request_approve(actor=second_security, access_request=filed)


def test_confirmed_just_in_time_access_is_granted_at_once(engineer, teammate, world):
    filed = agent_files(world["sandbox"], "github:write", hours=3)
    assert filed.status == "awaiting_owner"  # an agent never grants itself access
    assert not Grant.objects.exists()
    confirmed = agent_requests.agent_request_confirm(actor=teammate, access_request=filed)
    assert confirmed.status == "approved"
    grant = Grant.objects.get(request=filed)
    assert grant.expires_at - grant.starts_at == timedelta(hours=3)


def test_confirming_judges_it_by_the_policy_published_now(engineer, security, world):
    filed = agent_files(world["prod"], "github:merge", hours=4)
    publish_policy({"production": {"github:merge": ("approval", 2)}}, security)
    with pytest.raises(ApplicationError, match="4 hours is longer than policy v2 allows"):
        agent_requests.agent_request_confirm(actor=engineer, access_request=filed)
    publish_policy({"production": {"github:merge": ("deny", None)}}, security)
    with pytest.raises(ApplicationError, match="Policy v3 denies github:merge"):
        agent_requests.agent_request_confirm(actor=engineer, access_request=filed)
    assert fresh(filed).status == "awaiting_owner"


def test_only_the_owner_and_the_team_confirm_or_decline(
    engineer, other_engineer, security, auditor, world
):
    filed = agent_files(world["prod"], "github:merge")
    for outsider in (other_engineer, security, auditor):
        with pytest.raises(Forbidden, match="Only the owner of 'prod-bot' or a member of team"):
            agent_requests.agent_request_confirm(actor=outsider, access_request=filed)
        with pytest.raises(Forbidden, match="Only the owner of 'prod-bot' or a member of team"):
            agent_requests.agent_request_decline(actor=outsider, access_request=filed, reason="x")
    assert fresh(filed).status == "awaiting_owner"


def test_declined_with_a_reason_it_is_cancelled(engineer, teammate, security, world):
    filed = agent_files(world["prod"], "github:merge")
    with pytest.raises(ApplicationError, match="Say why the agent should not have it"):
        agent_requests.agent_request_decline(actor=teammate, access_request=filed, reason=" ")
    assert fresh(filed).status == "awaiting_owner"
    agent_requests.agent_request_decline(
        actor=teammate, access_request=filed, reason="not this sprint"
    )
    declined = fresh(filed)
    assert (declined.status, declined.decided_by) == ("cancelled", teammate)
    assert declined.decision_comment == "Declined by tina: not this sprint"
    assert not requests_awaiting(security).exists()


def test_what_the_pipeline_refuses_while_it_awaits_its_owner(engineer, security, world):
    filed = agent_files(world["prod"], "github:merge")
    with pytest.raises(ApplicationError, match="is awaiting_owner; it cannot become approved"):
        services.access_request_approve(actor=security, access_request=filed)
    with pytest.raises(ApplicationError, match="is awaiting_owner; it cannot become denied"):
        services.access_request_deny(actor=security, access_request=filed, comment="no")
    with pytest.raises(ApplicationError, match="confirm it, or decline it with a reason"):
        services.access_request_cancel(actor=engineer, access_request=filed)
    assert fresh(filed).status == "awaiting_owner"
    agent_requests.agent_request_confirm(actor=engineer, access_request=filed)
    for step in (agent_requests.agent_request_confirm, agent_requests.agent_request_decline):
        extra = {"reason": "late"} if step is agent_requests.agent_request_decline else {}
        with pytest.raises(ApplicationError, match="is pending: only a request its agent filed"):
            step(actor=engineer, access_request=filed, **extra)
    # A person's own request was never the agent's to confirm.
    mine = submit(engineer, world["prod"], "github:write")
    with pytest.raises(ApplicationError, match="is pending: only a request its agent filed"):
        agent_requests.agent_request_confirm(actor=engineer, access_request=mine)


def test_unconfirmed_requests_expire_and_the_clock_restarts_at_confirmation(engineer, world):
    days = settings.ACCESS_REQUEST_STALE_DAYS
    start = timezone.now() - timedelta(days=days + 3)
    with time_machine.travel(start, tick=False):
        forgotten = agent_files(world["prod"], "github:merge")
        late = agent_files(world["prod"], "github:write")
    with time_machine.travel(start + timedelta(days=days - 1), tick=False):
        agent_requests.agent_request_confirm(actor=engineer, access_request=late)
    # Filed days + 3 ago, confirmed in time 4 days ago: security has days - 4 left.
    assert services.access_requests_expire_stale() == 1
    expired = fresh(forgotten)
    assert expired.status == "expired"
    assert expired.decision_comment == f"Not confirmed by its owner within {days} days."
    assert fresh(late).status == "pending"
    with time_machine.travel(timezone.now() + timedelta(days=days), tick=False):
        assert services.access_requests_expire_stale() == 1
        assert fresh(late).decision_comment == f"Not decided within {days} days."


def test_a_request_nobody_confirmed_in_time_cannot_be_confirmed_when_beat_is_late(
    engineer, other_engineer, security, world, committed
):
    days = settings.ACCESS_REQUEST_STALE_DAYS
    with time_machine.travel(timezone.now() - timedelta(days=days + 1), tick=False):
        filed = agent_files(world["prod"], "github:merge")
    # Someone who may not confirm it is refused for that, and changes nothing.
    with pytest.raises(Forbidden, match="Only the owner of 'prod-bot'"):
        agent_requests.agent_request_confirm(actor=other_engineer, access_request=filed)
    assert fresh(filed).status == "awaiting_owner"
    with (
        committed(execute=True),
        pytest.raises(ApplicationError, match=f"nobody confirmed it within {days} days") as exc,
    ):
        agent_requests.agent_request_confirm(actor=engineer, access_request=filed)
    assert exc.value.code == "expired"
    expired = fresh(filed)
    # Expired, not pending with security's clock restarted; the owner is told.
    assert (expired.status, expired.confirmed_by) == ("expired", None)
    assert expired.decision_comment == f"Not confirmed by its owner within {days} days."
    assert not requests_awaiting(security).exists()
    told = [m.subject for m in mail.outbox]
    assert f"[Agent portal] Request #{filed.pk} expired" in told
    assert not [subject for subject in told if "Approval needed" in subject]


def test_a_leaving_owners_unconfirmed_requests_are_cancelled(engineer, world):
    filed = agent_files(world["prod"], "github:merge")
    engineer.is_active = False
    engineer.save()
    cancelled = fresh(filed)
    assert cancelled.status == "cancelled"
    assert cancelled.decision_comment == "Cancelled: eve left (deactivated) before confirming it."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_owner_and_teammate_confirming_at_once_issue_one_grant(engineer, teammate, world):
    filed = agent_files(world["sandbox"], "github:write", hours=1)  # jit once confirmed
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm(user):
        try:
            barrier.wait()
            agent_requests.agent_request_confirm(actor=user, access_request=filed)
            outcomes.append("confirmed")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=(u,)) for u in (engineer, teammate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["confirmed", "invalid_transition"]
    assert Grant.objects.filter(request=filed).count() == 1
    assert fresh(filed).status == "approved"
