"""Every API operation in the OpenAPI schema, fuzzed as every role: never a 500.

The schema comes from the app itself (/api/schema/, drf-spectacular); each operation gets a
few generated requests, valid and invalid, each sent as every role through the WSGI app
in-process (on the test database, so it runs on SQLite and on PostgreSQL alike). Bounded:
a few examples per operation, so the whole matrix takes well under a minute.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db

# Valid requests to every operation; invalid ones (negative mode, costly to generate) to
# every operation that reads a body. Each example is sent once per role.
EXAMPLES = {GenerationMode.POSITIVE: 2, GenerationMode.NEGATIVE: 1}
ROLES = ("engineer", "security", "auditor", "gateway")


def _fuzz(operation, mode, role_headers: list[dict[str, str]]) -> None:
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],  # no shrinking: a failure's first example says enough
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def fuzz(case):
        for headers in role_headers:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

    try:
        fuzz()
    except Unsatisfiable:
        # Nothing to make invalid (no parameters, no body): there is no negative case.
        assert mode is GenerationMode.NEGATIVE


@pytest.fixture
def keep_test_connection():
    """The real WSGI handler closes the database connection when a request ends, which on
    PostgreSQL would end the test's transaction; Django's test client holds the same two
    signals off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("keep_test_connection")
def test_no_operation_answers_500_to_any_role(role_users, security, engineer):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="sandbox")
    role_headers = [
        {"Authorization": f"Token {Token.objects.get_or_create(user=role_users[role])[0].key}"}
        for role in ROLES
    ]
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    for operation in operations:
        _fuzz(operation, GenerationMode.POSITIVE, role_headers)
        if operation.body:
            _fuzz(operation, GenerationMode.NEGATIVE, role_headers)
