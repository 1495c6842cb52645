"""The decision log's guarantee: a decision that was answered has been committed.

A worker process answers and is then killed at once (SIGKILL, no cleanup, no atexit): the
decision must already be in the database, because it is written before the answer.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from decisions.models import Decision
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CHILD = """
import json, os, signal, django
django.setup()
from django.contrib.auth.models import User
from decisions.services.log import decide_and_record
result, record = decide_and_record(
    agent_slug="pay-bot", capability_key="github:read",
    caller=User.objects.get(username="gw"),
)
print(json.dumps({"decision": result.decision, "id": record}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # killed right after answering
"""


def test_a_decision_survives_the_process_being_killed_after_answering(engineer, gateway, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="sandbox")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    child = subprocess.run(  # noqa: S603
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -9, child.stderr
    answer = json.loads(child.stdout.strip().splitlines()[-1])
    assert answer["decision"] == "allow"
    stored = Decision.objects.get(pk=answer["id"])
    assert (stored.agent_slug, stored.decision, stored.caller) == ("pay-bot", "allow", gateway)


def test_the_record_is_visible_to_another_connection_when_the_answer_leaves(
    api, gateway, engineer, security
):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="sandbox")
    response = api.as_user(gateway).post(
        "/api/v1/decisions/", {"agent": "pay-bot", "capability": "github:read"}, format="json"
    )
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
    ) as other:
        row = other.execute(
            f"SELECT decision FROM {Decision._meta.db_table} WHERE id = %s",  # noqa: S608
            [response.json()["decision_id"]],
        ).fetchone()
    assert row == ("allow",)
