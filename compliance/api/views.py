"""API of the audit report and evidence packages. Exports are reads: security and auditors.

`format` is taken by the report itself (json | csv | oscal), not by DRF's content
negotiation: errors are always JSON, and a CSV is streamed as it is written.
"""

from collections.abc import Sequence
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import package_requests, packages
from compliance.collectors import Sample
from compliance.period import period_parse
from compliance.reports import export, records
from compliance.reports.build import report_build
from compliance.views import (
    package_as_dict,
    package_file_response,
    records_csv_response,
    report_csv_response,
)
from controls import selectors
from controls.models import FRAMEWORK_KEY_MAX_LENGTH
from kernel.api.inputs import InputSerializer, referenced, validated
from kernel.api.permissions import ActionPermission, AuthenticatedRequest
from kernel.errors import ApplicationError
from kernel.permissions import Action

REPORT_FORMATS = ("json", "csv", "oscal")
PACKAGES_LISTED = 50  # the most recent, newest first


# Reports and packages are exports (reads of portal-wide evidence), asking for one included.
EXPORT_ACTIONS = {"read": Action.EXPORT_EVIDENCE, "write": Action.EXPORT_EVIDENCE}


class JsonOnly(DefaultContentNegotiation):
    """Ignore `?format=` (the report's own parameter); answers are JSON or a file."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


PERIOD_PARAMETERS = [
    OpenApiParameter("from", str, description="first day, YYYY-MM-DD (default: 30 days ago)"),
    OpenApiParameter("to", str, description="last day, YYYY-MM-DD (default: today)"),
]


# What security and auditors export: reports, records, evidence packages; JSON unless a
# `format` is asked for. No docstring: the schema shows a view's docstring, else its base's.
class ExportView(APIView):
    permission_classes = [ActionPermission]
    action_permissions = EXPORT_ACTIONS
    content_negotiation_class = JsonOnly

    def format_asked(self, request: Request, formats: Sequence[str]) -> str:
        """The `format` parameter, one of `formats` (default json); anything else is a 400."""
        fmt = request.query_params.get("format", "json")
        if fmt not in formats:
            choices = " or ".join(formats) if len(formats) == 2 else f"one of {', '.join(formats)}"
            raise ApplicationError(f"Unknown format '{fmt[:20]}': use {choices}.", field="format")
        return fmt


class ReportView(ExportView):
    """The audit report of a framework for a period."""

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("format", str, enum=list(REPORT_FORMATS), description="json"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, framework_key: str):
        fmt = self.format_asked(request, REPORT_FORMATS)
        framework = selectors.framework_get(framework_key)
        period = period_parse(request.query_params.get("from"), request.query_params.get("to"))
        report = report_build(framework, period)
        if fmt == "csv":
            return report_csv_response(report)
        if fmt == "oscal":
            return Response(export.report_oscal(report))
        return Response(export.report_as_dict(report))


class RecordOut(serializers.Serializer):
    """One record a control checked (the shape of `Sample.as_dict`)."""

    kind = serializers.CharField(help_text="grant, access_request, decision, activity, ...")
    id = serializers.CharField()
    url = serializers.CharField(help_text="its page in the portal, or empty")
    failed = serializers.BooleanField(help_text="true: it fails the control's check")


# `label` is also an attribute of every DRF field: declared here, as PackageOut's `from`.
RecordOut._declared_fields["label"] = serializers.CharField(help_text="what the record is")


class RecordPageOut(serializers.Serializer):
    """A page of records, as every paginated list of the API."""

    count = serializers.IntegerField(help_text="every record checked: the control's `checked`")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RecordOut(many=True)


class ReportRecordsView(ExportView):
    """Every record a control checked in the period (as many as its `checked`), failing ones
    first where the collector can order them so; 50 a page (`page`). `format=csv` streams them
    all as one CSV instead."""

    @extend_schema(
        parameters=[
            *PERIOD_PARAMETERS,
            OpenApiParameter("format", str, enum=["json", "csv"], description="json"),
        ],
        responses={200: RecordPageOut, (200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request, framework_key: str, ref_id: str):
        fmt = self.format_asked(request, ("json", "csv"))
        framework = selectors.framework_get(framework_key)
        control = records.control_in_report(framework, ref_id)
        period = period_parse(request.query_params.get("from"), request.query_params.get("to"))
        if fmt == "csv":
            return records_csv_response(framework, period, control.ref_id)
        pages = PageNumberPagination()
        # A Population slices like a list (all Django's Paginator needs), typed as it is.
        population: Any = records.population_of(control, period)
        if population is None:
            population = []
        page: list[Sample] = pages.paginate_queryset(population, request, view=self) or []
        return pages.get_paginated_response([sample.as_dict() for sample in page])


PackageIn = type(
    "PackageIn",
    (InputSerializer,),
    {
        "framework": serializers.CharField(max_length=FRAMEWORK_KEY_MAX_LENGTH),
        "from": serializers.CharField(max_length=10),
        "to": serializers.CharField(max_length=10),
    },
)


class PackageOut(serializers.Serializer):
    """The shape of `package_as_dict` (documentation of the answer; the view builds it)."""

    id = serializers.IntegerField()
    framework = serializers.CharField()
    requested_by = serializers.CharField()
    status = serializers.CharField(help_text="pending | running | ready | failed")
    status_label = serializers.CharField(help_text="the status in words, as the page shows it")
    progress = serializers.IntegerField(min_value=0, max_value=100)
    sha256 = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.URLField(allow_null=True)

    class Meta:
        ref_name = "EvidencePackage"


PackageOut._declared_fields["from"] = serializers.DateField()
PackageOut._declared_fields["to"] = serializers.DateField()


class EvidencePackageList(ExportView):
    """Request an evidence package (built in the background), or list recent ones."""

    @extend_schema(responses=PackageOut(many=True))
    def get(self, request: Request) -> Response:
        recent = packages.packages_visible_to(request.user)[:PACKAGES_LISTED]
        return Response([package_as_dict(request, p, api=True) for p in recent])

    @extend_schema(request=PackageIn, responses={202: PackageOut})
    def post(self, request: AuthenticatedRequest) -> Response:
        data = validated(PackageIn, request.data)
        framework = referenced(selectors.framework_get, data["framework"], "framework")
        period = period_parse(data["from"], data["to"])
        package = package_requests.package_request(
            actor=request.user, framework=framework, period=period
        )
        package.refresh_from_db()
        return Response(
            package_as_dict(request, package, api=True), status=status.HTTP_202_ACCEPTED
        )


class EvidencePackageDetail(ExportView):
    """Status and progress of a package; `download_url` once it is ready."""

    @extend_schema(responses=PackageOut)
    def get(self, request: Request, pk: int) -> Response:
        package = packages.package_get_for_user(request.user, pk)
        return Response(package_as_dict(request, package, api=True))


class EvidencePackageDownload(ExportView):
    """The zip of a ready package."""

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int):
        return package_file_response(packages.package_get_for_user(request.user, pk))
