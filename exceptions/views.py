"""Exception pages: list, request, detail (with its decisions), renew, revoke, withdraw."""

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from approvals.confirm import confirmed_step
from approvals.context import attach_agent_context
from approvals.rules import security_approvals
from approvals.steps import decision_steps
from exceptions import permissions, renewals, rules, selectors, services
from exceptions.confirmations import REVOKE_EXCEPTION, WITHDRAW_EXCEPTION
from exceptions.context import with_approver_rules, with_rules_deviated_from
from exceptions.filters import EXCEPTION_SORT
from exceptions.forms import ExceptionForm, RenewForm, exception_filter_form
from exceptions.limits import ELEVATED_RISKS, EXPIRING_SOON_DAYS, MAX_DAYS, PAGE_SIZE
from exceptions.models import (
    ExceptionApproval,
    ExceptionStatus,
    PolicyException,
    Risk,
)
from kernel.audit_trail import TrailRow, present
from kernel.errors import ApplicationError, Forbidden
from kernel.filtering import page_rows
from kernel.http import (
    AuthenticatedHttpRequest,
    form_status,
    paginate,
    requires,
    submit,
)
from kernel.permissions import Action
from kernel.sorting import sort_rows
from registry.models import Agent, Capability


@require_safe
@requires(Action.VIEW_PORTAL)
def exception_list(request: HttpRequest) -> HttpResponse:
    form = exception_filter_form(request.GET, request.user)
    exceptions = page_rows(form, selectors.exception_list, user=request.user, filters=request.GET)
    exceptions, sort = sort_rows(exceptions, EXCEPTION_SORT, request.GET)
    page, query = paginate(request, exceptions, PAGE_SIZE)
    now = timezone.now()
    rows = [
        {
            "exception": exception,
            "in_force": rules.exception_is_in_force(exception, now),
            "running": rules.exception_is_running(exception, now),
            "expiring_soon": rules.exception_is_expiring_soon(exception, now),
            "scheduled": rules.exception_is_running(exception, now) and exception.starts_at > now,
        }
        for exception in page
    ]
    return render(
        request,
        "exceptions/list.html",
        {
            "filters": form,
            "page": page,
            "rows": rows,
            "query": query,
            "sort": sort,
            "soon_days": EXPIRING_SOON_DAYS,
            "expiring_soon": f"?expiring_within_days={EXPIRING_SOON_DAYS}&sort=expires",
        },
    )


@requires(Action.REQUEST_EXCEPTION)
def exception_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    agent, capability = request.GET.get("agent", ""), request.GET.get("capability", "")
    initial = {
        "agent": agent,
        "capability": capability,
        "risk": request.GET.get("risk") or risk_floor_of(agent, capability),
    }
    form = ExceptionForm(request.POST or None, user=request.user, initial=initial)
    # The service refuses what changed since the form checked (a race): shown on the form.
    if exception := submit(request, form, services.exception_request):
        messages.success(
            request,
            f"Exception #{exception.pk} filed: it needs "
            f"{security_approvals(exception.required_approvals)}.",
        )
        return redirect(exception)
    limits = [
        (risk, days, risk in ELEVATED_RISKS, services.required_approvals_for(risk))
        for risk, days in MAX_DAYS.items()
    ]
    return render(
        request,
        "exceptions/form.html",
        {"form": form, "max_days": MAX_DAYS, "limits": limits},
        status=form_status(form),
    )


def risk_floor_of(agent_slug: str, capability_key: str) -> str:
    """The lowest risk the form may propose for a prefilled agent and capability (a link from
    a refused request): rules.risk_floor, or low when either is unknown."""
    agent = Agent.objects.filter(slug=agent_slug[:200]).first() if agent_slug else None
    capability = (
        Capability.objects.filter(key=capability_key[:200]).first() if capability_key else None
    )
    if agent is None or capability is None:
        return Risk.LOW
    return rules.risk_floor(agent, capability)


def _history(exception: PolicyException) -> list[TrailRow]:
    """Audit entries of the exception and of its approvals, oldest first, as the audit trail
    reads them (fields by their labels, ids by names; a creation's empty fields left out)."""
    types = ContentType.objects.get_for_models(PolicyException, ExceptionApproval)
    approval_ids = [str(approval.pk) for approval in exception.approvals.all()]
    return present(
        LogEntry.objects.filter(
            Q(content_type=types[PolicyException], object_pk=str(exception.pk))
            | Q(content_type=types[ExceptionApproval], object_pk__in=approval_ids)
        )
        .select_related("actor", "content_type")
        .order_by("timestamp", "pk")
    )


@require_safe
@requires(Action.VIEW_PORTAL)
def exception_detail(request: HttpRequest, pk: int) -> HttpResponse:
    exception = selectors.exception_get_for_user(request.user, pk)
    user = request.user
    pending = exception.status == ExceptionStatus.PENDING
    running = rules.exception_is_running(exception)
    renewal_blocked = renewals.renewal_block(exception, timezone.now())
    with_approver_rules([exception])
    with_rules_deviated_from([exception])
    attach_agent_context([exception], user)
    return render(
        request,
        "exceptions/detail.html",
        {
            "exc": exception,
            "in_force": rules.exception_is_in_force(exception),
            "running": running,
            "can_approve": pending and permissions.can_approve(user, exception),
            "approve_refusal": pending and permissions.approval_refusal(user, exception),
            "already_approved": pending and permissions.has_approved(user, exception),
            "revoke": REVOKE_EXCEPTION.offer(exception)
            if running and permissions.can_revoke(user)
            else None,
            "withdraw": WITHDRAW_EXCEPTION.offer(exception)
            if pending and permissions.can_withdraw(user, exception)
            else None,
            "can_renew": running
            and permissions.renewal_refusal(user, exception) is None
            and renewal_blocked is None,
            "renewal_blocked": renewal_blocked.message if running and renewal_blocked else "",
            "chain": selectors.renewal_chain(exception),
            "history": _history(exception),
        },
    )


@requires(Action.REQUEST_EXCEPTION)
def exception_renew(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    exception = selectors.exception_get_for_user(request.user, pk)
    if refusal := permissions.renewal_refusal(request.user, exception):
        raise Forbidden(refusal)
    form = RenewForm(request.POST or None)
    if renewal := submit(request, form, services.exception_renew, exception=exception):
        messages.success(
            request, f"Renewal #{renewal.pk} filed; #{exception.pk} stays active until it expires."
        )
        return redirect(renewal)
    return render(
        request,
        "exceptions/renew.html",
        {"exc": exception, "form": form, "max_days": MAX_DAYS[exception.risk]},
        status=form_status(form),
    )


exception_approve, exception_reject = decision_steps(
    noun="exception",
    subject="exception",
    load=selectors.exception_get_for_user,
    approve=services.exception_approve,
    refuse=services.exception_reject,
    approved=ExceptionStatus.ACTIVE,
    outcome="it is active",
)


def _revocable(user: User, exception: PolicyException) -> None:
    """What revoking would refuse, said on the confirmation page before anyone confirms."""
    if not rules.exception_is_running(exception):
        raise ApplicationError(
            f"Exception #{exception.pk} is {exception.status} and not running: there is nothing "
            "to revoke.",
            code="invalid_transition",
        )


@confirmed_step(
    Action.APPROVE,
    load=selectors.exception_get_for_user,
    confirmation=REVOKE_EXCEPTION,
    check=_revocable,
)
def exception_revoke(
    request: AuthenticatedHttpRequest, target: PolicyException
) -> tuple[str, PolicyException]:
    reason = request.POST.get("reason", "")
    services.exception_revoke(actor=request.user, exception=target, reason=reason)
    return f"Exception #{target.pk} revoked: decisions stop honouring it now.", target


def _withdrawable(user: User, exception: PolicyException) -> None:
    """What withdrawing would refuse, said on the confirmation page before anyone confirms."""
    if not permissions.can_withdraw(user, exception):
        raise Forbidden(permissions.WITHDRAW_REFUSAL)
    services.check_withdrawable(exception)


@confirmed_step(
    Action.REQUEST_EXCEPTION,
    load=selectors.exception_get_for_user,
    confirmation=WITHDRAW_EXCEPTION,
    check=_withdrawable,
)
def exception_withdraw(
    request: AuthenticatedHttpRequest, target: PolicyException
) -> tuple[str, PolicyException]:
    services.exception_withdraw(actor=request.user, exception=target)
    return f"Exception request #{target.pk} withdrawn: security no longer sees it.", target
