"""The policy as a file over the API: export a version, import a file as a draft, the schema."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kernel.api.negotiation import JsonOnly
from kernel.api.parsers import body_too_large, max_body_bytes
from kernel.api.permissions import ActionPermission, AuthenticatedRequest
from kernel.errors import ApplicationError
from registry import policy_file
from registry.api.views.policy import POLICY_ACTIONS, version_out
from registry.selectors import policy as selectors
from registry.selectors.catalogue import capability_keys
from registry.services import policy as services

FORMATS = {"yaml": "application/yaml", "json": "application/json"}


class PolicyFileParser(parsers.BaseParser):
    """A policy file as sent: its text, for `registry.policy_file.parse` (which needs the
    lines). YAML or JSON, bounded in size like every other body."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> dict[str, str]:
        body = stream.read(max_body_bytes() + 1) if stream is not None else b""
        if len(body) > max_body_bytes():
            raise body_too_large()
        try:
            return {"text": body.decode("utf-8")}
        except UnicodeDecodeError:
            raise ApplicationError("The policy file must be UTF-8 text.") from None


def file_response(version_number: int, document: policy_file.PolicyDocument, fmt: str):
    """The canonical file, named for its version."""
    if fmt not in FORMATS:
        raise ApplicationError("format is yaml (the default) or json.", field="format")
    media_type = FORMATS[fmt]
    text = policy_file.to_yaml(document) if fmt == "yaml" else policy_file.to_json(document)
    response = HttpResponse(text, content_type=f"{media_type}; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="policy-v{version_number}.{fmt}"'
    return response


class PolicyExport(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS
    content_negotiation_class = JsonOnly

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["yaml", "json"], default="yaml")],
        responses={(200, "application/yaml"): OpenApiTypes.STR, 404: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, number: int) -> HttpResponse:
        """The version as a policy file (canonical: export → import → export is identical)."""
        version = selectors.policy_version_get(number)
        fmt = request.query_params.get("format", "yaml")
        return file_response(version.number, policy_file.document_of(version), fmt)


class PolicyImport(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS
    parser_classes = [PolicyFileParser]

    @extend_schema(
        request={"application/yaml": OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT},
        responses={201: OpenApiResponse(description="the new draft, with its rules")},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        """A draft from a policy file (YAML or JSON). A file with any error creates nothing:
        the 400 lists every error with its line and field."""
        text = request.data.get("text", "") if isinstance(request.data, dict) else ""
        if not text.strip():
            raise ApplicationError("Send the policy file (YAML or JSON) as the request body.")
        document = policy_file.parse(text, capabilities=capability_keys())
        draft = services.policy_draft_import(
            actor=request.user, document=document, source="a file sent to the API"
        )
        return Response(version_out(draft), status=status.HTTP_201_CREATED)


class PolicySchema(APIView):
    permission_classes = [ActionPermission]
    action_permissions = POLICY_ACTIONS

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        """The policy file format as JSON Schema (2020-12), for editors and CI checks."""
        return Response(policy_file.json_schema())
