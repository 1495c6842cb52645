"""Hardening: the risk floor, approvals that judge the present, and suspension voiding
exceptions on the agent page."""

import pytest
from django.core.management import call_command

from compliance.collectors import COLLECTORS
from compliance.period import period_parse
from exceptions import services
from exceptions.models import PolicyException, Risk
from exceptions.rules import risk_floor
from kernel.errors import ApplicationError
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import active_exception
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prod(engineer):
    team = TeamFactory(slug="payments", members=[engineer])
    return AgentFactory(slug="prod-bot", owner=engineer, team=team, tier="production")


def file(actor, agent, capability, risk, **extra):
    return services.exception_request(
        actor=actor,
        title="Deviation",
        agent=agent,
        capability=capability,
        justification="needed",
        risk=risk,
        compensating_controls="alert on every use",
        expires_at=in_days(7),
        **extra,
    )


# --- 3. the risk floor -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "high_risk", "floor"),
    [
        ("sandbox", False, "low"),
        ("production", False, "low"),
        ("sandbox", True, "high"),
        ("internal", True, "high"),
        ("production", True, "critical"),
    ],
)
def test_the_floor_by_tier_and_capability(world, tier, high_risk, floor):
    agent = AgentFactory(tier=tier)
    capability = world["vault"] if high_risk else world["jira"]
    assert risk_floor(agent, capability) == floor


@pytest.mark.parametrize("risk", ["low", "medium", "high"])
def test_below_critical_on_a_production_high_risk_capability_is_refused(
    engineer, world, prod, risk
):
    with pytest.raises(ApplicationError) as refused:
        file(engineer, prod, world["vault"], risk)
    assert refused.value.code == "risk_below_floor"
    assert refused.value.field == "risk"
    assert "at least critical" in refused.value.message
    assert not PolicyException.objects.exists()
    assert file(engineer, prod, world["vault"], "critical").risk == "critical"


@pytest.mark.parametrize("risk", ["low", "medium"])
def test_below_high_on_a_high_risk_capability_is_refused(engineer, world, risk):
    with pytest.raises(ApplicationError) as refused:
        file(engineer, world["agent"], world["vault"], risk)
    assert "at least high" in refused.value.message
    assert file(engineer, world["agent"], world["jira"], risk).risk == risk


def test_the_api_refuses_a_risk_below_the_floor_naming_it(api, engineer, world, prod):
    response = api.as_user(engineer).post(
        "/api/v1/exceptions/",
        {
            "title": "Deviation",
            "agent": "prod-bot",
            "capability": "vault:read_secret",
            "justification": "needed",
            "risk": "high",
            "compensating_controls": "alert",
            "expires_at": in_days(7).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    data = response.json()
    assert "at least critical" in data["errors"]["risk"][0]
    assert data["floor"] == "critical"


def test_the_form_shows_the_floor_on_the_risk_field(client, engineer, world, prod):
    client.force_login(engineer)
    response = client.post(
        "/exceptions/new/",
        {
            "title": "Deviation",
            "agent": "prod-bot",
            "capability": "vault:read_secret",
            "risk": "low",
            "expires_at": in_days(7).strftime("%Y-%m-%dT%H:%M"),
            "justification": "needed",
        },
    )
    assert response.status_code == 400
    assert "its exceptions are at least critical risk (got low)" in response.content.decode()
    assert not PolicyException.objects.exists()


def test_the_demo_data_obeys_the_floor_and_never_stacks():
    call_command("seed_demo", verbosity=0)
    exceptions = PolicyException.objects.select_related("agent", "capability")
    assert exceptions.exists()
    for exception in exceptions:
        floor = risk_floor(exception.agent, exception.capability)
        assert Risk.values.index(exception.risk) >= Risk.values.index(floor), exception.title
    # Nor are two in force at once for the same agent and capability: the demo's AGC-07 shows
    # no overlap (they follow one another, or touch).
    evidence = COLLECTORS["AGC-07"].collect(period_parse(None, None))
    assert evidence.figures["exceptions_in_force"] > 5
    assert evidence.figures["overlapping_another_exception"] == 0


# --- 2. approval judges the present ------------------------------------------------------------


def test_no_approval_for_an_agent_suspended_since_filing(engineer, security, world):
    exception = file(engineer, world["agent"], world["jira"], "low")
    world["agent"].status = "suspended"
    world["agent"].save()
    with pytest.raises(ApplicationError) as refused:
        services.exception_approve(actor=security, exception=exception)
    assert refused.value.code == "agent_inactive"
    exception.refresh_from_db()
    assert exception.status == "pending"
    assert not exception.approvals.exists()


def test_no_approval_below_the_floor_of_today(engineer, security, world):
    exception = file(engineer, world["agent"], world["vault"], "high")  # internal: high is fine
    world["agent"].tier = "production"  # now critical at least
    world["agent"].save()
    with pytest.raises(ApplicationError) as refused:
        services.exception_approve(actor=security, exception=exception)
    assert refused.value.code == "risk_below_floor"
    assert PolicyException.objects.get(pk=exception.pk).status == "pending"


# --- 4. suspension voids exceptions on the agent page ------------------------------------------


def test_a_suspended_agents_exceptions_are_shown_void_not_active(client, engineer, world):
    exception = active_exception(agent=world["agent"], requested_by=engineer)
    client.force_login(engineer)
    page = client.get("/agents/pay-bot/").content.decode()
    assert 'data-testid="exception-status">active<' in page
    world["agent"].status = "suspended"
    world["agent"].save()
    page = client.get("/agents/pay-bot/").content.decode()
    row = page[page.index(f'data-exception="{exception.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "void while the agent is suspended" in row
    assert ">active<" not in row
