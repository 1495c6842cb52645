"""The audit trail reads as "who did what to which object, when": names, not ids; links to
the objects; formatted times; filters; a formula-safe CSV of the filtered trail."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from access.models import Grant
from controls.models import Control, FrameworkItem, Mapping, Relationship
from kernel.audit import audit_actor
from registry.services.agents import agent_suspend, agent_update
from tests.registry.factories import AgentFactory, TeamFactory, capability

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved(engineer, security):
    """An agent moved from one team to another, then suspended by security."""
    payments = TeamFactory(slug="payments", name="Payments", members=[engineer])
    platform = TeamFactory(slug="platform", name="Platform", members=[engineer])
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=payments)
    agent_update(actor=engineer, agent=agent, team=platform)
    agent_suspend(actor=security, agent=agent)
    return agent


def rows_of(page: str) -> list[str]:
    """Each table row's text, tags stripped and spaces collapsed."""
    rows = re.findall(r"<tr data-entry=.*?</tr>", page, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]


def test_a_change_reads_as_who_did_what_to_which_object(client, auditor, moved):
    client.force_login(auditor)
    page = client.get("/audit/?object_type=registry.agent").content.decode()
    rows = rows_of(page)
    # Newest first: security suspended it, then (before) the engineer moved it.
    assert rows[0].startswith(f"{timezone.now():%Y-%m-%d} ")
    assert "Sec (sec1) changed agent pay-bot" in rows[0]
    assert "Status : Active → Suspended" in rows[0]
    assert "Eve (eve) changed agent pay-bot" in rows[1]
    assert "Team : Payments → Platform" in rows[1]  # ids resolved to the teams' names
    assert "created agent pay-bot" in rows[2]
    assert '<a href="/agents/pay-bot/">pay-bot</a>' in page
    assert "None" not in " ".join(rows)
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{6}", page), "no microseconds anywhere"


def test_objects_without_a_page_link_to_the_object_they_belong_to(client, auditor, security):
    control = Control.objects.get(ref_id="AGC-01")
    item = FrameworkItem.objects.exclude(mappings__control=control).order_by("pk").first()
    with audit_actor(security):
        Mapping.objects.create(
            control=control, item=item, relationship="intersects", strength=3, rationale="Why."
        )
    client.force_login(auditor)
    page = client.get("/audit/?object_type=controls.mapping&actor=sec1").content.decode()
    (row,) = rows_of(page)
    assert "Sec (sec1) created mapping" in row
    assert f"Control : {control}" in row
    assert f"Relationship : {Relationship('intersects').label}" in row
    assert f'href="{control.get_absolute_url()}"' in page  # a mapping has no page: its control


def test_requests_approvals_and_rules_are_labelled_by_name_not_id(
    client, auditor, engineer, security
):
    """The trail keeps each object's label as it was written: a request names its agent and
    capability, an approval its approver, a rule its capability; never their database ids."""
    from access.services import access_request_approve, access_request_submit
    from registry.services import policy as policy_services
    from tests.registry.factories import demo_policy

    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="internal")
    merge = capability("github:merge")
    asked = access_request_submit(
        actor=engineer, agent=agent, capability=merge, duration_hours=1, justification="Fix."
    )
    access_request_approve(actor=security, access_request=asked)
    draft = policy_services.policy_draft_create(actor=security)
    policy_services.policy_rule_set(
        actor=security,
        version=draft,
        tier="sandbox",
        capability=merge,
        effect="jit",
        max_duration_hours=8,
    )
    policy_services.policy_publish(actor=security, version=draft, reason="Hackathon week.")
    client.force_login(auditor)

    def trail(object_type: str) -> str:
        return " | ".join(
            rows_of(client.get(f"/audit/?object_type={object_type}").content.decode())
        )

    requests = trail("access.accessrequest")
    assert f"created access request #{asked.pk} pay-bot github:merge (pending)" in requests
    assert f"changed access request #{asked.pk} pay-bot github:merge (approved)" in requests
    assert f"created approval sec1 approved request #{asked.pk}" in trail("access.approval")
    assert "changed policy rule sandbox github:merge: jit" in trail("registry.policyrule")
    # The publish warnings read as their messages, not as the stored dictionaries.
    published = trail("registry.policyversion")
    assert (
        "Publish warnings : — → High-risk sandbox github:merge becomes &#x27;jit&#x27; "
        "(was approval ≤ 8h)." in published
    )
    assert "{" not in published


def test_approval_labels_name_the_approver(security):
    from credentials.models import BindingApproval
    from exceptions.models import ExceptionApproval

    assert str(ExceptionApproval(approver=security, exception_id=5)) == (
        f"{security.username} approved exception #5"
    )
    assert str(BindingApproval(approver=security, binding_id=7)) == (
        f"{security.username} approved binding #7"
    )


def test_filters_use_human_names_and_the_action(client, auditor, moved):
    client.force_login(auditor)
    page = client.get("/audit/").content.decode()
    assert '<option value="registry.agent">Agent</option>' in page
    assert '<option value="exceptions.policyexception">Policy exception</option>' in page
    assert '<option value="access.accessrequest">Access request</option>' in page
    changed = rows_of(
        client.get("/audit/?object_type=registry.agent&action=update").content.decode()
    )
    assert len(changed) == 2
    assert all(" changed agent " in row for row in changed)
    response = client.get("/audit/?action=erase")
    assert "action is one of create, update, delete, access" in response.content.decode()


def test_csv_export_is_the_filtered_trail_and_formula_safe(client, auditor, engineer):
    team = TeamFactory(slug="payments", members=[engineer])
    AgentFactory(slug="evil", name='=HYPERLINK("http://x.example","click")', team=team)
    AgentFactory(slug="plain", name="Plain", team=team)
    client.force_login(auditor)
    response = client.get("/audit/?object_type=registry.agent&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-trail-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "when_utc",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object",
        "link",
        "changes",
    ]
    assert {row[5] for row in rows[1:]} == {"evil", "plain"}  # only agents: the filter holds
    evil = next(row for row in rows[1:] if row[5] == "evil")
    assert evil[2] == "created"
    assert evil[3] == "Agent"
    assert evil[6] == "http://testserver/agents/evil/"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", evil[0])
    # The typed name is a line of the changes cell; the cell starts with text, and a cell
    # that would start with "=" is written with a leading apostrophe (kernel.csv).
    assert 'Name: =HYPERLINK("http://x.example","click")' in evil[7].splitlines()


def test_csv_cells_that_start_like_a_formula_are_neutralised(client, auditor, engineer):
    team = TeamFactory(slug="payments", members=[engineer])
    AgentFactory(slug="f", name="x", team=team)
    from auditlog.models import LogEntry

    LogEntry.objects.update(object_repr="=1+1")
    client.force_login(auditor)
    response = client.get("/audit/?format=csv&object_type=registry.agent")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][5] == "'=1+1"


@pytest.mark.parametrize(("role", "status"), [("engineer", 403), ("security", 200)])
def test_only_security_and_auditors_export(client, role_users, role, status):
    client.force_login(role_users[role])
    assert client.get("/audit/?format=csv").status_code == status


def test_a_bad_filter_on_export_is_a_400_page_not_a_csv(client, auditor):
    client.force_login(auditor)
    response = client.get("/audit/?format=csv&from=yesterday")
    assert response.status_code == 400
    assert "from must be a date" in response.content.decode()


def test_page_queries_do_not_grow_with_rows_or_kinds(
    client, auditor, engineer, security, django_assert_num_queries
):
    team = TeamFactory(slug="payments", members=[engineer])
    merge = capability("github:merge", high_risk=True)

    def add_rows(count: int) -> None:
        for n in range(count):
            agent = AgentFactory(owner=engineer, team=team)
            agent_suspend(actor=security, agent=agent)
            with audit_actor(security):
                Grant.objects.create(
                    agent=agent,
                    capability=merge,
                    starts_at=timezone.now(),
                    expires_at=timezone.now() + timedelta(hours=n + 1),
                )

    add_rows(2)
    client.force_login(auditor)
    client.get("/audit/")
    # session, user, roles, count, page, then one per model the page names: grants, agents,
    # capabilities, users, teams, tools
    with django_assert_num_queries(11) as few:
        client.get("/audit/")
    add_rows(10)
    with django_assert_num_queries(len(few)):
        client.get("/audit/")


def test_api_has_the_readable_fields_too(api, auditor, moved):
    body = api.as_user(auditor).get("/api/v1/audit-events/?object_type=registry.agent").json()
    latest = body["results"][0]
    assert latest["changes"]["status"] == ["active", "suspended"]  # the raw values stay
    assert latest["actor_display"] == "Sec (sec1)"
    assert latest["action_display"] == "changed"
    assert latest["object_type_display"] == "Agent"
    assert latest["object_url"] == "http://testserver/agents/pay-bot/"
    assert {"field": "Status", "before": "Active", "after": "Suspended"} in latest[
        "changes_display"
    ]
    moved_entry = body["results"][1]
    assert {"field": "Team", "before": "Payments", "after": "Platform"} in moved_entry[
        "changes_display"
    ]


def test_api_queries_do_not_grow_with_rows(
    api, auditor, engineer, security, django_assert_num_queries
):
    team = TeamFactory(slug="payments", members=[engineer])
    for _ in range(2):
        agent_suspend(actor=security, agent=AgentFactory(owner=engineer, team=team))
    client = api.as_user(auditor)
    client.get("/api/v1/audit-events/")
    with django_assert_num_queries(6) as few:  # token, count, page, agents, users, teams
        client.get("/api/v1/audit-events/")
    for _ in range(10):
        agent_suspend(actor=security, agent=AgentFactory(owner=engineer, team=team))
    with django_assert_num_queries(len(few)):
        client.get("/api/v1/audit-events/")
