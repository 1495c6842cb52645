"""Exception pages: list, request, detail (with its decisions), renew; thin over services."""

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from exceptions import permissions, selectors, services
from exceptions.filters import ExceptionFilter
from exceptions.forms import ExceptionForm, RenewForm
from exceptions.models import (
    ELEVATED_RISKS,
    MAX_DAYS,
    ExceptionApproval,
    ExceptionStatus,
    PolicyException,
)
from kernel.errors import ApplicationError
from kernel.http import redirect_back
from kernel.permissions import Action, can
from registry.views.agents import form_error

PAGE_SIZE = 25


def _require(request: HttpRequest, action: Action, message: str) -> None:
    if not can(request.user, action):
        raise PermissionDenied(message)


@login_required
def exception_list(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW_PORTAL, "Your role does not work with policy exceptions.")
    filters = ExceptionFilter(
        request.GET or None, queryset=selectors.exceptions_visible_to(request.user), request=request
    )
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    now = timezone.now()
    rows = [
        {
            "exception": exception,
            "in_force": selectors.is_in_force(exception, now),
            "expiring_soon": selectors.is_expiring_soon(exception, now),
            "scheduled": selectors.is_running(exception, now) and exception.starts_at > now,
        }
        for exception in page
    ]
    return render(
        request,
        "exceptions/list.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "can_request": can(request.user, Action.REQUEST_EXCEPTION),
            "soon_days": selectors.EXPIRING_SOON_DAYS,
        },
    )


@login_required
def exception_create(request: HttpRequest) -> HttpResponse:
    _require(request, Action.REQUEST_EXCEPTION, "Only engineers and security request exceptions.")
    initial = {
        "agent": request.GET.get("agent"),
        "capability": request.GET.get("capability"),
        "risk": request.GET.get("risk", "low"),
    }
    form = ExceptionForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            exception = services.exception_request(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                f"Exception #{exception.pk} filed: it needs {exception.required_approvals} "
                "security approval(s).",
            )
            return redirect(exception)
    limits = [
        (risk, days, risk in ELEVATED_RISKS, services.required_approvals_for(risk))
        for risk, days in MAX_DAYS.items()
    ]
    return render(
        request, "exceptions/form.html", {"form": form, "max_days": MAX_DAYS, "limits": limits}
    )


def _history(exception: PolicyException) -> list[LogEntry]:
    """Audit entries of the exception and of its approvals, oldest first."""
    types = ContentType.objects.get_for_models(PolicyException, ExceptionApproval)
    approval_ids = [str(approval.pk) for approval in exception.approvals.all()]
    return list(
        LogEntry.objects.filter(
            Q(content_type=types[PolicyException], object_pk=str(exception.pk))
            | Q(content_type=types[ExceptionApproval], object_pk__in=approval_ids)
        )
        .select_related("actor", "content_type")
        .order_by("timestamp", "pk")
    )


@login_required
def exception_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.VIEW_PORTAL, "Your role does not work with policy exceptions.")
    exception = selectors.exception_get_for_user(request.user, pk)
    user = request.user
    refusal = permissions.approval_refusal(user, exception)
    already = any(a.approver_id == user.pk for a in exception.approvals.all())
    pending = exception.status == ExceptionStatus.PENDING
    running = selectors.is_running(exception)
    return render(
        request,
        "exceptions/detail.html",
        {
            "exc": exception,
            "in_force": selectors.is_in_force(exception),
            "running": running,
            "can_approve": pending and refusal is None and not already,
            "approve_refusal": refusal if pending and can(user, Action.APPROVE) else None,
            "already_approved": pending and already,
            "can_reject": pending and permissions.can_reject(user),
            "can_revoke": running and permissions.can_revoke(user),
            "can_renew": running and permissions.renewal_refusal(user, exception) is None,
            "chain": selectors.renewal_chain(exception),
            "history": _history(exception),
        },
    )


@login_required
def exception_renew(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.REQUEST_EXCEPTION, "Only engineers and security renew exceptions.")
    exception = selectors.exception_get_for_user(request.user, pk)
    refusal = permissions.renewal_refusal(request.user, exception)
    if refusal:
        raise PermissionDenied(refusal)
    form = RenewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            renewal = services.exception_renew(
                actor=request.user, exception=exception, **form.cleaned_data
            )
        except ApplicationError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request,
                f"Renewal #{renewal.pk} filed; #{exception.pk} stays active until it expires.",
            )
            return redirect(renewal)
    return render(
        request,
        "exceptions/renew.html",
        {"exc": exception, "form": form, "max_days": MAX_DAYS[exception.risk]},
    )


@login_required
@require_POST
def exception_approve(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.APPROVE, "Only security approves exceptions.")
    target = selectors.exception_get_for_user(request.user, pk)
    done = services.exception_approve(
        actor=request.user, exception=target, comment=request.POST.get("comment", "")
    )
    if done.status == ExceptionStatus.ACTIVE:
        messages.success(request, f"Exception #{pk} approved: it is active.")
    else:
        messages.success(
            request, f"Approval recorded on exception #{pk}; another approval is needed."
        )
    return redirect_back(request, done)


@login_required
@require_POST
def exception_reject(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.APPROVE, "Only security rejects exceptions.")
    target = selectors.exception_get_for_user(request.user, pk)
    services.exception_reject(
        actor=request.user, exception=target, comment=request.POST.get("comment", "")
    )
    messages.success(request, f"Exception #{pk} rejected.")
    return redirect_back(request, target)


@login_required
@require_POST
def exception_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.APPROVE, "Only security revokes exceptions.")
    target = selectors.exception_get_for_user(request.user, pk)
    services.exception_revoke(
        actor=request.user, exception=target, reason=request.POST.get("reason", "")
    )
    messages.success(request, f"Exception #{pk} revoked: decisions stop honouring it now.")
    return redirect_back(request, target)
