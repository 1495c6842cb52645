"""The API's one permission class: each view names the actions its operations need."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from kernel.permissions import Action, can_any, refusal


class ActionPermission(BasePermission):
    """Reads `view.action_permissions`, a dict from an operation to the actions that allow it.

    The operation is the viewset action (`list`, `approve`, ...) when there is one, else the
    HTTP method; `"read"` and `"write"` are the fallbacks for safe and unsafe methods. A wrong
    role is refused here, before the object is looked up, with the action's refusal text.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        actions = required_actions(request, view)
        if can_any(request.user, *actions):
            return True
        self.message = refusal(*actions)
        return False


def required_actions(request: Any, view: Any) -> tuple[Action, ...]:
    table: dict[str, tuple[Action, ...] | Action] = view.action_permissions
    operation = getattr(view, "action", None)
    for key in (operation, request.method, "read" if request.method in SAFE_METHODS else "write"):
        if key and key in table:
            found = table[key]
            return found if isinstance(found, tuple) else (found,)
    raise KeyError(f"{type(view).__name__} names no action for {operation or request.method}")
