"""The issued-credentials page (security and auditors): rows, what allowed each, filters, bad
filters on the form, constant queries; and the agent page's latest credentials."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.models import AccessRequest, Grant
from tests.credentials.pages import (
    login,
    make_agents,
    make_binding,
    make_credential,
    make_provider,
    make_signing_key,
)
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import capability

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(engineer, other_engineer):
    """pay-bot got a github:write credential through a grant from an access request and an
    exception; play-bot got github:read on a standing allow, an hour ago (expired)."""
    agents = make_agents(engineer, other_engineer)
    provider = make_provider("gha")
    key = make_signing_key()
    request = AccessRequest.objects.create(
        agent=agents["pay"],
        capability=capability("github:write"),
        justification="j",
        duration_hours=1,
        requested_by=engineer,
        effect="approval",
        policy_version=1,
        required_approvals=1,
    )
    grant = make_grant(agents["pay"], "github:write")
    Grant.objects.filter(pk=grant.pk).update(request=request)
    exception = make_exception(agents["pay"], "deploy:release")
    write = make_credential(
        make_binding(agents["pay"], provider),
        key,
        capabilities=("github:write", "deploy:release"),
        resource="acme/payments-api",
        grant_ids=[grant.pk],
        exception_ids=[exception.pk],
        jti="a" * 32,
    )
    hour_ago = timezone.now() - timedelta(hours=1)
    read = make_credential(
        make_binding(agents["sandbox"], provider, subject="repo:acme/sandbox"),
        key,
        capabilities=("github:read",),
        issued_at=hour_ago,
        jti="b" * 32,
    )
    return {
        "write": write,
        "read": read,
        "grant": grant,
        "request": request,
        "exception": exception,
        "agents": agents,
        "provider": provider,
        "key": key,
    }


def rows(response) -> list[str]:
    return [row["credential"].jti for row in response.context["rows"]]


@pytest.mark.parametrize("role", ["security", "auditor"])
def test_the_credentials_page_lists_what_was_issued_and_what_allowed_it(
    client, role_users, issued, role
):
    response = login(client, role_users[role]).get("/trust/credentials/")
    assert response.status_code == 200
    assert rows(response) == ["a" * 32, "b" * 32]
    html = response.content.decode()
    write = html[html.index(f'data-jti="{"a" * 32}"') : html.index(f'data-jti="{"b" * 32}"')]
    assert "<code>github:write</code><br><code>deploy:release</code>" in write
    assert "acme/payments-api" in write
    assert f'<a href="/requests/{issued["request"].pk}/">grant #{issued["grant"].pk}</a>' in write
    exception = issued["exception"].pk
    assert f'<a href="/exceptions/{exception}/">exception #{exception}</a>' in write
    assert '<span class="badge ok">live</span>' in write
    read = html[html.index(f'data-jti="{"b" * 32}"') :]
    assert "standing allow" in read
    assert '<span class="badge">expired</span>' in read


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("capability=github:write", ["a" * 32]),
        ("capability=deploy:release", ["a" * 32]),
        ("capability=github", []),  # a whole key, never a prefix
        ("agent=play-bot", ["b" * 32]),
        ("agent=pay-bot&capability=github:read", []),
        ("provider=gha", ["a" * 32, "b" * 32]),
        ("provider=other", []),
    ],
)
def test_filters(client, security, issued, query, expected):
    response = login(client, security).get(f"/trust/credentials/?{query}")
    assert response.status_code == 200
    assert rows(response) == expected


def test_the_time_filters_are_named_from_and_to(client, security, issued):
    login(client, security)
    since = (timezone.now() - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    recent = client.get(f"/trust/credentials/?from={since}")
    assert rows(recent) == ["a" * 32]
    older = client.get(f"/trust/credentials/?to={since}")
    assert rows(older) == ["b" * 32]
    html = recent.content.decode()
    assert 'name="from"' in html
    assert 'name="to"' in html
    assert f'value="{since}"' in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=yesterday", "from", "Enter a valid date/time."),
        ("to=3500-01-01T00:00", "to", "to must fall between the years 1970 and 2999."),
        # The FilterSet calls it `since`; the page's field is `from`.
        ("from=3500-01-01T00:00", "from", "from must fall between the years 1970 and 2999."),
    ],
)
def test_a_bad_filter_is_shown_on_the_form(client, security, issued, query, field, message):
    response = login(client, security).get(f"/trust/credentials/?{query}")
    assert response.status_code == 200
    assert rows(response) == []
    errors = " ".join(response.context["filters"].errors[field])
    assert message in errors
    assert message in response.content.decode()


def test_the_credentials_page_queries_do_not_grow_with_rows(
    client, security, issued, django_assert_num_queries
):
    login(client, security)
    client.get("/trust/credentials/")
    with CaptureQueriesContext(connection) as few:
        client.get("/trust/credentials/")
    binding = issued["write"].binding
    for n in range(60):
        make_credential(
            binding, issued["key"], grant_ids=[issued["grant"].pk], exception_ids=[n + 1000]
        )
    with django_assert_num_queries(len(few)):
        response = client.get("/trust/credentials/")
    assert len(response.context["rows"]) == 50
    assert "Page 1 of 2" in response.content.decode()


def test_the_agent_page_shows_its_latest_ten_credentials(client, engineer, issued):
    binding = issued["write"].binding
    for n in range(11):
        make_credential(
            binding,
            issued["key"],
            issued_at=timezone.now() - timedelta(minutes=20 - n),
            jti=f"{n:02d}" + "c" * 30,
        )
    html = login(client, engineer).get("/agents/pay-bot/").content.decode()
    section = html[html.index('data-section="identities"') :]
    assert section.count("data-jti=") == 10
    assert f'data-jti="{"a" * 32}"' in section  # the latest
    assert 'data-jti="00' not in section  # the oldest of twelve
    assert '<span class="badge ok">live</span>' in section
    assert '<span class="badge">expired</span>' in section
    assert "All credentials of this agent" not in section  # the list is security's and auditors'
