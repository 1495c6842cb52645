"""Who reads what an agent holds, and the one wording for someone who does not run it: the
rules the access, exceptions and credentials pages and APIs all ask."""

import pytest

from registry.permissions import may_read_agent_records, not_run_by_refusal, reads_records_of
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "reads", "or_gateway"),
    [
        ("owner", True, True),
        ("team_member", True, True),
        ("other_engineer", False, False),
        ("security", True, True),
        ("auditor", True, True),
        ("gateway", False, True),  # told as much by every decision, but no person's pages
        ("no_role_user", False, False),
    ],
)
def test_who_reads_an_agents_records(request, engineer, other_engineer, who, reads, or_gateway):
    member = request.getfixturevalue("other_engineer")
    agent = AgentFactory(owner=engineer, team=TeamFactory(members=[]))
    users = {"owner": engineer, "team_member": member, "other_engineer": other_engineer}
    if who == "team_member":
        agent.team.members.add(member)
    elif who == "other_engineer":
        agent.team.members.remove(member)
    user = users.get(who) or request.getfixturevalue(who)
    assert reads_records_of(user, agent) is reads
    assert may_read_agent_records(user, agent) is or_gateway


def test_the_refusal_names_the_agent_its_team_and_who_else_may(engineer):
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=TeamFactory(slug="payments"))
    assert not_run_by_refusal(agent, "requests access for it") == (
        "Only the owner of 'pay-bot' or a member of team 'payments' requests access for it."
    )
    assert not_run_by_refusal(agent, "binds workload identities to it", or_security=True) == (
        "Only the owner of 'pay-bot', a member of team 'payments' or security binds workload "
        "identities to it."
    )
