"""What the dashboard shows each person. Each app contributes its own panels."""

from portal.permissions import AnyUser, roles_of


def dashboard_context(user: AnyUser) -> dict[str, object]:
    return {"panels": [], "roles": sorted(roles_of(user))}
