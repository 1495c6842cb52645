"""Grant pages: the list, one grant (what, for whom, from which request, time left), revoke."""

from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from access import permissions, rules, selectors, services
from access.confirmations import REVOKE_GRANT
from access.filters import GRANT_SORT
from access.forms import GrantFilterForm
from access.limits import PAGE_SIZE
from access.models import Grant
from approvals.confirm import confirmed_step
from kernel.errors import ApplicationError
from kernel.filtering import page_rows
from kernel.http import AuthenticatedHttpRequest, paginate, requires
from kernel.permissions import Action
from kernel.sorting import sort_rows


@require_safe
@requires(Action.VIEW_PORTAL)
def grant_list(request: HttpRequest) -> HttpResponse:
    # Active grants unless the form says otherwise: the state filter shows that choice.
    params = request.GET.copy()
    params.setdefault("active", "true")
    form = GrantFilterForm(params, **selectors.filter_choices(request.user))
    form.is_valid()  # a value not on offer is shown on its field
    names = ("active", "agent", "capability", "tier", "expiring_within_hours")
    asked = {name: params.get(name, "") for name in names}
    grants = page_rows(form, selectors.grant_list, user=request.user, filters=asked)
    grants, sort = sort_rows(grants, GRANT_SORT, request.GET)
    page, query = paginate(request, grants, PAGE_SIZE)
    for grant in page:
        setattr(grant, "state", rules.grant_state(grant))  # noqa: B010 (display value)
    return render(
        request,
        "access/grant_list.html",
        {"page": page, "filters": form, "sort": sort, "query": query},
    )


@require_safe
@requires(Action.VIEW_PORTAL)
def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grant = selectors.grant_get_for_user(request.user, pk)
    revocable = permissions.can_revoke_grant(request.user, grant)
    return render(
        request,
        "access/grant_detail.html",
        {
            "grant": grant,
            "state": rules.grant_state(grant),
            "revoke": REVOKE_GRANT.offer(grant, next_url=grant.get_absolute_url())
            if revocable
            else None,
        },
    )


def _revocable(user: User, grant: Grant) -> None:
    """What revoking would refuse, said on the confirmation page before anyone confirms."""
    if not permissions.can_revoke_grant(user, grant):
        raise ApplicationError(
            f"Grant #{grant.pk} is {rules.grant_state(grant)}: there is nothing to revoke.",
            code="invalid_transition",
        )


@confirmed_step(
    Action.APPROVE, load=selectors.grant_get_for_user, confirmation=REVOKE_GRANT, check=_revocable
)
def grant_revoke(request: AuthenticatedHttpRequest, grant: Grant) -> tuple[str, Any]:
    services.grant_revoke(actor=request.user, grant=grant, reason=request.POST.get("reason", ""))
    return f"Grant #{grant.pk} revoked: decisions deny it from now on.", grant
