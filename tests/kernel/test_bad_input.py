"""Bad input is a 400 that says why, never a 500 (on PostgreSQL, NUL in text is refused by
the database itself, so each of these was a 500 there)."""

import datetime
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from decisions.models import Activity, Decision
from exceptions.notifications import exception_waiting
from kernel.notifications import queue_notice, send
from kernel.validation import has_visible_text, year_refusal
from tests.exceptions.factories import ExceptionFactory
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="sandbox")


def _activity(**overrides):
    return {
        "agent": "pay-bot",
        "capability": "github:read",
        "target": "acme/payments",
        "outcome": "success",
        "occurred_at": timezone.now().isoformat().replace("+00:00", "Z"),
        **overrides,
    }


def _post_json(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("field", ["agent", "capability", "scope"])
def test_nul_in_a_decision_request_is_400_on_both_paths(api, gateway, security, world, field):
    body = {"agent": "pay-bot", "capability": "github:read", "scope": "acme/x", field: f"a{NUL}"}
    fast = _post_json(api.as_user(gateway), "/api/v1/decisions/", body)
    api.credentials()
    api.force_login(security)
    drf = _post_json(api, "/api/v1/decisions/", body)
    for response in (fast, drf):
        assert response.status_code == 400, response.content
        assert "NUL" in response.json()["detail"]
    assert not Decision.objects.exists()


@pytest.mark.parametrize("field", ["agent", "capability", "target", "outcome", "occurred_at"])
def test_nul_in_any_activity_field_is_400_and_fails_only_that_request(api, gateway, world, field):
    batch = [_activity() for _ in range(999)] + [_activity(**{field: f"x{NUL}"})]
    response = _post_json(api.as_user(gateway), "/api/v1/activity/", batch)
    assert response.status_code == 400, response.content
    assert "NUL" in response.json()["detail"]
    assert not Activity.objects.exists()
    assert _post_json(api, "/api/v1/activity/", _activity()).status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/agents/%00/",
        "/api/v1/audit-events/?actor=%00",
        "/api/v1/decisions/?agent=%00",
        "/api/v1/activity/?capability=a%00b",
        "/api/v1/agents/?team=%00",
    ],
)
def test_nul_in_api_lookups_and_filters_is_a_json_400(api, auditor, path):
    response = api.as_user(auditor).get(path)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/audit/?actor=%00", "/agents/%00/", "/?q=%00"])
def test_nul_in_an_html_path_or_query_is_a_400_page(client, auditor, path):
    client.force_login(auditor)
    response = client.get(path)
    assert response.status_code == 400
    assert b"NUL" in response.content


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/requests/1/deny/", "comment"),
        ("/requests/1/approve/", "comment"),
        ("/grants/1/revoke/", "reason"),
        ("/exceptions/1/approve/", "comment"),
        ("/exceptions/1/reject/", "comment"),
        ("/exceptions/1/revoke/", "reason"),
        ("/exceptions/1/renew/", "justification"),
        ("/review/1/", "note"),
    ],
)
def test_nul_in_an_html_form_is_a_400_page(client, security, path, field):
    client.force_login(security)
    response = client.post(path, {field: f"looks fine{NUL}"})
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_nul_in_a_header_is_refused_before_the_session_is_read(client):
    response = client.get("/", HTTP_COOKIE=f"sessionid=abc{NUL}def")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/api/v1/auth/token/", None),
        ("/api/v1/activity/", "gateway"),
        ("/api/v1/agents/", "engineer"),
        ("/api/v1/decisions/", "gateway"),
        ("/api/v1/decisions/", "security"),
    ],
)
def test_deeply_nested_json_is_400_everywhere(api, role_users, path, role):
    deep = "[" * 100_000 + "]" * 100_000
    client = api
    if role == "security":
        client.force_login(role_users[role])  # the decision endpoint's DRF path
    elif role:
        client = api.as_user(role_users[role])
    response = client.post(path, deep, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "deeper than 32" in response.json()["detail"]


def test_json_nesting_up_to_the_limit_is_read_but_not_past_it(api, gateway, world):
    nested = _activity(target={"a": [[[[[[]]]]]]})
    assert _post_json(api.as_user(gateway), "/api/v1/activity/", nested).status_code == 400
    body = "[" * 33 + "]" * 33
    response = api.post("/api/v1/activity/", body, content_type="application/json")
    assert "deeper than 32" in response.json()["detail"]


def test_a_body_over_the_upload_limit_is_400(api, gateway, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = [_activity(target="t" * 400) for _ in range(40)]
    for path in ("/api/v1/activity/", "/api/v1/decisions/"):
        response = _post_json(api.as_user(gateway), path, body)
        assert response.status_code == 400, response.content
        assert "larger than 10000 bytes" in response.json()["detail"]


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "1000-06-01T12:00:00Z"]
)
def test_an_activity_time_out_of_range_is_400(api, gateway, world, when):
    response = _post_json(api.as_user(gateway), "/api/v1/activity/", _activity(occurred_at=when))
    assert response.status_code == 400, response.content
    assert "between the years" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/nist-ai-rmf-1.0/?to=0001-01-01",
        "/api/v1/reports/nist-ai-rmf-1.0/?to=9999-12-31",
        "/api/v1/audit-events/?to=9999-12-31",
        "/api/v1/audit-events/?from=0001-01-01",
        "/api/v1/decisions/?since=0001-01-01T00:00:00%2B05:00",
        "/api/v1/decisions/?until=9999-12-31T23:59:59Z",
    ],
)
def test_dates_out_of_range_in_queries_are_400(api, auditor, path):
    response = api.as_user(auditor).get(path)
    assert response.status_code == 400, response.content


@pytest.mark.parametrize(
    "path", ["/audit/?to=9999-12-31", "/compliance/nist-ai-rmf-1.0/report/?to=0001-01-01"]
)
def test_dates_out_of_range_on_pages_are_not_500(client, auditor, path):
    client.force_login(auditor)
    assert client.get(path).status_code in (200, 400)


def test_a_header_breaking_title_cannot_break_the_approval_email(security, world, committed):
    security.email = "sec@example.com"
    security.save()
    exception = ExceptionFactory(title="Hotfix\r\nBcc: someone@example.com\nmore", agent=world)
    with committed(execute=True):
        assert queue_notice(exception_waiting, exception.pk) == 1
    subject = mail.outbox[0].subject
    assert "\n" not in subject
    assert "\r" not in subject
    assert subject.endswith(f"#{exception.pk} Hotfix Bcc: someone@example.com more")
    assert mail.outbox[0].bcc == []


def test_send_makes_every_subject_one_line():
    send("a\rb\nc\u2028d", "body", ["x@example.com"])
    assert mail.outbox[0].subject == "[Agent portal] a b c d"


@pytest.mark.parametrize("authenticated", [True, False])
def test_decision_api_answers_json_503_when_the_database_is_down(
    api, gateway, security, authenticated
):
    body = {"agent": "pay-bot", "capability": "github:read"}
    down = OperationalError("connection refused")
    with mock.patch("decisions.api.views.decide_and_record", side_effect=down):
        if authenticated:
            response = _post_json(api.as_user(gateway), "/api/v1/decisions/", body)
        else:
            api.force_login(security)
            response = _post_json(api, "/api/v1/decisions/", body)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "database is unavailable" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "role"),
    [
        ("/api/v1/decisions/", {"agent": "pay-bot", "capability": "github:read"}, "gateway"),
        ("/api/v1/activity/", _activity.__call__, "gateway"),
        ("/api/v1/teams/", {"slug": "ops", "name": "Ops"}, "security"),
        ("/api/v1/auth/token/", {"username": "gw", "password": "x"}, None),
    ],
)
def test_unknown_fields_in_a_body_are_a_400_naming_them(api, role_users, world, path, body, role):
    data = {**(body() if callable(body) else body), "scopes": "typo", "extra": 1}
    client = api.as_user(role_users[role]) if role else api
    response = _post_json(client, path, data)
    assert response.status_code == 400, response.content
    assert "Unknown field 'extra', 'scopes'" in response.json()["detail"]


def test_unknown_fields_are_refused_in_every_item_of_a_batch(api, gateway, world):
    batch = [_activity(), _activity(note="x")]
    response = _post_json(api.as_user(gateway), "/api/v1/activity/", batch)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("item 1: Unknown field 'note'")
    assert not Activity.objects.exists()


def test_an_old_enough_time_is_still_accepted(api, gateway, world):
    when = (timezone.now() - timedelta(days=365 * 5)).isoformat()
    response = _post_json(api.as_user(gateway), "/api/v1/activity/", _activity(occurred_at=when))
    assert response.status_code == 201


EST, PLUS5 = (datetime.timezone(timedelta(hours=hours)) for hours in (-5, 5))


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        (datetime.datetime(2999, 12, 31, 23, tzinfo=EST), True),
        (datetime.datetime(2999, 12, 31, 18, tzinfo=EST), False),
        (datetime.datetime(1970, 1, 1, 3, tzinfo=PLUS5), True),
        (datetime.datetime(1, 1, 1, tzinfo=PLUS5), True),
        (datetime.datetime(9999, 12, 31, 23, tzinfo=EST), True),
        (datetime.date(3000, 1, 1), True),
        (datetime.date(2999, 12, 31), False),
    ],
)
def test_year_refusal_judges_a_time_in_utc(value, refused):
    refusal = year_refusal(value, "starts_at")
    assert (refusal is not None) == refused
    if refused:
        assert refusal == "starts_at must fall between the years 1970 and 2999."


@pytest.mark.parametrize(
    ("value", "visible"),
    [
        ("", False),
        (" \t\n", False),
        ("\u200b", False),
        ("\u200c\u200d\u2060\ufeff\u180e", False),
        ("\u00a0\u2003\u3000", False),
        ("\u3164\u115f\u1160\uffa0\u2800", False),
        ("\u0301", False),
        ("\x00\x07", False),
        ("a", True),
        ("\u200bx", True),
        ("鍵", True),
        ("🔑", True),
        ("-", True),
        ("7", True),
    ],
)
def test_has_visible_text(value, visible):
    assert has_visible_text(value) is visible
