"""The exceptions API: shape, every endpoint by every role, bad input, filters, query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from exceptions.models import ExceptionApproval, PolicyException
from tests.exceptions.conftest import ROLES, in_days
from tests.exceptions.factories import ExceptionFactory, active_exception
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/exceptions/"


def body(**overrides):
    data = {
        "title": "Read the signing key",
        "agent": "pay-bot",
        "capability": "vault:read_secret",
        "justification": "Key rotation INC-7",
        "risk": "high",
        "compensating_controls": "Alert on every read",
        "expires_at": in_days(10).isoformat(),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post(api, user, url, data=None):
    return api.as_user(user).post(url, data if data is not None else {}, format="json")


def snapshot():
    return list(PolicyException.objects.order_by("pk").values()), ExceptionApproval.objects.count()


def test_filing_returns_the_documented_shape(api, engineer, world):
    response = post(api, engineer, URL, body())
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["status"], data["required_approvals"], data["in_force"]) == ("pending", 2, False)
    assert (data["agent"], data["capability"], data["risk"]) == (
        "pay-bot",
        "vault:read_secret",
        "high",
    )
    assert data["requested_by"] == "eve"
    assert data["id"] == PolicyException.objects.get().pk
    assert data["approvals"] == []
    assert data["max_days"] == 30
    assert data["renews"] is None


def test_starts_at_may_be_given_in_iso_8601(api, engineer, world):
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = post(
        api,
        engineer,
        URL,
        body(starts_at=start.isoformat(), expires_at=(start + timedelta(days=30)).isoformat()),
    )
    assert response.status_code == 201, response.content
    assert PolicyException.objects.get().starts_at == start


@pytest.mark.parametrize(
    ("overrides", "status", "field", "message"),
    [
        ({"title": None}, 400, "title", "required"),
        ({"agent": None}, 400, "agent", "required"),
        ({"capability": None}, 400, "capability", "required"),
        ({"justification": None}, 400, "justification", "required"),
        ({"risk": None}, 400, "risk", "required"),
        ({"expires_at": None}, 400, "expires_at", "required"),
        ({"justification": ""}, 400, "justification", "may not be blank"),
        ({"risk": "extreme"}, 400, "risk", '"extreme" is not a valid choice'),
        ({"expires_at": "next tuesday"}, 400, "expires_at", "Datetime has wrong format"),
        ({"expires_at": in_days(31).isoformat()}, 400, "expires_at", "at most 30 days"),
        (
            {"risk": "critical", "expires_at": in_days(15).isoformat()},
            400,
            "expires_at",
            "at most 14 days",
        ),
        (
            {
                "risk": "low",
                "capability": "jira:write",  # not high-risk: low is allowed
                "expires_at": in_days(181).isoformat(),
            },
            400,
            "expires_at",
            "at most 180 days",
        ),
        ({"compensating_controls": ""}, 400, "compensating_controls", "compensating controls"),
        ({"starts_at": in_days(-1).isoformat()}, 400, "starts_at", "backdated"),
        ({"starts_at": in_days(12).isoformat()}, 400, "expires_at", "after the start"),
        ({"agent": "ghost"}, 400, "agent", "No agent with slug 'ghost'"),
        ({"capability": "vault"}, 400, "capability", "tool:action"),
        ({"capability": "vault:fly"}, 400, "capability", "No capability 'vault:fly'"),
        ({"title": "x" * 201}, 400, "title", "no more than 200"),
        ({"agent": "other-bot"}, 403, None, "Only the owner of 'other-bot'"),
    ],
)
def test_bad_submissions_change_nothing(api, engineer, world, overrides, status, field, message):
    response = post(api, engineer, URL, body(**overrides))
    assert response.status_code == status, response.content
    data = response.json()
    assert message in data["detail"]
    if field:
        assert field in data["errors"]
    assert not PolicyException.objects.exists()


def test_too_long_names_the_maximum_in_the_body(api, engineer, world):
    response = post(api, engineer, URL, body(expires_at=in_days(45).isoformat()))
    assert response.json()["max_days"] == 30
    assert response.json()["code"] == "too_long"


def test_a_non_object_body_is_a_400(api, engineer, world):
    response = api.as_user(engineer).post(URL, [1, 2], format="json")
    assert response.status_code == 400
    assert "JSON object" in response.json()["detail"]


@pytest.mark.parametrize("role", ROLES)
def test_filing_per_role(api, users, world, role):
    response = post(api, users[role], URL, body())
    expected = {"engineer": 201, "security": 201, "second_security": 201, "anonymous": 401}
    assert response.status_code == expected.get(role, 403), response.content
    assert PolicyException.objects.count() == (1 if expected.get(role) == 201 else 0)


@pytest.mark.parametrize("role", ROLES)
def test_reading_per_role(api, users, world, role):
    exception = ExceptionFactory(agent=world["agent"])
    listing = api.as_user(users[role]).get(URL)
    detail = api.as_user(users[role]).get(f"{URL}{exception.pk}/")
    expected_list = {"gateway": 403, "anonymous": 401}.get(role, 200)
    expected_detail = {"gateway": 403, "anonymous": 401, "other_engineer": 404}.get(role, 200)
    assert (listing.status_code, detail.status_code) == (expected_list, expected_detail)
    if expected_list == 200:
        ids = [row["id"] for row in listing.json()["results"]]
        assert ids == ([] if role == "other_engineer" else [exception.pk])
    if expected_detail == 200:
        assert detail.json()["renewed_by"] == []


# endpoint -> expected status per role, on a pending high-risk exception eve filed for pay-bot
# (approve/reject/withdraw) or on an active one (revoke/renew).
ACTIONS = {
    "approve": ({"comment": "ok"}, {"security": 200, "second_security": 200}),
    "reject": ({"comment": "no"}, {"security": 200, "second_security": 200}),
    "revoke": ({"reason": "leaked"}, {"security": 200, "second_security": 200}),
    "renew": (
        {"expires_at": in_days(25).isoformat(), "justification": "still needed"},
        {"engineer": 201},
    ),
    "withdraw": ({}, {"engineer": 200}),
}


@pytest.mark.parametrize("endpoint", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_actions_per_role(api, users, world, endpoint, role):
    data, allowed = ACTIONS[endpoint]
    if endpoint in ("approve", "reject", "withdraw"):
        exception = ExceptionFactory(agent=world["agent"], risk="high")
    else:
        exception = active_exception(agent=world["agent"], risk="high")
    before = snapshot()
    response = post(api, users[role], f"{URL}{exception.pk}/{endpoint}/", data)
    # A wrong role is a 403 before the exception is looked up; oscar may renew and withdraw
    # (his role) but never sees another team's exception (404).
    hidden = 404 if endpoint in ("renew", "withdraw") else 403
    denied = {"anonymous": 401, "other_engineer": hidden}.get(role, 403)
    assert response.status_code == allowed.get(role, denied), response.content
    assert "detail" in response.json() or response.status_code < 300
    if response.status_code >= 400:
        assert snapshot() == before


def test_approve_twice_by_the_same_person_then_a_second_approver(
    api, security, second_security, engineer, world
):
    exception_id = post(api, engineer, URL, body()).json()["id"]
    first = post(api, security, f"{URL}{exception_id}/approve/", {"comment": "fine"})
    assert (first.status_code, first.json()["status"]) == (200, "pending")
    again = post(api, security, f"{URL}{exception_id}/approve/")
    assert (again.status_code, again.json()["code"]) == (400, "already_approved")
    final = post(api, second_security, f"{URL}{exception_id}/approve/")
    data = final.json()
    assert (data["status"], data["in_force"]) == ("active", True)
    assert [a["approver"] for a in data["approvals"]] == ["sec1", "sec2"]


def test_the_requester_and_the_owner_cannot_approve(api, security, world):
    mine = ExceptionFactory(agent=world["agent"], requested_by=security)
    response = post(api, security, f"{URL}{mine.pk}/approve/")
    assert response.status_code == 403
    assert "You requested this exception" in response.json()["detail"]
    owned = AgentFactory(slug="sec-bot", owner=make_user("secowner", "security"))
    theirs = ExceptionFactory(agent=owned)
    response = post(api, owned.owner, f"{URL}{theirs.pk}/approve/")
    assert (response.status_code, ExceptionApproval.objects.count()) == (403, 0)


@pytest.mark.parametrize(
    ("endpoint", "data", "field"),
    [
        ("reject", {}, "comment"),
        ("reject", {"comment": ""}, "comment"),
        ("revoke", {}, "reason"),
        ("renew", {"justification": "x"}, "expires_at"),
        ("renew", {"expires_at": "soon", "justification": "x"}, "expires_at"),
        # Past the 30 days a high-risk renewal may run; computed when the test runs.
        ("renew", {"expires_at": "in 40 days", "justification": "x"}, "expires_at"),
    ],
)
def test_action_bad_input_is_a_400_and_changes_nothing(
    api, engineer, security, world, endpoint, data, field
):
    target = (
        ExceptionFactory(agent=world["agent"])
        if endpoint == "reject"
        else active_exception(agent=world["agent"], risk="high")
    )
    actor = engineer if endpoint == "renew" else security
    if data.get("expires_at") == "in 40 days":
        data = {**data, "expires_at": in_days(40).isoformat()}
    before = snapshot()
    response = post(api, actor, f"{URL}{target.pk}/{endpoint}/", data)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert snapshot() == before


@pytest.mark.parametrize("forged", ["999999", "abc", "1e9", "-1", "99999999999999999999999"])
def test_forged_ids_are_404(api, security, world, forged):
    for suffix in ["", "approve/", "reject/", "revoke/", "renew/", "withdraw/"]:
        client = api.as_user(security)
        url = f"{URL}{forged}/{suffix}"
        response = client.get(url) if not suffix else client.post(url, {}, format="json")
        assert response.status_code == 404, (url, response.content)
        assert "detail" in response.json()


def test_renewal_through_the_api_links_the_chain(api, engineer, world):
    old = active_exception(
        agent=world["agent"], risk="medium", capability=world["jira"], expires_at=in_days(5)
    )
    response = post(
        api,
        engineer,
        f"{URL}{old.pk}/renew/",
        {"expires_at": in_days(60).isoformat(), "justification": "Another quarter"},
    )
    assert response.status_code == 201, response.content
    renewal = response.json()
    assert (renewal["status"], renewal["renews"]) == ("pending", old.pk)
    assert api.as_user(engineer).get(f"{URL}{old.pk}/").json()["renewed_by"] == [renewal["id"]]


def test_filters(api, security, world):
    agent, other = world["agent"], world["other_agent"]
    soon = active_exception(agent=agent, risk="high", expires_at=in_days(3))
    later = active_exception(agent=other, risk="low", expires_at=in_days(30))
    pending = ExceptionFactory(agent=agent, risk="medium", capability=world["jira"])
    client = api.as_user(security)

    def ids(query):
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return sorted(row["id"] for row in response.json()["results"])

    assert ids("status=active") == sorted([soon.pk, later.pk])
    assert ids("status=pending") == [pending.pk]
    assert ids("agent=pay-bot") == sorted([soon.pk, pending.pk])
    assert ids("risk=low") == [later.pk]
    assert ids("expiring_within_days=7") == [soon.pk]
    assert ids("expiring_within_days=31") == sorted([soon.pk, later.pk])
    assert ids("capability=jira:write") == [pending.pk]
    for bad in [
        "status=gone",
        "risk=extreme",
        "expiring_within_days=soon",
        "expiring_within_days=-1",
    ]:
        response = client.get(f"{URL}?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["detail"]


@pytest.mark.parametrize("rows", [2, 30])
def test_list_endpoint_query_count_is_constant(
    api, security, world, rows, django_assert_num_queries
):
    for i in range(rows):
        exception = ExceptionFactory(
            agent=world["agent"] if i % 2 else world["other_agent"], status="active", risk="high"
        )
        ExceptionApproval.objects.create(
            exception=exception, approver=make_user(f"a{i}", "security")
        )
    client = api.as_user(security)
    client.get(URL)  # warm the token and content types
    # token with user and roles, count, page, approvals and controls (prefetches)
    with django_assert_num_queries(5):
        response = client.get(URL)
    assert response.json()["count"] == rows


def test_list_endpoint_query_count_for_an_engineer(api, engineer, world, django_assert_num_queries):
    for _ in range(10):
        ExceptionFactory(agent=world["agent"], status="active")
    client = api.as_user(engineer)
    client.get(URL)
    with django_assert_num_queries(5):
        assert client.get(URL).json()["count"] == 10


@pytest.mark.parametrize("endpoint", ["approve", "reject", "revoke"])
@pytest.mark.parametrize("who", ["engineer", "other_engineer", "auditor"])
def test_a_wrong_role_deciding_is_a_403_before_the_exception_is_looked_up(
    api, users, world, endpoint, who
):
    """Like access requests: a wrong role hears 403 with the role's refusal, whether or not
    it may see the exception (or it exists at all); never a 404."""
    exception = ExceptionFactory(agent=world["agent"])
    before = snapshot()
    for exception_id in (exception.pk, 999999):
        response = post(api, users[who], f"{URL}{exception_id}/{endpoint}/", {"comment": "x"})
        assert response.status_code == 403, response.content
        assert response.json()["detail"].startswith("Only security approves")
    assert snapshot() == before
