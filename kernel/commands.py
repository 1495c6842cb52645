"""What management commands share: the person a command acts as (`--as USER`), and checks of
their arguments that argparse's types leave open (a float may be nan, inf or negative; a path
may be a directory or lie in none), each a CommandError that says what to give instead."""

import math
from pathlib import Path

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


def seconds_option(value: float, option: str, *, maximum: float) -> float:
    """A `type=float` option counting seconds: finite, from 0 to `maximum` (`1e400` parses as
    inf, `nan` as nan, and time.sleep refuses both and anything negative)."""
    if not math.isfinite(value) or not 0 <= value <= maximum:
        raise CommandError(
            f"{option} must be a number of seconds from 0 to {maximum:g}; got {value:g}."
        )
    return value


def write_output(path: str, text: str, option: str = "--output") -> None:
    """Write `text` to the file `path` names, or say why not (a directory, a folder that does
    not exist, no permission, a full disk)."""
    target = Path(path)
    if target.is_dir():
        raise CommandError(f"{option} {path} is a directory: name a file to write.")
    if not target.parent.is_dir():
        raise CommandError(f"{option} {path}: there is no directory {target.parent}.")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{option} {path}: cannot write it ({exc.strerror or exc}).") from None
