"""DRF permission classes that ask `portal.permissions.can`."""

from typing import Any

from rest_framework.permissions import BasePermission

from portal.permissions import Action, can


def requires(action: Action, *, safe_action: Action | None = None) -> type[BasePermission]:
    """A permission class: `action` for writes, `safe_action` (default: same) for reads."""

    class _Requires(BasePermission):
        message = f"Your role may not do this ({action.value.replace('_', ' ')})."

        def has_permission(self, request: Any, view: Any) -> bool:
            if request.method in ("GET", "HEAD", "OPTIONS") and safe_action is not None:
                return can(request.user, safe_action)
            return can(request.user, action)

    _Requires.__name__ = f"Requires_{action.value}"
    return _Requires
