"""The audit report page, its exports, and evidence packages (HTML side).

Reports and exports are reads of portal-wide evidence: security and auditors only (engineers
and the gateway get 403). Requesting an evidence package is an export too.
"""

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
from django.views.decorators.http import require_GET, require_POST

from compliance import package_requests, packages
from compliance.models import EvidencePackage
from compliance.period import Period, period_parse
from compliance.reports import export, pdf
from compliance.reports.build import Report, report_build
from controls import selectors
from kernel.errors import NotFound
from kernel.http import AuthenticatedHttpRequest, requires
from kernel.permissions import Action

EXPORT_FORMATS = ("csv", "json", "oscal", "pdf")
RECENT_PACKAGES = 5


def _period(request: HttpRequest) -> Period:
    source = request.POST if request.method == "POST" else request.GET
    return period_parse(source.get("from"), source.get("to"))


def _filename(report: Report, suffix: str) -> str:
    period = report.period
    return f"{report.framework.key}_{period.start.isoformat()}_{period.end.isoformat()}{suffix}"


def report_csv_response(report: Report) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        export.report_csv_lines(report), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(report, ".csv")}"'
    return response


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


@requires(Action.EXPORT_EVIDENCE)
@require_GET
def report(request: HttpRequest, key: str) -> HttpResponse:
    framework = selectors.framework_get(key)
    period = _period(request)
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
        },
    )


@requires(Action.EXPORT_EVIDENCE)
@require_GET
def report_export(request: HttpRequest, key: str, fmt: str) -> HttpResponse | StreamingHttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise NotFound(f"No export format '{fmt}': use one of {', '.join(EXPORT_FORMATS)}.")
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
    messages.success(
        request,
        f"Evidence package #{package.pk} requested; it is built in the background.",
    )
    url = reverse("compliance:report", args=[key])
    return redirect(f"{url}?from={period.start.isoformat()}&to={period.end.isoformat()}#packages")


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
