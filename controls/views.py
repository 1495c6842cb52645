"""Compliance pages: frameworks with coverage, the matrix, controls, the crosswalk, and the
applicability statement (security marks items out of scope; everyone else reads why)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from controls import selectors, services
from controls.applicability import statement_get, statement_history
from controls.crosswalks import crosswalk as crosswalk_between
from controls.crosswalks import frameworks_sharing_controls
from controls.forms import (
    ApplicabilityForm,
    ControlForm,
    CrosswalkForm,
    EvidenceForm,
    MappingEditForm,
    MappingForm,
)
from controls.framework_links import links_for
from controls.models import STRENGTH_MAX, STRENGTH_MIN, Control, FrameworkItem, Relationship
from controls.services import MAX_RATIONALE_CHARS
from kernel.errors import NotFound
from kernel.http import AuthenticatedHttpRequest, ViewFunc, form_status, requires, submit
from kernel.permissions import Action, can

# The evidence form's ids: the control form has a `description` too (ids are unique on a page).
EVIDENCE_IDS = "evidence_%s"


@requires(Action.VIEW_COMPLIANCE)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    frameworks = list(selectors.framework_list())
    shared = frameworks_sharing_controls()
    for framework in frameworks:
        setattr(framework, "coverage", selectors.coverage_percent(framework))  # noqa: B010
        setattr(framework, "shared", shared.get(framework.key, []))  # noqa: B010
    return render(
        request,
        "controls/index.html",
        {"frameworks": frameworks, "default_crosswalk": selectors.DEFAULT_CROSSWALK},
    )


@requires(Action.VIEW_COMPLIANCE)
@require_GET
def framework_detail(request: HttpRequest, key: str) -> HttpResponse:
    framework = selectors.framework_get(key)
    setattr(framework, "coverage", selectors.coverage_percent(framework))  # noqa: B010
    return render(
        request,
        "controls/framework_detail.html",
        {
            "framework": framework,
            "matrix": selectors.framework_matrix(framework),
            "history": statement_history(framework),
            "shared": frameworks_sharing_controls().get(framework.key, []),
            "links": links_for(framework, request.user),
        },
    )


@requires(Action.VIEW_COMPLIANCE, write=Action.MANAGE_CONTROLS)
@require_http_methods(["GET", "POST"])
def item_applicability(request: AuthenticatedHttpRequest, key: str, ref_id: str) -> HttpResponse:
    """One item's applicability: its current version and history for everyone who reads
    compliance; the form that changes it for security."""
    item = selectors.item_get(key, ref_id)
    url = reverse("controls:item-applicability", kwargs={"key": key, "ref_id": item.ref_id})
    current = statement_get(item.framework).of(item)
    form = None
    if can(request.user, Action.MANAGE_CONTROLS):
        initial = {"applicable": "yes" if current else "no"}
        form = ApplicabilityForm(request.POST or None, initial=initial)
    if form is not None and (
        version := submit(request, form, services.applicability_set, item=item)
    ):
        state = "applicable" if version.applicable else "not applicable"
        messages.success(
            request,
            f"{item.ref_id} is {state}: version {version.version} of the "
            f"{item.framework.key} applicability statement.",
        )
        return redirect(url)
    status = form_status(form)
    return render(
        request,
        "controls/item_applicability.html",
        {
            "item": item,
            "framework": item.framework,
            "not_applicable": current,
            "history": statement_history(item.framework, item=item),
            "form": form,
            "action": url,
            "refused": "The applicability was not changed: see below." if status == 400 else "",
        },
        status=status,
    )


@requires(Action.VIEW_COMPLIANCE)
@require_GET
def crosswalk(request: HttpRequest) -> HttpResponse:
    frameworks = list(selectors.framework_list())
    a_key = request.GET.get("a") or selectors.DEFAULT_CROSSWALK[0]
    b_key = request.GET.get("b") or selectors.DEFAULT_CROSSWALK[1]
    by_key = {framework.key: framework for framework in frameworks}
    for key in (a_key, b_key):
        if key not in by_key:
            raise NotFound(f"No framework with key '{key}'.")
    form = CrosswalkForm(initial={"a": a_key, "b": b_key}, frameworks=frameworks)
    found = crosswalk_between(by_key[a_key], by_key[b_key])
    return render(
        request,
        "controls/crosswalk.html",
        {
            "form": form,
            "a": by_key[a_key],
            "b": by_key[b_key],
            "rows": found.rows,
            "shared": found.shared,
            "statements": found.statements,
            "shared_with_a": frameworks_sharing_controls().get(a_key, []),
        },
    )


@requires(Action.VIEW_COMPLIANCE, write=Action.MANAGE_CONTROLS)
@require_http_methods(["GET", "POST"])
def control_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = None
    if can(request.user, Action.MANAGE_CONTROLS):
        form = ControlForm(request.POST or None, initial={"active": True})
    if form is not None and (control := submit(request, form, services.control_create)):
        messages.success(request, f"Control {control.ref_id} created. Now map it.")
        return redirect(control)
    return render(
        request,
        "controls/control_list.html",
        {"controls": selectors.control_list(), "form": form},
        status=form_status(form),
    )


@requires(Action.VIEW_COMPLIANCE)
@require_GET
def control_detail(request: HttpRequest, ref_id: str) -> HttpResponse:
    return _control_page(request, ref_id)


def _control_page(
    request: HttpRequest, ref_id: str, *, refused: str = "", **bound: Any
) -> HttpResponse:
    """A control's page. After a refused form (`refused` names it), that form comes `bound`
    (`control_form`, `mapping_form`, `evidence_form`, or `mapping_edit` with the mapping's
    `pk` and its form), its errors beside the fields and what was typed kept: a 400."""
    control = selectors.control_detail(ref_id)
    context: dict[str, Any] = {
        "control": control,
        "relationships": Relationship.choices,
        "rationale_max": MAX_RATIONALE_CHARS,
        "strength_min": STRENGTH_MIN,
        "strength_max": STRENGTH_MAX,
    }
    if can(request.user, Action.MANAGE_CONTROLS):
        context["control_form"] = ControlForm(
            editing=True,
            initial={
                "title": control.title,
                "description": control.description,
                "owner": control.owner.username if control.owner else None,
                "owner_team": control.owner_team.slug if control.owner_team else None,
                "active": control.active,
            },
        )
        context["mapping_form"] = MappingForm()
        context["evidence_form"] = EvidenceForm(auto_id=EVIDENCE_IDS)
        context.update(bound)
    context["refused"] = refused
    status = form_status(refused=bool(refused))
    return render(request, "controls/control_detail.html", context, status=status)


def _control_step(step: Callable[..., str | dict[str, Any]]) -> ViewFunc:
    """A form security posts on a control's page: `step(request, control, **url_kwargs)` does
    it and returns what to tell them, or, refused, the bound form to show again (a dict for
    `_control_page`); then back to the control, or its page with the form and its errors."""

    @requires(Action.MANAGE_CONTROLS)
    @require_POST
    @wraps(step)
    def view(request: AuthenticatedHttpRequest, ref_id: str, **kwargs: Any) -> HttpResponse:
        control = selectors.control_get(ref_id)
        done = step(request, control, **kwargs)
        if isinstance(done, dict):
            return _control_page(request, control.ref_id, **done)
        messages.success(request, done)
        return redirect(control)

    return view


@_control_step
def control_edit(request: AuthenticatedHttpRequest, control: Control) -> str | dict[str, Any]:
    form = ControlForm(request.POST, editing=True)
    if submit(request, form, services.control_update, control=control) is None:
        return {"refused": "The control was not saved.", "control_form": form}
    return f"Control {control.ref_id} saved."


def _mapping_create(*, item: int, **data: Any) -> Any:
    """mapping_create with the framework item the form's choice names."""
    framework_item = FrameworkItem.objects.select_related("framework").get(pk=item)
    return services.mapping_create(item=framework_item, **data)


@_control_step
def mapping_add(request: AuthenticatedHttpRequest, control: Control) -> str | dict[str, Any]:
    form = MappingForm(request.POST)
    mapping = submit(request, form, _mapping_create, control=control)
    if mapping is None:
        return {"refused": "The mapping was not added.", "mapping_form": form}
    return f"{control.ref_id} now maps to {mapping.item.framework.key} {mapping.item.ref_id}."


@_control_step
def mapping_edit(
    request: AuthenticatedHttpRequest, control: Control, pk: int
) -> str | dict[str, Any]:
    mapping = selectors.mapping_get_by_pk(control, pk)
    form = MappingEditForm(request.POST)
    if submit(request, form, services.mapping_update, mapping=mapping) is None:
        return {"refused": "The mapping was not saved.", "mapping_edit": {"pk": pk, "form": form}}
    return f"Mapping to {mapping.item.ref_id} saved."


@requires(Action.MANAGE_CONTROLS)
@require_http_methods(["GET", "HEAD", "POST"])
def mapping_delete(request: AuthenticatedHttpRequest, ref_id: str, pk: int) -> HttpResponse:
    """GET: what removing the mapping changes; POST: remove it."""
    control = selectors.control_get(ref_id)
    mapping = selectors.mapping_get_by_pk(control, pk)
    item = mapping.item
    if request.method == "POST":
        services.mapping_delete(actor=request.user, mapping=mapping)
        messages.success(request, f"Mapping to {item.ref_id} removed.")
        return redirect(control)
    context = {
        "heading": f"Remove the mapping of {control.ref_id} to {item.ref_id}?",
        "consequence": f"{control.ref_id} stops counting as evidence for {item.ref_id} "
        f"({item.framework.name}): coverage and every report of that framework change from now "
        "on. The removal is in the audit trail.",
        "submit": "Remove the mapping",
        "danger": True,
        "cancel_url": control.get_absolute_url(),
    }
    return render(request, "confirm.html", context)


@_control_step
def evidence_add(request: AuthenticatedHttpRequest, control: Control) -> str | dict[str, Any]:
    form = EvidenceForm(request.POST, request.FILES, auto_id=EVIDENCE_IDS)
    evidence = submit(request, form, services.evidence_upload, control=control)
    if evidence is None:
        if request.FILES.get("file") and not form.has_error("file"):
            # A browser never fills a file input back in: say so where the file goes.
            form.add_error(
                "file", "Choose the file again: browsers do not keep it after a refusal."
            )
        return {"refused": "The evidence was not uploaded.", "evidence_form": form}
    return f"Evidence {evidence.original_name} stored (SHA-256 {evidence.sha256})."


@requires(Action.EXPORT_EVIDENCE)
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    evidence = selectors.evidence_get(pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise NotFound(
            f"The stored file of {evidence.original_name} is missing; its SHA-256 was "
            f"{evidence.sha256}. Ask security to upload it again."
        ) from None
    return FileResponse(handle, as_attachment=True, filename=evidence.original_name)
