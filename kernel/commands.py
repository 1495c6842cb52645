"""What management commands share: the person a command acts as (`--as USER`)."""

from django.contrib.auth.models import User
from django.core.management.base import CommandError

from kernel.errors import Forbidden
from kernel.permissions import Action, require


def acting_user(username: str, action: Action) -> User:
    """The active user named by `--as`, if their role may take `action`: the command is then
    checked and audited as them, like the same step in the browser or the API."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active user '{username}'.")
    try:
        require(user, action)
    except Forbidden as exc:
        raise CommandError(exc.message) from None
    return user
