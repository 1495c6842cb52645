from datetime import timedelta

import pytest
from django.utils import timezone

from decisions.models import Activity
from decisions.services.log import decide_and_record
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return {
        "sandbox": AgentFactory(slug="sandbox-bot", owner=engineer, team=team, tier="sandbox"),
        "production": AgentFactory(slug="prod-bot", owner=engineer, team=team, tier="production"),
    }


def item(agent, key, when=None, **extra):
    when = when or timezone.now()
    return {
        "agent": agent,
        "capability": key,
        "target": "acme/payments",
        "outcome": "success",
        "occurred_at": when.isoformat().replace("+00:00", "Z"),
        **extra,
    }


def report(api, gateway, body):
    return api.as_user(gateway).post("/api/v1/activity/", body, format="json")


def test_covered_and_uncovered_actions_in_one_batch(api, gateway, world):
    grant = make_grant(world["sandbox"], "github:write")
    exception = make_exception(world["production"], "vault:read_secret")
    response = report(
        api,
        gateway,
        [
            item("sandbox-bot", "github:read"),  # standing allow
            item("sandbox-bot", "github:write"),  # grant
            item("prod-bot", "vault:read_secret"),  # exception
            item("prod-bot", "deploy:release"),  # nothing: drift
            item("ghost", "github:read"),  # unknown agent: drift
        ],
    )
    assert response.status_code == 201
    rows = response.json()
    assert [r["flagged"] for r in rows] == [False, False, False, True, True]
    assert rows[0]["covered_by"] == "standing allow (policy v1)"
    assert rows[1]["covered_by"] == f"grant #{grant.pk}"
    assert rows[2]["covered_by"] == f"exception #{exception.pk}"
    assert "No standing allow, grant, exception or allow decision" in rows[3]["flag_reason"]
    assert rows[4]["flag_reason"] == "Unknown agent 'ghost'."
    assert [r["review_status"] for r in rows][3:] == ["pending", "pending"]


def test_an_allow_decision_shortly_before_covers_the_action(api, gateway, world):
    grant = make_grant(world["production"], "github:read", hours=1)
    decide_and_record(agent_slug="prod-bot", capability_key="github:read", caller=gateway)
    grant.revoked_at = timezone.now()
    grant.save()
    [row] = report(api, gateway, item("prod-bot", "github:read", when=timezone.now())).json()
    assert row["covered_by"].startswith("allow decision #")
    assert row["flagged"] is False


def test_coverage_is_judged_at_occurred_at_not_now(api, gateway, world):
    grant = make_grant(world["sandbox"], "github:write", hours=1)
    after_expiry = grant.expires_at + timedelta(minutes=1)
    before = grant.starts_at + timedelta(minutes=5)
    from time_machine import travel

    with travel(after_expiry + timedelta(minutes=10)):
        rows = report(
            api,
            gateway,
            [
                item("sandbox-bot", "github:write", when=before),
                item("sandbox-bot", "github:write", when=after_expiry),
            ],
        )
    assert [r["flagged"] for r in rows.json()] == [False, True]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "non-empty list"),
        ([{"agent": "sandbox-bot"}], "item 0: 'capability' must be a non-empty string"),
        (item("sandbox-bot", "github:read", occurred_at="yesterday"), "ISO 8601"),
        (item("sandbox-bot", "github:read", occurred_at="2026-11-28T10:00:00"), "with a zone"),
        (item("sandbox-bot", "github:read", occurred_at="2999-01-01T00:00:00Z"), "in the future"),
        ([item("sandbox-bot", "github:read")] * 1001, "At most 1000"),
        ("text", "one activity object or a non-empty list"),
    ],
)
def test_bad_activity_is_400_and_nothing_is_stored(api, gateway, world, body, message):
    response = report(api, gateway, body)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert Activity.objects.count() == 0


def test_one_bad_item_rejects_the_whole_batch(api, gateway, world):
    response = report(api, gateway, [item("sandbox-bot", "github:read"), {"agent": 3}])
    assert response.status_code == 400
    assert "item 1" in response.json()["detail"]
    assert Activity.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "status"), [("engineer", 403), ("security", 403), ("auditor", 403), ("anonymous", 401)]
)
def test_only_gateways_report(api, role_users, world, role, status):
    client = api.as_user(None if role == "anonymous" else role_users[role])
    response = client.post("/api/v1/activity/", item("sandbox-bot", "github:read"), format="json")
    assert response.status_code == status
    assert Activity.objects.count() == 0


def test_flagged_filter_and_review_through_the_api(api, gateway, security, auditor, world):
    report(api, gateway, [item("prod-bot", "deploy:release"), item("sandbox-bot", "github:read")])
    flagged = api.as_user(auditor).get("/api/v1/activity/?flagged=true").json()
    assert flagged["count"] == 1
    activity_id = flagged["results"][0]["id"]
    refused = api.as_user(auditor).post(
        f"/api/v1/activity/{activity_id}/review/",
        {"verdict": "expected", "note": "ok"},
        format="json",
    )
    assert refused.status_code == 403
    for note, says in (("", "may not be blank"), ("\u200b\ufeff", "Say why in a note")):
        no_note = api.as_user(security).post(
            f"/api/v1/activity/{activity_id}/review/",
            {"verdict": "expected", "note": note},
            format="json",
        )
        assert no_note.status_code == 400
        assert says in no_note.json()["detail"]
    done = api.as_user(security).post(
        f"/api/v1/activity/{activity_id}/review/",
        {"verdict": "incident", "note": "release without approval: INC-42"},
        format="json",
    )
    assert done.status_code == 200
    assert (done.json()["review_status"], done.json()["reviewed_by"]) == ("incident", "sec1")
    again = api.as_user(security).post(
        f"/api/v1/activity/{activity_id}/review/",
        {"verdict": "expected", "note": "changed my mind"},
        format="json",
    )
    assert again.status_code == 400
    assert "cannot be reviewed again" in again.json()["detail"]
    assert (
        api.as_user(security)
        .post(
            "/api/v1/activity/999999/review/", {"verdict": "expected", "note": "x"}, format="json"
        )
        .status_code
        == 404
    )


def test_auditors_read_the_review_page_without_its_forms(
    client, api, gateway, security, auditor, world
):
    """Auditors read everything: the flags and the verdicts, as the API gives them, but the
    review buttons are security's and a forged review is refused before the lookup."""
    report(api, gateway, [item("prod-bot", "deploy:release"), item("prod-bot", "github:merge")])
    first = Activity.objects.order_by("pk").first()
    client.force_login(security)
    client.post(f"/review/{first.pk}/", {"verdict": "incident", "note": "nobody planned it"})

    client.force_login(auditor)
    page = client.get("/review/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "awaiting security's review" in html
    assert "nobody planned it" in html
    assert 'name="verdict"' not in html
    assert '<a href="/review/"' in client.get("/").content.decode()  # in the navigation
    forged = client.post(f"/review/{first.pk}/", {"verdict": "expected", "note": "x"})
    assert forged.status_code == 403
    first.refresh_from_db()
    assert (first.review_status, first.review_note) == ("incident", "nobody planned it")


def test_review_page_for_security_only(client, api, gateway, security, engineer, world):
    report(api, gateway, [item("prod-bot", "deploy:release")])
    client.force_login(engineer)
    assert client.get("/review/").status_code == 403
    client.force_login(security)
    page = client.get("/review/")
    assert page.status_code == 200
    assert b"deploy:release" in page.content
    activity = Activity.objects.get()
    response = client.post(
        f"/review/{activity.pk}/", {"verdict": "expected", "note": "planned release"}, follow=True
    )
    assert f"Activity #{activity.pk} reviewed: expected.".encode() in response.content
    activity.refresh_from_db()
    assert (activity.review_status, activity.reviewed_by) == ("expected", security)


def test_activity_list_query_count(api, gateway, auditor, world, django_assert_num_queries):
    report(api, gateway, [item("prod-bot", "deploy:release")])
    client = api.as_user(auditor)
    with django_assert_num_queries(3):
        client.get("/api/v1/activity/")
    report(api, gateway, [item("prod-bot", "deploy:release")] * 40)
    client = api.as_user(auditor)
    with django_assert_num_queries(3):
        assert client.get("/api/v1/activity/").json()["count"] == 41


def test_a_batch_is_judged_in_a_constant_number_of_queries(
    api, gateway, world, django_assert_num_queries
):
    make_grant(world["sandbox"], "github:write", hours=1)
    kinds = [
        ("sandbox-bot", "github:read"),  # standing allow
        ("sandbox-bot", "github:write"),  # grant
        ("prod-bot", "deploy:release"),  # nothing: flagged
        ("ghost-bot", "github:read"),  # unknown agent
    ]
    client = api.as_user(gateway)
    report(api, gateway, [item(*kinds[0])])  # warm the token and role lookups' code paths

    def batch(size):
        return [item(*kinds[index % len(kinds)]) for index in range(size)]

    # token with roles, savepoint, agents, capabilities, rules, grants, exceptions,
    # decisions, insert, the batch's audit entry, release; with flags, one drift notice:
    # security's addresses and its deliveries (one insert, whatever the number of channels)
    with django_assert_num_queries(11):
        assert client.post("/api/v1/activity/", batch(1), format="json").status_code == 201
    with django_assert_num_queries(13):
        assert client.post("/api/v1/activity/", batch(4), format="json").status_code == 201
    with django_assert_num_queries(13):
        response = client.post("/api/v1/activity/", batch(50), format="json")
    assert response.status_code == 201
    flags = [(row["covered_by"], row["flagged"]) for row in response.json()[:4]]
    assert flags[0] == ("standing allow (policy v1)", False)
    assert flags[1][0].startswith("grant #")
    assert flags[2] == ("", True)
    assert flags[3] == ("", True)


def test_a_review_note_over_the_limit_is_refused_beside_the_note(
    client, api, gateway, security, world
):
    report(api, gateway, [item("prod-bot", "deploy:release")])
    activity = Activity.objects.get()
    client.force_login(security)
    page = client.get("/review/").content.decode()
    assert 'maxlength="4000"' in page
    assert '<option value="" selected>Any review status</option>' in page
    assert "---------" not in page
    note = "n" * 5000
    response = client.post(f"/review/{activity.pk}/", {"verdict": "expected", "note": note})
    assert response.status_code == 400
    refused = response.content.decode()
    assert "Keep the note to at most 4000 characters." in refused
    assert f'value="{note}"' in refused
    activity.refresh_from_db()
    assert activity.review_status == "pending"
    api_refused = api.as_user(security).post(
        f"/api/v1/activity/{activity.pk}/review/", {"verdict": "expected", "note": note}
    )
    assert api_refused.status_code == 400
