"""Deliveries not made (/deliveries/): security sees what the portal could not deliver, the
failed first with their last error, and sends one round again once its receiver is back.
Nobody else sees or retries them: a wrong role is a 403 before any id is looked up."""

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kernel import outbox
from kernel.models import OutboxMessage, OutboxStatus
from kernel.permissions import ACTIONS, Action
from kernel.roles import API_ONLY_MESSAGE

pytestmark = pytest.mark.django_db

REFUSAL = ACTIONS[Action.MANAGE_DELIVERIES].refusal
receiver = {"up": False, "got": []}


@outbox.handler("tests.receiver")
def deliver(*, n: int, **_) -> None:
    if not receiver["up"]:
        raise ConnectionError("the receiver refused the connection")
    receiver["got"].append(n)


@pytest.fixture(autouse=True)
def _receiver_down():
    receiver["up"], receiver["got"] = False, []


def _message(status: str, n: int, **fields) -> OutboxMessage:
    defaults = {"attempts": 0, "last_error": ""}
    if status == OutboxStatus.FAILED:
        defaults = {"attempts": outbox.MAX_ATTEMPTS, "last_error": "ConnectionError: refused"}
    return OutboxMessage.objects.create(
        handler="tests.receiver",
        payload={"n": n, "event": f"tests.event{n}"},
        status=status,
        next_attempt_at=timezone.now() + timezone.timedelta(minutes=n),
        **{**defaults, **fields},
    )


def test_security_sees_the_failed_first_with_their_last_error(client, security):
    waiting = _message(OutboxStatus.PENDING, 1, attempts=2, last_error="TimeoutError: slow")
    failed = _message(OutboxStatus.FAILED, 2)
    _message(OutboxStatus.DELIVERED, 3)
    client.force_login(security)
    response = client.get("/deliveries/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "1 failed, 1 waiting" in page
    first, then = f'data-delivery="{failed.pk}"', f'data-delivery="{waiting.pk}"'
    assert page.index(first) < page.index(then)
    assert "tests.event3" not in page  # delivered: nothing to do
    assert "ConnectionError: refused" in page
    assert "TimeoutError: slow" in page
    # Only what the portal gave up on has a retry button; a pending one is retried by itself.
    assert f'aria-label="Retry delivery #{failed.pk}"' in page
    assert f'aria-label="Retry delivery #{waiting.pk}"' not in page


def test_a_retry_delivers_it_once_the_receiver_is_back_and_is_in_the_audit_trail(
    client, security, committed
):
    failed = _message(OutboxStatus.FAILED, 4)
    receiver["up"] = True
    client.force_login(security)
    with committed(execute=True):
        response = client.post(f"/deliveries/{failed.pk}/retry/", follow=True)
    assert response.redirect_chain[-1][0] == "/deliveries/"
    assert f"Delivery #{failed.pk} is being tried again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, receiver["got"]) == (OutboxStatus.DELIVERED, 1, [4])
    entry = LogEntry.objects.get(object_pk=str(failed.pk), content_type__model="outboxmessage")
    assert entry.actor == security
    assert entry.changes_dict["status"] == ["failed", "pending"]
    trail = client.get("/audit/").content.decode()
    assert f"#{failed.pk}" in trail
    assert "sec1" in trail


def test_a_retry_that_fails_again_waits_for_its_backoff_with_fresh_attempts(
    client, security, committed
):
    failed = _message(OutboxStatus.FAILED, 5)
    client.force_login(security)
    with committed(execute=True):
        client.post(f"/deliveries/{failed.pk}/retry/")
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (OutboxStatus.PENDING, 1)
    assert failed.next_attempt_at > timezone.now()
    assert failed.last_error == "ConnectionError: the receiver refused the connection"


def test_the_retry_button_comes_back_to_the_page_it_was_on(client, security):
    failed = _message(OutboxStatus.FAILED, 7)
    client.force_login(security)
    page = client.get("/deliveries/?page=1").content.decode()
    assert '<input type="hidden" name="next" value="/deliveries/?page=1">' in page
    # Retried meanwhile from another tab: the refusal links back to that page.
    failed.status = OutboxStatus.PENDING
    failed.save(update_fields=["status"])
    refused = client.post(f"/deliveries/{failed.pk}/retry/", {"next": "/deliveries/?page=1"})
    assert refused.status_code == 400
    assert 'href="/deliveries/?page=1" data-testid="back"' in refused.content.decode()


@pytest.mark.parametrize("status", [OutboxStatus.PENDING, OutboxStatus.DELIVERED])
def test_only_a_failed_delivery_is_retried(client, security, status):
    message = _message(status, 6, attempts=1)
    client.force_login(security)
    response = client.post(f"/deliveries/{message.pk}/retry/")
    assert response.status_code == 400
    assert "only one the portal gave up on (failed) is retried" in response.content.decode()
    assert OutboxMessage.objects.get(pk=message.pk).attempts == 1
    assert not LogEntry.objects.filter(content_type__model="outboxmessage").exists()


def test_an_unknown_delivery_is_a_404(client, security):
    client.force_login(security)
    response = client.post("/deliveries/999999/retry/")
    assert response.status_code == 404
    assert "There is no delivery #999999." in response.content.decode()


# A gateway's session is refused on every page (it is a machine: it uses the API).
SESSIONS_REFUSED = API_ONLY_MESSAGE


@pytest.mark.parametrize(
    ("role", "refusal"),
    [
        ("engineer", REFUSAL),
        ("auditor", REFUSAL),
        ("norole", REFUSAL),
        ("gateway", SESSIONS_REFUSED),
    ],
)
def test_other_roles_neither_see_nor_retry_deliveries(client, role_users, role, refusal):
    failed = _message(OutboxStatus.FAILED, 7)
    client.force_login(role_users[role])
    listed = client.get("/deliveries/")
    retried = client.post(f"/deliveries/{failed.pk}/retry/")
    forged = client.post("/deliveries/999999/retry/")  # refused before any lookup: not a 404
    for response in (listed, retried, forged):
        assert response.status_code == 403
        assert refusal in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (OutboxStatus.FAILED, outbox.MAX_ATTEMPTS)


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get("/deliveries/")["Location"].startswith("/accounts/login/")


def test_security_s_dashboard_links_the_backlog_to_the_page(client, security, engineer):
    _message(OutboxStatus.FAILED, 8)
    client.force_login(security)
    assert 'href="/deliveries/"' in client.get("/").content.decode()
    client.force_login(engineer)
    assert 'href="/deliveries/"' not in client.get("/").content.decode()


def test_after_an_outage_security_retries_every_failed_delivery_at_once(
    client, security, committed
):
    failed = [_message(OutboxStatus.FAILED, n) for n in (9, 10, 11)]
    waiting = _message(OutboxStatus.PENDING, 12, attempts=3)
    receiver["up"] = True
    client.force_login(security)
    assert "Retry all 3 failed" in client.get("/deliveries/").content.decode()
    with committed(execute=True):
        response = client.post("/deliveries/retry-failed/", follow=True)
    assert "3 failed deliveries tried again." in response.content.decode()
    assert sorted(receiver["got"]) == [9, 10, 11]
    for message in failed:
        message.refresh_from_db()
        assert message.status == OutboxStatus.DELIVERED
    waiting.refresh_from_db()  # not given up on: it keeps its own next attempt
    assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 3)
    audited = LogEntry.objects.filter(content_type__model="outboxmessage")
    assert sorted(int(entry.object_pk) for entry in audited) == [m.pk for m in failed]
    assert "Retry all" not in response.content.decode()  # nothing failed any more


@pytest.mark.parametrize("role", ["engineer", "auditor"])
def test_only_security_retries_every_failed_delivery(client, role_users, role):
    _message(OutboxStatus.FAILED, 13)
    client.force_login(role_users[role])
    response = client.post("/deliveries/retry-failed/")
    assert response.status_code == 403
    assert REFUSAL in response.content.decode()
    assert OutboxMessage.objects.get().status == OutboxStatus.FAILED


# The same over the API, for security's automation: the list, one, and both retries.


def test_security_lists_and_retries_deliveries_over_the_api(api, security, committed):
    waiting = _message(OutboxStatus.PENDING, 14, attempts=1)
    failed = _message(OutboxStatus.FAILED, 15)
    _message(OutboxStatus.DELIVERED, 16)
    client = api.as_user(security)
    listed = client.get("/api/v1/deliveries/").json()
    assert [row["id"] for row in listed["results"]] == [failed.pk, waiting.pk]
    first = listed["results"][0]
    assert (first["status"], first["event"], first["last_error"]) == (
        "failed",
        "tests.event15",
        "ConnectionError: refused",
    )
    assert "payload" not in first  # message bodies and addresses stay in the portal
    receiver["up"] = True
    with committed(execute=True):
        retried = client.post(f"/api/v1/deliveries/{failed.pk}/retry/")
    assert retried.status_code == 200
    assert (retried.json()["status"], receiver["got"]) == ("pending", [15])
    again = client.post(f"/api/v1/deliveries/{waiting.pk}/retry/")
    assert again.status_code == 400
    assert "only one the portal gave up on (failed) is retried" in again.json()["detail"]
    assert client.post("/api/v1/deliveries/999999/retry/").status_code == 404


def test_every_failed_delivery_is_retried_over_the_api(api, security, committed):
    for n in (17, 18):
        _message(OutboxStatus.FAILED, n)
    receiver["up"] = True
    with committed(execute=True):
        response = api.as_user(security).post("/api/v1/deliveries/retry-failed/")
    assert response.json() == {"retried": 2}
    assert sorted(receiver["got"]) == [17, 18]


@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway", "norole"])
def test_other_roles_get_a_403_from_the_deliveries_api(api, role_users, role):
    failed = _message(OutboxStatus.FAILED, 19)
    client = api.as_user(role_users[role])
    for response in (
        client.get("/api/v1/deliveries/"),
        client.get(f"/api/v1/deliveries/{failed.pk}/"),
        client.post(f"/api/v1/deliveries/{failed.pk}/retry/"),
        client.post("/api/v1/deliveries/999999/retry/"),  # refused before any lookup
        client.post("/api/v1/deliveries/retry-failed/"),
    ):
        assert response.status_code == 403
        assert response.json()["detail"] == REFUSAL
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.FAILED


def test_the_page_and_the_api_cost_the_same_queries_for_2_rows_or_40(
    client, api, security, django_assert_num_queries
):
    client.force_login(security)
    token_client = api.as_user(security)
    pages = ("/deliveries/", "/api/v1/deliveries/")

    def counted(path: str) -> int:
        caller = token_client if path.startswith("/api/") else client
        with CaptureQueriesContext(connection) as captured:
            assert caller.get(path).status_code == 200
        return len(captured.captured_queries)

    for n in (20, 21):
        _message(OutboxStatus.FAILED, n)
    few = {path: counted(path) for path in pages}
    for n in range(22, 60):
        _message(OutboxStatus.PENDING if n % 2 else OutboxStatus.FAILED, n)
    for path in pages:
        caller = token_client if path.startswith("/api/") else client
        with django_assert_num_queries(few[path]):
            caller.get(path)


def test_a_build_without_an_event_is_listed_with_none(api, security):
    build = OutboxMessage.objects.create(
        handler="tests.receiver",
        payload={"n": 61},
        status=OutboxStatus.FAILED,
        attempts=outbox.MAX_ATTEMPTS,
        next_attempt_at=timezone.now(),
    )
    rows = api.as_user(security).get("/api/v1/deliveries/").json()["results"]
    assert [(row["id"], row["event"]) for row in rows] == [(build.pk, None)]
