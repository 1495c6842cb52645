"""The policy page: the published matrix, history, diffs, and security's draft editor."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kernel.errors import ApplicationError
from kernel.http import AuthenticatedHttpRequest, form_status, requires, submit
from kernel.permissions import Action, can
from registry import policy_file
from registry.forms import PolicyDraftForm, PolicyImportForm, PolicyMatrixForm, PolicyPublishForm
from registry.models import Capability, Effect, PolicyVersion, Tier
from registry.policy_review import review_sections
from registry.selectors import policy as selectors
from registry.selectors.catalogue import capability_keys
from registry.services import policy as services


@require_safe
@requires(Action.VIEW_INVENTORY)
def policy_overview(request: HttpRequest) -> HttpResponse:
    return _overview(request)


def _matrix_form(draft: PolicyVersion, data=None) -> PolicyMatrixForm:
    capabilities = list(Capability.objects.select_related("tool").order_by("key"))
    return PolicyMatrixForm(data, capabilities=capabilities, rules=selectors.policy_rule_map(draft))


def _overview(
    request: HttpRequest,
    draft_form: PolicyMatrixForm | None = None,
    open_form: PolicyDraftForm | None = None,
    status=200,
):
    """The published matrix, the history and diffs; for security, the draft as one form (or,
    with none open, the form that opens one)."""
    versions = list(selectors.policy_versions())
    published = selectors.policy_latest_published()
    shown = published
    if request.GET.get("version"):
        shown = selectors.policy_version_get(request.GET["version"])
    draft = selectors.policy_draft()
    diff = None
    if request.GET.get("diff") and request.GET.get("against"):
        new = selectors.policy_version_get(request.GET["diff"])
        old = selectors.policy_version_get(request.GET["against"])
        diff = {"new": new, "old": old, "changes": selectors.policy_diff(new, old)}
    if draft is not None and draft_form is None and can(request.user, Action.MANAGE_POLICY):
        draft_form = _matrix_form(draft)
    context = {
        "tiers": Tier.choices,
        "effects": Effect.choices,
        "published": published,
        "shown": shown,
        "matrix": selectors.policy_matrix(shown),
        "draft": draft,
        "draft_form": draft_form,
        "open_form": open_form or PolicyDraftForm(),
        "versions": versions,
        "diff": diff,
    }
    return render(request, "registry/policy.html", context, status=status)


@requires(Action.MANAGE_POLICY)
@require_POST
def policy_draft_save(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    """Save the whole draft matrix at once; a bad cell keeps everything typed, saves nothing,
    and shows its error on the cell."""
    draft = selectors.policy_version_get(number)
    form = _matrix_form(draft, request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was saved: fix the cells marked below.")
        return _overview(request, draft_form=form, status=form_status(form))
    changed = services.policy_draft_update(actor=request.user, version=draft, rules=form.rules())
    count = f"{changed} rules changed" if changed != 1 else "1 rule changed"
    messages.success(request, f"Draft v{number} saved: {count}.")
    return redirect(reverse("registry:policy") + "#draft")


@requires(Action.MANAGE_POLICY)
@require_POST
def policy_draft_open(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PolicyDraftForm(request.POST)
    valid = form.is_valid()
    if not valid and selectors.policy_draft() is None:
        # Said at the top too: on a phone the field is far below the fold.
        messages.error(request, "No draft was opened: fix the notes below.")
        return _overview(request, open_form=form, status=form_status(form))
    # A draft opened meanwhile is what to say (the service refuses it before the notes).
    notes = form.cleaned_data["notes"] if valid else request.POST.get("notes", "")
    draft = services.policy_draft_create(actor=request.user, notes=notes)
    messages.success(request, f"Draft v{draft.number} opened from the published rules.")
    return redirect(reverse("registry:policy") + "#draft")


def _review(request: HttpRequest, draft: PolicyVersion, form: PolicyPublishForm, status=200):
    """The draft beside the published version: its changes, the warnings a publish must
    answer, what it would do to decisions and controls (sections from higher apps)."""
    published = selectors.policy_latest_published()
    changes = selectors.rule_changes(
        selectors.policy_rule_map(published), selectors.policy_rule_map(draft)
    )
    context = {
        "draft": draft,
        "published": published,
        "changes": changes,
        "warnings": selectors.policy_loosenings(draft),
        "sections": review_sections.collect(draft, request.GET),
        "form": form,
    }
    return render(request, "registry/policy_publish.html", context, status=status)


@requires(Action.MANAGE_POLICY)
@require_http_methods(["GET", "HEAD", "POST"])
def policy_draft_publish(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    """GET: review the draft before publishing it. POST: publish (with the reason, when the
    draft loosens the policy: the service refuses otherwise). A refused publish (a reason too
    long, none where one is needed) is the review again, what was typed kept and the refusal
    beside the reason (400)."""
    draft = selectors.policy_version_get(number)
    if draft.is_published:
        messages.info(request, f"v{number} is already published.")
        return redirect(reverse("registry:policy") + f"?version={number}")
    if request.method != "POST":
        return _review(request, draft, PolicyPublishForm())
    form = PolicyPublishForm(request.POST)
    version = submit(request, form, services.policy_publish, version=draft)
    if version is None:
        return _review(request, draft, form, status=form_status(form))
    messages.success(request, f"Policy v{version.number} published: decisions use it from now on.")
    return redirect("registry:policy")


@requires(Action.MANAGE_POLICY)
@require_http_methods(["GET", "HEAD", "POST"])
def policy_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Open a draft from a policy file; a file with errors creates nothing and lists them."""
    form = PolicyImportForm(request.POST or None, request.FILES or None)
    errors: list[policy_file.FileError] = []
    if request.method == "POST" and form.is_valid():
        try:
            document = policy_file.parse(form.cleaned_data["text"], capabilities=capability_keys())
            upload = form.cleaned_data.get("file")
            source = f"the file {upload.name}" if upload else "a file pasted in the browser"
            draft = services.policy_draft_import(
                actor=request.user, document=document, source=source
            )
        except policy_file.PolicyFileInvalid as exc:
            errors = exc.errors
        except ApplicationError as exc:  # a draft is already open
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"Draft v{draft.number} opened from the file: review it.")
            return redirect("registry:policy-publish", number=draft.number)
    return render(
        request,
        "registry/policy_import.html",
        {"form": form, "errors": errors},
        status=form_status(form, refused=bool(errors)),
    )


@requires(Action.MANAGE_POLICY)
@require_http_methods(["GET", "HEAD", "POST"])
def policy_draft_discard(request: AuthenticatedHttpRequest, number: int) -> HttpResponse:
    """GET: what discarding loses; POST: discard the draft."""
    draft = selectors.policy_version_get(number)
    if request.method == "POST":
        services.policy_draft_discard(actor=request.user, version=draft)
        messages.success(request, f"Draft v{number} discarded.")
        return redirect("registry:policy")
    published = selectors.policy_latest_published()
    changes = selectors.rule_changes(
        selectors.policy_rule_map(published), selectors.policy_rule_map(draft)
    )
    lost = f"{len(changes)} rule changes are" if len(changes) != 1 else "1 rule change is"
    context = {
        "heading": f"Discard draft v{number}?",
        "consequence": f"Its {lost} lost (against the published version, which stays as it is).",
        "submit": f"Discard draft v{number}",
        "danger": True,
        "cancel_url": reverse("registry:policy") + "#draft",
    }
    return render(request, "confirm.html", context)
