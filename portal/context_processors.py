from django.http import HttpRequest

from kernel.permissions import roles_of
from kernel.validation import TEXT_MAX_LENGTH
from portal.navigation import entries_for


def limits(request: HttpRequest) -> dict[str, object]:
    """The server's limits that pages render into inputs (maxlength), named once."""
    return {"text_max": TEXT_MAX_LENGTH}


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_entries": [], "my_roles": []}
    return {
        "nav_entries": entries_for(user, request.path),
        "my_roles": sorted(roles_of(user)),
    }
