"""The exception form and the renewal form, posted and refused (by the form or by the service):
the form again with a 400, the refusal beside its field, what was typed kept, and nothing
filed."""

import pytest

from exceptions.models import PolicyException
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import active_exception

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def page_of(response) -> str:
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "Back to the dashboard" not in page  # the form, not the error page
    return page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # The form refuses it.
        ({"compensating_controls": ""}, "needs compensating controls"),
        # The service refuses it: longer than a high-risk exception may last.
        ({"expires_at": local(in_days(40))}, "A high-risk exception lasts at most 30 days"),
    ],
)
def test_a_refused_exception_is_a_400_on_its_form_with_what_was_typed(
    client, engineer, world, overrides, message
):
    client.force_login(engineer)
    data = {
        "title": "Read the signing key",
        "agent": "pay-bot",
        "capability": "vault:read_secret",
        "risk": "high",
        "expires_at": local(in_days(10)),
        "justification": "Key rotation of the payments vault",
        "compensating_controls": "Alert on every read",
        **overrides,
    }
    page = page_of(client.post("/exceptions/new/", data))
    assert message in page
    assert 'value="Read the signing key"' in page
    assert f'value="{data["expires_at"]}"' in page
    assert "Key rotation of the payments vault</textarea>" in page
    assert not PolicyException.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"justification": ""}, "still needed"),  # the form refuses it
        ({"expires_at": local(in_days(400))}, "at most"),  # the service refuses it
    ],
)
def test_a_refused_renewal_is_a_400_on_its_form_with_what_was_typed(
    client, engineer, world, overrides, message
):
    old = active_exception(
        agent=world["agent"],
        capability=world["jira"],
        requested_by=engineer,
        risk="low",
        expires_at=in_days(3),
    )
    client.force_login(engineer)
    data = {
        "expires_at": local(in_days(20)),
        "justification": "The migration slipped a week",
        **overrides,
    }
    page = page_of(client.post(f"/exceptions/{old.pk}/renew/", data))
    assert message in page
    assert f'value="{data["expires_at"]}"' in page
    if data["justification"]:
        assert "The migration slipped a week</textarea>" in page
    assert PolicyException.objects.count() == 1
    old.refresh_from_db()
    assert old.status == "active"
