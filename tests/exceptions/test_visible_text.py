"""Required free text holds something a reader sees: a title of only a zero-width space (or
other invisible characters, or whitespace) is refused like an empty one, everywhere."""

import pytest

from exceptions import services
from exceptions.models import PolicyException
from kernel.errors import ApplicationError
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import active_exception
from tests.exceptions.test_api import URL, body, post
from tests.exceptions.test_views import form_data

pytestmark = pytest.mark.django_db

INVISIBLE = ["\u200b", "\u200b \u200d\u2060\ufeff", "\u3164", "\t\u00a0\u2800"]


@pytest.mark.parametrize("value", INVISIBLE)
@pytest.mark.parametrize(
    ("field", "message"),
    [("title", "Give the exception a title."), ("justification", "Say why the deviation")],
)
def test_api_refuses_invisible_text(api, engineer, world, field, message, value):
    response = post(api, engineer, URL, body(**{field: value}))
    assert response.status_code == 400, response.content
    assert message in response.json()["errors"][field][0]
    assert PolicyException.objects.count() == 0


def test_api_accepts_text_in_any_script(api, engineer, world):
    response = post(api, engineer, URL, body(title="🔑 鍵の読み取り"))
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "🔑 鍵の読み取り"


def test_service_refuses_an_invisible_title(engineer, world):
    with pytest.raises(ApplicationError, match="Give the exception a title") as refused:
        services.exception_request(
            actor=engineer,
            title="\u200b",
            agent=world["agent"],
            capability=world["jira"],
            justification="needed",
            risk="low",
            expires_at=in_days(3),
        )
    assert refused.value.field == "title"
    assert PolicyException.objects.count() == 0


def test_invisible_compensating_controls_count_as_none(api, engineer, world):
    response = post(api, engineer, URL, body(compensating_controls="\u200b\u200b"))
    assert response.status_code == 400, response.content
    assert "needs compensating controls" in response.json()["detail"]


def test_form_refuses_an_invisible_title(client, engineer, world):
    client.force_login(engineer)
    response = client.post("/exceptions/new/", form_data(title="\u200b"))
    assert response.status_code == 400
    assert "Give the exception a title." in response.content.decode()
    assert PolicyException.objects.count() == 0


def test_renewal_refuses_an_invisible_justification(api, client, engineer, world):
    old = active_exception(agent=world["agent"], capability=world["jira"], risk="low")
    response = post(
        api,
        engineer,
        f"{URL}{old.pk}/renew/",
        {"expires_at": in_days(20).isoformat(), "justification": "\u200b"},
    )
    assert response.status_code == 400, response.content
    assert "still needed" in response.json()["errors"]["justification"][0]
    client.force_login(engineer)
    page = client.post(
        f"/exceptions/{old.pk}/renew/",
        {"expires_at": in_days(20).strftime("%Y-%m-%dT%H:%M"), "justification": "\u2060"},
    )
    assert "Say why the deviation is still needed." in page.content.decode()
    assert PolicyException.objects.count() == 1
