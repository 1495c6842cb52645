import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import call_command

from registry.models import Team

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_every_role_and_prints_the_logins(capsys):
    call_command("seed_demo", "--password", "s3cret-demo")
    out = capsys.readouterr().out
    for username in ["alice", "bob", "sam", "sara", "audrey", "gateway", "admin"]:
        assert username in out
        assert authenticate(username=username, password="s3cret-demo") is not None
    roles = {u.username: [g.name for g in u.groups.all()] for u in User.objects.all()}
    assert roles["alice"] == ["engineer"]
    assert roles["sam"] == ["security"]
    assert roles["audrey"] == ["auditor"]
    assert roles["gateway"] == ["gateway"]
    assert User.objects.get(username="admin").is_superuser
    assert set(Team.objects.get(slug="payments").members.values_list("username", flat=True)) == {
        "alice"
    }
    assert set(Team.objects.get(slug="platform").members.values_list("username", flat=True)) == {
        "bob"
    }


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    counts = (User.objects.count(), Team.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Team.objects.count()) == counts
    assert authenticate(username="alice", password="portal-demo") is not None
