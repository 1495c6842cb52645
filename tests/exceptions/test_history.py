"""An exception's page shows its history as the audit trail reads it: who, what, and each
change by its field's label and values by their names."""

import pytest

from exceptions import services
from tests.exceptions.conftest import in_days

pytestmark = pytest.mark.django_db


def test_the_history_reads_as_the_audit_trail_does(client, engineer, security, world):
    """Field labels and names, not the model's field names and ids; a creation's empty fields
    and id left out."""
    exception = services.exception_request(
        actor=engineer,
        title="Release during the migration",
        agent=world["agent"],
        capability=world["jira"],
        justification="the pipeline moves this week",
        risk="low",
        expires_at=in_days(10),
    )
    services.exception_approve(actor=security, exception=exception, comment="fine")
    client.force_login(engineer)
    page = client.get(exception.get_absolute_url()).content.decode()
    history = page[page.index('aria-label="History"') :]
    history = history[: history.index("</table>")]
    assert "Title: Release during the migration" in history
    assert "Agent: pay-bot" in history
    assert "approval created" in history
    assert "Status: Pending approval → Active" in history
    for raw in ("renewals", "reminders", "requested_by", "agent_id", "ID:"):
        assert raw not in history
