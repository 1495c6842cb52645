"""The audit report page, its exports, every record a control checked, and evidence packages
(HTML side).

Reports and exports are reads of portal-wide evidence: security and auditors only (engineers
and the gateway get 403). Requesting an evidence package is an export too.
"""

import datetime
from collections.abc import Iterator

from django.contrib import messages
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from compliance import package_requests, packages
from compliance.collectors import collector_for
from compliance.models import EvidencePackage, PackageStatus
from compliance.period import EARLIEST, Period, period_parse
from compliance.reports import export, pdf, records
from compliance.reports.build import Report, report_build
from controls import selectors
from controls.models import Control, Framework
from kernel.errors import ApplicationError, NotFound
from kernel.http import AuthenticatedHttpRequest, paginate, requires
from kernel.permissions import Action, AnyUser, can

# "records": every record each control checked, one CSV row each (not in the JSON: too large).
EXPORT_FORMATS = ("csv", "json", "oscal", "pdf", "records")
RECENT_PACKAGES = 5
RECORDS_PER_PAGE = 50


def _period(request: HttpRequest) -> Period:
    source = request.POST if request.method == "POST" else request.GET
    return period_parse(source.get("from"), source.get("to"))


def _filename(report: Report, suffix: str) -> str:
    return _name(report.framework, report.period, suffix)


def _name(framework: Framework, period: Period, suffix: str) -> str:
    return f"{framework.key}_{period.start.isoformat()}_{period.end.isoformat()}{suffix}"


def csv_download(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def report_csv_response(report: Report) -> StreamingHttpResponse:
    return csv_download(export.report_csv_lines(report), _filename(report, ".csv"))


def records_csv_response(
    framework: Framework, period: Period, ref_id: str | None = None
) -> StreamingHttpResponse:
    """Every record checked, streamed: of one control (`ref_id`), or of every control."""
    if ref_id is None:
        controls, suffix = records.controls_in_report(framework), "_records.csv"
    else:
        controls = [records.control_in_report(framework, ref_id)]
        suffix = f"_{ref_id}_records.csv"
    lines = records.records_csv_lines(framework, controls, period)
    return csv_download(lines, _name(framework, period, suffix))


def report_json_response(report: Report, *, oscal: bool = False) -> HttpResponse:
    data = export.report_oscal(report) if oscal else export.report_as_dict(report)
    suffix = ".oscal.json" if oscal else ".json"
    response = JsonResponse(data, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, suffix)}"'
    return response


def package_as_dict(request: HttpRequest, package: EvidencePackage, *, api: bool) -> dict:
    name = "api-evidence-package-download" if api else "compliance:package-download"
    ready = package.is_ready
    return {
        "id": package.pk,
        "framework": package.framework.key,
        "from": package.period_from.isoformat(),
        "to": package.period_to.isoformat(),
        "requested_by": package.requested_by.username,
        "status": package.status,
        "status_label": package.get_status_display(),
        "progress": package.progress,
        "sha256": package.sha256 or None,
        "size": package.size,
        "error": package.error or None,
        "created_at": package.created_at.isoformat(),
        "finished_at": package.finished_at.isoformat() if package.finished_at else None,
        "download_url": (
            request.build_absolute_uri(reverse(name, kwargs={"pk": package.pk})) if ready else None
        ),
    }


def report_link(framework: Framework, user: AnyUser) -> dict | None:
    """The framework page's link to its audit report, for those who may read it."""
    if not can(user, Action.EXPORT_EVIDENCE):
        return None
    return {"label": "Audit report", "url": reverse("compliance:report", args=[framework.key])}


@requires(Action.EXPORT_EVIDENCE)
@require_GET
def report(request: HttpRequest, key: str) -> HttpResponse:
    framework = selectors.framework_get(key)
    try:
        period = _period(request)
    except ApplicationError as exc:
        if exc.code != "bad_period":
            raise
        return _period_refused(request, framework, exc)
    built = report_build(framework, period)
    recent = list(
        packages.packages_visible_to(request.user).filter(
            framework=framework, period_from=period.start, period_to=period.end
        )[:RECENT_PACKAGES]
    )
    query = f"from={period.start.isoformat()}&to={period.end.isoformat()}"
    return render(
        request,
        "compliance/report.html",
        {
            "report": built,
            "query": query,
            "exports": [
                (fmt, f"{reverse('compliance:report-export', args=[key, fmt])}?{query}")
                for fmt in EXPORT_FORMATS
                if fmt != "pdf" or pdf.available()
            ],
            "packages": recent,
            "period_form": _period_form(period.start.isoformat(), period.end.isoformat()),
        },
    )


def _period_form(
    start: str, end: str, error: ApplicationError | None = None, submit: str = "Show report"
) -> dict[str, str]:
    """The report's period form: the days shown (or typed), the days a report may span
    (`min`/`max`, the bounds period_parse accepts), a refusal beside its field, and what its
    button says."""
    latest = timezone.now().date() + datetime.timedelta(days=1)  # period_parse's tolerance
    return {
        "from": start,
        "to": end,
        "min": EARLIEST.isoformat(),
        "max": latest.isoformat(),
        "error_field": error.field or "from" if error else "",
        "error": error.message if error else "",
        "submit": submit,
    }


def _period_refused(
    request: HttpRequest,
    framework: Framework,
    error: ApplicationError,
    control: Control | None = None,
) -> HttpResponse:
    """A period the report (or a `control`'s records page) cannot cover: the period form
    again, what was typed kept and the refusal beside its field (400); no report, no records."""
    submit = "Show records" if control else "Show report"
    form = _period_form(request.GET.get("from", ""), request.GET.get("to", ""), error, submit)
    return render(
        request,
        "compliance/report_period_refused.html",
        {"framework": framework, "control": control, "period_form": form},
        status=400,
    )


@requires(Action.EXPORT_EVIDENCE)
@require_GET
def report_export(request: HttpRequest, key: str, fmt: str) -> HttpResponse | StreamingHttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise NotFound(f"No export format '{fmt}': use one of {', '.join(EXPORT_FORMATS)}.")
    if fmt == "records":
        return records_csv_response(selectors.framework_get(key), _period(request))
    built = report_build(selectors.framework_get(key), _period(request))
    if fmt == "csv":
        return report_csv_response(built)
    if fmt in ("json", "oscal"):
        return report_json_response(built, oscal=fmt == "oscal")
    html = render_to_string("compliance/report_print.html", {"report": built})
    response = HttpResponse(pdf.render(html), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(built, ".pdf")}"'
    return response


@requires(Action.EXPORT_EVIDENCE)
@require_POST
def package_request(request: AuthenticatedHttpRequest, key: str) -> HttpResponse:
    framework = selectors.framework_get(key)
    period = _period(request)
    package = package_requests.package_request(
        actor=request.user, framework=framework, period=period
    )
    # In the embedded default (no broker) the build ran in-process before this line; with a
    # broker a worker builds it later. The package's status says which, whatever the setup.
    package.refresh_from_db()
    level, message = package_outcome(package)
    if request.headers.get("Accept", "").startswith("application/json"):  # package-status.js
        answer = package_as_dict(request, package, api=False)
        status_url = reverse("compliance:package", args=[package.pk])
        tag = messages.DEFAULT_TAGS[level]
        return JsonResponse(
            {**answer, "status_url": status_url, "message": message, "level_tag": tag}
        )
    messages.add_message(request, level, message)
    url = reverse("compliance:report", args=[key])
    return redirect(f"{url}?from={period.start.isoformat()}&to={period.end.isoformat()}#packages")


def package_outcome(package: EvidencePackage) -> tuple[int, str]:
    """What to tell the person who asked: built (in-process), failed, or building."""
    if package.status == PackageStatus.READY:
        return messages.SUCCESS, (
            f"Evidence package #{package.pk} built: download it below "
            f"(SHA-256 {package.sha256[:16]}…)."
        )
    if package.status == PackageStatus.FAILED:
        return messages.ERROR, (
            f"Evidence package #{package.pk} could not be built: {package.error.rstrip('.')}. "
            "Ask again; if it fails again, tell the portal's administrators."
        )
    return messages.INFO, (
        f"Evidence package #{package.pk} is building in the background; this page updates "
        "when it is ready."
    )


@requires(Action.EXPORT_EVIDENCE)
@require_GET
def control_records(request: HttpRequest, key: str, ref_id: str) -> HttpResponse:
    """Every record a control checked in the period, a page at a time (the report shows a few
    samples); the period chosen here, like the report's."""
    framework = selectors.framework_get(key)
    control = records.control_in_report(framework, ref_id)
    try:
        period = _period(request)
    except ApplicationError as exc:
        if exc.code != "bad_period":
            raise
        return _period_refused(request, framework, exc, control)
    collector = collector_for(control.ref_id)
    evidence = collector.collect(period)
    population = collector.population(period)
    page, query = paginate(request, [] if population is None else population, RECORDS_PER_PAGE)
    links = records.records_links(framework.key, control.ref_id, period)
    return render(
        request,
        "compliance/control_records.html",
        {
            "framework": framework,
            "control": control,
            "period": period,
            "checks": collector.checks,
            "evidence": evidence,
            "listed": population is not None,
            "page": page,
            "query": query,
            "links": links,
            "report_url": f"{reverse('compliance:report', args=[framework.key])}?"
            f"{records.period_query(period)}#control-{control.ref_id}",
        },
    )


@requires(Action.EXPORT_EVIDENCE)
@require_GET
def control_records_csv(request: HttpRequest, key: str, ref_id: str) -> StreamingHttpResponse:
    return records_csv_response(selectors.framework_get(key), _period(request), ref_id)


@requires(Action.EXPORT_EVIDENCE)
@require_GET
def package_status(request: HttpRequest, pk: int) -> JsonResponse:
    package = packages.package_get_for_user(request.user, pk)
    return JsonResponse(package_as_dict(request, package, api=False))


@requires(Action.EXPORT_EVIDENCE)
@require_GET
def package_download(request: HttpRequest, pk: int) -> FileResponse:
    package = packages.package_get_for_user(request.user, pk)
    return package_file_response(package)


def package_file_response(package: EvidencePackage) -> FileResponse:
    if not package.is_ready:
        raise NotFound(f"Evidence package {package.pk} is {package.status}, not ready yet.")
    try:
        handle = package.file.open("rb")
    except FileNotFoundError:
        raise NotFound(
            f"The zip of evidence package {package.pk} is missing from storage "
            f"(SHA-256 {package.sha256}); request a new package."
        ) from None
    return FileResponse(
        handle, as_attachment=True, filename=(package.file.name or "").rsplit("/", 1)[-1]
    )
