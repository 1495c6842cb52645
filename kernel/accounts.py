"""People's accounts: what is audited about them, and what a credential change revokes.

Connected in KernelConfig.ready(), so the admin, the API, the shell and any future directory
sync all go through the same signals.
"""

from typing import Any

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.auth.models import User
from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import Signal
from rest_framework.authtoken.models import Token

# Who may do what (roles are groups) and who is a person at all: the changes an auditor asks
# about. The password hash and last_login are left out on purpose.
AUDITED_USER_FIELDS = ["username", "email", "is_active", "is_staff", "is_superuser"]

_REVOKE = "_portal_revoke_tokens"
_LEFT = "_portal_left"

# Sent once when a person is deactivated (by SCIM, the admin, the shell): `user` is the
# leaver. Apps that hold their pending work connect a receiver in their AppConfig.ready()
# (access cancels their pending requests, exceptions their pending exceptions).
person_left = Signal()
ACTOR_USERNAME = "actor_username"


def _credentials_changing(sender: Any, instance: User, update_fields=None, **kwargs: Any) -> None:
    """A new password or a deactivation ends every API token the user holds."""
    if instance.pk is None or instance._state.adding:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. the login's last_login update: no extra query
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    changed = before["password"] != instance.password
    deactivated = before["is_active"] and not instance.is_active
    setattr(instance, _REVOKE, changed or deactivated)
    setattr(instance, _LEFT, deactivated)


def _revoke_tokens(sender: Any, instance: User, **kwargs: Any) -> None:
    if getattr(instance, _REVOKE, False):
        Token.objects.filter(user=instance).delete()
        setattr(instance, _REVOKE, False)
    if getattr(instance, _LEFT, False):
        setattr(instance, _LEFT, False)
        person_left.send(sender=User, user=instance)


def _keep_actor_username(sender: Any, instance: User, **kwargs: Any) -> None:
    """The trail's actor link is cleared when a user is deleted (SET_NULL); write the
    username into the entries first, so they still say who acted (kernel.audit_trail)."""
    entries = LogEntry.objects.filter(actor=instance)
    entries.filter(additional_data__isnull=True).update(
        additional_data={ACTOR_USERNAME: instance.get_username()}
    )
    for entry in entries.exclude(additional_data__isnull=True).only("additional_data"):
        data = entry.additional_data if isinstance(entry.additional_data, dict) else {}
        entry.additional_data = {**data, ACTOR_USERNAME: instance.get_username()}
        entry.save(update_fields=["additional_data"])


def connect_account_signals() -> None:
    auditlog.register(User, include_fields=AUDITED_USER_FIELDS, m2m_fields={"groups"})
    pre_save.connect(_credentials_changing, sender=User, dispatch_uid="kernel.token_revoke_check")
    post_save.connect(_revoke_tokens, sender=User, dispatch_uid="kernel.token_revoke")
    pre_delete.connect(_keep_actor_username, sender=User, dispatch_uid="kernel.keep_actor")
