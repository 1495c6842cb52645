from datetime import timedelta

import pytest
from django.utils import timezone

from tests.registry.factories import AgentFactory, TeamFactory, capability

ROLES = [
    "engineer",
    "other_engineer",
    "security",
    "second_security",
    "auditor",
    "gateway",
    "anonymous",
]


@pytest.fixture
def users(engineer, other_engineer, security, second_security, auditor, gateway):
    return {
        "engineer": engineer,
        "other_engineer": other_engineer,
        "security": security,
        "second_security": second_security,
        "auditor": auditor,
        "gateway": gateway,
        "anonymous": None,
    }


@pytest.fixture
def world(engineer, other_engineer):
    """eve owns pay-bot (internal) in team payments; oscar owns other-bot elsewhere.

    pay-bot is internal, not production: the risk floor (exceptions.rules.risk_floor) puts a
    high-risk capability on a production agent at critical, and these tests file high ones
    (tests/exceptions/test_hardening.py covers production)."""
    team = TeamFactory(slug="payments", members=[engineer])
    return {
        "agent": AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="internal"),
        "other_agent": AgentFactory(
            slug="other-bot", owner=other_engineer, team=TeamFactory(slug="platform")
        ),
        "vault": capability("vault:read_secret", high_risk=True),
        "merge": capability("github:merge", high_risk=True),
        "jira": capability("jira:write"),
    }


def in_days(days: float):
    return timezone.now() + timedelta(days=days)
