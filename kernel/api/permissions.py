"""The API's one permission class: each view names the actions its operations need."""

from typing import Any

from django.contrib.auth.models import User
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from kernel.permissions import Action, can_any, refusal


class AuthenticatedRequest(Request):
    """The request an API view receives (for type checking): the permission classes
    (IsAuthenticated by default, ActionPermission) refuse an anonymous caller before the view
    runs, so its user is signed in."""

    user: User


class ActionPermission(BasePermission):
    """Reads `view.action_permissions`, a dict from an operation to the actions that allow it.

    The operation is the viewset action (`list`, `approve`, ...) when there is one, else the
    HTTP method; `"read"` and `"write"` are the fallbacks for safe and unsafe methods. A method
    the view does not answer needs `"read"` (who may read it learns of the 405; others get 403).
    A wrong role is refused here, before the object is looked up, with the action's refusal text.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        actions = required_actions(request, view)
        if can_any(request.user, *actions):
            return True
        self.message = refusal(*actions)
        return False


Needed = tuple[Action, ...] | Action


def required_actions(request: Any, view: Any) -> tuple[Action, ...]:
    table: dict[str, Needed] = view.action_permissions
    operation = getattr(view, "action", None)
    for key in (operation, request.method, "read" if request.method in SAFE_METHODS else "write"):
        if key and key in table:
            return _as_tuple(table[key])
    if not hasattr(view, request.method.lower()) and "read" in table:
        return _as_tuple(table["read"])
    raise KeyError(f"{type(view).__name__} names no action for {operation or request.method}")


def _as_tuple(needed: Needed) -> tuple[Action, ...]:
    return needed if isinstance(needed, tuple) else (needed,)
