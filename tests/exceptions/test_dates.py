"""Times an exception is filed with: years 1970-2999 once in UTC (whatever zone they are written
in), and a start at most START_AHEAD_MAX_DAYS ahead (a pending one far ahead would block every
other exception for its capability as a duplicate meanwhile)."""

from datetime import datetime, timedelta, timezone

import pytest

from exceptions import services
from exceptions.limits import START_AHEAD_MAX_DAYS
from exceptions.models import PolicyException
from kernel.errors import ApplicationError
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import active_exception
from tests.exceptions.test_api import URL, body, post
from tests.exceptions.test_views import form_data, local

pytestmark = pytest.mark.django_db

YEARS = "must fall between the years 1970 and 2999"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("starts_at", "2999-12-31T23:00:00-05:00"),  # 3000-01-01T04:00Z
        ("expires_at", "3000-01-05"),
        ("starts_at", "1969-12-31T23:00:00+05:00"),  # 1969-12-31T18:00Z
    ],
)
def test_api_refuses_a_time_outside_the_years_in_utc(api, engineer, world, field, value):
    response = post(api, engineer, URL, body(**{field: value}))
    assert response.status_code == 400, response.content
    assert YEARS in response.json()["errors"][field][0]
    assert PolicyException.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires_at", "9999-12-31T23:00:00-05:00"),  # past year 9999 in UTC
        ("starts_at", "0001-01-01T00:00:00+05:00"),  # before year 1 in UTC
    ],
)
def test_api_refuses_a_time_python_cannot_hold_in_utc(api, engineer, world, field, value):
    response = post(api, engineer, URL, body(**{field: value}))
    assert response.status_code == 400, response.content
    assert "out of range" in response.json()["errors"][field][0]
    assert PolicyException.objects.count() == 0


def test_api_refuses_a_renewal_ending_after_2999(api, engineer, world):
    old = active_exception(agent=world["agent"], capability=world["jira"], risk="low")
    response = post(
        api,
        engineer,
        f"{URL}{old.pk}/renew/",
        {"expires_at": "3000-01-05", "justification": "still needed"},
    )
    assert response.status_code == 400, response.content
    assert YEARS in response.json()["errors"]["expires_at"][0]
    assert PolicyException.objects.count() == 1


def test_the_service_refuses_a_time_outside_the_years_too(engineer, world):
    late = datetime(2999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(ApplicationError, match=YEARS) as refused:
        services.exception_request(
            actor=engineer,
            title="Late",
            agent=world["agent"],
            capability=world["jira"],
            justification="j",
            risk="low",
            starts_at=late,
            expires_at=late + timedelta(days=1),
        )
    assert (refused.value.field, refused.value.code) == ("starts_at", "out_of_range")


def test_the_form_refuses_an_end_after_2999(client, engineer, world):
    client.force_login(engineer)
    response = client.post("/exceptions/new/", form_data(expires_at="3000-01-05T00:00"))
    assert response.status_code == 400
    assert YEARS in response.content.decode()
    assert PolicyException.objects.count() == 0


def test_a_start_far_ahead_is_refused_and_blocks_nothing(api, engineer, world):
    far = body(starts_at="2998-01-01T00:00:00Z", expires_at="2998-01-05T00:00:00Z")
    response = post(api, engineer, URL, far)
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "starts_too_far_ahead"
    assert f"at most {START_AHEAD_MAX_DAYS} days ahead" in data["errors"]["starts_at"][0]
    # Nothing pending: the same deviation can still be filed, to start now.
    assert post(api, engineer, URL, body()).status_code == 201


def test_a_start_within_the_limit_is_accepted(api, engineer, world):
    start = in_days(START_AHEAD_MAX_DAYS - 1)
    ahead = body(starts_at=start.isoformat(), expires_at=in_days(START_AHEAD_MAX_DAYS).isoformat())
    response = post(api, engineer, URL, ahead)
    assert response.status_code == 201, response.content
    assert response.json()["in_force"] is False


def test_the_form_refuses_a_start_far_ahead(client, engineer, world):
    client.force_login(engineer)
    start = in_days(START_AHEAD_MAX_DAYS + 1)
    response = client.post(
        "/exceptions/new/",
        form_data(starts_at=local(start), expires_at=local(in_days(START_AHEAD_MAX_DAYS + 5))),
    )
    assert response.status_code == 400
    assert f"at most {START_AHEAD_MAX_DAYS} days ahead" in response.content.decode()
    assert PolicyException.objects.count() == 0
