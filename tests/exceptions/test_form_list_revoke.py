"""The exception form says everything wrong at once, in plain words, beside each field, and
links to a pending duplicate (issue #15, point 6); the list filters by an agent picked from a
list, sorts, and keeps both across pages (point 5); revoking asks first (point 3)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from exceptions.models import PolicyException
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import ExceptionFactory, active_exception

pytestmark = pytest.mark.django_db


def local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def field_errors(page: str) -> dict[str, str]:
    """Each field's error text, by the field it sits beside (templates/form_fields.html)."""
    found = {}
    for block in page.split('<div class="field">')[1:]:
        name = re.search(r'<label for="id_(\w+)"', block)
        error = re.search(r'<div role="alert">(.*?)</div>', block, re.S)
        if name and error:
            found[name.group(1)] = re.sub(r"<[^>]+>", "", error.group(1)).strip()
    return found


def test_every_error_at_once_in_plain_words_beside_its_field(client, engineer, world):
    client.force_login(engineer)
    response = client.post(
        "/exceptions/new/",
        {
            "title": "",
            "agent": "pay-bot",
            "capability": "vault:read_secret",
            "risk": "high",
            "starts_at": local(in_days(-2)),
            "expires_at": local(in_days(45)),
            "justification": "",
            "compensating_controls": "",
        },
    )
    assert response.status_code == 400
    errors = field_errors(response.content.decode())
    assert errors == {
        "title": "Give the exception a title.",
        "starts_at": "The start is in the past: an exception cannot be backdated. "
        "Leave it empty to start now.",
        "justification": "Say why the deviation is needed.",
        "compensating_controls": "A high-risk exception needs compensating controls: say what "
        "limits the damage while it is in force (e.g. extra monitoring, a narrower scope).",
    }
    assert not PolicyException.objects.exists()


def test_window_and_risk_floor_errors_come_together_without_field_names(client, engineer, world):
    client.force_login(engineer)
    response = client.post(
        "/exceptions/new/",
        {
            "title": "Read the key",
            "agent": "pay-bot",
            "capability": "vault:read_secret",
            "risk": "low",
            "expires_at": local(in_days(200)),
            "justification": "rotation",
        },
    )
    errors = field_errors(response.content.decode())
    assert set(errors) == {"risk", "expires_at"}
    assert errors["risk"].startswith("vault:read_secret is a high-risk capability")
    assert errors["expires_at"].startswith("A low-risk exception lasts at most 180 days: end it ")
    for text in errors.values():
        assert "expires_at" not in text
        assert "starts_at" not in text
    before = client.post(
        "/exceptions/new/",
        {
            "title": "t",
            "agent": "pay-bot",
            "capability": "jira:write",
            "risk": "low",
            "starts_at": local(in_days(3)),
            "expires_at": local(in_days(2)),
            "justification": "j",
        },
    )
    assert field_errors(before.content.decode()) == {
        "expires_at": "The end must be after the start."
    }


def test_a_pending_duplicate_is_a_link_to_it(client, engineer, world):
    pending = ExceptionFactory(agent=world["agent"], requested_by=engineer, risk="high")
    client.force_login(engineer)
    response = client.post(
        "/exceptions/new/",
        {
            "title": "Again",
            "agent": "pay-bot",
            "capability": "vault:read_secret",
            "risk": "high",
            "expires_at": local(in_days(5)),
            "justification": "j",
            "compensating_controls": "alerts",
        },
    )
    page = response.content.decode()
    assert (
        f'<a href="/exceptions/{pending.pk}/">Exception #{pending.pk}</a> for vault:read_secret '
        "on pay-bot is already pending: follow that one."
    ) in page
    assert PolicyException.objects.count() == 1


def test_the_list_filters_by_an_agent_picked_from_a_list(client, engineer, security, world):
    mine = ExceptionFactory(agent=world["agent"], requested_by=engineer, risk="high")
    theirs = ExceptionFactory(agent=world["other_agent"], risk="high")
    client.force_login(security)
    page = client.get("/exceptions/").content.decode()
    assert '<select name="agent" id="id_agent">' in page
    assert '<option value="other-bot">other-bot</option>' in page
    filtered = client.get("/exceptions/?agent=pay-bot").content.decode()
    assert '<option value="pay-bot" selected>pay-bot</option>' in filtered
    assert f'data-exception="{mine.pk}"' in filtered
    assert f'data-exception="{theirs.pk}"' not in filtered
    # An engineer is offered only the agents whose exceptions they see.
    client.force_login(engineer)
    page = client.get("/exceptions/").content.decode()
    assert '<option value="other-bot">' not in page
    bad = client.get("/exceptions/?agent=other-bot").content.decode()
    assert "other-bot is not one of the available choices" in bad


def test_the_list_sorts_by_risk_and_end_and_keeps_it_across_pages(client, security, world):
    for risk, days in (("critical", 3), ("low", 40), ("medium", 1), ("high", 20)):
        active_exception(
            agent=world["agent"],
            capability=world["jira"],
            risk=risk,
            expires_at=timezone.now() + timedelta(days=days),
        )
    client.force_login(security)

    def risks(url: str) -> list[str]:
        page = client.get(url).content.decode()
        return re.findall(r'<span class="badge risk-(\w+)', page)

    assert risks("/exceptions/?sort=risk") == ["low", "medium", "high", "critical"]
    assert risks("/exceptions/?sort=-risk") == ["critical", "high", "medium", "low"]
    assert risks("/exceptions/?sort=expires") == ["medium", "critical", "high", "low"]
    page = client.get("/exceptions/?risk=low&sort=-expires").content.decode()
    assert 'href="?risk=low&amp;sort=expires"' in page  # the header keeps the filter
    assert '<input type="hidden" name="sort" value="-expires">' in page


def test_time_left_says_its_urgency_in_words(client, security, world):
    soon = active_exception(
        agent=world["agent"],
        capability=world["jira"],
        risk="low",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    client.force_login(security)
    detail = client.get(soon.get_absolute_url()).content.decode()
    assert re.search(r'data-urgency="urgent"><strong>Under 1 hour:</strong> 29', detail)
    agent_page = client.get("/agents/pay-bot/").content.decode()
    assert "Under 1 hour:" in agent_page
    assert "Under 1 hour:" in client.get("/exceptions/").content.decode()


def test_revoking_asks_first_with_a_reason(client, security, auditor, world):
    exception = active_exception(agent=world["agent"], capability=world["jira"], risk="low")
    client.force_login(auditor)
    assert "/revoke/" not in client.get(exception.get_absolute_url()).content.decode()
    assert client.get(f"/exceptions/{exception.pk}/revoke/").status_code == 403
    client.force_login(security)
    page = client.get(exception.get_absolute_url()).content.decode()
    assert f'<dialog id="confirm-exceptions-revoke-{exception.pk}"' in page
    confirm = client.get(f"/exceptions/{exception.pk}/revoke/").content.decode()
    assert f"Revoke exception #{exception.pk}: {exception.title}?" in confirm
    assert "Keep the exception" in confirm
    empty = client.post(f"/exceptions/{exception.pk}/revoke/", {"reason": ""})
    assert empty.status_code == 400
    assert "Say why the exception is revoked" in empty.content.decode()
    assert PolicyException.objects.get().status == "active"
    done = client.post(f"/exceptions/{exception.pk}/revoke/", {"reason": "Key leaked"}, follow=True)
    assert f"Exception #{exception.pk} revoked" in done.content.decode()
    assert PolicyException.objects.get().status == "revoked"
    again = client.get(f"/exceptions/{exception.pk}/revoke/")
    assert again.status_code == 400
    assert "nothing to revoke" in again.content.decode()


def test_an_end_in_the_past_without_a_start_says_the_end_is_in_the_past(client, engineer, world):
    client.force_login(engineer)
    typed = local(in_days(-1))
    response = client.post(
        "/exceptions/new/",
        {
            "title": "t",
            "agent": "pay-bot",
            "capability": "jira:write",
            "risk": "low",
            "expires_at": typed,
            "justification": "j",
        },
    )
    page = response.content.decode()
    assert field_errors(page) == {
        "expires_at": "The end is in the past: with no start given, the exception starts now. "
        "Give an end in the future."
    }
    assert f'value="{typed}"' in page
    assert not PolicyException.objects.exists()


def test_a_renewal_ending_before_the_current_end_names_the_current_end(client, engineer, world):
    old = active_exception(
        agent=world["agent"],
        requested_by=engineer,
        risk="low",
        capability=world["jira"],
        expires_at=in_days(3),
    )
    client.force_login(engineer)
    response = client.post(
        f"/exceptions/{old.pk}/renew/", {"expires_at": local(in_days(2)), "justification": "x"}
    )
    assert field_errors(response.content.decode()) == {
        "expires_at": f"A renewal continues from the current end, "
        f"{old.expires_at:%Y-%m-%d %H:%M} UTC: give a new expiry after that."
    }
    assert PolicyException.objects.count() == 1
