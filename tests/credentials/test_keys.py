"""Signing keys (rotation from the command line, per role; encryption at rest; the dashboard
warning) and faults on the token endpoint (database down, key undecryptable)."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from auditlog.models import LogEntry
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.utils import timezone

from credentials import keys
from credentials.models import IssuedCredential, SigningKey
from tests.credentials.conftest import exchange

pytestmark = pytest.mark.django_db

SANDBOX_SUBJECT = "repo:acme/sandbox:ref:refs/heads/main"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("security", True), ("engineer", False), ("auditor", False), ("gateway", False)],
)
def test_only_security_rotates_from_the_command_line(role_users, role, allowed, capsys):
    user = role_users[role]
    if allowed:
        call_command("rotate_signing_key", "--as", user.username)
        assert "Active signing key" in capsys.readouterr().out
        entry = LogEntry.objects.get_for_model(SigningKey).get()
        assert entry.actor == user
        assert "private_key" not in str(entry.changes)
    else:
        with pytest.raises(CommandError, match="Only security manages trust providers"):
            call_command("rotate_signing_key", "--as", user.username)
        assert not SigningKey.objects.exists()


def test_rotating_as_nobody_known_is_refused(db):
    with pytest.raises(CommandError, match="No active user 'ghost'"):
        call_command("rotate_signing_key", "--as", "ghost")


def test_private_keys_are_encrypted_and_the_encryption_key_can_rotate(settings, db):
    old = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEY_ENCRYPTION_KEYS = [old]
    row = keys.rotate()
    assert "BEGIN" not in row.private_key
    keys.forget_active_key()
    settings.CREDENTIAL_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old]
    assert keys.active_key().row.kid == row.kid  # the old encryption key still decrypts


def test_a_key_that_cannot_be_decrypted_is_a_503_not_a_500(client, world, platform, settings):
    settings.CREDENTIAL_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    keys.rotate()
    keys.forget_active_key()
    settings.CREDENTIAL_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = exchange(client, platform.token(SANDBOX_SUBJECT), "github:read")
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "signing key is unavailable" in response.json()["error_description"]
    assert not IssuedCredential.objects.exists()


def test_a_database_outage_is_a_503_and_issues_nothing(client, world, platform):
    down = OperationalError("connection refused")
    with mock.patch("credentials.services.exchange.evaluate", side_effect=down):
        response = exchange(client, platform.token(SANDBOX_SUBJECT), "github:read")
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert response["Retry-After"] == "5"
    assert not IssuedCredential.objects.exists()


def test_an_old_signing_key_shows_on_securitys_dashboard_only(client, security, engineer, db):
    key = keys.rotate()
    client.force_login(security)
    assert "Signing key older than" not in client.get("/").content.decode()
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        client.force_login(security)  # the earlier session has expired by then
        page = client.get("/").content.decode()
        assert "Signing key older than 90 days" in page
        assert f"{key.kid}: 91 days" in page
        client.force_login(engineer)
        assert "Signing key older than" not in client.get("/").content.decode()


def test_refused_exchanges_show_on_securitys_dashboard(client, world, platform, security):
    exchange(client, platform.token("repo:acme/unknown:ref:main"), "github:read")
    client.force_login(security)
    page = client.get("/").content.decode()
    assert "Token exchanges refused (last 7 days)" in page


def test_the_admin_shows_keys_read_only_and_never_the_private_part(client, db):
    from django.contrib.auth.models import User

    key = keys.rotate()
    admin = User.objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin)
    page = client.get(f"/admin/credentials/signingkey/{key.pk}/change/")
    assert page.status_code == 200
    assert key.kid in page.content.decode()
    assert key.private_key not in page.content.decode()
    assert client.post(f"/admin/credentials/signingkey/{key.pk}/delete/").status_code == 403
    assert client.get("/admin/credentials/issuedcredential/").status_code == 200
    assert client.get("/admin/credentials/trustprovider/add/").status_code == 403
