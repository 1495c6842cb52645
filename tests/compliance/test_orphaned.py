"""AGC-08: an orphaned agent (its owner left, it is not retired) has nobody accountable for it,
so it fails the control until security gives it a new owner."""

import pytest

from compliance.collectors import COLLECTORS, Status
from compliance.period import period_parse
from registry.services.agents import agent_reassign
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def collect():
    return COLLECTORS["AGC-08"].collect(period_parse(None, None))


@pytest.fixture
def world(engineer):
    lena = make_user("lena", "engineer")
    team = TeamFactory(slug="payments", members=[engineer, lena])
    agents = {
        "kept": AgentFactory(slug="pay-bot", owner=engineer, team=team),
        "lost": AgentFactory(slug="lost-bot", owner=lena, team=team),
        "paused": AgentFactory(slug="paused-bot", owner=lena, team=team, status="suspended"),
        "old": AgentFactory(slug="old-bot", owner=lena, team=team, status="retired"),
    }
    return {"lena": lena, **agents}


def leave(user):
    user.is_active = False
    user.save()


def test_orphaned_agents_fail_agc08(world):
    assert collect().status == Status.EFFECTIVE
    leave(world["lena"])
    evidence = collect()
    assert (evidence.status, evidence.checked, evidence.failed) == (
        Status.PARTIALLY_EFFECTIVE,
        3,  # the retired agent is out of scope
        2,
    )
    assert evidence.figures["orphaned"] == 2
    failed = [sample for sample in evidence.samples if sample.failed]
    assert [sample.id for sample in failed] == ["lost-bot", "paused-bot"]
    assert failed[0].label == "lost-bot (sandbox) owned by lena — orphaned: owner lena left"
    assert failed[0].url == "/agents/lost-bot/"
    assert "orphaned" in COLLECTORS["AGC-08"].checks


def test_a_new_owner_makes_the_agent_count_again(world, engineer, security):
    leave(world["lena"])
    for agent in ("lost", "paused"):
        agent_reassign(actor=security, agent=world[agent], owner=engineer, reason="lena left")
    evidence = collect()
    assert (evidence.status, evidence.failed, evidence.figures["orphaned"]) == (
        Status.EFFECTIVE,
        0,
        0,
    )


def test_agc08_runs_in_constant_queries(world, django_assert_num_queries):
    leave(world["lena"])
    with django_assert_num_queries(2):  # the tally, the samples
        collect()
    team = world["kept"].team
    AgentFactory.create_batch(20, owner=world["lena"], team=team)
    with django_assert_num_queries(2):
        evidence = collect()
    assert evidence.figures["orphaned"] == 22
